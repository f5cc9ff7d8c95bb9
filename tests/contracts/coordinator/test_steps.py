"""The step state machine: claims, leases, heartbeats, submits, validation quorum, retries
with backoff, lapses (derived, then materialised), and every revert path."""

from __future__ import annotations

import ape
import pytest
from accord.chain.results import commitment, find_result
from coord_helpers import (BACKOFF, BLOCKED, CANCELLED, CLAIMED, DONE, EXEC, FAILED, R_FAILED,
                           R_PAUSED, R_RUNNING, READY, REWARD, SUBMITTED, VALIDATOR, mask)


@pytest.fixture
def chain2(world):
    """A Running run of step 0 -> step 1 (lease 100, 3 attempts, backoff 10*2^n cap 100)."""
    return world.run_of([world.spec(), world.spec(deps=mask(0))])


@pytest.fixture
def q2(world):
    """A Running run of one step needing 2 validator approvals, 2 attempts."""
    return world.run_of([world.spec(quorum=2, attempts=2), world.spec(deps=mask(0))])


def _claimed(world, run, step=0, who=0):
    tx = world.claim(run, step, who)
    return int(tx.events.filter(world.coordinator.StepClaimed)[0].leaseEnd)


# ---------------------------------------------------------------- start
def test_start_emits_run_started_and_roots_ready(world):
    c = world.coordinator
    def_id = world.define([world.spec(), world.spec(), world.spec(deps=mask(0, 1))])
    tx = c.startRun(def_id, b"\x11" * 32, "ipfs://in", value=3 * REWARD + 5, sender=world.creator)
    started = tx.events.filter(c.RunStarted)[0]
    assert (started.creator, started.budget, started.inputURI) == (world.creator.address,
                                                                    3 * REWARD + 5, "ipfs://in")
    assert [e.step for e in tx.events.filter(c.StepReady)] == [0, 1]
    run = started.runId
    assert c.readySteps(run) == mask(0, 1)
    info = c.runInfo(run)
    assert (info.state, info.escrow, info.creator) == (R_RUNNING, 3 * REWARD + 5,
                                                       world.creator.address)


@pytest.mark.covers("WorkflowCoordinator.startRun", "bad_arguments")
def test_start_reverts_when_budget_below_rewards(world):
    def_id = world.define([world.spec(), world.spec()])
    with ape.reverts(world.coordinator.CoordinatorInsufficientBudget, sent=2 * REWARD - 1,
                     required=2 * REWARD):
        world.coordinator.startRun(def_id, b"\x00" * 32, "", value=2 * REWARD - 1,
                                   sender=world.creator)


@pytest.mark.covers("WorkflowCoordinator.claim", "bad_arguments")
def test_unknown_run_reverts(world):
    c = world.coordinator
    with ape.reverts(c.CoordinatorUnknownRun, runId=999):
        c.claim(999, 0, world.agents[0], sender=world.operators[0])
    with ape.reverts(c.CoordinatorUnknownRun, runId=999):
        c.stepState(999, 0)


# ---------------------------------------------------------------- claim
def test_claim_records_lease_and_emits(world, chain2):
    c = world.coordinator
    tx = world.claim(chain2, 0)
    ev = tx.events.filter(c.StepClaimed)[0]
    assert (ev.runId, ev.step, ev.agentId, ev.operator, ev.attempt) == (
        chain2, 0, world.agents[0], world.operators[0].address, 0)
    assert ev.leaseEnd == world.now() + 100
    assert world.state(chain2, 0) == CLAIMED
    assert tuple(c.lease(chain2, 0)) == (world.agents[0], world.operators[0].address,
                                         ev.leaseEnd, 0)
    assert c.readySteps(chain2) == 0


@pytest.mark.covers("WorkflowCoordinator.claim", "wrong_state")
def test_claim_reverts_when_step_blocked(world, chain2):
    with ape.reverts(world.coordinator.CoordinatorStepNotReady, runId=chain2, step=1,
                     state=BLOCKED):
        world.claim(chain2, 1)


