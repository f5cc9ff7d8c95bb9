"""Whole-run flows: decisions with skip propagation, fan-out/fan-in joins, failure with
compensation opened newest first, cancel."""

from __future__ import annotations

import ape
import pytest
from coord_helpers import (BLOCKED, CANCELLED, CLAIMED, DONE, FAILED, R_CANCELLED,
                           R_COMPLETED, R_FAILED, READY, REWARD, SKIPPED, mask)


def _diamond(world, merge_join):
    # 0 decides between 1 and 2; 3 <- 1; 4 <- 2; 5 <- {3, 4}
    return world.run_of([
        world.spec(decision=True), world.spec(deps=mask(0)), world.spec(deps=mask(0)),
        world.spec(deps=mask(1)), world.spec(deps=mask(2)),
        world.spec(deps=mask(3, 4), join=merge_join)])


def test_decision_skips_other_branch_and_what_only_it_feeds(world):
    c = world.coordinator
    run = _diamond(world, merge_join=1)
    world.claim(run, 0)
    tx = world.submit(run, 0, branches=mask(1))
    assert sorted(e.step for e in tx.events.filter(c.StepSkipped)) == [2, 4]
    assert [e.step for e in tx.events.filter(c.StepReady)] == [1]
    assert [world.state(run, i) for i in range(6)] == [DONE, READY, SKIPPED, BLOCKED, SKIPPED,
                                                      BLOCKED]
    world.finish(run, 1)
    world.finish(run, 3)
    tx = world.finish(run, 5)
    assert tx.events.filter(c.RunCompleted)[0].refund == 2 * REWARD  # steps 2 and 4
    assert c.runState(run) == R_COMPLETED
    assert c.runInfo(run).skippedMask == mask(2, 4)
    assert c.totalEscrowed() == 0


def test_all_join_behind_a_decision_is_skipped_never_done(world):
    c = world.coordinator
    run = _diamond(world, merge_join=0)
    world.claim(run, 0)
    tx = world.submit(run, 0, branches=mask(2))
    assert sorted(e.step for e in tx.events.filter(c.StepSkipped)) == [1, 3, 5]
    assert c.runState(run) == R_COMPLETED  # the only sink is skipped
    # the still-open branch is cancelled by the completion
    assert world.state(run, 2) == CANCELLED and world.state(run, 5) == SKIPPED


def test_decision_selecting_nothing_skips_every_dependent(world):
    c = world.coordinator
    run = _diamond(world, merge_join=1)
    world.claim(run, 0)
    world.submit(run, 0, branches=0)
    assert c.runInfo(run).skippedMask == mask(1, 2, 3, 4, 5)
    assert c.runState(run) == R_COMPLETED


@pytest.mark.covers("WorkflowCoordinator.submit", "bad_arguments")
def test_decision_branches_must_be_direct_dependents(world):
    run = _diamond(world, merge_join=1)
    world.claim(run, 0)
    with ape.reverts(world.coordinator.CoordinatorInvalidBranches, runId=run, step=0,
                     branches=mask(1, 3), allowed=mask(1, 2)):
        world.submit(run, 0, branches=mask(1, 3))


def test_unselected_dependent_already_started_keeps_running(world):
    c = world.coordinator
    # 0 root, 1 decision, 2 <- {0, 1} join 1 (ready as soon as 0 is done)
    run = world.run_of([world.spec(), world.spec(decision=True),
                        world.spec(deps=mask(0, 1), join=1)])
    world.finish(run, 0)
    world.claim(run, 2)
    world.claim(run, 1, who=1)
    tx = world.submit(run, 1, who=1, branches=0)
    assert len(tx.events.filter(c.StepSkipped)) == 0
    assert world.state(run, 2) == CLAIMED
    world.submit(run, 2)
    assert c.runState(run) == R_COMPLETED


