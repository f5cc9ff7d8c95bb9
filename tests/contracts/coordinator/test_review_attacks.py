"""Adversarial review of coordinator v2: each test PERFORMS one attack against the real
ERC-8004 registries and AgentRoles on anvil (the `real` world of test_real_registries.py).

A test that passes shows the contracts resist the attack (kept as a regression test). A test
marked xfail(strict=True) asserts the SECURE outcome and fails today: it documents a hole (the
reason names it); the fix is in the review report. When the fix lands, the xfail turns into an
XPASS, which strict mode reports as a failure: then drop the marker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ape
import pytest
from ape.exceptions import ContractLogicError
from coord_helpers import (CANCELLED, CLAIMED, DONE, EXEC, NO_STEP, ON_TIMEOUT_ACCEPT,
                           ON_TIMEOUT_RETRY, R_CANCELLED, R_COMPLETED, R_FAILED, READY, REWARD,
                           SUBMITTED, VALIDATOR, mask, spec)
from test_real_registries import BOND, STAKE, Real
from test_real_registries import real as _real_fixture  # noqa: F401  (module-scoped world)

real = _real_fixture


@pytest.fixture(autouse=True)
def _balance_invariant(real: Real) -> Iterator[None]:
    """The coordinator's balance is exactly its credits plus its escrows after every attack."""
    yield
    c = real.coordinator
    assert real.chain.provider.get_balance(c.address) == c.totalOwed() + c.totalEscrowed()


_FRESH: dict[int, Any] = {}


def _fresh(real: Real, i: int) -> Any:
    """A funded account the shared fixture never touches (generated once per index)."""
    if i not in _FRESH:
        _FRESH[i] = real.accounts.generate_test_account()
    acct = _FRESH[i]
    if real.chain.provider.get_balance(acct.address) < 10**18:
        real.admin.transfer(acct, 10**19)
    return acct


def _try(fn: Any, *args: Any, **kw: Any) -> bool:
    """Perform an attack step; True when it went through, False when the contracts refused."""
    try:
        fn(*args, **kw)
        return True
    except ContractLogicError:
        return False


# ================================================================ independence bypasses
def test_executor_owner_transfers_its_identity_after_claim_then_approves_its_own_work(real):
    c, ident = real.coordinator, real.identity
    owner, operator, parking = _fresh(real, 0), _fresh(real, 1), _fresh(real, 2)
    x = real.agent(owner, EXEC)
    own_validator = real.agent(owner, VALIDATOR)
    ident.setApprovalForAll(operator.address, True, sender=owner)  # the usual operator setup
    run = real.run([spec(real.chain_id, quorum=1)], STAKE)
    c.claim(run, 0, x, sender=operator)
    c.submit(run, 0, b"\x66" * 32, "ipfs://garbage", 0, sender=operator)
    # the attack: park the executor identity at a second address, then judge the work
    ident.transferFrom(owner.address, parking.address, x, sender=owner)
    voted = _try(c.respond, run, 0, own_validator, 100, sender=owner)
    assert not voted, "the executor's owner approved its own work"
    assert c.stepState(run, 0) == SUBMITTED and c.owed(operator.address) == 0


def test_executor_disqualifies_rejecting_validators_by_approving_them_then_accept_pays(real):
    c, ident = real.coordinator, real.identity
    run = real.run([spec(real.chain_id, quorum=1)], STAKE, validation_seconds=300,
                   on_timeout=ON_TIMEOUT_ACCEPT)
    real.submitted(run)  # garbage
    # the attack: one cheap approval per bonded validator owner (all public on chain)
    for v in real.validators:
        ident.setApprovalForAll(v.address, True, sender=real.executor)
    rejected = [_try(real.vote, run, i, 0) for i in range(len(real.validators))]
    real.chain.mine(1, timestamp=int(c.lease(run, 0)[2]))
    _try(c.expireValidation, run, 0, sender=real.spare[0])  # nothing left to expire, if judged
    assert any(rejected), "every honest rejection was refused"
    assert c.owed(real.executor.address) == 0, "unjudged garbage was paid"