@pytest.mark.covers("WorkflowCoordinator.claim", "replay")
def test_claim_reverts_when_lease_still_active(world, chain2):
    world.claim(chain2, 0)
    with ape.reverts(world.coordinator.CoordinatorStepNotReady, runId=chain2, step=0,
                     state=CLAIMED):
        world.claim(chain2, 0, who=1)


@pytest.mark.covers("WorkflowCoordinator.claim", "wrong_caller")
def test_claim_reverts_for_ineligible_operator(world, chain2):
    with ape.reverts(world.roles.AgentRolesNotEligible, agentId=world.agents[0],
                     operator=world.outsider.address, role=EXEC):
        world.coordinator.claim(chain2, 0, world.agents[0], sender=world.outsider)


@pytest.mark.covers("WorkflowCoordinator.claim", "bad_arguments")
def test_claim_reverts_for_step_out_of_range(world, chain2):
    with ape.reverts(world.coordinator.CoordinatorInvalidStep, runId=chain2, step=2):
        world.claim(chain2, 2)


@pytest.mark.covers("WorkflowCoordinator.claim", "bad_arguments")
def test_claim_reverts_for_agent_id_above_uint40(world, chain2):
    big = 2**40
    with ape.reverts(world.coordinator.CoordinatorAgentIdTooLarge, agentId=big):
        world.coordinator.claim(chain2, 0, big, sender=world.operators[0])


# ---------------------------------------------------------------- heartbeat
@pytest.mark.covers("WorkflowCoordinator.heartbeatLease", "replay")
def test_heartbeat_extends_lease_up_to_cap(world, chain2):
    c = world.coordinator
    end = _claimed(world, chain2)
    start = end - 100
    world.chain.pending_timestamp = start + 90
    tx = c.heartbeatLease(chain2, 0, sender=world.operators[0])
    assert tx.events.filter(c.LeaseExtended)[0].leaseEnd == start + 190
    for t in (180, 270):
        world.chain.pending_timestamp = start + t
        c.heartbeatLease(chain2, 0, sender=world.operators[0])
    world.chain.pending_timestamp = start + 350
    tx = c.heartbeatLease(chain2, 0, sender=world.operators[0])
    assert tx.events.filter(c.LeaseExtended)[0].leaseEnd == start + 400  # cap = 4 x lease
    world.chain.pending_timestamp = start + 360
    with ape.reverts(c.CoordinatorLeaseCapReached, runId=chain2, step=0, leaseCap=start + 400):
        c.heartbeatLease(chain2, 0, sender=world.operators[0])


@pytest.mark.covers("WorkflowCoordinator.heartbeatLease", "wrong_caller")
def test_heartbeat_reverts_for_non_holder(world, chain2):
    world.claim(chain2, 0)
    with ape.reverts(world.coordinator.CoordinatorNotLeaseHolder, runId=chain2, step=0,
                     caller=world.operators[1].address):
        world.coordinator.heartbeatLease(chain2, 0, sender=world.operators[1])


@pytest.mark.covers("WorkflowCoordinator.heartbeatLease", "wrong_state")
def test_heartbeat_reverts_after_lapse(world, chain2):
    end = _claimed(world, chain2)
    world.chain.pending_timestamp = end
    with ape.reverts(world.coordinator.CoordinatorStepNotClaimed, runId=chain2, step=0,
                     state=READY):
        world.coordinator.heartbeatLease(chain2, 0, sender=world.operators[0])


