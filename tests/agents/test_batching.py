"""An agent holding several ready steps claims them in one transaction and submits them in one
(OpenZeppelin multicall); a batch that loses a race still gets its other steps; a bond that
backs fewer claims than the agent may hold makes it hold fewer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agent_helpers import BOND, Suite, drive

from accord.agents.handlers import StepInput
from accord.agents.host import AgentHost

COMPLETED = 3
DONE = 5


def _fanout(n: int, *, stake: str | None = None) -> str:
    head = f"stake: {stake}\n" if stake else ""
    return head + "steps:\n" + "".join(
        f"  - name: s{i}\n    role: execute\n    reward: 1000\n" for i in range(n))


def _tx_hashes(suite: Suite, event: str, run_id: int) -> dict[int, str]:
    """step -> hash of the transaction that emitted ``event`` for it."""
    ev = getattr(suite.coordinator.events, event)
    return {int(log["args"]["step"]): log["transactionHash"].hex()
            for log in ev.get_logs(from_block=0, argument_filters={"runId": run_id})}


def _states(suite: Suite, run_id: int, n: int) -> list[int]:
    return [int(suite.coordinator.functions.stepState(run_id, i).call()) for i in range(n)]


def test_an_agent_claims_its_ready_steps_in_one_transaction_and_submits_them_in_one(
        suite: Suite) -> None:
    steps = 6
    started: list[int] = []
    all_started = asyncio.Event()

    async def work(inp: StepInput) -> bytes:  # finishes once every step is running
        started.append(inp.step)
        if len(started) == steps:
            all_started.set()
        await all_started.wait()
        return inp.name.encode()

    host = suite.host([suite.agent("batcher", {"execute": work})])
    run_id = suite.start(_fanout(steps), b"batch")
    asyncio.run(drive([host], lambda: suite.run_state(run_id) == COMPLETED
                      and host.stats["submitted"] == steps))

    claimed = _tx_hashes(suite, "StepClaimed", run_id)
    submitted = _tx_hashes(suite, "StepSubmitted", run_id)
    assert sorted(claimed) == sorted(submitted) == list(range(steps))
    assert len(set(claimed.values())) == 1, claimed
    assert len(set(submitted.values())) == 1, submitted
    assert set(_tx_hashes(suite, "StepDone", run_id).values()) == set(submitted.values())
    assert (host.stats["claim_txs"], host.stats["submit_txs"]) == (1, 1)
    assert host.stats["submitted"] == steps


@pytest.mark.parametrize("precheck, claim_txs", [(False, 2), (True, 1)])
def test_a_batch_that_loses_a_race_still_claims_its_other_steps(
        suite: Suite, precheck: bool, claim_txs: int) -> None:
    steps, taken = 5, 2
    host = suite.host([suite.agent(f"loser-{precheck}", {"execute": lambda i: b"ok"})],
                      precheck=precheck)
    rival = suite.agent(f"rival-{precheck}", {"execute": lambda i: b"mine"})
    run_id = suite.start(_fanout(steps), b"race")
    _rival_claims_before_the_first_batch(suite, host, run_id, taken, rival.agent_id,
                                         rival.operator)
    mine = [s for s in range(steps) if s != taken]
    asyncio.run(drive([host], lambda: all(
        _states(suite, run_id, steps)[s] == DONE for s in mine)))

    claimed = _tx_hashes(suite, "StepClaimed", run_id)
    assert sorted(claimed) == list(range(steps))
    assert len({claimed[s] for s in mine}) == 1  # the other steps: one (re)sent batch
    assert claimed[taken] not in {claimed[s] for s in mine}
    assert host.stats["claim_txs"] == claim_txs  # the reverted batch, unless prechecked
    assert host.stats["batches_reverted"] == 1
    assert host.stats["lost_race"] == 1
    assert _states(suite, run_id, steps)[taken] == 2  # still the rival's (Claimed)


def _rival_claims_before_the_first_batch(suite: Suite, host: AgentHost, run_id: int,
                                         step: int, agent_id: int, operator: Any) -> None:
    """Another operator claims ``step`` right before the host's first multicall reaches the
    node (its precheck or its send), as a racing host would."""
    multicall = host.abi.fns["multicall"][0]
    fired: list[bool] = []

    def race(data: bytes) -> None:
        if data[:4] == multicall and not fired:
            fired.append(True)
            coord = suite.coordinator
            suite.client.transact(coord.functions.claim(run_id, step, agent_id), operator)

    call, send = host.chain.call, host.chain.send

    async def racing_call(to: str, data: bytes, **kw: Any) -> bytes:
        race(data)
        return await call(to, data, **kw)

    async def racing_send(sender: Any, to: str, data: bytes, **kw: Any) -> str:
        race(data)
        return await send(sender, to, data, **kw)

    host.chain.call = racing_call  # type: ignore[method-assign]
    host.chain.send = racing_send  # type: ignore[method-assign]


def test_an_agent_whose_bond_backs_one_claim_holds_one_step_at_a_time(suite: Suite) -> None:
    steps = 3
    agent = suite.agent("thin-bond", {"execute": lambda i: b"ok"})
    host = suite.host([agent])
    run_id = suite.start(_fanout(steps, stake=str(BOND)), b"bond")  # the whole bond per claim
    # until the host has also seen its last submit mined (the chain completes the run first)
    asyncio.run(drive([host], lambda: suite.run_state(run_id) == COMPLETED
                      and host.stats["submitted"] == steps))

    # a batch of two claims can never pass: every claim went out alone in the end
    assert len(set(_tx_hashes(suite, "StepClaimed", run_id).values())) == steps
    assert agent.bond_cap in (None, 1)  # learnt when a refusal was decoded while it held one
    assert agent.stats["claimed"] == host.stats["submitted"] == steps
