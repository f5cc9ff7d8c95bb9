"""The gateway attester (a member of a gateway's validator set; the steps' judges are the
agents' business, :mod:`accord.agents.judging`): follows ``MessageSent`` on an origin gateway
and attests to what it saw.

It reads logs from a persisted cursor, waits ``confirmations`` blocks, detects reorgs by
re-checking the hash of the block its cursor stands on, and publishes signatures to an
:class:`~accord.crosschain.attestation_store.AttestationStore`. Two kinds of attestation:

- a *window* root: messages of one route whose nonces fall in ``[k*W, (k+1)*W)`` are signed
  together once the origin's nonce has passed the window (every attester sees the same set,
  so their roots agree and a relayer delivers the window with one signature check);
- a single-message attestation for a message whose window is still open ``straggler_s``
  seconds after the attester saw it (quiet traffic must not wait for a full window).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from eth_keys.datatypes import PrivateKey
from web3 import Web3
from web3.types import RPCEndpoint

from accord.chain.client import Client
from accord.crosschain import messages
from accord.crosschain.attestation_store import SqliteStore, StoredMessage
from accord.errors import ChainError, MessageFormatError
from accord.service.loop import run_service, until
from accord.service.shutdown import STOP

log = logging.getLogger("accord.validator")
_SENT_TOPIC = "0x" + Web3.keccak(
    text="MessageSent(bytes32,bytes,bytes,bytes,uint256,bytes[])").hex().removeprefix("0x")
_NONCE_TOPIC = "0x" + Web3.keccak(text="MessageNonce(bytes32,uint64)").hex().removeprefix("0x")


def route_name(origin_chain: int, dest_chain: int) -> str:
    return f"{origin_chain}->{dest_chain}"


def window_key(route: str, window: int) -> str:
    """The store key under which a window's root attestations live."""
    return f"window:{route}:{window}"


@dataclass
class AttesterConfig:
    gateway: str
    confirmations: int = 0
    window: int = 50          # messages per window: the relayer's batch size
    straggler_s: float = 0.5  # sign singly what waits this long in an open window
    max_blocks: int = 2_000   # log range per poll
    poll_s: float = 0.05
    error_backoff_s: float = 0.2      # first wait after a failed poll (node down or flaky)
    max_error_backoff_s: float = 5.0