# ---------------------------------------------------------------- submit
def test_submit_without_quorum_is_done_and_readies_dependent(world, chain2):
    c = world.coordinator
    world.claim(chain2, 0)
    tx = world.submit(chain2, 0, uri="ipfs://r0")
    sub = tx.events.filter(c.StepSubmitted)[0]
    assert (sub.agentId, sub.resultURI, sub.branches) == (world.agents[0], "ipfs://r0", 0)
    done = tx.events.filter(c.StepDone)[0]
    assert (done.payee, done.reward) == (world.operators[0].address, REWARD)
    assert [e.step for e in tx.events.filter(c.StepReady)] == [1]
    assert world.state(chain2, 0) == DONE and world.state(chain2, 1) == READY
    # one storage word for the result: its commitment; hash and URI come from the event
    assert c.resultCommitment(chain2, 0) == commitment(b"\x22" * 32, "ipfs://r0")
    assert find_result(world.chain.provider.web3, c.address, chain2, 0) == (b"\x22" * 32,
                                                                            "ipfs://r0")
    assert find_result(world.chain.provider.web3, c.address, chain2, 1) is None
    assert c.owed(world.operators[0]) == REWARD
    # no registry call on the hot path: the outcome is an event, published to ERC-8004 later
    assert world.reputation.feedbackOf(world.agents[0]) == (0, 0)
    assert world.validation.requestCount() == 0


@pytest.mark.covers("WorkflowCoordinator.submit", "wrong_caller")
def test_submit_reverts_for_non_holder(world, chain2):
    world.claim(chain2, 0)
    with ape.reverts(world.coordinator.CoordinatorNotLeaseHolder, runId=chain2, step=0,
                     caller=world.operators[1].address):
        world.submit(chain2, 0, who=1)


@pytest.mark.covers("WorkflowCoordinator.submit", "wrong_state")
def test_submit_reverts_at_lease_end(world, chain2):
    end = _claimed(world, chain2)
    world.chain.pending_timestamp = end
    with ape.reverts(world.coordinator.CoordinatorStepNotClaimed, runId=chain2, step=0,
                     state=READY):
        world.submit(chain2, 0)


@pytest.mark.covers("WorkflowCoordinator.submit", "wrong_state")
def test_submit_reverts_when_not_claimed(world, chain2):
    with ape.reverts(world.coordinator.CoordinatorStepNotClaimed, runId=chain2, step=0,
                     state=READY):
        world.submit(chain2, 0)


@pytest.mark.covers("WorkflowCoordinator.submit", "bad_arguments")
def test_submit_reverts_with_branches_on_a_non_decision(world, chain2):
    world.claim(chain2, 0)
    with ape.reverts(world.coordinator.CoordinatorInvalidBranches, runId=chain2, step=0,
                     branches=mask(1), allowed=0):
        world.submit(chain2, 0, branches=mask(1))


@pytest.mark.covers("WorkflowCoordinator.submit", "bad_arguments")
def test_submit_reverts_for_a_result_uri_longer_than_2048_bytes(world, chain2):
    world.claim(chain2, 0)
    long_uri = "https://results.example/" + "a" * (2049 - len("https://results.example/"))
    with ape.reverts(world.coordinator.CoordinatorResultURITooLong, length=2049):
        world.submit(chain2, 0, uri=long_uri)
    assert world.state(chain2, 0) == CLAIMED
    world.submit(chain2, 0, uri=long_uri[:2048])  # at the bound: taken
    assert world.state(chain2, 0) == DONE


# ---------------------------------------------------------------- lapse
def test_lapsed_lease_is_ready_in_views_without_a_transaction(world, chain2):
    end = _claimed(world, chain2)
    world.warp_to(end - 1)
    assert world.state(chain2, 0) == CLAIMED
    world.warp_to(end)
    assert world.state(chain2, 0) == READY
    assert world.coordinator.readySteps(chain2) == mask(0)
    assert world.coordinator.lease(chain2, 0)[3] == 1  # derived attempt


