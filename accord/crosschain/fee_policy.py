"""Which messages a relayer delivers at its own cost: ``accord relay --fee-policy``.

``any`` (the default) delivers every attested message, paid for or not. ``paid`` delivers a
message only when what was paid for it on the origin's ``AccordGasPaymaster`` covers the
paymaster's quote now for the message's own gas (its ``minGasLimit``) to this destination,
as Hyperlane's relayer enforces its interchain gas payments. The current quote, not the one
at payment time: if the owner raised the price since, the message waits for a top-up
(``accord message pay`` tops up by the difference).

A message that is not covered is not delivered by this relayer: it moves to ``unpaid`` with
a note that says what was paid against what is asked (``accord message status ID --store
DB`` shows it), and is looked at again after a backoff (1 s, doubling up to a minute): once
paid it goes back to ``pending`` and is delivered like any other. Nothing else changes for
it: attesters still sign it, and anyone holding the attestations may deliver it themselves
(self-relay, ``AccordGateway.deliver``); each look also asks the destination gateway, so a
message someone else delivered is recorded as delivered, not looked at forever.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence

from accord.chain.types import GasOracle
from accord.crosschain.attestation_store import SqliteStore, StoredMessage
from accord.crosschain.messages import DEFAULT_GAS_LIMIT
from accord.crosschain.paymaster import Paymaster, quote_of

log = logging.getLogger("accord.relayer")

UNPAID = "unpaid"
"""Store status of a message a ``paid`` relayer holds back until it is paid for."""
_NOT_RELAYED = "not relayed: "


class FeePolicy(enum.Enum):
    """``accord relay --fee-policy``."""

    ANY = "any"    # deliver every attested message (self-relay and the demo need nothing)
    PAID = "paid"  # deliver only messages paid for at the current quote


class FeeGate:
    """The ``paid`` policy of one route: asks the origin's paymaster what each message was
    paid and what its delivery costs now, and holds back what is not covered."""

    def __init__(self, paymaster: Paymaster, store: SqliteStore, route: str,
                 destination_chain_id: int, *, recheck_s: float = 1.0,
                 max_recheck_s: float = 60.0, batch: int = 500) -> None:
        self.paymaster = paymaster
        self.store = store
        self.route = route
        self.destination = destination_chain_id
        self.recheck_s = recheck_s
        self.max_recheck_s = max_recheck_s
        self.batch = batch
        self._next: dict[str, float] = {}   # unpaid id -> when to look again
        self._looks: dict[str, int] = {}    # unpaid id -> looks so far (the backoff doubles)
        self.held_back = 0                  # messages moved to unpaid, for the metrics
        self._cursor = -1                   # the nonce recheck's next page starts after

    # -- what a message is worth ----------------------------------------------------------------
    def _quote(self, oracle: GasOracle, m: StoredMessage, gas: int | None = None) -> int | None:
        if oracle.tokenExchangeRate == 0:
            return None
        return quote_of(oracle, _own_gas(m) if gas is None else gas)

    def _judge(self, msgs: Sequence[StoredMessage], gas: int | None = None
               ) -> dict[str, tuple[int, int | None]]:
        """(paid, quote now for ``gas`` or the message's own gas; None: no oracle) per id,
        from two reads of the origin chain."""
        if not msgs:
            return {}
        oracle = self.paymaster.oracle(self.destination)
        paid = self.paymaster.paid_many([m.id for m in msgs])
        return {m.id: (paid[m.id], self._quote(oracle, m, gas)) for m in msgs}

    def _why(self, m: StoredMessage, paid: int, quote: int | None, gas: int | None = None
             ) -> str:
        gas = _own_gas(m) if gas is None else gas
        if quote is None:
            return (f"{_NOT_RELAYED}the origin's paymaster {self.paymaster.address} has no gas "
                    f"oracle for chain {self.destination}, so nothing can be paid (fee policy "
                    "'paid'); its owner sets one, or anyone may deliver it (self-relay)")
        return (f"{_NOT_RELAYED}paid {paid:,} wei of the {quote:,} wei quote for {gas:,} gas "
                f"to chain {self.destination} (fee policy 'paid'); pay the rest with 'accord "
                f"message pay {m.id} --network <origin>', or anyone may deliver it (self-relay)")

    # -- the relayer's hooks --------------------------------------------------------------------
    def admit(self, msgs: list[StoredMessage]) -> list[StoredMessage]:
        """The pending messages that are paid for; the others move to ``unpaid`` with a note.
        Paid-for ids are not remembered: the pending set is asked about once per plan, in
        two batched reads."""
        verdicts = self._judge(msgs)
        out = []
        for m in msgs:
            paid, quote = verdicts[m.id]
            if quote is not None and paid >= quote:
                out.append(m)
                continue
            self.store.annotate(m.id, self._why(m, paid, quote), status=UNPAID)
            self._wait(m.id)
            self.held_back += 1
            log.info("route=%s holding back %s: paid %d wei, quote %s trace=%s", self.route,
                     m.id, paid, quote, m.id)
        return out

    def covers(self, m: StoredMessage, gas: int | None = None) -> bool:
        """Whether what was paid for ``m`` covers ``gas`` (default: its own gas) at this
        relayer's cost: a retry asks for all the gas the message will have cost, so a
        recipient that burns its gas cannot make a paid relayer spend more than was paid (the
        note says why not, and it is looked at again after a backoff)."""
        paid, quote = self._judge([m], gas)[m.id]
        if quote is not None and paid >= quote:
            return True
        why = self._why(m, paid, quote, gas)
        if m.note != why:
            self.store.annotate(m.id, why)
        self._wait(m.id)
        return False

    def next_look(self, message_id: str) -> float:
        return self._next.get(message_id, 0.0)

    def recheck(self, reconcile: Callable[[list[str]], None]) -> int:
        """Look again at unpaid messages whose wait is over: those now paid go back to
        ``pending`` (returned: how many); for the others the destination gateway is asked
        (``reconcile``), so one that someone else delivered is recorded as such."""
        now = time.monotonic()
        # a page of the unpaid messages after the last one looked at, round robin: however
        # many are never paid, each is looked at again within len/batch passes
        page = self.store.by_status(self.route, UNPAID, self.batch, after_nonce=self._cursor)
        self._cursor = page[-1].nonce if len(page) == self.batch else -1
        due = [m for m in page if self._next.get(m.id, 0.0) <= now]
        if not due:
            return 0
        verdicts = self._judge(due)
        back, still = 0, []
        for m in due:
            paid, quote = verdicts[m.id]
            if quote is not None and paid >= quote:
                self.store.annotate(m.id, f"paid {paid:,} wei, covers the {quote:,} wei quote: "
                                          "relaying", status="pending")
                self._forget(m.id)
                back += 1
            else:
                why = self._why(m, paid, quote)
                if m.note != why:
                    self.store.annotate(m.id, why)
                self._wait(m.id)
                still.append(m.id)
        if still:
            reconcile(still)
            for mid in still:
                rec = self.store.message(mid)
                if rec is None or rec.status != UNPAID:
                    self._forget(mid)
        return back

    def _wait(self, message_id: str) -> None:
        looks = self._looks.get(message_id, 0)
        self._looks[message_id] = looks + 1
        delay = min(self.recheck_s * 2 ** looks, self.max_recheck_s)
        self._next[message_id] = time.monotonic() + delay

    def _forget(self, message_id: str) -> None:
        self._next.pop(message_id, None)
        self._looks.pop(message_id, None)


def _own_gas(m: StoredMessage) -> int:
    """The recipient gas the sender fixed for ``m`` (its ``minGasLimit``)."""
    return int(m.body.get("gasLimit", DEFAULT_GAS_LIMIT))
