"""A host's JSON-RPC budget: runs it cannot work on cost it nothing, a quiet run is read ever
less often, and a request budget is never exceeded."""

from __future__ import annotations

import asyncio
import time

import pytest
from agent_helpers import Suite, drive

from accord.chain.budget import RequestBudget

COMPLETED = 3


def test_a_request_budget_is_never_exceeded() -> None:
    async def burst() -> float:
        budget = RequestBudget(20)
        t0 = time.monotonic()
        await asyncio.gather(*(budget.take() for _ in range(60)))
        return time.monotonic() - t0

    # 20 at once (the bucket), then 40 more at 20/s: at least 2 s, however fast the machine
    assert asyncio.run(burst()) >= 1.9


def test_a_request_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RequestBudget(0)


def test_runs_the_host_cannot_work_on_are_never_read(suite: Suite) -> None:
    def work(inp: object) -> bytes:
        return b"done"

    host = suite.host([suite.agent("busy", {"research": work})], ws=False)
    not_ours = [suite.start("steps:\n  - {name: x, role: analysis, reward: 1}\n")
                for _ in range(5)]
    ours = suite.start("steps:\n  - {name: y, role: research, reward: 1}\n")
    asyncio.run(drive([host], lambda: suite.run_state(ours) == COMPLETED))
    assert host.stats["runs_not_served"] == len(not_ours)
    assert not set(not_ours) & set(host.runs)


def test_a_quiet_run_is_read_ever_less_often(suite: Suite) -> None:
    """A run whose only step another host holds: the rescans back off while nothing changes."""
    host = suite.host([suite.agent("idle", {"report": lambda inp: b"r"})], ws=False,
                      rescan_s=0.05)
    blocked = suite.start("steps:\n  - {name: a, role: analysis, reward: 1}\n"
                          "  - {name: b, role: report, reward: 1, depends_on: [a]}\n")
    reads: list[float] = []
    real_view = host.link.view

    async def counting_view(fn: str, *args: object) -> tuple:
        if fn == "readySteps" and args[0] == blocked:
            reads.append(time.monotonic())
        return await real_view(fn, *args)

    host.link.view = counting_view  # type: ignore[method-assign]
    deadline = time.monotonic() + 3.0
    asyncio.run(drive([host], lambda: time.monotonic() > deadline, timeout=30))
    # read first at once, then 0.1, 0.2, 0.4, 0.8, 0.8, ... s apart (16 x the 0.05 s tick at
    # most): about 7 reads in 3 s where one per tick would be 60 (fewer on a slow machine)
    assert 2 <= len(reads) <= 12, reads
    assert host.scheduler._next_scan[blocked][1] == pytest.approx(16 * 0.05)


def test_a_clients_budget_holds_for_its_sync_and_async_requests_together(suite: Suite) -> None:
    from accord.chain.client import Client
    from accord.chain.rpc import AsyncChain

    client = Client(suite.chain.rpc_url, max_rps=5)  # eth_chainId took one at connect
    chain = AsyncChain(client)
    assert chain.budget is client.budget

    async def mixed() -> float:
        t0 = time.monotonic()
        for _ in range(5):
            await asyncio.to_thread(lambda: client.w3.eth.block_number)
            await chain.request("eth_blockNumber", [])
        await chain.close()
        return time.monotonic() - t0

    # 11 requests at 5/s with a burst of 5: the last 6 wait at least 1.2 s in all
    assert asyncio.run(mixed()) >= 1.1
    assert client.budget.sent == 11


def test_a_batch_counts_each_of_its_calls_against_the_budget(suite: Suite) -> None:
    """A JSON-RPC batch is one HTTP request but many calls: a rate-limited endpoint counts
    each, so the budget does too; a call the node refuses is None, the others answer."""
    from accord.chain.client import Client

    client = Client(suite.chain.rpc_url, max_rps=100)
    before = client.budget.sent
    ecrecover = "0x" + "00" * 19 + "01"  # answers any input
    modexp = "0x" + "00" * 19 + "05"  # a base of 2**255 bytes: the call fails
    answers = client.call_many([(ecrecover, b"\x00" * 128)] * 7
                               + [(modexp, b"\xff" * 32 + b"\x00" * 64)])
    assert client.budget.sent - before == 8
    assert answers[:7] == [b""] * 7 and answers[7] is None