def test_claim_after_lapse_materialises_expiry_and_slashes(world):
    c = world.coordinator
    run = world.run_of([world.spec()], slash=123)
    end = _claimed(world, run)
    world.chain.pending_timestamp = end
    tx = world.claim(run, 0, who=1)
    exp = tx.events.filter(c.LeaseExpired)[0]
    assert (exp.agentId, exp.attempt) == (world.agents[0], 1)
    assert tx.events.filter(c.StepClaimed)[0].attempt == 1
    assert world.roles.slashCount() == 1
    rec = world.roles.slashAt(0)
    assert (rec.agentId, rec.role, rec.amount, rec.slasher) == (world.agents[0], EXEC, 123,
                                                                c.address)
    # the lapsed claim's stake is released (and slashed), the new claim's locked
    assert world.roles.lockedOf(world.agents[0], EXEC) == 0
    assert world.roles.lockedOf(world.agents[1], EXEC) == 123


@pytest.mark.covers("WorkflowCoordinator.claim", "wrong_state")
def test_last_attempt_lapse_is_failed_and_expire_fails_the_run(world):
    c = world.coordinator
    run = world.run_of([world.spec(attempts=1), world.spec(deps=mask(0))])
    end = _claimed(world, run)
    world.warp_to(end)
    assert world.state(run, 0) == FAILED
    with ape.reverts(c.CoordinatorStepNotReady, runId=run, step=0, state=FAILED):
        world.claim(run, 0, who=1)
    tx = c.expireLease(run, 0, sender=world.outsider)
    assert tx.events.filter(c.LeaseExpired)[0].attempt == 1
    assert tx.events.filter(c.StepFailed)[0].attempts == 1
    assert [e.step for e in tx.events.filter(c.StepCancelled)] == [1]
    assert tx.events.filter(c.RunFailed)[0].refund == 2 * REWARD
    assert c.runState(run) == R_FAILED
    assert world.state(run, 1) == CANCELLED
    assert c.owed(world.creator) == 2 * REWARD


def test_expire_with_attempts_left_makes_step_ready(world, chain2):
    c = world.coordinator
    end = _claimed(world, chain2)
    world.chain.pending_timestamp = end + 5
    tx = c.expireLease(chain2, 0, sender=world.outsider)
    assert tx.events.filter(c.LeaseExpired)[0].attempt == 1
    assert world.state(chain2, 0) == READY
    assert c.lease(chain2, 0)[3] == 1


@pytest.mark.covers("WorkflowCoordinator.expireLease", "wrong_state")
def test_expire_reverts_while_lease_is_live(world, chain2):
    world.claim(chain2, 0)
    with ape.reverts(world.coordinator.CoordinatorLeaseNotExpired, runId=chain2, step=0,
                     state=CLAIMED):
        world.coordinator.expireLease(chain2, 0, sender=world.outsider)


@pytest.mark.covers("WorkflowCoordinator.expireLease", "wrong_state")
def test_expire_reverts_when_never_claimed(world, chain2):
    with ape.reverts(world.coordinator.CoordinatorLeaseNotExpired, runId=chain2, step=0,
                     state=READY):
        world.coordinator.expireLease(chain2, 0, sender=world.outsider)


# ---------------------------------------------------------------- validation
def test_quorum_of_two_approvals_makes_step_done_and_records_validation(world, q2):
    c = world.coordinator
    world.claim(q2, 0)
    world.submit(q2, 0, result=b"\x33" * 32, uri="ipfs://q")
    assert world.state(q2, 0) == SUBMITTED
    tx = world.respond(q2, 0, 0, 80)
    ev = tx.events.filter(c.StepValidated)[0]
    assert (ev.agentId, ev.response, ev.approvals, ev.rejections) == (
        world.validator_agents[0], 80, 1, 0)
    assert world.state(q2, 0) == SUBMITTED
    assert c.hasVoted(q2, 0, world.validator_agents[0])
    assert c.tallies(q2, 0) == (1, 0)
    tx = world.respond(q2, 0, 1, 100)
    assert tx.events.filter(c.StepDone)[0].agentId == world.agents[0]
    assert world.state(q2, 0) == DONE
    assert world.validation.requestCount() == 0  # the verdict is published later, by anyone
    for wrong in ((b"\x34" * 32, "ipfs://q"), (b"\x33" * 32, "ipfs://other")):
        with ape.reverts(c.CoordinatorResultMismatch, runId=q2, step=0):
            c.publishValidation(q2, 0, *wrong, sender=world.outsider)
    tx = c.publishValidation(q2, 0, b"\x33" * 32, "ipfs://q", sender=world.outsider)
    logs = tx.events.filter(world.validation.MockValidationResponded)
    assert (logs[0].response, logs[0].responseHash, logs[0].tag) == (90, b"\x33" * 32, "accord")
    req = world.validation.requestOf(logs[0].requestHash)
    assert (req.validator, req.response, req.responded) == (c.address, 90, True)
    asked = tx.events.filter(world.validation.MockValidationRequested)[0]
    assert (asked.agentId, asked.requestURI) == (c.coordinatorAgentId(), "ipfs://q")
    assert tx.events.filter(c.ValidationPublished)[0].response == 90