def _fan(world, join, *, attempts=3, with_comp=False):
    steps = [world.spec(comp=12 if with_comp else 255)]
    for i in range(1, 11):
        comp = 12 + i if with_comp and i <= 3 else 255
        steps.append(world.spec(deps=mask(0), attempts=attempts, comp=comp))
    steps.append(world.spec(deps=mask(*range(1, 11)), join=join))
    if with_comp:
        steps += [world.spec() for _ in range(4)]  # 12..15 compensate 0..3
    return world.run_of(steps)


def test_fan_out_ten_and_seven_of_ten_join(world):
    c = world.coordinator
    run = _fan(world, join=7)
    tx = world.finish(run, 0)
    assert [e.step for e in tx.events.filter(c.StepReady)] == list(range(1, 11))
    assert c.readySteps(run) == mask(*range(1, 11))
    for i in range(1, 7):
        tx = world.finish(run, i, who=i % 3)
        assert len(tx.events.filter(c.StepReady)) == 0
    assert world.state(run, 11) == BLOCKED
    world.claim(run, 9, who=1)  # a straggler in flight
    tx = world.finish(run, 7)
    assert [e.step for e in tx.events.filter(c.StepReady)] == [11]
    assert world.state(run, 11) == READY
    tx = world.finish(run, 11)
    assert sorted(e.step for e in tx.events.filter(c.StepCancelled)) == [8, 9, 10]
    assert tx.events.filter(c.RunCompleted)[0].refund == 3 * REWARD
    assert world.state(run, 9) == CANCELLED
    assert c.totalEscrowed() == 0


def test_ten_of_ten_join_fails_cleanly_and_compensates_newest_first(world):
    c = world.coordinator
    run = _fan(world, join=0, attempts=1, with_comp=True)
    budget = c.runInfo(run).escrow
    world.finish(run, 0)
    for i in (3, 1, 2, 4, 5, 6, 7, 8, 9):  # Done order: 0, 3, 1, 2, ...
        world.finish(run, i, who=i % 3)
    end = int(world.claim(run, 10).events.filter(c.StepClaimed)[0].leaseEnd)
    world.chain.pending_timestamp = end
    tx = c.expireLease(run, 10, sender=world.outsider)
    failed = tx.events.filter(c.RunFailed)[0]
    assert failed.step == 10
    # budget - 10 paid rewards - 4 reserved compensation rewards
    assert failed.refund == budget - 10 * REWARD - 4 * REWARD
    assert [e.step for e in tx.events.filter(c.StepCancelled)] == [11]
    assert c.runState(run) == R_FAILED
    assert world.state(run, 10) == FAILED and world.state(run, 11) == CANCELLED
    opened = []
    ev = tx.events.filter(c.CompensationOpened)[0]
    while True:
        opened.append((ev.step, ev.compensates))
        assert world.state(run, ev.step) == READY
        assert c.readySteps(run) == mask(ev.step)
        tx = world.finish(run, ev.step, who=1)
        nxt = tx.events.filter(c.CompensationOpened)
        if not nxt:
            break
        ev = nxt[0]
    assert opened == [(14, 2), (13, 1), (15, 3), (12, 0)]
    assert len(tx.events.filter(c.RunCompensated)) == 1
    assert c.totalEscrowed() == 0 and c.runInfo(run).escrow == 0


@pytest.mark.covers("WorkflowCoordinator.claim", "wrong_state")
def test_unopened_compensation_steps_stay_blocked(world):
    run = world.run_of([world.spec(comp=1), world.spec()])
    assert world.state(run, 1) == BLOCKED
    with ape.reverts(world.coordinator.CoordinatorRunNotRunning, runId=run, state=1):
        world.claim(run, 1)  # Running run: compensation steps are not claimable
    world.finish(run, 0)
    assert world.coordinator.runState(run) == R_COMPLETED
    assert world.state(run, 1) == BLOCKED