def test_creator_rejects_delivered_work_with_its_own_validator_and_takes_the_budget_back(real):
    c = real.coordinator
    creator_judge = real.agent(real.creator, VALIDATOR)
    run = real.run([spec(real.chain_id, quorum=1, attempts=1)], STAKE)
    real.submitted(run)  # honest work, now readable by everyone
    voted = _try(c.respond, run, 0, creator_judge, 0, sender=real.creator)
    assert not voted, "the creator judged its own run"
    assert c.runState(run) != R_FAILED and c.owed(real.creator.address) == 0


@pytest.mark.xfail(strict=True, reason=(
    "LOW: votes are counted once per OWNER, not per identity: a validator votes, transfers the "
    "identity to a second address and the same identity (one bond) votes again (fix: also "
    "mark (run, step, attempt, agentId) as voted)"))
def test_validator_transfers_its_identity_to_vote_twice_with_one_bond(real):
    c, ident = real.coordinator, real.identity
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    v0, holder, second = real.validator_agents[0], real.validators[0], _fresh(real, 3)
    real.vote(run, 0, 100)
    ident.transferFrom(holder.address, second.address, v0, sender=holder)
    again = _try(c.respond, run, 0, v0, 100, sender=second)
    assert not again, "one validator identity cast two votes"
    assert c.tallies(run, 0) == (1, 0) and c.stepState(run, 0) == SUBMITTED


@pytest.mark.parametrize("lapse_by", ["expireLease", "the next claim"])
def test_self_operated_executor_after_a_delegated_claim_cannot_approve_its_own_work(real, lapse_by):
    """A claim stores the executor's owner only when someone else operates the agent (the
    operator is the owner otherwise). After a delegated claim lapsed, the next claimant runs
    its own agent: the stored owner of the first claim must not stand in for its owner."""
    c, ident = real.coordinator, real.identity
    first_owner, first_op, own = _fresh(real, 10), _fresh(real, 11), _fresh(real, 12)
    x = real.agent(first_owner, EXEC)
    ident.setApprovalForAll(first_op.address, True, sender=first_owner)
    y, own_validator = real.agent(own, EXEC), real.agent(own, VALIDATOR)
    run = real.run([spec(real.chain_id, quorum=1, attempts=2)], STAKE)
    c.claim(run, 0, x, sender=first_op)  # delegated: first_owner is stored
    real.chain.mine(1, timestamp=int(c.lease(run, 0)[2]))
    if lapse_by == "expireLease":  # else the claim below materialises the lapse itself
        c.expireLease(run, 0, sender=real.spare[0])
    c.claim(run, 0, y, sender=own)  # self-operated: the operator is the owner
    c.submit(run, 0, b"\x66" * 32, "ipfs://garbage", 0, sender=own)
    with ape.reverts(c.CoordinatorValidatorNotIndependent, runId=run, step=0,
                     agentId=own_validator):
        c.respond(run, 0, own_validator, 100, sender=own)
    # and once it transfers the executor identity away, its own judge still does not count
    ident.transferFrom(own.address, real.spare[1].address, y, sender=own)
    assert not _try(c.respond, run, 0, own_validator, 100, sender=own)
    assert c.stepState(run, 0) == SUBMITTED and c.owed(own.address) == 0


def test_same_owner_through_two_operators_votes_once(real):
    c, ident = real.coordinator, real.identity
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    owner, op_a, op_b = real.validators[0], _fresh(real, 4), _fresh(real, 5)
    second = real.agent(owner, VALIDATOR)
    ident.setApprovalForAll(op_a.address, True, sender=owner)
    ident.setApprovalForAll(op_b.address, True, sender=owner)
    c.respond(run, 0, real.validator_agents[0], 0, sender=op_a)
    with ape.reverts(c.CoordinatorAlreadyVoted, runId=run, step=0, owner=owner.address):
        c.respond(run, 0, second, 0, sender=op_b)
    assert c.tallies(run, 0) == (0, 1)