@pytest.mark.covers("WorkflowCoordinator.respond", "bad_arguments")
def test_respond_reverts_for_response_above_100(world, q2):
    with ape.reverts(world.coordinator.CoordinatorInvalidResponse, response=101):
        world.respond(q2, 0, 0, 101)


@pytest.mark.covers("WorkflowCoordinator.respond", "wrong_state")
def test_respond_reverts_when_not_submitted(world, q2):
    world.claim(q2, 0)
    with ape.reverts(world.coordinator.CoordinatorStepNotSubmitted, runId=q2, step=0,
                     state=CLAIMED):
        world.respond(q2, 0, 0, 100)


@pytest.mark.covers("WorkflowCoordinator.respond", "wrong_caller")
def test_executor_cannot_validate_its_own_result(world, q2):
    world.claim(q2, 0)
    world.submit(q2, 0)
    with ape.reverts(world.coordinator.CoordinatorValidatorNotIndependent, runId=q2, step=0,
                     agentId=world.agents[0]):
        world.coordinator.respond(q2, 0, world.agents[0], 100, sender=world.operators[0])


@pytest.mark.covers("WorkflowCoordinator.respond", "wrong_caller")
def test_respond_reverts_for_agent_without_validator_role(world, q2):
    world.claim(q2, 0)
    world.submit(q2, 0)
    with ape.reverts(world.roles.AgentRolesNotEligible, agentId=world.agents[1],
                     operator=world.operators[1].address, role=VALIDATOR):
        world.coordinator.respond(q2, 0, world.agents[1], 100, sender=world.operators[1])


@pytest.mark.covers("WorkflowCoordinator.respond", "wrong_caller")
def test_definition_validator_role_overrides_global(world):
    role = b"\x77" * 32
    run = world.run_of([world.spec(quorum=1)], validator_role=role)
    world.claim(run, 0)
    world.submit(run, 0)
    with ape.reverts(world.roles.AgentRolesNotEligible, agentId=world.validator_agents[0],
                     operator=world.validators[0].address, role=role):
        world.respond(run, 0, 0, 100)
    world.roles.setEligible(world.validator_agents[0], world.validators[0].address, role, True,
                            sender=world.admin)
    world.respond(run, 0, 0, 100)
    assert world.state(run, 0) == DONE


@pytest.mark.covers("WorkflowCoordinator.respond", "replay")
def test_validator_votes_once_per_attempt(world, q2):
    world.claim(q2, 0)
    world.submit(q2, 0)
    world.respond(q2, 0, 0, 100)
    with ape.reverts(world.coordinator.CoordinatorAlreadyVoted, runId=q2, step=0,
                     owner=world.validators[0].address):
        world.respond(q2, 0, 0, 0)


