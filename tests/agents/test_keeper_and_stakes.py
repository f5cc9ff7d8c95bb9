"""The off-chain side of the v2 trust rules on a deployed suite: validators free their vote
stakes once the verdict is final, the keeper applies the validation-timeout policy to a step
nobody judged, and it publishes the ERC-8004 records of ended runs."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from agent_helpers import Suite, drive

from accord.agents.handlers import StepInput, ValidationInput
from accord.agents.state import Agent
from accord.chain.client import Client
from accord.chain.results import commitment, find_result
from accord.chain.types import RunState, StepResult, StepState
from accord.crosschain import keeper as keeper_module
from accord.crosschain.keeper import Keeper
from accord.errors import ChainError
from accord.settings import role_id


def _work(inp: StepInput) -> bytes:
    return b"work of " + inp.name.encode()


def _approve(_: ValidationInput) -> int:
    return 100


def _keeper(suite: Suite) -> Keeper:
    return Keeper(suite.client, suite.addresses["coordinator"], suite.addresses["router"],
                  suite.fund())


def _locked(suite: Suite, agent_id: int, role: str) -> int:
    roles = suite.client.contract("AgentRoles", suite.addresses["roles"])
    return int(roles.functions.lockedOf(agent_id, role_id(role)).call())


def _reviewed(suite: Suite, judges: int) -> tuple[Agent, list[Agent], int]:
    """A worker, ``judges`` judges (each its own owner) and a started run of one step that
    needs two approvals, with a stake."""
    worker = suite.agent("worker", {"research": _work})
    panel = [suite.agent(f"judge{i}", validator=_approve) for i in range(judges)]
    run = suite.start("stake: 0.002 ether\nsteps:\n"
                      "  - {name: r, role: research, quorum: 2, reward: 1000}\n")
    return worker, panel, run


def test_validators_free_their_vote_stakes_and_the_keeper_publishes_the_records(
        suite: Suite) -> None:
    worker, judges, run = _reviewed(suite, 2)
    # each judge on its own host (its own machine): each sends its own vote
    hosts = [suite.host([worker, judges[0]]), suite.host([judges[1]])]
    asyncio.run(drive(hosts, lambda: suite.run_state(run) == RunState.COMPLETED and all(
        _locked(suite, j.agent_id, "validator") == 0 for j in judges)))
    assert _locked(suite, worker.agent_id, "research") == 0
    # the first vote's stake was locked until the verdict and then freed; the deciding
    # vote's was only checked (it locked nothing, so there is nothing to free)
    votes = suite.events("StepValidated", run)
    assert [e["approvals"] for e in votes] == [1, 2]
    assert [e["agentId"] for e in suite.events("VoteStakeReleased", run)] == [votes[0]["agentId"]]

    keeper = _keeper(suite)
    keeper.step()
    keeper.step()
    published = suite.events("OutcomesPublished", run)
    assert [(e["agentId"], e["done"], e["failed"]) for e in published] == [
        (worker.agent_id, 1, 0)]
    assert [e["response"] for e in suite.events("ValidationPublished", run)] == [100]


def test_a_result_the_keeper_cannot_read_once_is_published_on_a_later_pass(
        suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """publishValidation carries the step's result, read from its event: a node error on that
    read must not make the keeper forget the verdict."""
    worker, judges, run = _reviewed(suite, 2)
    asyncio.run(drive([suite.host([worker, *judges])],
                      lambda: suite.run_state(run) == RunState.COMPLETED))
    keeper = _keeper(suite)
    real, failures = keeper_module.find_result, []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if args[2] == run and not failures:  # this run's first read (other runs may be open)
            failures.append(True)
            raise ChainError("eth_getLogs on the node: timed out")
        return real(*args, **kwargs)

    monkeypatch.setattr(keeper_module, "find_result", flaky)
    keeper.step()
    assert failures and not suite.events("ValidationPublished", run)
    keeper.step()
    assert [e["response"] for e in suite.events("ValidationPublished", run)] == [100]
    assert len(suite.events("OutcomesPublished", run)) == 1


def test_judges_of_one_host_send_their_votes_signed_in_one_transaction_and_lock_nothing(
        suite: Suite) -> None:
    worker, judges, run = _reviewed(suite, 3)
    host = suite.host([worker, *judges])
    asyncio.run(drive([host], lambda: suite.run_state(run) == RunState.COMPLETED))
    logs = suite.coordinator.events.StepValidated.get_logs(
        from_block=0, argument_filters={"runId": run})
    # all three judged; the batch carried their votes in one transaction, which ignored the
    # vote after the deciding one
    assert len({log["transactionHash"] for log in logs}) == 1
    assert [log["args"]["approvals"] for log in logs] == [1, 2]
    assert host.stats["signed_vote_batches"] == 1
    assert suite.events("VoteStakeReleased", run) == []
    assert all(_locked(suite, j.agent_id, "validator") == 0 for j in judges)
    assert _locked(suite, worker.agent_id, "research") == 0


def test_the_keeper_applies_the_timeout_policy_to_a_step_nobody_judged(suite: Suite) -> None:
    worker = suite.agent("worker", {"research": _work})
    run = suite.start("validation_timeout: 60\non_validation_timeout: accept\nsteps:\n"
                      "  - {name: r, role: research, quorum: 1, reward: 1000}\n")
    host = suite.host([worker])  # no validator serves this run
    coord = suite.coordinator.functions
    asyncio.run(drive([host], lambda: coord.stepState(run, 0).call() == StepState.SUBMITTED))
    keeper = _keeper(suite)
    keeper.step()
    assert coord.stepState(run, 0).call() == StepState.SUBMITTED  # the deadline is ahead
    suite.travel(61)
    keeper.step()
    assert coord.stepState(run, 0).call() == StepState.DONE
    assert [e["policy"] for e in suite.events("ValidationExpired", run)] == [1]  # Accept
    assert suite.run_state(run) == RunState.COMPLETED


def _submitted_for_a_judge(suite: Suite) -> tuple[Agent, Agent, int, StepResult]:
    """A worker, a judge, and a run of one step (quorum 1, 60 s validation timeout) that the
    worker's host submitted; with that submission's result."""
    worker = suite.agent("worker", {"research": _work})
    judge = suite.agent("judge0", validator=_approve)
    run = suite.start("validation_timeout: 60\nsteps:\n"
                      "  - {name: r, role: research, quorum: 1, reward: 1000}\n")
    coord = suite.coordinator.functions
    asyncio.run(drive([suite.host([worker])],
                      lambda: coord.stepState(run, 0).call() == StepState.SUBMITTED))
    first = find_result(suite.coordinator.w3, suite.coordinator.address, run, 0)
    assert first is not None
    return worker, judge, run, first


def test_a_judge_never_signs_its_verdict_on_one_attempt_for_a_later_one(suite: Suite) -> None:
    """The review's race: a judge still judging attempt 0's result when the validation
    deadline retries the step and the executor submits other work as attempt 1. The host reads
    the attempt before judging and signs for it, so the late verdict cannot count on attempt 1."""
    worker, judge, run, first = _submitted_for_a_judge(suite)
    coord = suite.coordinator.functions
    host = suite.host([judge])
    view = SimpleNamespace(run_id=run, name=lambda step: "r")

    async def attempt_of(result: StepResult) -> int | None:
        return await host.judges._attempt_of(view, 0, *result)  # type: ignore[arg-type]

    async def judged_then_retried() -> None:
        assert await attempt_of(first) == 0           # what the judge reads before judging
        assert await attempt_of(first._replace(resultHash=b"\x00" * 32)) is None  # not its own
        suite.travel(61)                               # meanwhile: deadline, retry ...
        _keeper(suite).step()
        assert coord.lease(run, 0).call()[3] == 1
        suite.travel(10)                               # past any backoff (5 s)
        client = Client(suite.chain.rpc_url)  # the worker's nonces moved on in its host
        client.transact(coord.claim(run, 0, worker.agent_id), worker.operator)
        client.transact(coord.submit(run, 0, b"\x07" * 32, "accord-store://other", 0),
                        worker.operator)
        assert await attempt_of(first) is None         # ... and attempt 1 holds other work
        await host.judges._send([(judge, 100)], view, 0, 0)  # type: ignore[arg-type]
        await host.chain.close()

    asyncio.run(judged_then_retried())
    assert find_result(suite.coordinator.w3, suite.coordinator.address, run, 0) != first
    assert coord.tallies(run, 0).call() == [0, 0]  # the late approval did not count
    assert coord.stepState(run, 0).call() == StepState.SUBMITTED


def test_an_attempt_that_ends_while_the_host_reads_it_is_not_signed_for(suite: Suite) -> None:
    """The second review's race: attempt 0 ends (validation timeout, retry) between the host's
    reads. The result still names attempt 0's work while the attempt already reads 1; the host
    must not take that result for attempt 1's."""
    _, judge, run, first = _submitted_for_a_judge(suite)
    coord = suite.coordinator.functions
    host = suite.host([judge])
    view = SimpleNamespace(run_id=run, name=lambda step: "r")
    real_view = host.judges.link.view
    ended = []

    async def view_ending_the_attempt_once(fn: str, *args: Any) -> tuple[Any, ...]:
        out = await real_view(fn, *args)
        if fn == "stepState" and not ended:  # the attempt ends right after this read
            ended.append(True)
            suite.travel(61)
            await asyncio.to_thread(_keeper(suite).step)
        return out

    host.judges.link.view = view_ending_the_attempt_once  # type: ignore[method-assign]

    async def read() -> int | None:
        try:
            return await host.judges._attempt_of(view, 0, *first)  # type: ignore[arg-type]
        finally:
            await host.chain.close()

    assert asyncio.run(read()) is None
    assert ended and coord.lease(run, 0).call()[3] == 1
    # the stale result the race would pair
    assert coord.resultCommitment(run, 0).call() == commitment(*first)