# ================================================================ frozen records
def test_cancel_during_compensation_freezes_publish_outcomes_forever(real):
    c = real.coordinator
    steps = [spec(real.chain_id, comp=2), spec(real.chain_id, deps=mask(0), attempts=1),
             spec(real.chain_id)]
    run = real.run(steps, STAKE)
    real.submitted(run, 0)
    c.claim(run, 1, real.exec_agent, sender=real.executor)
    real.chain.mine(1, timestamp=int(c.lease(run, 1)[2]))
    c.expireLease(run, 1, sender=real.spare[0])  # the lapse fails the run: compensation opens
    assert c.runState(run) == R_FAILED and c.stepState(run, 2) == READY
    c.cancelRun(run, sender=real.creator)  # nothing in flight: the run is settled
    assert c.runState(run) == R_CANCELLED and c.inflight(run) == 0
    assert c.totalEscrowed() == 0
    tx = c.publishOutcomes(run, real.exec_agent, sender=real.spare[0])
    assert tx.events.filter(c.OutcomesPublished)


def test_silent_judges_put_no_failure_on_the_executors_record(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=1, attempts=1)], STAKE, validation_seconds=60,
                   on_timeout=ON_TIMEOUT_RETRY)
    real.submitted(run)
    real.chain.mine(1, timestamp=int(c.lease(run, 0)[2]))
    c.expireValidation(run, 0, sender=real.spare[0])
    assert c.runState(run) == R_FAILED
    assert real.roles.lockedOf(real.exec_agent, EXEC) == 0
    # nothing against the executor: neither a Done nor a failure to publish
    with ape.reverts(c.CoordinatorNothingToPublish, runId=run, agentId=real.exec_agent):
        c.publishOutcomes(run, real.exec_agent, sender=real.spare[0])


# ================================================================ stakes escaped / locked
def test_lapsed_executor_cannot_escape_its_slash_by_the_run_ending_before_the_lapse_is_materialised(
        real):
    c, roles = real.coordinator, real.roles
    run = real.run([spec(real.chain_id, lease=100), spec(real.chain_id)], STAKE)
    c.claim(run, 0, real.exec_agent, sender=real.executor)
    real.chain.mine(1, timestamp=int(c.lease(run, 0)[2]) + 50)  # abandoned
    c.cancelRun(run, sender=real.creator)
    c.expireLease(run, 0, sender=real.spare[0])
    assert c.stepState(run, 0) == CANCELLED
    assert roles.treasuryBalance() == STAKE, "the abandoned claim was not slashed"


def test_surplus_claimed_and_submitted_steps_of_a_completed_run_free_every_stake(real):
    c, roles = real.coordinator, real.roles
    other_op = _fresh(real, 6)
    other = real.agent(other_op, EXEC)
    # roots 0, 1, 2; step 3 needs one of them
    steps = [spec(real.chain_id), spec(real.chain_id), spec(real.chain_id, quorum=2),
             spec(real.chain_id, deps=mask(0, 1, 2), join=1)]
    run = real.run(steps, STAKE)
    c.claim(run, 1, other, sender=other_op)  # live claim, never submitted
    c.claim(run, 2, real.exec_agent, sender=real.executor)
    c.submit(run, 2, b"\x22" * 32, "ipfs://r2", 0, sender=real.executor)
    real.vote(run, 0, 100, step=2)  # half a verdict: the vote's stake is locked
    c.claim(run, 0, real.exec_agent, sender=real.executor)
    c.submit(run, 0, b"\x22" * 32, "ipfs://r0", 0, sender=real.executor)
    real.submitted(run, 3)
    assert c.runState(run) == R_COMPLETED and c.totalEscrowed() == 0
    assert c.stepState(run, 1) == c.stepState(run, 2) == CANCELLED
    # the late vote on a cancelled step is refused; nothing pays twice
    with ape.reverts(c.CoordinatorStepNotSubmitted):
        real.vote(run, 1, 100, step=2)
    c.expireLease(run, 1, sender=real.spare[0])
    c.expireLease(run, 2, sender=real.spare[0])
    c.releaseVoteStake(run, 2, 0, real.validators[0].address, sender=real.spare[0])
    for agent, role in ((other, EXEC), (real.exec_agent, EXEC),
                        (real.validator_agents[0], VALIDATOR)):
        assert roles.lockedOf(agent, role) == 0
    assert roles.treasuryBalance() == 0  # nobody slashed for a run that ended around them
    with ape.reverts(c.CoordinatorLeaseNotExpired):
        c.expireLease(run, 1, sender=real.spare[0])
    c.publishOutcomes(run, real.exec_agent, sender=real.spare[0])


