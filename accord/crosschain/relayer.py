"""The relayer: delivers attested messages to a destination gateway, in batches.

Per route (origin -> destination) it turns what validators attested into delivery
transactions: a closed window with a quorum of root signatures becomes one ``deliverBatch``
(only its still-pending messages, proven against the signed id list), a straggler with a
quorum of single signatures one ``deliver``. Transactions are pipelined with the relayer's
own nonces, receipts collected afterwards, and progress recorded in SQLite, so a relayer
killed at any moment resumes exactly: what it sent but did not record is re-sent, and the
gateway's replay guard turns that into a no-op ("already delivered" is success, never an
error). Several relayers may run at once for the same reason.

A message whose recipient failed is not retried blindly. The relayer simulates the
recipient call (:mod:`accord.recipient_probe`) and retries only what the simulation says
will now succeed: a recipient that refuses on purpose is checked again later at the
message's own gas (never with more), a recipient that ran out of gas is retried with about
the gas the simulation needed. Every try is charged to the message from the receipts'
gasUsed, and the relayer stops at ``max_gas_per_message`` or after ``max_tries`` failures,
recording why (``gave_up``, with a note that ``accord message status`` shows).

With a fee gate (``accord relay --fee-policy paid``, :mod:`accord.crosschain.fee_policy`) the
relayer delivers, and retries, only messages paid for on the origin at the current quote;
the others wait as ``unpaid``, with a note saying what was paid against what is asked.

For deterministic tests, :meth:`Relayer.plan` returns the batches it would send and
:meth:`Relayer.send` sends any list of them (reordered, duplicated, partial).
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from accord.chain.client import Client, with_retries
from accord.chain.types import MessageStatus
from accord.crosschain.attestation_store import SqliteStore, StoredMessage
from accord.crosschain.attester import route_name, window_key
from accord.crosschain.fee_policy import UNPAID, FeeGate
from accord.crosschain.messages import (
    DEFAULT_GAS_LIMIT,
    MAX_GAS_LIMIT,
    Message,
    canonical_address,
    encode_message,
    to_checksum_address,
)
from accord.crosschain.recipient_probe import Diagnosis, Verdict, probe
from accord.errors import ChainError, ContractRevert
from accord.service.loop import run_service

log = logging.getLogger("accord.relayer")
FEED_JOIN_S = 10.0  # a feed pass is bounded by the fetcher's pass budget and RPC timeouts
TURN_WAIT_S = 1.0  # the longest the feed or delivery waits for the other to finish its turn

_M = TypeVar("_M")
_MESSAGE_STATUS = function_signature_to_4byte_selector(
    "messageStatus(uint256,address,uint64,bytes32)")
_DELIVERED = "0x" + Web3.keccak(text="MessageDelivered(bytes32)").hex().removeprefix("0x")
_FAILED = "0x" + Web3.keccak(text="MessageFailed(bytes32,bytes32,uint32)").hex().removeprefix(
    "0x")
TX_GAS_CAP = 25_000_000  # below anvil's and mainnet's 30M block gas limit
_BATCH_BASE_GAS = 150_000  # a batch's own work besides its messages (bound)
# Gas a retry transaction uses besides its recipient's (measured on anvil, prague: 47,959
# with a 3-byte payload), with room for longer payloads. A failed message in a batch is
# charged its recipient's gas plus BATCH_SHARE, its part of the batch's own work (measured: a
# window of 10 recipients that burn their 200,000 gas used 261,184 gas a message), never
# more than the whole receipt; a single delivery or a retry is charged its whole receipt.
RETRY_OVERHEAD = 60_000
BATCH_SHARE = 60_000
_MESSAGE = "bytes"  # the encoded message (accord.crosschain.messages.encode_message)
_DELIVER = function_signature_to_4byte_selector(f"deliver({_MESSAGE},bytes,uint256)")
_DELIVER_BATCH = function_signature_to_4byte_selector(
    f"deliverBatch({_MESSAGE}[],bytes32[],bytes,uint256)")


def _decode_status(data: bytes) -> tuple[MessageStatus, bytes] | None:
    """``(status, reasonHash)`` from ``messageStatus``'s return data; None if malformed."""
    if len(data) < 96:
        return None
    try:
        return MessageStatus(int.from_bytes(data[:32], "big")), data[32:64]
    except ValueError:
        return None