def test_failed_compensation_refunds_its_reward_and_opens_next(world):
    c = world.coordinator
    # 0 (comp 3), 1 (comp 4), 2 <- {0,1} fails; 3, 4 compensations with 1 attempt
    run = world.run_of([world.spec(comp=3), world.spec(comp=4),
                        world.spec(deps=mask(0, 1), attempts=1),
                        world.spec(attempts=1), world.spec(attempts=1)])
    world.finish(run, 0)
    world.finish(run, 1)
    end = int(world.claim(run, 2).events.filter(c.StepClaimed)[0].leaseEnd)
    world.chain.pending_timestamp = end
    tx = c.expireLease(run, 2, sender=world.outsider)
    assert tx.events.filter(c.CompensationOpened)[0].step == 4
    end = int(world.claim(run, 4).events.filter(c.StepClaimed)[0].leaseEnd)
    owed_before = c.owed(world.creator)
    world.chain.pending_timestamp = end
    tx = c.expireLease(run, 4, sender=world.outsider)
    assert c.owed(world.creator) == owed_before + REWARD
    assert tx.events.filter(c.CompensationOpened)[0].step == 3
    with ape.reverts(c.CoordinatorRunNotRunning, runId=run, state=R_FAILED):
        world.claim(run, 1)  # forward steps stay closed in a failed run


@pytest.mark.covers("WorkflowCoordinator.cancelRun", "replay")
@pytest.mark.covers("WorkflowCoordinator.submit", "wrong_state")
def test_cancel_refunds_unstarted_steps_and_lets_claimed_work_finish(world):
    c = world.coordinator
    run = world.run_of([world.spec(), world.spec(), world.spec(deps=mask(0, 1))])
    world.finish(run, 0)
    world.claim(run, 1)
    tx = c.cancelRun(run, sender=world.creator)
    assert [e.step for e in tx.events.filter(c.StepCancelled)] == [2]
    assert tx.events.filter(c.RunCancelled)[0].refund == REWARD  # step 1's reward stays
    assert c.runState(run) == R_CANCELLED
    assert c.inflight(run) == mask(1)
    assert [world.state(run, i) for i in range(3)] == [DONE, CLAIMED, CANCELLED]
    with ape.reverts(c.CoordinatorRunNotCancellable, runId=run, state=R_CANCELLED):
        c.cancelRun(run, sender=world.creator)
    world.submit(run, 1)  # the holder finishes within its lease and is paid
    assert world.state(run, 1) == DONE and c.inflight(run) == 0
    assert c.owed(world.creator) == REWARD and c.owed(world.operators[0]) == 2 * REWARD
    assert c.totalEscrowed() == 0


@pytest.mark.covers("WorkflowCoordinator.cancelRun", "replay")
def test_cancel_during_compensation_refunds_the_reserve(world):
    c = world.coordinator
    run = world.run_of([world.spec(comp=2), world.spec(deps=mask(0), attempts=1), world.spec()])
    world.finish(run, 0)
    end = int(world.claim(run, 1).events.filter(c.StepClaimed)[0].leaseEnd)
    world.chain.pending_timestamp = end
    c.expireLease(run, 1, sender=world.outsider)
    end = int(world.claim(run, 2).events.filter(c.StepClaimed)[0].leaseEnd)
    tx = c.cancelRun(run, sender=world.creator)
    assert not tx.events.filter(c.StepCancelled)  # the claimed compensation stays in flight
    assert tx.events.filter(c.RunCancelled)[0].refund == 0
    assert world.state(run, 2) == CLAIMED
    world.chain.pending_timestamp = end
    tx = c.expireLease(run, 2, sender=world.outsider)  # abandoned: its reward goes back
    assert tx.events.filter(c.InflightRefunded)[0].refund == REWARD
    assert world.state(run, 2) == CANCELLED
    assert c.owed(world.creator) == 2 * REWARD  # step 1's at the failure, step 2's now
    with ape.reverts(c.CoordinatorRunNotCancellable, runId=run, state=R_CANCELLED):
        c.cancelRun(run, sender=world.creator)


@pytest.mark.covers("WorkflowCoordinator.cancelRun", "wrong_state")
def test_completed_run_cannot_be_cancelled(world):
    c = world.coordinator
    run = world.run_of([world.spec()])
    world.finish(run, 0)
    with ape.reverts(c.CoordinatorRunNotCancellable, runId=run, state=R_COMPLETED):
        c.cancelRun(run, sender=world.creator)