def test_compensation_step_in_flight_at_a_cancel_settles_once_and_frees_its_stake(real):
    c, roles = real.coordinator, real.roles
    steps = [spec(real.chain_id, comp=2), spec(real.chain_id, deps=mask(0), attempts=1),
             spec(real.chain_id, quorum=1)]
    run = real.run(steps, STAKE)
    real.submitted(run, 0)
    c.claim(run, 1, real.exec_agent, sender=real.executor)
    real.chain.mine(1, timestamp=int(c.lease(run, 1)[2]))
    c.expireLease(run, 1, sender=real.spare[0])
    real.roles.bond(real.exec_agent, EXEC, value=STAKE, sender=real.executor)  # top up the slash
    real.submitted(run, 2)  # the compensation is delivered, awaiting its verdict
    escrow_before = c.totalEscrowed()
    assert escrow_before == REWARD
    c.cancelRun(run, sender=real.creator)
    assert c.inflight(run) == mask(2) and c.totalEscrowed() == REWARD
    with ape.reverts(c.CoordinatorLeaseNotExpired):
        c.expireLease(run, 2, sender=real.spare[0])
    real.vote(run, 0, 0, step=2)  # rejected: the reward goes back to the creator, once
    assert c.stepState(run, 2) == CANCELLED and c.inflight(run) == 0
    assert c.totalEscrowed() == 0 and roles.lockedOf(real.exec_agent, EXEC) == 0
    for fn in (c.expireLease, c.expireValidation):
        with pytest.raises(ContractLogicError):
            fn(run, 2, sender=real.spare[0])
    # the deciding vote locked nothing: nothing of the judge's stays locked, nothing to free
    assert roles.lockedOf(real.validator_agents[0], VALIDATOR) == 0
    with ape.reverts(c.CoordinatorNoVoteStake):
        c.releaseVoteStake(run, 2, 0, real.validators[0].address, sender=real.spare[0])


def test_inflight_claim_that_lapses_after_a_cancel_is_slashed_refunded_and_settled_once(real):
    c, roles = real.coordinator, real.roles
    run = real.run([spec(real.chain_id, lease=100, quorum=1)], STAKE)
    c.claim(run, 0, real.exec_agent, sender=real.executor)
    c.cancelRun(run, sender=real.creator)
    assert c.inflight(run) == 1 and c.stepState(run, 0) == CLAIMED
    real.chain.mine(1, timestamp=int(c.lease(run, 0)[2]))
    with ape.reverts(c.CoordinatorStepNotClaimed):
        c.submit(run, 0, b"\x22" * 32, "ipfs://late", 0, sender=real.executor)
    tx = c.expireLease(run, 0, sender=real.spare[0])
    assert tx.events.filter(c.InflightRefunded)[0].refund == REWARD
    assert roles.treasuryBalance() == STAKE and c.inflight(run) == 0
    with ape.reverts(c.CoordinatorLeaseNotExpired):
        c.expireLease(run, 0, sender=real.spare[0])
    assert c.owed(real.creator.address) == REWARD and c.totalEscrowed() == 0


def test_coordinator_removed_as_slasher_mid_run_cannot_freeze_settlement(real):
    c, roles = real.coordinator, real.roles
    run = real.run([spec(real.chain_id, lease=100), spec(real.chain_id)], STAKE)
    judged = real.run([spec(real.chain_id, quorum=1)], STAKE)
    real.submitted(judged)
    c.claim(run, 0, real.exec_agent, sender=real.executor)
    roles.removeSlasher(c.address, sender=real.admin)
    # new claims need a lock: refused (the admin's freeze, accepted in the threat model) ...
    with ape.reverts(roles.AgentRolesNotSlasher, caller=c.address):
        c.claim(run, 1, real.validator_agents[0], sender=real.validators[0])
    # ... and so do votes, the deciding one too (its stake is checked, not locked: review)
    with ape.reverts(roles.AgentRolesNotSlasher, caller=c.address):
        real.vote(judged, 0, 100)
    # ... but what is in flight still settles, and the creator can still cancel
    real.chain.mine(1, timestamp=int(c.lease(run, 0)[2]))
    c.expireLease(run, 0, sender=real.spare[0])  # no revert; no slash (not a slasher)
    # what stays locked is the judged step's claim, whose verdict can no longer come
    assert roles.treasuryBalance() == 0 and roles.lockedOf(real.exec_agent, EXEC) == STAKE
    c.cancelRun(run, sender=real.creator)
    assert c.totalEscrowed() == REWARD  # only the judged run's, its step still Submitted


