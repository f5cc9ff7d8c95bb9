"""One agent's calls of one kind (its claims, or its submits) coalesced into OpenZeppelin
``multicall`` transactions on the coordinator.

Calls queued while an earlier transaction of the same agent and kind is being prepared or
sent ride in the next one (at most ``limit`` calls; a lone call goes out plain, without the
multicall wrapper). Gas is the per-call limit times the number of calls.

A batch is all or nothing on chain (any failing call reverts it). When one reverts, every
call is tried alone with ``eth_call``: a call that fails alone gets its own decoded revert
(typically ``CoordinatorStepNotReady``: another host got the step), the others go out again as
one batch, so a lost race costs one extra transaction, never the batch's other steps. When
every call passes alone, the calls fail only together (a bond that backs one claim's stake but
not two): they go out one by one.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount

from accord.chain.rpc import Abi, AsyncChain
from accord.errors import AccordError, ChainError, ContractRevert

T = TypeVar("T")

Receipt = dict[str, Any]
Spawn = Callable[[Coroutine[Any, Any, None]], None]


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class PendingCall:
    """One encoded call for one step; ``sent`` resolves once a transaction carrying it is
    sent (or it failed before that), ``done`` with the receipt that carried it or its error."""

    key: tuple[int, int]
    data: bytes
    sent: asyncio.Future[None] = field(default_factory=_future)
    done: asyncio.Future[Receipt] = field(default_factory=_future)

    def mark_sent(self) -> None:
        if not self.sent.done():
            self.sent.set_result(None)

    def settle(self, receipt: Receipt) -> None:
        self.mark_sent()
        if not self.done.done():
            self.done.set_result(receipt)

    def fail(self, exc: BaseException) -> None:
        self.mark_sent()
        if not self.done.done():
            self.done.set_exception(exc)
            self.done.exception()  # retrieved here: a caller cancelled meanwhile is no error


class CallBatcher:
    """Coalesces the calls of ``operator`` to ``fn`` on ``to`` (see the module doc).

    ``wait_mined``: whether the next transaction waits for this one's receipt (claims do, so
    steps handed out meanwhile join the next batch and a contested batch is prechecked against
    the outcome of the last); submits do not, so an agent's next claim is never held up by the
    mining of its submit."""

    def __init__(self, chain: AsyncChain, to: str, operator: LocalAccount, abi: Abi, *,
                 fn: str, gas: int, limit: int, wait_mined: bool, spawn: Spawn,
                 stats: Counter[str], precheck: Callable[[], bool] = lambda: False) -> None:
        self.chain, self.to, self.operator, self.abi = chain, to, operator, abi
        self.fn, self.gas, self.limit = fn, gas, max(1, limit)
        self.wait_mined, self.spawn, self.stats, self.precheck = wait_mined, spawn, stats, \
            precheck
        self.pending: list[PendingCall] = []
        self._busy = False

    def add(self, key: tuple[int, int], data: bytes) -> PendingCall:
        call = PendingCall(key, data)
        self.pending.append(call)
        if not self._busy:
            self._busy = True
            self.spawn(self._flush())  # runs after the calls queued in this loop iteration
        return call

    async def _flush(self) -> None:
        try:
            while self.pending:
                calls, self.pending = self.pending[:self.limit], self.pending[self.limit:]
                await self._send(calls, background=not self.wait_mined)
        finally:
            self._busy = False

    def _encode(self, calls: list[PendingCall]) -> tuple[bytes, int]:
        if len(calls) == 1:
            return calls[0].data, self.gas
        return self.abi.encode("multicall", [c.data for c in calls]), self.gas * len(calls)

    async def _send(self, calls: list[PendingCall], *, background: bool = False,
                    resent: bool = False) -> None:
        """Send ``calls`` as one transaction and settle each; on a revert, split (module doc).
        ``background``: return once sent and settle from a spawned task."""
        data, gas = self._encode(calls)
        tx_hash = await self._or_settled(calls, resent, self._submit(data, gas))
        if tx_hash is None:
            return
        self.stats[f"{self.fn}_txs"] += 1
        for call in calls:
            call.mark_sent()
        if background:
            self.spawn(self._outcome(calls, data, tx_hash, resent))
        else:
            await self._outcome(calls, data, tx_hash, resent)

    async def _submit(self, data: bytes, gas: int) -> str:
        """The transaction's hash once sent (after an eth_call first, when prechecking)."""
        if self.precheck():
            await self.chain.call(self.to, data, sender=self.operator.address)
        return await self.chain.send(self.operator, self.to, data, gas=gas)

    async def _outcome(self, calls: list[PendingCall], data: bytes, tx_hash: str,
                       resent: bool) -> None:
        receipt = await self._or_settled(
            calls, resent, self.chain.outcome(self.operator, self.to, data, tx_hash))
        if receipt is not None:
            for call in calls:
                call.settle(receipt)

    async def _or_settled(self, calls: list[PendingCall], resent: bool,
                          step: Awaitable[T]) -> T | None:
        """What ``step`` returns; None when it failed, the calls then settled: split and sent
        again after a revert (of the precheck, or of the mined batch), failed otherwise."""
        try:
            return await step
        except ContractRevert as exc:
            await self._split(calls, exc, resent)
        except (ChainError, AccordError) as exc:
            for call in calls:
                call.fail(exc)
        return None

    async def _split(self, calls: list[PendingCall], exc: ContractRevert,
                     resent: bool) -> None:
        if len(calls) == 1:
            calls[0].fail(exc)
            return
        self.stats["batches_reverted"] += 1
        passing: list[PendingCall] = []
        for call in calls:
            try:
                await self.chain.call(self.to, call.data, sender=self.operator.address)
            except ContractRevert as alone:
                call.fail(alone)
            except (ChainError, AccordError) as err:
                call.fail(err)
            else:
                passing.append(call)
        if not passing:
            return
        if len(passing) < len(calls) and not resent:
            await self._send(passing, resent=True)
            return
        for call in passing:  # they fail only together (or failed again): one by one
            await self._send([call], resent=True)
