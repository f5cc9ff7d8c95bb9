"""The life of a message across chains: sent in which transaction, attested by whom,
delivered or failed in which transaction and why, and how long it took.

Everything is read from the chains (gateway events filtered by the indexed message id) plus,
when given, the validators' and relayer's store for who signed and what the relayer spent
and why it gave up, if it did; nothing needs to have been running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from web3 import Web3

from accord.chain.client import Client
from accord.chain.types import MessageStatus, MessageStatusInfo, Request
from accord.crosschain import messages
from accord.crosschain.attestation_store import SqliteStore
from accord.errors import ConfigError


@dataclass
class ChainView:
    name: str
    client: Client
    gateway: str
    router: str | None = None

    def contract(self) -> Any:
        return self.client.contract("AccordGateway", self.gateway)


def _iso(ts: int | None) -> str | None:
    """A block timestamp as ISO 8601 in UTC (what scripts and people both read)."""
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat()


@dataclass
class MessageLife:
    id: str
    origin: str | None = None
    destination: str | None = None
    sent_tx: str | None = None
    sent_block: int | None = None
    sent_at: int | None = None
    nonce: int | None = None
    payload_bytes: int | None = None
    signers: list[str] = field(default_factory=list)
    status: str = "unknown"
    attempts: int = 0
    reason_hash: str | None = None
    events: list[tuple[str, str, int]] = field(default_factory=list)  # (what, tx, timestamp)
    latency_s: int | None = None
    relayer_status: str | None = None  # from the relayer's store, when given
    relayer_note: str | None = None
    relayer_gas: int = 0

    def as_json(self) -> dict[str, Any]:
        """The life as data for scripts: hashes whole, times as ISO 8601 (UTC), numbers as
        numbers, and every event in time order."""
        return {
            "id": self.id, "origin": self.origin, "destination": self.destination,
            "sent": {"tx": self.sent_tx, "block": self.sent_block, "at": _iso(self.sent_at),
                     "nonce": self.nonce, "payload_bytes": self.payload_bytes},
            "attested_by": list(self.signers),
            "events": [{"what": what, "tx": tx, "at": _iso(ts)}
                       for what, tx, ts in sorted(self.events, key=lambda e: e[2])],
            "status": self.status, "attempts": self.attempts, "reason_hash": self.reason_hash,
            "latency_s": self.latency_s,
            "relayer": {"status": self.relayer_status, "note": self.relayer_note,
                        "gas_spent": self.relayer_gas},
        }

    def lines(self) -> list[str]:
        out = [f"message {self.id}"]
        if self.origin is None:
            return out + ["  not found on any given chain: check the id and --network"]
        out.append(f"  sent      on {self.origin} in tx {self.sent_tx} (block "
                   f"{self.sent_block}, nonce {self.nonce}, {self.payload_bytes} bytes) "
                   f"to {self.destination}")
        if self.signers:
            out.append(f"  attested  by {', '.join(self.signers)}")
        for what, tx, ts in sorted(self.events, key=lambda e: e[2]):
            out.append(f"  {what:<9} in tx {tx} at {_iso(ts)}")
        extra = f" after {self.attempts} attempts, reason {self.reason_hash}" if (
            self.status == "failed") else ""
        out.append(f"  status    {self.status}{extra}")
        if self.relayer_note is not None:
            out.append(f"  relayer   {self.relayer_note}")
        elif self.relayer_status in ("failed", "gave_up") or self.relayer_gas:
            out.append(f"  relayer   {self.relayer_status}, {self.relayer_gas:,} gas spent")
        if self.latency_s is not None:
            out.append(f"  latency   {self.latency_s}s from send to delivery")
        return out


def _topic(text: str) -> str:
    return "0x" + Web3.keccak(text=text).hex().removeprefix("0x")


def check_message_id(message_id: str) -> str:
    """``message_id`` lower-cased, or a one-line ConfigError when it is not 0x + 64 hex."""
    body = message_id[2:]
    if not (message_id.startswith("0x") and len(body) == 64
            and all(c in "0123456789abcdefABCDEF" for c in body)):
        raise ConfigError(f"'{message_id}' is not a message id; pass the 0x-prefixed 32-byte id")
    return message_id.lower()


def find_sent(client: Client, gateway: str,
              message_id: str) -> tuple[messages.Message, Any] | None:
    """The message ``gateway`` sent under ``message_id`` (every field its id commits to) and
    its MessageSent log, or None when that gateway never sent it."""
    gw = client.contract("AccordGateway", gateway)
    mid = check_message_id(message_id)
    sent = gw.events.MessageSent().get_logs(from_block=0, argument_filters={"sendId": mid})
    if not sent:
        return None
    ev = sent[0]
    nonce_logs = gw.events.MessageNonce().get_logs(
        from_block=ev["blockNumber"], to_block=ev["blockNumber"], argument_filters={"id": mid})
    nonce = int(nonce_logs[0]["args"]["nonce"]) if nonce_logs else 0
    a = ev["args"]
    return messages.message_from_sent(gateway, bytes(a["sender"]), bytes(a["recipient"]),
                                      bytes(a["payload"]), list(a["attributes"]), nonce), ev


def message_life(message_id: str, chains: list[ChainView],
                 store: SqliteStore | None = None) -> MessageLife:
    life = MessageLife(id=check_message_id(message_id))
    by_chain = {c.client.chain_id: c for c in chains}
    origin_msg: messages.Message | None = None
    for view in chains:
        found = find_sent(view.client, view.gateway, life.id)
        if found is None:
            continue
        origin_msg, ev = found
        life.origin = view.name
        life.sent_tx = "0x" + bytes(ev["transactionHash"]).hex()
        life.sent_block = int(ev["blockNumber"])
        life.sent_at = int(view.client.w3.eth.get_block(ev["blockNumber"])["timestamp"])
        life.nonce = origin_msg.nonce
        life.payload_bytes = len(origin_msg.payload)
        break
    if origin_msg is None:
        return life
    dest = by_chain.get(origin_msg.destination_chain_id)
    life.destination = dest.name if dest else f"chain {origin_msg.destination_chain_id}"
    got = None
    if dest is not None:
        # The status first: whatever made it final (the delivery, its attestations) is then
        # already in the logs and the store read below, so a final life is a whole one.
        got = MessageStatusInfo.from_abi(dest.contract().functions.messageStatus(
            origin_msg.origin_chain_id, origin_msg.origin_gateway, origin_msg.nonce,
            bytes.fromhex(message_id[2:])).call())
    if store is not None:
        life.signers = sorted(store.attestations(message_id))
        rec = store.message(message_id)
        if rec is not None and not life.signers:
            life.signers = ["(in a signed window)"]
        if rec is not None:  # what the relayer did: its gas, and why it stopped if it did
            life.relayer_status, life.relayer_note = rec.status, rec.note
            life.relayer_gas = rec.gas_spent
    if dest is None or got is None:
        return life
    gw = dest.contract()
    for name, topic in (("delivered", _topic("MessageDelivered(bytes32)")),
                        ("failed", _topic("MessageFailed(bytes32,bytes32,uint32)")),
                        ("expired", _topic("MessageExpired(bytes32,bytes32)"))):
        logs = dest.client.w3.eth.get_logs({"address": gw.address, "fromBlock": 0,
                                            "topics": [topic, message_id]})
        for entry in logs:
            ts = int(dest.client.w3.eth.get_block(entry["blockNumber"])["timestamp"])
            life.events.append((name, "0x" + bytes(entry["transactionHash"]).hex(), ts))
    life.events.sort(key=lambda e: e[2])
    life.status = got.status.label.lower()
    life.attempts = got.attempts
    life.reason_hash = ("0x" + got.reasonHash.hex() if got.status is MessageStatus.FAILED
                        else None)
    delivered = [ts for what, _, ts in life.events if what == "delivered"]
    if delivered and life.sent_at is not None:
        life.latency_s = delivered[0] - life.sent_at
    return life


def run_messages(run_id: int, home: ChainView, others: list[ChainView]) -> list[tuple[str, str]]:
    """(label, message id) of every message of workflow run ``run_id`` of ``home``: the tasks
    its remote steps sent and the results the other chains sent back, by step and attempt,
    each task before its result (block numbers of different chains do not order anything)."""
    found: list[tuple[tuple[int, int, int], str, str]] = []
    if home.router:
        router = home.client.contract("RemoteStepRouter", home.router)
        for ev in router.events.TaskSent().get_logs(from_block=0,
                                                   argument_filters={"runId": run_id}):
            a = ev["args"]
            found.append(((int(a["step"]), int(a["attempt"]), 0),
                          f"task   step {a['step']} attempt {a['attempt']} -> chain "
                          f"{a['chainId']}", "0x" + bytes(a["messageId"]).hex()))
    for view in others:
        if not view.router:
            continue
        router = view.client.contract("RemoteStepRouter", view.router)
        homes = {bytes(ev["args"]["requestId"]) for ev in router.events.TaskReceived().get_logs(
            from_block=0, argument_filters={"runId": run_id})
            if int(ev["args"]["homeChainId"]) == home.client.chain_id}
        for ev in router.events.ResultSent().get_logs(from_block=0,
                                                     argument_filters={"runId": run_id}):
            a = ev["args"]
            if bytes(a["requestId"]) in homes:
                attempt = Request.from_abi(
                    router.functions.request(bytes(a["requestId"])).call()).attempt
                found.append(((int(a["step"]), attempt, 1), f"result step {a['step']} "
                              f"({'success' if a['success'] else 'failure'}) from {view.name}",
                              "0x" + bytes(a["messageId"]).hex()))
    return [(label, mid) for _, label, mid in sorted(found)]