def _addr(value: str) -> bytes:
    return bytes.fromhex(value[2:])



@dataclass
class RelayerConfig:
    gateway: str                 # the destination gateway
    origin_chain: int
    threshold: int
    batch_size: int = 50         # must equal the validators' window
    recipient_gas: int = 200_000
    max_in_flight: int = 16      # transactions sent before waiting for receipts
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    # A failed message: gas (receipts' gasUsed) this relayer pays for it over all its tries,
    # the first delivery included; failures (on chain, or a simulated retry) before giving
    # up; the first wait before a recipient that refused is checked again (then doubling).
    max_gas_per_message: int = 3_000_000
    max_tries: int = 3
    retry_backoff_s: float = 10.0
    poll_s: float = 0.05
    max_error_backoff_s: float = 5.0  # a failing node (down, flaky) is retried up to this


class Turns:
    """The feed and the delivery of one relayer take turns instead of running at once: both
    are Python on one interpreter lock, and on a busy machine running them together made each
    slower than the two one after the other (the relayer's messages/s over HTTP rose by half
    with turns). Neither ever waits longer than ``wait_s`` for the other: a feed stuck on a
    slow attester or node does not hold delivery up, it just runs beside it."""

    def __init__(self, wait_s: float = TURN_WAIT_S) -> None:
        self.wait_s = wait_s
        self._cv = threading.Condition()
        self._busy: str | None = None
        self._last: str | None = None
        self._waiting: set[str] = set()

    @contextmanager
    def turn(self, who: str) -> Iterator[None]:
        """Run the body as ``who``'s turn: after the other side's turn ends (and, when ``who``
        had the last turn and the other is waiting, after the other's next turn), or after
        ``wait_s``, whichever comes first."""
        with self._cv:
            self._waiting.add(who)
            end = time.monotonic() + self.wait_s
            while (self._busy is not None or (self._last == who and self._waiting - {who})) \
                    and (left := end - time.monotonic()) > 0:
                self._cv.wait(left)
            self._waiting.discard(who)
            mine = self._busy is None
            if mine:
                self._busy = who
        try:
            yield
        finally:
            with self._cv:
                if mine:
                    self._busy = None
                self._last = who
                self._cv.notify_all()


@dataclass
class Batch:
    """One delivery transaction: ``ids`` is the signed window (empty for a single)."""

    route: str
    messages: list[StoredMessage]
    window_ids: list[str]
    signatures: list[tuple[str, str]]  # (signer, signature), ascending signer

    @property
    def single(self) -> bool:
        return not self.window_ids


@dataclass
class Counters:
    seen: int = 0
    delivered: int = 0
    failed: int = 0
    already: int = 0
    batches: int = 0
    retries: int = 0
    given_up: int = 0
    latencies: list[float] = field(default_factory=list)

    def prometheus(self, pending: int, signed: int, unpaid: int = 0) -> str:
        lat = sorted(self.latencies[-10_000:])
        p50 = statistics.median(lat) if lat else 0.0
        p95 = lat[int(0.95 * (len(lat) - 1))] if lat else 0.0
        lines = [
            "# TYPE accord_relayer_delivered_total counter",
            f"accord_relayer_delivered_total {self.delivered}",
            "# TYPE accord_relayer_failed_total counter",
            f"accord_relayer_failed_total {self.failed}",
            "# TYPE accord_relayer_already_delivered_total counter",
            f"accord_relayer_already_delivered_total {self.already}",
            "# TYPE accord_relayer_given_up_total counter",
            f"accord_relayer_given_up_total {self.given_up}",
            "# TYPE accord_relayer_batches_total counter",
            f"accord_relayer_batches_total {self.batches}",
            "# TYPE accord_relayer_seen_total counter",
            f"accord_relayer_seen_total {self.seen}",
            "# TYPE accord_relayer_signed_total counter",
            f"accord_relayer_signed_total {signed}",
            "# TYPE accord_relayer_pending gauge",
            f"accord_relayer_pending {pending}",
            "# TYPE accord_relayer_unpaid gauge",
            f"accord_relayer_unpaid {unpaid}",
            "# TYPE accord_relayer_latency_seconds summary",
            f'accord_relayer_latency_seconds{{quantile="0.5"}} {p50:.6f}',
            f'accord_relayer_latency_seconds{{quantile="0.95"}} {p95:.6f}',
        ]
        return "\n".join(lines) + "\n"