@dataclass
class Attester:
    """One attester key (a validator of the gateway's set) watching one origin gateway. With
    no key it only follows: an *observer* that records the origin's messages in its store
    (a relayer on its own machine, which fetches the attesters' signatures instead)."""

    client: Client
    store: SqliteStore
    key: PrivateKey | None
    config: AttesterConfig
    name: str = ""
    signed: int = 0

    def __post_init__(self) -> None:
        self.address = self.key.public_key.to_checksum_address() if self.key else ""
        self.gateway = Web3.to_checksum_address(self.config.gateway)
        role = f"validator:{self.address}" if self.key else f"observer:{self.gateway}"
        self.name = self.name or f"{role}:{self.client.chain_id}"
        self._contract = self.client.contract("AccordGateway", self.gateway)

    # -- signing ---------------------------------------------------------------------------
    def _sign(self, id_or_root: bytes, batch: bool) -> str:
        assert self.key is not None  # observers never sign (_attest returns first)
        digest = messages.attestation_digest(self.client.chain_id, self.gateway, id_or_root,
                                             batch=batch)
        sig = self.key.sign_msg_hash(digest)
        r, s, v = sig.r, sig.s, sig.v + 27
        return "0x" + (r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])).hex()

    # -- polling ---------------------------------------------------------------------------
    def _start_block(self) -> int:
        cur = self.store.cursor(self.name)
        if cur is None:
            return 0
        number, bhash = cur
        if number >= 0:
            onchain = self.client.w3.eth.get_block(number)["hash"].hex()
            if _norm(onchain) != _norm(bhash):
                return self._rewind(number)
        return number + 1

    def _rewind(self, from_block: int) -> int:
        """Walk back to the newest block whose hash we recorded and still matches."""
        number = from_block
        while number > 0:
            number -= 1
            known = self.store.block_hash(self.name, number)
            if known is None:
                continue
            if _norm(self.client.w3.eth.get_block(number)["hash"].hex()) == _norm(known):
                break
        else:
            number = -1
        bhash = self.client.w3.eth.get_block(max(number, 0))["hash"].hex()
        orphaned = self.store.rewind(self.name, number, bhash, self.client.chain_id)
        log.warning("reorg on chain %s: rewound to block %s, %s messages orphaned",
                    self.client.chain_id, number, orphaned)
        return number + 1

    def poll_once(self, between: Callable[[], object] | None = None, chunk: int = 0) -> int:
        """Read the next confirmed range, record and attest; returns messages seen. With
        ``between``, a range holding more than ``chunk`` messages is recorded in parts of
        whole blocks, the cursor moved to each part's last block, and ``between()`` called
        after each part but the last: a relayer following a backlog fetches and delivers
        the first messages while it is still recording the rest."""
        head = self.client.w3.eth.block_number - self.config.confirmations
        start = self._start_block()
        if head < start:
            self._attest()
            return 0
        end = min(head, start + self.config.max_blocks - 1)
        found = 0
        rest: list[StoredMessage] = []
        for m in self._read(start, end):  # decoded as recorded: a part is ready early
            if between is not None and chunk > 0 and len(rest) >= chunk \
                    and m.block != rest[-1].block:  # whole blocks: the cursor passes a block
                last = rest[-1]
                self.store.advance(self.name, last.block, last.block_hash, rest,
                                   seen_blocks=[(last.block, last.block_hash)])
                found += len(rest)
                rest = []
                between()
            rest.append(m)
        found += len(rest)
        end_hash = self.client.w3.eth.get_block(end)["hash"].hex()
        self.store.advance(self.name, end, end_hash, rest, seen_blocks=[(end, end_hash)])
        self._attest()
        return found

    def _read(self, start: int, end: int) -> Iterator[StoredMessage]:
        """The gateway's messages in blocks ``start``..``end``, in order: one ``eth_getLogs``
        for both events, each message decoded here as it is taken (web3's event decoding
        cost ~2 ms a message, which made a relayer following 1,000 messages itself spend
        seconds before delivering any)."""
        reply = self.client.w3.provider.make_request(RPCEndpoint("eth_getLogs"), [{
            "address": self.gateway, "fromBlock": hex(start), "toBlock": hex(end),
            "topics": [[_SENT_TOPIC, _NONCE_TOPIC]]}])
        if "result" not in reply:
            raise ChainError(f"cannot read the gateway's messages in blocks {start}..{end} on "
                             f"{self.client.rpc_url}: {reply.get('error')}; retried next poll")
        logs = reply["result"]
        nonces = {bytes.fromhex(lg["topics"][1][2:]): int(lg["data"][2:], 16)
                  for lg in logs if lg["topics"][0] == _NONCE_TOPIC}
        for lg in logs:
            if lg["topics"][0] != _SENT_TOPIC or lg.get("removed"):
                continue
            send_id = bytes.fromhex(lg["topics"][1][2:])
            nonce = nonces.get(send_id)
            if nonce is None:
                continue  # not an Accord gateway message (cannot happen on our gateway)
            try:
                sender, recipient, payload, _value, attributes = messages.decode_sent_data(
                    bytes.fromhex(lg["data"][2:]))
                msg = messages.message_from_sent(self.gateway, sender, recipient, payload,
                                                 attributes, nonce)
            except MessageFormatError as exc:  # not from an Accord gateway's code
                log.error("skipping message %s: %s", send_id.hex(), exc)
                continue
            if msg.id != send_id or msg.origin_chain_id != self.client.chain_id:
                log.error("skipping message %s: rebuilt id does not match", send_id.hex())
                continue
            body = {
                "originChainId": msg.origin_chain_id, "originGateway": msg.origin_gateway,
                "nonce": msg.nonce, "sender": msg.sender,
                "destinationChainId": msg.destination_chain_id, "recipient": msg.recipient,
                "expiry": msg.expiry, "gasLimit": msg.gas_limit,
                "payload": "0x" + msg.payload.hex(),
            }
            yield StoredMessage(
                id="0x" + send_id.hex(),
                route=route_name(self.client.chain_id, msg.destination_chain_id),
                origin_chain=self.client.chain_id, dest_chain=msg.destination_chain_id,
                nonce=msg.nonce, block=int(lg["blockNumber"], 16),
                block_hash=_norm(lg["blockHash"]), tx=_norm(lg["transactionHash"]),
                body=body, status="pending", attempts=0, seen_at=time.time())

    def _attest(self) -> int:
        """Sign every window the origin's nonce has passed and every straggler; from the
        store, so a restarted validator signs exactly what it would have signed before."""
        if self.key is None:
            return 0
        w = self.config.window
        origin = self.client.chain_id
        max_nonce = self.store.max_nonce(origin)
        signed = 0
        for route in self.store.routes(origin):
            k = self.store.signed_windows(route, self.address) + 1
            batch: list[tuple[str, str, str]] = []
            while (k + 1) * w - 1 <= max_nonce:
                ids = self.store.window_ids(route, k * w, (k + 1) * w)
                if ids:
                    root = messages.batch_root([bytes.fromhex(i[2:]) for i in ids])
                    batch.append((window_key(route, k), self.address, self._sign(root, True)))
                    batch.append((window_key(route, k) + ":ids", self.address, ",".join(ids)))
                    signed += 1
                k += 1
            for m in self.store.unsigned_since(route, self.address, k * w,
                                               time.time() - self.config.straggler_s):
                batch.append((m.id, self.address, self._sign(bytes.fromhex(m.id[2:]), False)))
                signed += 1
            if batch:
                self.store.put_attestations(batch)
        self.signed += signed
        return signed

    def run(self, stop_after_s: float | None = None,
            stop: threading.Event | None = None) -> None:
        """Poll until ``stop_after_s`` or ``stop``; a poll that fails (node down or flaky) is
        retried with exponential backoff (every poll resumes from the stored cursor)."""
        timer = until(stop_after_s)
        running = timer if stop is None else (lambda: timer() and not stop.is_set())
        run_service(self.poll_once, what=f"{self.name}: poll", poll_s=self.config.poll_s,
                    first_backoff_s=self.config.error_backoff_s,
                    max_backoff_s=self.config.max_error_backoff_s, log=log, running=running,
                    wait=STOP.wait if stop is None else stop.wait)


def _norm(h: str) -> str:
    h = h.lower()
    return h if h.startswith("0x") else "0x" + h