# ================================================================ DELEGATECALL / Multicall
def test_multicall_cannot_reuse_msg_value_across_start_runs(real):
    c = real.coordinator
    defn = (b"\x00" * 32, 0, 0, 0, [spec(real.chain_id)])
    c.registerDefinition(defn, sender=real.creator)
    from coord_helpers import definition_id
    def_id = definition_id(defn)
    calls = [c.startRun.encode_input(def_id, b"\x11" * 32, "ipfs://x") for _ in range(2)]
    with pytest.raises(Exception):  # noqa: B017 (not payable: the node refuses value outright)
        c.multicall(calls, value=REWARD, sender=real.spare[0])
    with ape.reverts(c.CoordinatorInsufficientBudget):
        c.multicall(calls, sender=real.spare[0])  # and without value no run is funded
    assert c.totalEscrowed() == 0


def test_stranger_cannot_reach_remote_or_admin_paths_directly(real, project):
    c = real.coordinator
    run = real.run([spec(real.chain_id)])
    with ape.reverts(c.CoordinatorNotRouter):
        c.completeRemote(run, 0, 0, real.chain_id, b"\x00" * 32, "", True, sender=real.spare[0])
    with ape.reverts(c.OwnableUnauthorizedAccount):
        c.setRouter(real.spare[0].address, sender=real.spare[0])
    ext = project.WorkflowCoordinatorExtension.at(c.extension())
    records = project.WorkflowCoordinatorRecords.at(c.recordsExtension())
    for call in (lambda: ext.completeRemote(run, 0, 0, real.chain_id, b"\x00" * 32, "", True,
                                            sender=real.spare[0]),
                 lambda: ext.startRun(b"\x00" * 32, b"\x00" * 32, "", sender=real.spare[0]),
                 lambda: ext.withdraw(sender=real.spare[0]),
                 lambda: ext.releaseVoteStake(run, 0, 0, real.spare[0].address,
                                              sender=real.spare[0])):
        with ape.reverts(ext.CoordinatorNotDelegated):
            call()
    for call in (lambda: records.publishOutcomes(run, real.exec_agent, sender=real.spare[0]),
                 lambda: records.publishValidation(run, 0, b"\x22" * 32, "ipfs://result-0",
                                                           sender=real.spare[0])):
        with ape.reverts(records.CoordinatorNotDelegated):
            call()
    assert c.stepState(run, 0) == READY


def test_a_stranger_cannot_take_credit_of_a_quorum_zero_step_or_release_others_stakes(real):
    c, roles = real.coordinator, real.roles
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    real.vote(run, 0, 100)  # locks its stake until the verdict
    real.vote(run, 1, 100)  # decides
    assert c.stepState(run, 0) == DONE
    # releaseStake by a stranger releases only its own (empty) record
    roles.releaseStake(real.exec_agent, EXEC, STAKE, STAKE, b"\x00" * 32, sender=real.spare[0])
    roles.releaseStake(real.validator_agents[0], VALIDATOR, STAKE, 0, b"\x00" * 32,
                       sender=real.spare[0])
    assert roles.lockedOf(real.validator_agents[0], VALIDATOR) == STAKE
    assert roles.treasuryBalance() == 0
    # releaseOrphaned against the live coordinator is refused
    with ape.reverts(roles.AgentRolesSlasherAlreadyRegistered):
        roles.releaseOrphaned(c.address, real.validator_agents[0], VALIDATOR,
                              sender=real.validators[0])
    with ape.reverts(c.CoordinatorNothingToWithdraw):
        c.withdraw(sender=real.spare[0])
    assert c.owed(real.executor.address) == REWARD
    assert BOND > STAKE and NO_STEP == 255 and DONE != SUBMITTED