class Relayer:
    """Delivers one route's attested messages to the destination gateway."""

    def __init__(self, client: Client, store: SqliteStore, account: LocalAccount,
                 config: RelayerConfig, fees: FeeGate | None = None) -> None:
        self.client = client
        self.fees = fees  # None: deliver every attested message (--fee-policy any)
        self.store = store
        self.account = account
        self.config = config
        self.route = route_name(config.origin_chain, client.chain_id)
        self.gateway = client.contract("AccordGateway", Web3.to_checksum_address(config.gateway))
        self.counters = Counters()
        self._next_attempt: dict[str, float] = {}
        self._idle_version: tuple[int, int] | None = None  # the store when a plan found none
        self._wake = 0.0  # and when a message's backoff ends after it
        self._validators = {Web3.to_checksum_address(v) for v in
                            self.gateway.functions.validators(config.origin_chain).call()}
        if fees is None:  # a store a 'paid' relayer used: what it held back is ours to deliver
            held = [m.id for m in store.by_status(self.route, UNPAID, 1_000_000)]
            for mid in held:
                store.annotate(mid, "relaying: fee policy 'any'", status="pending")

    # -- planning ---------------------------------------------------------------------------
    def _quorum(self, sigs: dict[str, str]) -> list[tuple[str, str]] | None:
        members = ((to_checksum_address(s), sig) for s, sig in sigs.items())
        valid = sorted((m for m in members if m[0] in self._validators),
                       key=lambda x: int(x[0], 16))
        return valid[: self.config.threshold] if len(valid) >= self.config.threshold else None

    def plan(self, limit: int = 10_000) -> list[Batch]:
        """The batches that can be sent now, oldest first. Reads ids first and loads only
        the messages of windows (or singles) that have a quorum; a plan that found nothing is
        not made again until the store changes (any writer, any process) or a message's
        backoff ends, so an idle relayer's loop costs one cheap read."""
        now = time.monotonic()
        version = self.store.version()
        if version == self._idle_version and now < self._wake:
            return []
        w = self.config.batch_size
        by_window: dict[int, list[tuple[str, int]]] = {}
        for mid, nonce in self.store.pending_ids(self.route, limit):
            if self._next_attempt.get(mid, 0.0) <= now:
                by_window.setdefault(nonce // w, []).append((mid, nonce))
        batches: list[Batch] = []
        for k, members in self._spread(sorted(by_window.items())):
            key = window_key(self.route, k)
            quorum = self._quorum(self.store.attestations(key))
            if quorum is not None:
                listed = self.store.attestations(key + ":ids")
                ids = next(iter(listed.values())).split(",") if listed else []
                if ids:
                    wanted = {mid for mid, _ in members}
                    msgs = [m for m in self.store.pending_between(self.route, k * w,
                                                                  (k + 1) * w)
                            if m.id in wanted]
                    batches.extend(Batch(self.route, part, ids, quorum)
                                   for part in self._fit(msgs) if part)
                    continue
            for mid, _ in members:  # window still open: singles that have a quorum
                single = self._quorum(self.store.attestations(mid))
                if single is None:
                    continue
                m = self.store.message(mid)
                if m is not None and m.status == "pending":
                    batches.append(Batch(self.route, [m], [], single))
        if batches:
            self._idle_version = None
        else:
            self._idle_version = version
            self._wake = min((t for t in self._next_attempt.values() if t > now),
                             default=float("inf"))
        return batches if self.fees is None else self._paid_only(batches)

    def _spread(self, windows: list[tuple[int, list[_M]]]) -> list[tuple[int, list[_M]]]:
        """Windows in order, starting at one this relayer's address picks: relayers that
        know nothing of each other and see a backlog at the same moment begin on different
        windows instead of all sending the same ones (each repeat costs gas, never a second
        delivery); a relayer alone delivers everything either way."""
        if len(windows) < 2:
            return windows
        start = int(self.account.address, 16) % len(windows)
        return windows[start:] + windows[:start]

    def _already_done(self, chunk: list[Batch]) -> list[Batch]:
        """The batches of ``chunk`` another relayer has not delivered meanwhile: one JSON-RPC
        batch reads the status of each batch's first message, and a batch found processed is
        reconciled (its messages recorded as they are on chain) instead of sent again."""
        firsts = [b.messages[0] for b in chunk]
        try:
            statuses = self._statuses(firsts)
        except Exception:  # noqa: BLE001 (a failed read costs a possible repeat, nothing more)
            return chunk
        keep: list[Batch] = []
        done: list[Batch] = []
        for b in chunk:
            status = statuses.get(b.messages[0].id, (MessageStatus.UNKNOWN, b""))[0]
            (keep if status == MessageStatus.UNKNOWN else done).append(b)
        if done:
            self._reconcile([m.id for b in done for m in b.messages])
        return keep

    def _paid_only(self, batches: list[Batch]) -> list[Batch]:
        """The batches with only the messages the fee gate admits (a window's part stays
        provable against its whole signed list); the others are held back as unpaid."""
        assert self.fees is not None
        admitted = {m.id for m in self.fees.admit([m for b in batches for m in b.messages])}
        out = []
        for b in batches:
            keep = [m for m in b.messages if m.id in admitted]
            if keep:
                out.append(Batch(b.route, keep, b.window_ids, b.signatures))
        return out

    # -- sending ----------------------------------------------------------------------------
    def _tuple(self, m: StoredMessage) -> bytes:
        """The encoded message the gateway takes, from the stored body."""
        b = m.body
        return encode_message(Message(
            int(b["originChainId"]), b["originGateway"], int(b["nonce"]), b["sender"],
            int(b["destinationChainId"]), b["recipient"], int(b["expiry"]),
            bytes.fromhex(b["payload"][2:]), int(b.get("gasLimit", DEFAULT_GAS_LIMIT))))

    def _calldata(self, batch: Batch) -> bytes:
        """ABI-encoded call, with eth_abi directly (web3's encoder is the hot spot)."""
        sigs = b"".join(bytes.fromhex(sig[2:]) for _, sig in batch.signatures)
        gas_limit = self.config.recipient_gas
        if batch.single:
            return _DELIVER + abi_encode(
                [_MESSAGE, "bytes", "uint256"], [self._tuple(batch.messages[0]), sigs, gas_limit])
        whole = {m.id for m in batch.messages} == set(batch.window_ids)
        ids = [] if whole else [bytes.fromhex(i[2:]) for i in batch.window_ids]
        ordered = sorted(batch.messages, key=lambda m: m.nonce)
        return _DELIVER_BATCH + abi_encode(
            [f"{_MESSAGE}[]", "bytes32[]", "bytes", "uint256"],
            [[self._tuple(m) for m in ordered], ids, sigs, gas_limit])

    def _recipient_gas(self, m: StoredMessage) -> int:
        """The gas the gateway gives ``m``'s recipient: the larger of ours and its own; under
        the ``paid`` fee policy its own, the gas that was paid for."""
        own = int(m.body.get("gasLimit", DEFAULT_GAS_LIMIT))
        return own if self.fees is not None else max(self.config.recipient_gas, own)

    def _fit(self, msgs: list[StoredMessage]) -> list[list[StoredMessage]]:
        """A window's messages in nonce order, split so each part's gas bound fits in one
        transaction (a part is a partial delivery, proven against the whole signed list)."""
        parts: list[list[StoredMessage]] = [[]]
        total = _BATCH_BASE_GAS
        for m in sorted(msgs, key=lambda m: m.nonce):
            need = self._message_gas(m)
            if parts[-1] and total + need > TX_GAS_CAP:
                parts.append([])
                total = _BATCH_BASE_GAS
            parts[-1].append(m)
            total += need
        return parts

    def _message_gas(self, m: StoredMessage) -> int:
        return 90_000 + self._recipient_gas(m) * 65 // 63

    def _gas(self, batch: Batch) -> int:
        """An upper bound for the transaction, capped below a block's gas limit (recipients
        rarely use all the gas they are offered; the gateway reverts a delivery that cannot
        give a recipient all of its gas)."""
        return min(_BATCH_BASE_GAS + sum(self._message_gas(m) for m in batch.messages),
                   TX_GAS_CAP)

    # -- failed messages ----------------------------------------------------------------------
    def retry_failed(self) -> int:
        """Look again at failed messages whose wait is over; returns how many it delivered.

        Each is first simulated (free): a recipient that now accepts is retried at the gas
        the simulation passed with; one that needs more gas is retried with about what it
        needed (plus a tenth); one that refuses on purpose is not sent at all but checked
        again after ``retry_backoff_s`` (doubling), at its own gas; one that runs out of gas
        even with the most a try can have within the cap is given up at once. A retry is
        sent only while its expected gas fits in what ``max_gas_per_message`` leaves, and the
        relayer gives up after ``max_tries`` failures (a simulation can be fooled); a message
        it gave up on stays ``gave_up``, with its note, until ``accord message retry``."""
        now = time.monotonic()
        delivered = 0
        for mid in self.store.ids("failed"):
            m = self.store.message(mid)
            if m is None or m.route != self.route or self._next_attempt.get(mid, 0.0) > now:
                continue
            if self.fees is not None and not self.fees.covers(m):  # not at our cost
                self._next_attempt[mid] = self.fees.next_look(mid)
                continue
            delivered += self._retry_one(m)
        return delivered

    def _most_gas(self) -> int:
        """The most recipient gas one try may have within the per-message cap."""
        return min(max(self.config.max_gas_per_message - RETRY_OVERHEAD, 0), MAX_GAS_LIMIT)

    def _give_up(self, m: StoredMessage, why: str, tries: int = 0) -> None:
        self.store.annotate(m.id, f"gave up: {why}", tries=tries, status="gave_up")
        self._next_attempt.pop(m.id, None)
        self.counters.given_up += 1
        log.warning("route=%s gave up on %s: %s trace=%s", self.route, m.id, why, m.id)

    def _spent(self, m: StoredMessage, tries: int | None = None) -> str:
        n = m.tries if tries is None else tries
        return f"spent {m.gas_spent:,} gas over {n} {'try' if n == 1 else 'tries'}"

    def _retry_one(self, m: StoredMessage) -> int:
        """Simulate ``m``'s recipient at the gas its last try had, then retry, wait or give
        up as :meth:`retry_failed` says; 1 if it was delivered now."""
        cap = self.config.max_gas_per_message
        gas = m.last_gas or self._recipient_gas(m)
        d = probe(self.client, self.gateway.address, m.id, m.body, gas,
                  max(self._most_gas(), gas))
        if d.verdict is Verdict.UNKNOWN:
            self._next_attempt[m.id] = time.monotonic() + self.config.backoff_s
            log.info("route=%s cannot simulate %s now (%s)", self.route, m.id, d.reason)
            return 0
        if d.verdict is Verdict.OUT_OF_GAS:
            self._give_up(m, f"out of gas even with {d.gas:,} gas, the most a try may have "
                             f"within the {cap:,} gas cap ({self._spent(m)})")
            return 0
        if d.verdict is Verdict.REFUSES:
            return self._refused(m, d)
        if m.tries >= self.config.max_tries:  # a simulation passes, the chain disagrees
            self._give_up(m, f"recipient fails on chain although a simulation accepts it "
                             f"({self._spent(m)})")
            return 0
        send_gas = gas if d.verdict is Verdict.ACCEPTS else min(
            max(d.needed + d.needed // 10, gas), self._most_gas())
        expected = d.needed + RETRY_OVERHEAD
        if m.gas_spent + expected > cap:
            self._give_up(m, f"needs about {d.needed:,} gas; a retry would take the spend to "
                             f"about {m.gas_spent + expected:,}, over the {cap:,} gas cap "
                             f"({self._spent(m)})")
            return 0
        if self.fees is not None and not self.fees.covers(m, m.gas_spent + expected):
            self._next_attempt[m.id] = self.fees.next_look(m.id)  # not at our cost
            return 0
        return self._send_retry(m, send_gas, d)

    def _refused(self, m: StoredMessage, d: Diagnosis) -> int:
        """The recipient refuses at its own gas: the failure just seen counts as a try (it
        has no note yet); a later check that still refuses counts one more."""
        counted = 1 if m.note is not None else 0
        tries = m.tries + counted
        if tries >= self.config.max_tries:
            self._give_up(m, f"recipient reverts ({d.reason}) after {tries} tries "
                             f"({m.gas_spent:,} gas spent)", tries=counted)
            return 0
        delay = min(self.config.retry_backoff_s * 2 ** max(tries - 1, 0),
                    max(self.config.max_backoff_s, self.config.retry_backoff_s))
        self.store.annotate(m.id, f"recipient reverts ({d.reason}); checking again in "
                                  f"{delay:g}s ({self._spent(m, tries)})", tries=counted)
        self._next_attempt[m.id] = time.monotonic() + delay
        return 0

    def _send_retry(self, m: StoredMessage, send_gas: int, d: Diagnosis) -> int:
        fn = self.gateway.functions.retry(self._tuple(m), b"", send_gas)
        try:  # estimated first: a retry the gateway refuses is decoded, not sent
            receipt = self.client.transact(fn, self.account)
        except ContractRevert as exc:
            self._reconcile([m.id])  # delivered or cancelled meanwhile: recorded as such
            rec = self.store.message(m.id)
            if rec is not None and rec.status == "failed":
                if exc.name == "AccordGatewayMessageExpired":
                    self._give_up(rec, "expired; anyone may call markExpired to tell the "
                                       f"sender ({self._spent(rec)})")
                elif rec.tries + 1 >= self.config.max_tries:
                    self._give_up(rec, f"the gateway refuses the retry ({exc}) "
                                       f"({self._spent(rec)})", tries=1)
                else:
                    self.store.annotate(m.id, f"the gateway refuses the retry ({exc})", tries=1)
                    self._next_attempt[m.id] = time.monotonic() + self.config.retry_backoff_s
            log.info("route=%s retry of %s not possible: %s", self.route, m.id, exc)
            return 0
        except ChainError as exc:
            self._next_attempt[m.id] = time.monotonic() + self.config.backoff_s
            log.warning("route=%s retry of %s failed to send: %s", self.route, m.id, exc)
            return 0
        txh = "0x" + bytes(receipt["transactionHash"]).hex()
        used = int(receipt["gasUsed"])
        topics = {bytes(e["topics"][0]): e for e in receipt["logs"] if e["topics"]}
        failed = topics.get(bytes.fromhex(_FAILED[2:]))
        if failed is None and bytes.fromhex(_DELIVERED[2:]) not in topics:
            self.store.mark([m.id], "failed", gas=used)  # neither: ask the gateway
            self._reconcile([m.id])
            return 0
        if failed is None:
            self.store.mark([m.id], "delivered", tx=txh, gas=used,
                            note=f"delivered on try {m.tries + 1} with {send_gas:,} gas "
                                 f"(spent {m.gas_spent + used:,} gas in all)")
            self.counters.delivered += 1
            log.info("route=%s retried %s with %d gas (%s): delivered trace=%s", self.route,
                     m.id, send_gas, d.verdict.value, m.id)
            return 1
        reason = "0x" + bytes(failed["data"])[:32].hex()
        self.store.failed(m.id, tx=txh, reason=reason, gas=used, recipient_gas=send_gas)
        self._next_attempt[m.id] = time.monotonic() + self.config.backoff_s
        self.counters.failed += 1
        log.info("route=%s retried %s with %d gas (%s): failed again trace=%s", self.route,
                 m.id, send_gas, d.verdict.value, m.id)
        return 0

    def send(self, batches: list[Batch]) -> int:
        """Send batches pipelined, then settle their receipts; returns messages delivered."""
        delivered = 0
        for i in range(0, len(batches), self.config.max_in_flight):
            chunk = self._already_done(batches[i: i + self.config.max_in_flight])
            if not chunk:
                continue
            fees = with_retries(self.client.fees, "reading the base fee", attempts=4,
                                first_wait_s=0.02)
            sent: list[tuple[Batch, Any]] = []
            for batch in chunk:
                tx = {"to": self.gateway.address, "data": self._calldata(batch), "value": 0,
                      "gas": self._gas(batch), "chainId": self.client.chain_id, **fees}
                try:
                    sent.append((batch, self.client.send(tx, self.account, wait=False)))
                except ChainError as exc:
                    self._backoff(batch, f"send failed: {exc}")
            for batch, tx_hash in sent:
                delivered += self._settle(batch, tx_hash)
        return delivered

    def _settle(self, batch: Batch, tx_hash: Any) -> int:
        receipt = self.client.raw_receipt(tx_hash)
        txh = str(receipt["transactionHash"])
        self.counters.batches += 1
        if int(receipt["status"], 16) != 1:
            return self._after_revert(batch, txh)
        delivered_ids: set[str] = set()
        failed: dict[str, str] = {}
        gateway = self.gateway.address.lower()
        for entry in receipt["logs"]:
            if entry["address"].lower() != gateway or not entry["topics"]:
                continue
            topic = entry["topics"][0]
            if topic == _DELIVERED:
                delivered_ids.add(entry["topics"][1])
            elif topic == _FAILED:
                failed[entry["topics"][1]] = entry["data"][:66]
        skipped = [m.id for m in batch.messages
                   if m.id not in delivered_ids and m.id not in failed]
        if delivered_ids:
            self.store.mark(delivered_ids, "delivered", tx=txh)
        used = int(receipt["gasUsed"], 16)
        by_id = {m.id: m for m in batch.messages}
        for mid, reason in failed.items():
            m = by_id.get(mid)
            given = self._recipient_gas(m) if m is not None else self.config.recipient_gas
            charge = used if batch.single else min(used, given + BATCH_SHARE)
            self.store.failed(mid, tx=txh, reason=reason, gas=charge, recipient_gas=given)
            self._next_attempt[mid] = time.monotonic() + self.config.backoff_s  # then look
        if skipped:  # processed before (another relayer, or a send we did not record)
            self._reconcile(skipped)
        self.counters.delivered += len(delivered_ids)
        self.counters.failed += len(failed)
        log.info("route=%s tx=%s batch=%d delivered=%d failed=%d skipped=%d trace=%s",
                 batch.route, txh, len(batch.messages), len(delivered_ids), len(failed),
                 len(skipped), ",".join(m.id for m in batch.messages[:3]))
        return len(delivered_ids)

    def _after_revert(self, batch: Batch, txh: str) -> int:
        self._reconcile([m.id for m in batch.messages])
        still = [m for m in batch.messages if self.store.message(m.id) is not None
                 and self.store.message(m.id).status == "pending"]  # type: ignore[union-attr]
        if still:
            self._backoff(Batch(batch.route, still, batch.window_ids, batch.signatures),
                          f"tx {txh} reverted")
        return 0

    def _reconcile(self, ids: list[str]) -> None:
        """Ask the gateway what happened to messages we could not account for: one JSON-RPC
        batch for all of them (a restarted relayer may re-send a whole pipeline of windows
        it had delivered), each status read singly with retries if the batch fails. A
        message whose status cannot be read now stays pending and is asked about again
        after a backoff: one failed read must not abort the step (a step that always meets
        the same unreadable message would never progress)."""
        known = [m for m in (self.store.message(mid) for mid in ids) if m is not None]
        statuses = self._statuses(known)
        for m in known:
            mid = m.id
            if mid not in statuses:
                self._next_attempt[mid] = time.monotonic() + self.config.backoff_s
                log.warning("route=%s status of %s unknown for now", self.route, mid)
                continue
            status, reason = statuses[mid]
            if status is MessageStatus.DELIVERED:
                self.store.mark([mid], "delivered")
                self.counters.already += 1
            elif status is MessageStatus.FAILED:
                self.store.mark([mid], "failed", reason="0x" + bytes(reason).hex())
            elif status is MessageStatus.EXPIRED:
                self.store.mark([mid], "expired")
            elif status is MessageStatus.CANCELLED:  # the gateway's owner gave it up
                self.store.mark([mid], "cancelled")

    def _status_data(self, m: StoredMessage) -> bytes:
        """``messageStatus(originChainId, originGateway, nonce, id)`` calldata, by hand."""
        b = m.body
        return (_MESSAGE_STATUS + int(b["originChainId"]).to_bytes(32, "big")
                + bytes(12) + canonical_address(b["originGateway"])
                + int(b["nonce"]).to_bytes(32, "big") + bytes.fromhex(m.id[2:]))

    def _statuses(self, msgs: list[StoredMessage]) -> dict[str, tuple[MessageStatus, bytes]]:
        """(status, reason) per id, from the destination gateway: one JSON-RPC batch of raw
        ``eth_call``s, each call the batch did not answer asked again alone; ids whose status
        could not be read are missing."""
        out: dict[str, tuple[MessageStatus, bytes]] = {}
        if not msgs:
            return out
        to = str(self.gateway.address)
        calls = [(to, self._status_data(m)) for m in msgs]

        def one(call: tuple[str, bytes]) -> bytes:
            data = self.client.call_many([call])[0]
            if data is None:
                raise ChainError(f"{self.client.rpc_url} answered a status read with an error")
            return data

        try:
            replies = with_retries(lambda: self.client.call_many(calls),
                                   "batched status read", attempts=4, first_wait_s=0.02)
        except ChainError as exc:  # a flaky link: read them one by one
            log.info("route=%s %s; reading singly", self.route, exc)
            replies = [None] * len(msgs)
        for m, call, data in zip(msgs, calls, replies, strict=True):
            if data is None:
                try:
                    data = with_retries(partial(one, call), f"status of {m.id}", attempts=4,
                                        first_wait_s=0.02)
                except ChainError:
                    continue
            got = _decode_status(data)
            if got is not None:
                out[m.id] = got
        return out

    def _backoff(self, batch: Batch, why: str) -> None:
        for m in batch.messages:
            delay = min(self.config.backoff_s * (2 ** m.attempts), self.config.max_backoff_s)
            self._next_attempt[m.id] = time.monotonic() + delay
        self.counters.retries += 1
        log.warning("route=%s retrying %d messages later: %s", batch.route,
                    len(batch.messages), why)

    def deliver_single_checked(self, batch: Batch) -> None:
        """Send a single with a gas estimate first (a revert is decoded, not sent)."""
        m = batch.messages[0]
        sigs = b"".join(bytes.fromhex(sig[2:]) for _, sig in batch.signatures)
        fn = self.gateway.functions.deliver(self._tuple(m), sigs, self.config.recipient_gas)
        try:
            self.client.transact(fn, self.account)
        except ContractRevert as exc:
            if exc.name == "AccordGatewayAlreadyProcessed":
                self._reconcile([batch.messages[0].id])
                return
            raise

    # -- loop -------------------------------------------------------------------------------
    def step(self) -> int:
        if self.fees is not None:
            self.fees.recheck(self._reconcile)  # paid meanwhile: back to pending
        return self.send(self.plan()) + self.retry_failed()

    def run(self, stop: threading.Event | None = None,
            before: Callable[[], int] | None = None) -> None:
        """Step until ``stop``; a step that fails (node down or flaky, a lost answer) is
        retried with exponential backoff: what it did is on chain or in the store, and what
        it did not do is planned again (the gateway's replay guard absorbs repeats).
        ``before`` (a relayer's own feed of messages and attestations,
        ``accord.crosschain.publication.Feed.step``) runs in a thread of its own, so what it
        stores is delivered while it goes on following and fetching; a feed that fails is
        retried with the same backoff and never stops delivery."""
        stop = stop or threading.Event()
        done = threading.Event()  # the delivery loop ended (the caller's ``stop`` is theirs)
        turns = Turns()
        feeder = None
        if before is not None:
            def feed_wait(seconds: float) -> None:
                end = time.monotonic() + seconds
                while not (stop.is_set() or done.is_set()) and time.monotonic() < end:
                    done.wait(min(0.1, max(end - time.monotonic(), 0.0)))

            def feed() -> int:
                with turns.turn("feed"):
                    return before()

            feeder = threading.Thread(target=run_service, args=(feed,), kwargs={
                "what": f"route={self.route} feed", "poll_s": self.config.poll_s,
                "first_backoff_s": self.config.backoff_s,
                "max_backoff_s": self.config.max_error_backoff_s, "log": log,
                "running": lambda: not (stop.is_set() or done.is_set()), "wait": feed_wait},
                name=f"feed-{self.route}", daemon=True)
            feeder.start()
        try:
            def deliver() -> int:
                with turns.turn("delivery"):
                    return self.step()

            run_service(deliver, what=f"route={self.route} step", poll_s=self.config.poll_s,
                        first_backoff_s=self.config.backoff_s,
                        max_backoff_s=self.config.max_error_backoff_s, log=log,
                        running=lambda: not stop.is_set(), wait=stop.wait,
                        on_error=lambda: self.client.reset_nonce(self.account))  # re-read nonce
        finally:
            done.set()
            if feeder is not None:  # a feed pass in flight ends within its own deadlines
                feeder.join(timeout=FEED_JOIN_S)
                if feeder.is_alive():
                    log.warning("route=%s: the feed is still in a pass %gs after delivery "
                                "stopped; it stops after that pass", self.route, FEED_JOIN_S)

    def metrics_text(self) -> str:
        counts = self.store.counts()
        self.counters.latencies = self.store.latencies()
        return self.counters.prometheus(pending=counts.get("pending", 0), signed=0,
                                        unpaid=counts.get(UNPAID, 0))


def serve_metrics(relayer: Relayer, port: int) -> ThreadingHTTPServer:
    """Prometheus text on http://127.0.0.1:<port>/metrics, in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = relayer.metrics_text().encode()
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