@pytest.mark.covers("WorkflowCoordinator.claim", "wrong_state")
def test_quorum_of_rejections_backs_off_then_retries(world):
    c = world.coordinator
    run = world.run_of([world.spec(quorum=1, attempts=4, backoff=(10, 3, 50))])
    world.claim(run, 0)
    world.submit(run, 0)
    tx = world.respond(run, 0, 0, 49)
    rej = tx.events.filter(c.StepRejected)[0]
    now = world.now()
    assert (rej.agentId, rej.attempt, rej.retryAt) == (world.agents[0], 1, now + 10)
    assert world.state(run, 0) == BACKOFF
    with ape.reverts(c.CoordinatorStepNotReady, runId=run, step=0, state=BACKOFF):
        world.claim(run, 0, who=1)
    world.warp_to(now + 10)
    assert world.state(run, 0) == READY
    tx = world.claim(run, 0, who=1)
    assert tx.events.filter(c.StepBackoffElapsed)[0].attempt == 1
    assert tx.events.filter(c.StepClaimed)[0].attempt == 1
    assert c.tallies(run, 0) == (0, 0)
    assert not c.hasVoted(run, 0, world.validator_agents[0])  # votes are per attempt
    world.submit(run, 0, who=1)
    tx = world.respond(run, 0, 0, 0)
    assert tx.events.filter(c.StepRejected)[0].retryAt == world.now() + 30  # 10 * 3
    world.warp_to(world.now() + 30)
    world.claim(run, 0, who=1)
    world.submit(run, 0, who=1)
    tx = world.respond(run, 0, 0, 0)
    assert tx.events.filter(c.StepRejected)[0].retryAt == world.now() + 50  # capped


def test_rejection_on_last_attempt_fails_step_and_run(world, q2):
    c = world.coordinator
    for attempt in range(2):
        world.claim(q2, 0)
        world.submit(q2, 0)
        world.respond(q2, 0, 0, 10)
        tx = world.respond(q2, 0, 1, 20)
        if attempt == 0:
            world.warp_to(world.now() + 10)
    assert tx.events.filter(c.StepFailed)[0].attempts == 2
    assert c.runState(q2) == R_FAILED
    assert world.state(q2, 0) == FAILED and world.state(q2, 1) == CANCELLED


def test_refused_feedback_never_blocks_completion(world, chain2):
    world.reputation.setRefuse(True, sender=world.admin)
    world.finish(chain2, 0)
    world.finish(chain2, 1)
    assert world.state(chain2, 0) == DONE
    tx = world.coordinator.publishOutcomes(chain2, world.agents[0], sender=world.outsider)
    assert tx.events.filter(world.coordinator.OutcomesRefused)[0].agentId == world.agents[0]


# ---------------------------------------------------------------- pause / resume
@pytest.mark.covers("WorkflowCoordinator.pauseRun", "wrong_state", "replay")
@pytest.mark.covers("WorkflowCoordinator.claim", "wrong_state")
def test_pause_blocks_claims_but_not_submits(world, chain2):
    c = world.coordinator
    world.claim(chain2, 0)
    tx = c.pauseRun(chain2, sender=world.creator)
    assert len(tx.events.filter(c.RunPaused)) == 1
    assert c.runState(chain2) == R_PAUSED
    world.submit(chain2, 0)
    with ape.reverts(c.CoordinatorRunNotRunning, runId=chain2, state=R_PAUSED):
        world.claim(chain2, 1)
    with ape.reverts(c.CoordinatorRunNotRunning, runId=chain2, state=R_PAUSED):
        c.pauseRun(chain2, sender=world.creator)
    tx = c.resumeRun(chain2, sender=world.creator)
    assert len(tx.events.filter(c.RunResumed)) == 1
    world.claim(chain2, 1)


@pytest.mark.covers("WorkflowCoordinator.resumeRun", "wrong_state")
def test_resume_reverts_when_running(world, chain2):
    with ape.reverts(world.coordinator.CoordinatorRunNotPaused, runId=chain2, state=R_RUNNING):
        world.coordinator.resumeRun(chain2, sender=world.creator)


@pytest.mark.covers("WorkflowCoordinator.pauseRun", "wrong_caller")
@pytest.mark.covers("WorkflowCoordinator.resumeRun", "wrong_caller")
@pytest.mark.covers("WorkflowCoordinator.cancelRun", "wrong_caller")
def test_only_creator_controls_the_run(world, chain2):
    c = world.coordinator
    for fn in (c.pauseRun, c.resumeRun, c.cancelRun):
        with ape.reverts(c.CoordinatorNotCreator, runId=chain2, caller=world.outsider.address):
            fn(chain2, sender=world.outsider)


# ---------------------------------------------------------------- negatives for the matrix
def _step_calls(world):
    c, w = world.coordinator, world
    return {
        "heartbeatLease": lambda run, step: c.heartbeatLease(run, step, sender=w.operators[0]),
        "submit": lambda run, step: c.submit(run, step, b"\x22" * 32, "ipfs://r", 0, sender=w.operators[0]),
        "respond": lambda run, step: c.respond(run, step, w.validator_agents[0], 90, sender=w.validators[0]),
        "expireLease": lambda run, step: c.expireLease(run, step, sender=w.outsider),
        "expireRemote": lambda run, step: c.expireRemote(run, step, sender=w.outsider),
        "dispatch": lambda run, step: c.dispatch(run, step, b"\x00" * 32, "", sender=w.outsider),
    }


@pytest.mark.covers("WorkflowCoordinator.heartbeatLease", "bad_arguments")
@pytest.mark.covers("WorkflowCoordinator.submit", "bad_arguments")
@pytest.mark.covers("WorkflowCoordinator.respond", "bad_arguments")
@pytest.mark.covers("WorkflowCoordinator.expireLease", "bad_arguments")
@pytest.mark.covers("WorkflowCoordinator.expireRemote", "bad_arguments")
@pytest.mark.covers("WorkflowCoordinator.dispatch", "bad_arguments")
@pytest.mark.covers("WorkflowCoordinator.pauseRun", "bad_arguments")
@pytest.mark.covers("WorkflowCoordinator.resumeRun", "bad_arguments")
@pytest.mark.covers("WorkflowCoordinator.cancelRun", "bad_arguments")
def test_every_run_call_rejects_an_unknown_run_and_a_step_out_of_range(world, chain2):
    c = world.coordinator
    for call in _step_calls(world).values():
        with ape.reverts(c.CoordinatorUnknownRun, runId=999):
            call(999, 0)
        with ape.reverts(c.CoordinatorInvalidStep, runId=chain2, step=2):
            call(chain2, 2)
    for fn in (c.pauseRun, c.resumeRun, c.cancelRun):
        with ape.reverts(c.CoordinatorUnknownRun, runId=999):
            fn(999, sender=world.creator)


@pytest.mark.covers("WorkflowCoordinator.resumeRun", "replay")
def test_resume_twice_reverts(world, chain2):
    c = world.coordinator
    c.pauseRun(chain2, sender=world.creator)
    c.resumeRun(chain2, sender=world.creator)
    with ape.reverts(c.CoordinatorRunNotPaused, runId=chain2, state=R_RUNNING):
        c.resumeRun(chain2, sender=world.creator)


@pytest.mark.covers("WorkflowCoordinator.submit", "replay")
def test_submit_twice_reverts_and_pays_once(world, chain2):
    c = world.coordinator
    world.finish(chain2, 0)
    owed = c.owed(world.operators[0])
    with ape.reverts(c.CoordinatorStepNotClaimed, runId=chain2, step=0, state=DONE):
        world.submit(chain2, 0)
    assert c.owed(world.operators[0]) == owed == REWARD


@pytest.mark.covers("WorkflowCoordinator.expireLease", "replay")
def test_expire_lease_twice_reverts_and_counts_one_attempt(world, chain2):
    c = world.coordinator
    end = _claimed(world, chain2)
    world.chain.pending_timestamp = end + 5
    c.expireLease(chain2, 0, sender=world.outsider)
    with ape.reverts(c.CoordinatorLeaseNotExpired, runId=chain2, step=0, state=READY):
        c.expireLease(chain2, 0, sender=world.outsider)
    assert c.lease(chain2, 0)[3] == 1
