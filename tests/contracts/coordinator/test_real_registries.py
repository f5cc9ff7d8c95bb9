"""The coordinator against the REAL ERC-8004 registries and AgentRoles (no mocks), on anvil:
agents register, bond and heartbeat; a quorum-2 step lives its whole life; the verdict and the
outcomes are published to the Validation and Reputation registries by anyone afterwards; a
lapsed lease slashes the executor's locked stake into AgentRoles' treasury.

Then the attacks of the coordinator v2 review, each performed and shown to fail: sybil
quorums, frozen steps, cancel after delivery, free griefing, dodged reputation, confiscation
by the admin (the drained sponsor pool is in test_remote_router.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import ape
import pytest
from eth_account import Account
from coord_helpers import (CANCELLED, CLAIMED, DONE, EXEC, FAILED, ON_TIMEOUT_ACCEPT,
                           ON_TIMEOUT_FAIL, ON_TIMEOUT_RETRY, R_CANCELLED, R_COMPLETED, R_FAILED,
                           READY, REWARD, SUBMITTED, VALIDATOR, definition_id, spec)
from eth_abi import encode
from eth_utils import keccak

from accord.agents.ballots import Vote, sign_vote, vote_digest

BOND = 10**16
STAKE = 4 * 10**15
UNBONDING = 86400
SLASHER_DELAY = 2 * 86400


@dataclass
class Real:
    chain: Any
    coordinator: Any
    identity: Any
    roles: Any
    reputation: Any
    validation: Any
    admin: Any
    creator: Any
    executor: Any
    exec_agent: int
    validators: list[Any]
    validator_agents: list[int]
    accounts: Any
    spare: list[Any] = field(default_factory=list)

    @property
    def chain_id(self) -> int:
        return int(self.chain.chain_id)

    def agent(self, acct: Any, role: bytes, bond: int = BOND) -> int:
        """A new identity of `acct`, bonded and live for `role`."""
        tx = self.identity.register(sender=acct)
        agent_id = int(tx.events.filter(self.identity.Registered)[0].agentId)
        self.roles.bond(agent_id, role, value=bond, sender=acct)
        self.roles.heartbeat(agent_id, sender=acct)
        return agent_id

    def run(self, steps: list[tuple[Any, ...]], stake: int = 0, *, validation_seconds: int = 0,
            on_timeout: int = ON_TIMEOUT_RETRY) -> int:
        defn = (b"\x00" * 32, stake, validation_seconds, on_timeout, steps)
        self.coordinator.registerDefinition(defn, sender=self.creator)
        def_id = definition_id(defn)
        value = self.coordinator.definitionInfo(def_id)[3]
        tx = self.coordinator.startRun(def_id, b"\x11" * 32, "ipfs://input", value=value,
                                       sender=self.creator)
        return int(tx.events.filter(self.coordinator.RunStarted)[0].runId)

    def submitted(self, run: int, step: int = 0) -> Any:
        c = self.coordinator
        c.claim(run, step, self.exec_agent, sender=self.executor)
        return c.submit(run, step, b"\x22" * 32, f"ipfs://result-{step}", 0, sender=self.executor)

    def vote(self, run: int, v: int, response: int, step: int = 0) -> Any:
        return self.coordinator.respond(run, step, self.validator_agents[v], response,
                                        sender=self.validators[v])

    def free(self, agent_id: int, role: bytes) -> int:
        return int(self.roles.bondOf(agent_id, role)[0]) - int(self.roles.lockedOf(agent_id, role))


@pytest.fixture(scope="module")
def real(project, accounts, chain) -> Real:
    admin, creator, executor = accounts[0], accounts[1], accounts[2]
    validators = [accounts[5], accounts[6], accounts[7]]
    identity = project.IdentityRegistry.deploy(sender=admin)
    reputation = project.ReputationRegistry.deploy(identity.address, sender=admin)
    validation = project.ValidationRegistry.deploy(identity.address, sender=admin)
    roles = project.AgentRoles.deploy(identity.address, admin.address, UNBONDING, 3600,
                                      SLASHER_DELAY, sender=admin)
    coordinator = project.WorkflowCoordinator.deploy(
        identity.address, roles.address, reputation.address, validation.address, VALIDATOR,
        admin.address, sender=admin)
    roles.announceSlasher(coordinator.address, sender=admin)  # genesis: active at once
    assert roles.isSlasher(coordinator.address)
    roles.configureRole(EXEC, BOND, sender=admin)
    roles.configureRole(VALIDATOR, BOND, sender=admin)
    world = Real(chain, coordinator, identity, roles, reputation, validation, admin, creator,
                 executor, 0, validators, [], accounts, spare=[accounts[8], accounts[9]])
    world.exec_agent = world.agent(executor, EXEC)
    world.validator_agents = [world.agent(v, VALIDATOR) for v in validators]
    return world


@pytest.fixture(autouse=True)
def _balance_invariant(real: Real) -> Iterator[None]:
    """Overrides the mock world's invariant: the real coordinator's balance is its credits."""
    yield
    c = real.coordinator
    assert real.chain.provider.get_balance(c.address) == c.totalOwed() + c.totalEscrowed()


# ---------------------------------------------------------------- a step's whole life
@pytest.mark.covers("WorkflowCoordinator.publishValidation", "replay")
@pytest.mark.covers("WorkflowCoordinator.publishOutcomes", "replay")
def test_quorum_two_step_lives_and_is_published_to_the_real_registries(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2), spec(real.chain_id, deps=1)], STAKE)
    real.submitted(run)
    real.vote(run, 0, 80)
    tx = real.vote(run, 1, 100)
    assert tx.events.filter(c.StepDone)[0].reward == REWARD
    assert c.stepState(run, 0) == DONE and c.stepState(run, 1) == READY
    assert c.owed(real.executor.address) == REWARD
    assert real.roles.lockedOf(real.exec_agent, EXEC) == 0  # the claim's stake is free again

    # the verdict goes to the Validation Registry when anyone publishes it: the mean (90)
    tx = c.publishValidation(run, 0, b"\x22" * 32, "ipfs://result-0", sender=real.spare[0])
    request = tx.events.filter(c.ValidationPublished)[0].requestHash
    validator, agent_id, response, response_hash, tag, _ = real.validation.getValidationStatus(
        request)
    assert (validator, agent_id, response, response_hash, tag) == (
        c.address, c.coordinatorAgentId(), 90, b"\x22" * 32, "accord")
    with ape.reverts(c.CoordinatorNoVerdictToPublish, runId=run, step=0):
        c.publishValidation(run, 0, b"\x22" * 32, "ipfs://result-0", sender=real.spare[0])

    # the reward is withdrawable, the run completes
    before = real.chain.provider.get_balance(real.executor.address)
    receipt = c.withdraw(sender=real.executor)
    paid = real.chain.provider.get_balance(real.executor.address) - before
    assert paid + receipt.total_fees_paid == REWARD
    with ape.reverts(c.CoordinatorRunNotSettled, runId=run, state=1):
        c.publishOutcomes(run, real.exec_agent, sender=real.spare[0])
    real.submitted(run, 1)
    assert c.runState(run) == R_COMPLETED

    # outcomes: one feedback per agent per run, by anyone, once
    tx = c.publishOutcomes(run, real.exec_agent, sender=real.spare[0])
    ev = tx.events.filter(c.OutcomesPublished)[0]
    assert (ev.done, ev.failed, ev.value) == (2, 0, 100)
    assert list(real.reputation.getClients(real.exec_agent)) == [c.address]
    value, decimals, tag1, tag2, revoked = real.reputation.readFeedback(real.exec_agent,
                                                                        c.address, 1)
    assert (value, decimals, tag1, tag2, revoked) == (100, 0, "accord", "run", False)
    with ape.reverts(c.CoordinatorAlreadyPublished, runId=run, agentId=real.exec_agent):
        c.publishOutcomes(run, real.exec_agent, sender=real.spare[0])


@pytest.mark.covers("WorkflowCoordinator.publishOutcomes", "bad_arguments")
def test_publish_outcomes_of_an_agent_without_any_reverts(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id)])
    real.submitted(run)
    with ape.reverts(c.CoordinatorNothingToPublish, runId=run, agentId=real.validator_agents[0]):
        c.publishOutcomes(run, real.validator_agents[0], sender=real.spare[0])


@pytest.mark.covers("WorkflowCoordinator.publishValidation", "wrong_state", "bad_arguments")
def test_publish_validation_needs_a_quorum_verdict(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id), spec(real.chain_id, quorum=1)])
    real.submitted(run)  # quorum 0: nothing to record
    with ape.reverts(c.CoordinatorNoVerdictToPublish, runId=run, step=0):
        c.publishValidation(run, 0, b"\x22" * 32, "ipfs://result-0", sender=real.spare[0])
    real.submitted(run, 1)  # Submitted, not decided
    with ape.reverts(c.CoordinatorNoVerdictToPublish, runId=run, step=1):
        c.publishValidation(run, 1, b"\x22" * 32, "ipfs://result-1", sender=real.spare[0])
    with ape.reverts(c.CoordinatorInvalidStep, runId=run, step=9):
        c.publishValidation(run, 9, b"\x22" * 32, "ipfs://result-9", sender=real.spare[0])


def test_lapsed_lease_slashes_the_locked_stake_into_the_agent_roles_treasury(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, lease=100)], STAKE)
    tx = c.claim(run, 0, real.exec_agent, sender=real.executor)
    assert real.roles.lockedOf(real.exec_agent, EXEC) == STAKE
    lease_end = tx.events.filter(c.StepClaimed)[0].leaseEnd
    real.chain.mine(1, timestamp=lease_end)
    tx = c.expireLease(run, 0, sender=real.validators[0])
    assert tx.events.filter(c.LeaseExpired)[0].attempt == 1
    assert real.roles.treasuryBalance() == STAKE
    assert real.roles.bondOf(real.exec_agent, EXEC)[0] == BOND - STAKE
    assert real.roles.lockedOf(real.exec_agent, EXEC) == 0
    assert c.stepState(run, 0) == READY


# ---------------------------------------------------------------- attack 1: sybil quorum
def test_sybil_identities_of_the_executor_cannot_approve_its_work(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    # the executor's owner mints two more identities and bonds them as validators
    sybils = [real.agent(real.executor, VALIDATOR) for _ in range(2)]
    for sybil in sybils:
        with ape.reverts(c.CoordinatorValidatorNotIndependent, runId=run, step=0, agentId=sybil):
            c.respond(run, 0, sybil, 100, sender=real.executor)
    # a validator identity the executor's owner operates for someone else is refused too
    other_owner = real.spare[0]
    proxy_agent = real.agent(other_owner, VALIDATOR)
    real.identity.setApprovalForAll(real.executor.address, True, sender=other_owner)
    with ape.reverts(c.CoordinatorValidatorNotIndependent, runId=run, step=0, agentId=proxy_agent):
        c.respond(run, 0, proxy_agent, 100, sender=real.executor)
    real.identity.setApprovalForAll(real.executor.address, False, sender=other_owner)
    assert c.stepState(run, 0) == SUBMITTED and c.tallies(run, 0) == (0, 0)


def test_one_owner_with_many_validator_identities_votes_once(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    # honest work, and one party with two validator identities tries to reject it twice
    second = real.agent(real.validators[0], VALIDATOR)
    real.vote(run, 0, 0)
    with ape.reverts(c.CoordinatorAlreadyVoted, runId=run, step=0,
                     owner=real.validators[0].address):
        c.respond(run, 0, second, 0, sender=real.validators[0])
    assert c.tallies(run, 0) == (0, 1) and c.stepState(run, 0) == SUBMITTED


@pytest.mark.covers("WorkflowCoordinator.releaseVoteStake", "wrong_state", "replay",
                    "bad_arguments")
def test_a_vote_locks_stake_until_the_verdict_is_final(real):
    c, roles = real.coordinator, real.roles
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    v0, owner0 = real.validator_agents[0], real.validators[0].address
    real.vote(run, 0, 100)
    assert roles.lockedOf(v0, VALIDATOR) == STAKE
    with ape.reverts(roles.AgentRolesInsufficientFreeBond, agentId=v0, role=VALIDATOR,
                     free=BOND - STAKE, requested=BOND):
        roles.requestUnbond(v0, VALIDATOR, BOND, sender=real.validators[0])
    with ape.reverts(c.CoordinatorVerdictPending, runId=run, step=0, attempt=0):
        c.releaseVoteStake(run, 0, 0, owner0, sender=real.spare[0])
    real.vote(run, 1, 100)  # Done: the verdict is final
    tx = c.releaseVoteStake(run, 0, 0, owner0, sender=real.spare[0])
    assert tx.events.filter(c.VoteStakeReleased)[0].agentId == v0
    assert roles.lockedOf(v0, VALIDATOR) == 0
    with ape.reverts(c.CoordinatorNoVoteStake, runId=run, step=0, attempt=0, owner=owner0):
        c.releaseVoteStake(run, 0, 0, owner0, sender=real.spare[0])
    outsider = real.spare[1].address
    with ape.reverts(c.CoordinatorNoVoteStake, runId=run, step=0, attempt=0, owner=outsider):
        c.releaseVoteStake(run, 0, 0, outsider, sender=real.spare[0])


def test_a_validator_without_free_bond_cannot_vote(real):
    stake = BOND // 2 + 1  # one vote at a time per bond
    runs = [real.run([spec(real.chain_id, quorum=2)], stake) for _ in range(2)]
    c = real.coordinator
    c.claim(runs[0], 0, real.exec_agent, sender=real.executor)
    c.submit(runs[0], 0, b"\x22" * 32, "ipfs://a", 0, sender=real.executor)
    real.roles.bond(real.exec_agent, EXEC, value=BOND, sender=real.executor)  # room for two
    c.claim(runs[1], 0, real.exec_agent, sender=real.executor)
    c.submit(runs[1], 0, b"\x22" * 32, "ipfs://b", 0, sender=real.executor)
    v0 = real.validator_agents[0]
    real.vote(runs[0], 0, 0)  # a rejection: the vote locks the stake either way
    with ape.reverts(real.roles.AgentRolesInsufficientFreeBond, agentId=v0, role=VALIDATOR,
                     free=BOND - stake, requested=stake):
        real.vote(runs[1], 0, 100)
    # a deciding vote locks nothing but still needs the stake free: v0 would decide run 1
    real.vote(runs[1], 1, 100)
    with ape.reverts(real.roles.AgentRolesInsufficientFreeBond, agentId=v0, role=VALIDATOR,
                     free=BOND - stake, requested=stake):
        real.vote(runs[1], 0, 100)
    real.vote(runs[0], 2, 0)  # v2 decides run 0 (two rejections): its stake is not locked
    assert real.roles.lockedOf(real.validator_agents[2], VALIDATOR) == 0
    with ape.reverts(c.CoordinatorNoVoteStake):  # the deciding vote left nothing to free
        c.releaseVoteStake(runs[0], 0, 0, real.validators[2].address, sender=real.spare[0])
    c.releaseVoteStake(runs[0], 0, 0, real.validators[0].address, sender=real.spare[0])
    real.vote(runs[1], 0, 100)  # free again once the first verdict is final: decides run 1
    assert real.roles.lockedOf(v0, VALIDATOR) == 0


# ---------------------------------------------------------------- attack 2: frozen steps
def test_squatted_validation_request_hash_cannot_freeze_a_step(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    # a stranger registers the hash v1 recorded the verdict under, with an agent of its own
    squatter = real.spare[1]
    squat_agent = int(real.identity.register(sender=squatter).events.filter(
        real.identity.Registered)[0].agentId)
    v1_hash = keccak(encode(["address", "uint256", "uint8", "uint8"], [c.address, run, 0, 0]))
    real.validation.validationRequest(squatter.address, squat_agent, "ipfs://x", v1_hash,
                                      sender=squatter)
    real.vote(run, 0, 100)
    real.vote(run, 1, 100)  # the quorum-reaching vote touches no registry: the step moves on
    assert c.stepState(run, 0) == DONE and c.runState(run) == R_COMPLETED
    tx = c.publishValidation(run, 0, b"\x22" * 32, "ipfs://result-0", sender=squatter)  # a fresh hash per try
    assert tx.events.filter(c.ValidationPublished)


@pytest.mark.covers("WorkflowCoordinator.expireValidation", "replay")
def test_split_validators_cannot_stall_a_step_past_its_deadline_retry(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2, attempts=3)], STAKE, validation_seconds=300)
    real.submitted(run)
    real.vote(run, 0, 100)
    real.vote(run, 1, 0)  # split: one each; the third validator stays silent
    deadline = int(c.lease(run, 0)[2])
    real.chain.mine(1, timestamp=deadline)
    tx = c.expireValidation(run, 0, sender=real.spare[0])
    ev = tx.events.filter(c.ValidationExpired)[0]
    assert (ev.attempt, ev.policy) == (0, ON_TIMEOUT_RETRY)
    assert c.stepState(run, 0) == READY and c.lease(run, 0)[3] == 1
    assert real.roles.lockedOf(real.exec_agent, EXEC) == 0  # not the executor's fault
    with ape.reverts(c.CoordinatorValidationNotExpired, runId=run, step=0, state=READY,
                     deadline=deadline):
        c.expireValidation(run, 0, sender=real.spare[0])
    # both votes on attempt 0 are final now: their stakes can be freed
    c.releaseVoteStake(run, 0, 0, real.validators[1].address, sender=real.spare[0])


@pytest.mark.covers("WorkflowCoordinator.expireValidation", "wrong_state")
def test_silent_validators_with_accept_policy_pay_the_executor_at_the_deadline(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2)], STAKE, validation_seconds=60,
                   on_timeout=ON_TIMEOUT_ACCEPT)
    real.submitted(run)
    deadline = int(c.lease(run, 0)[2])
    with ape.reverts(c.CoordinatorValidationNotExpired, runId=run, step=0, state=SUBMITTED,
                     deadline=deadline):
        c.expireValidation(run, 0, sender=real.spare[0])
    real.chain.mine(1, timestamp=deadline)
    c.expireValidation(run, 0, sender=real.spare[0])
    assert c.stepState(run, 0) == DONE and c.owed(real.executor.address) == REWARD


@pytest.mark.covers("WorkflowCoordinator.expireValidation", "bad_arguments")
def test_fail_policy_fails_the_step_at_the_deadline(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=1, attempts=5)], STAKE,
                   on_timeout=ON_TIMEOUT_FAIL)
    real.submitted(run)
    deadline = int(c.lease(run, 0)[2])
    assert deadline == real.chain.blocks.head.timestamp + 4 * 100  # default: 4 x the lease
    real.chain.mine(1, timestamp=deadline)
    c.expireValidation(run, 0, sender=real.spare[0])
    assert c.stepState(run, 0) == FAILED and c.runState(run) == R_FAILED
    with ape.reverts(c.CoordinatorInvalidStep, runId=run, step=7):
        c.expireValidation(run, 7, sender=real.spare[0])


# ---------------------------------------------------------------- attack 4: cancel after delivery
@pytest.mark.covers("WorkflowCoordinator.cancelRun", "wrong_caller")
def test_cancel_after_submit_cannot_take_back_the_reward(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2), spec(real.chain_id, deps=1)], STAKE)
    real.submitted(run)  # the result URI is on chain now
    with ape.reverts(c.CoordinatorNotCreator, runId=run, caller=real.executor.address):
        c.cancelRun(run, sender=real.executor)
    tx = c.cancelRun(run, sender=real.creator)
    assert tx.events.filter(c.RunCancelled)[0].refund == REWARD  # step 1 only
    assert c.stepState(run, 0) == SUBMITTED and c.runState(run) == R_CANCELLED
    real.vote(run, 0, 100)
    real.vote(run, 1, 100)
    assert c.stepState(run, 0) == DONE and c.owed(real.executor.address) == REWARD
    assert c.totalEscrowed() == 0 and c.owed(real.creator.address) == REWARD


def test_cancel_front_running_a_quorum_zero_submit_cannot_take_back_the_reward(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id)], STAKE)
    c.claim(run, 0, real.exec_agent, sender=real.executor)
    c.cancelRun(run, sender=real.creator)  # lands just before the submit
    assert c.stepState(run, 0) == CLAIMED
    c.submit(run, 0, b"\x22" * 32, "ipfs://r", 0, sender=real.executor)
    assert c.stepState(run, 0) == DONE and c.owed(real.executor.address) == REWARD
    assert c.owed(real.creator.address) == 0


def test_a_rejected_submission_after_a_cancel_refunds_the_creator(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=1)], STAKE)
    real.submitted(run)
    c.cancelRun(run, sender=real.creator)
    tx = real.vote(run, 0, 0)
    assert tx.events.filter(c.InflightRefunded)[0].refund == REWARD
    assert c.stepState(run, 0) == CANCELLED and c.owed(real.creator.address) == REWARD
    assert real.roles.lockedOf(real.exec_agent, EXEC) == 0


# ---------------------------------------------------------------- attack 5: free griefing
def test_one_bond_cannot_back_unlimited_claims(real):
    c = real.coordinator
    stake = BOND // 2 + 1
    runs = [real.run([spec(real.chain_id)], stake) for _ in range(2)]
    c.claim(runs[0], 0, real.exec_agent, sender=real.executor)
    with ape.reverts(real.roles.AgentRolesInsufficientFreeBond, agentId=real.exec_agent,
                     role=EXEC, free=BOND - stake, requested=stake):
        c.claim(runs[1], 0, real.exec_agent, sender=real.executor)


def test_a_claimed_stake_cannot_be_unbonded_before_the_lease_lapses(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id)], STAKE)
    c.claim(run, 0, real.exec_agent, sender=real.executor)
    with ape.reverts(real.roles.AgentRolesInsufficientFreeBond, agentId=real.exec_agent,
                     role=EXEC, free=BOND - STAKE, requested=BOND):
        real.roles.requestUnbond(real.exec_agent, EXEC, BOND, sender=real.executor)
    real.roles.requestUnbond(real.exec_agent, EXEC, BOND - STAKE, sender=real.executor)
    end = int(c.lease(run, 0)[2])
    real.chain.mine(1, timestamp=end)
    c.expireLease(run, 0, sender=real.spare[0])  # the locked stake is what pays
    assert real.roles.treasuryBalance() == STAKE


# ---------------------------------------------------------------- attack 6: dodged reputation
@pytest.mark.covers("WorkflowCoordinator.publishOutcomes", "wrong_state")
def test_an_agent_that_makes_the_coordinator_its_operator_cannot_dodge_its_record(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, lease=100, attempts=1)], STAKE)
    c.claim(run, 0, real.exec_agent, sender=real.executor)
    # the executor makes the coordinator its operator: the registry refuses its feedback
    real.identity.setApprovalForAll(c.address, True, sender=real.executor)
    real.chain.mine(1, timestamp=int(c.lease(run, 0)[2]))
    c.expireLease(run, 0, sender=real.spare[0])  # abandoned: the run failed
    assert c.runState(run) == R_FAILED
    tx = c.publishOutcomes(run, real.exec_agent, sender=real.spare[0])
    assert tx.events.filter(c.OutcomesRefused)[0].agentId == real.exec_agent
    assert c.recordBlocked(real.exec_agent)
    other = real.run([spec(real.chain_id)], STAKE)
    with ape.reverts(c.CoordinatorRecordBlocked, agentId=real.exec_agent):
        c.claim(other, 0, real.exec_agent, sender=real.executor)
    # only by taking the approval back, and letting the record land, can it work again
    real.identity.setApprovalForAll(c.address, False, sender=real.executor)
    tx = c.publishOutcomes(run, real.exec_agent, sender=real.spare[0])
    ev = tx.events.filter(c.OutcomesPublished)[0]
    assert (ev.done, ev.failed, ev.value) == (0, 1, 0)
    assert not c.recordBlocked(real.exec_agent)
    real.roles.bond(real.exec_agent, EXEC, value=STAKE, sender=real.executor)  # top up the slash
    c.claim(other, 0, real.exec_agent, sender=real.executor)


# ---------------------------------------------------------------- attack 7: confiscation
def test_the_admin_cannot_confiscate_bonds(real):
    roles = real.roles
    with ape.reverts(roles.AgentRolesNotSlasher, caller=real.admin.address):
        roles.slash(real.exec_agent, EXEC, BOND, b"\x00" * 32, sender=real.admin)
    tx = roles.announceSlasher(real.admin.address, sender=real.admin)  # bonds exist: delayed
    active_at = tx.events.filter(roles.SlasherAnnounced)[0].activeAt
    assert active_at == real.chain.blocks.head.timestamp + SLASHER_DELAY
    with ape.reverts(roles.AgentRolesSlasherNotReady, slasher=real.admin.address,
                     activeAt=active_at):
        roles.activateSlasher(real.admin.address, sender=real.admin)
    # the announcement is public for longer than an unbonding takes: agents can leave first
    assert SLASHER_DELAY > UNBONDING
    assert not roles.isSlasher(real.admin.address)


# ---------------------------------------------------------------- signed votes (one verdict, one tx)
def _signed(real: Real, run: int, v: int | Any, response: int, *, step: int = 0,
            attempt: int = 0, agent_id: int | None = None, key_of: Any = None) -> tuple:
    """Validator `v`'s vote (an index into real.validators, or an account with `agent_id`)
    signed by `key_of` (default: the validator itself)."""
    acct = real.validators[v] if isinstance(v, int) else v
    agent = real.validator_agents[v] if agent_id is None else agent_id
    signer = Account.from_key((key_of or acct).private_key)
    return sign_vote(signer, real.chain_id, real.coordinator.address,
                     Vote(run, step, attempt, agent, response))


def test_the_python_vote_digest_is_the_coordinators(real):
    c = real.coordinator
    vote = Vote(7, 3, 2, real.validator_agents[1], 64)
    assert c.voteDigest(7, 3, 2, real.validator_agents[1], 64) == vote_digest(
        real.chain_id, c.address, vote)


@pytest.mark.covers("WorkflowCoordinator.respondSigned", "wrong_caller")
def test_signed_votes_of_two_judges_decide_in_one_transaction_sent_by_anyone(real):
    c, roles = real.coordinator, real.roles
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    votes = [_signed(real, run, 0, 90), _signed(real, run, 1, 100)]
    tx = c.respondSigned(run, 0, votes, sender=real.spare[0])  # a stranger carries them
    assert [e.agentId for e in tx.events.filter(c.StepValidated)] == real.validator_agents[:2]
    assert tx.events.filter(c.StepDone)[0].payee == real.executor.address
    assert c.stepState(run, 0) == DONE and c.owed(real.executor.address) == REWARD
    # the verdict was final in the same transaction: no vote locked stake or left a record
    for agent in real.validator_agents[:2]:
        assert roles.lockedOf(agent, VALIDATOR) == 0
        assert not c.hasVoted(run, 0, agent)
    assert roles.lockedOf(real.exec_agent, EXEC) == 0
    assert real.spare[0].address not in (e.owner for e in tx.events.filter(c.StepValidated))


@pytest.mark.covers("WorkflowCoordinator.respondSigned", "bad_arguments")
def test_a_forged_or_malformed_vote_signature_is_refused_and_changes_nothing(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    v0 = real.validator_agents[0]
    signer0 = real.validators[0].address
    forged = _signed(real, run, 0, 100, key_of=real.spare[1])  # another key, claims v0's signer
    forged = (forged[0], forged[1], signer0, forged[3])
    cases = [forged,
             (v0, 100, signer0, b""),                       # missing
             (v0, 100, signer0, b"\x01" * 64),              # wrong length
             (v0, 100, signer0, b"\x00" * 65)]              # not a signature
    good = _signed(real, run, 0, 100)
    cases.append((good[0], 0, good[2], good[3]))            # response changed after signing
    cases.append((real.validator_agents[1], 100, good[2], good[3]))  # another agent's vote
    for vote in cases:
        with ape.reverts(c.CoordinatorInvalidVoteSignature, runId=run, step=0,
                         agentId=vote[0], signer=signer0):
            c.respondSigned(run, 0, [vote], sender=real.spare[0])
    with ape.reverts(c.CoordinatorNoVotes, runId=run, step=0):
        c.respondSigned(run, 0, [], sender=real.spare[0])
    with ape.reverts(c.CoordinatorInvalidResponse, response=101):
        c.respondSigned(run, 0, [_signed(real, run, 0, 101)], sender=real.spare[0])
    assert c.stepState(run, 0) == SUBMITTED and c.tallies(run, 0) == (0, 0)
    assert real.roles.lockedOf(v0, VALIDATOR) == 0


@pytest.mark.covers("WorkflowCoordinator.respondSigned", "replay", "wrong_state")
def test_a_signed_vote_cannot_be_replayed_on_another_attempt_step_or_coordinator(real, project):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=1), spec(real.chain_id, quorum=1)], STAKE)
    real.submitted(run)
    reject = _signed(real, run, 0, 0)
    tx = c.respondSigned(run, 0, [reject], sender=real.spare[0])  # attempt 0 rejected
    with ape.reverts(c.CoordinatorStepNotSubmitted, runId=run, step=0):
        c.respondSigned(run, 0, [reject], sender=real.spare[0])
    real.chain.mine(1, timestamp=tx.events.filter(c.StepRejected)[0].retryAt)  # backoff over
    real.submitted(run)  # attempt 1
    with ape.reverts(c.CoordinatorInvalidVoteSignature):
        c.respondSigned(run, 0, [reject], sender=real.spare[0])   # signed for attempt 0
    # a vote for step 0 does not count on step 1, nor on another coordinator
    approve0 = _signed(real, run, 0, 100, attempt=1)
    c.respondSigned(run, 0, [approve0], sender=real.spare[0])
    real.submitted(run, 1)
    with ape.reverts(c.CoordinatorInvalidVoteSignature):
        c.respondSigned(run, 1, [approve0], sender=real.spare[0])
    other = project.WorkflowCoordinator.deploy(
        real.identity.address, real.roles.address, real.reputation.address,
        real.validation.address, VALIDATOR, real.admin.address, sender=real.admin)
    assert other.voteDigest(run, 0, 1, real.validator_agents[0], 100) != c.voteDigest(
        run, 0, 1, real.validator_agents[0], 100)
    assert c.stepState(run, 0) == DONE and c.stepState(run, 1) == SUBMITTED


def test_a_vote_sent_ahead_of_the_batch_cannot_make_the_batch_fail(real):
    """Front-running: anyone who sees the batch in the mempool may send one of its votes
    first. That vote counts (and locks its stake); the batch skips it and still decides, even
    though the stake that vote locked leaves its judge too little free bond for another vote."""
    c, roles = real.coordinator, real.roles
    stake = BOND // 2 + 1  # one open vote per bond
    run = real.run([spec(real.chain_id, quorum=2)], stake)
    real.submitted(run)
    votes = [_signed(real, run, 0, 100), _signed(real, run, 1, 100)]
    c.respondSigned(run, 0, votes[:1], sender=real.spare[1])  # the front-runner
    assert roles.lockedOf(real.validator_agents[0], VALIDATOR) == stake
    assert real.free(real.validator_agents[0], VALIDATOR) < stake
    tx = c.respondSigned(run, 0, votes, sender=real.spare[0])
    assert [e.agentId for e in tx.events.filter(c.StepValidated)] == [real.validator_agents[1]]
    assert c.stepState(run, 0) == DONE
    c.releaseVoteStake(run, 0, 0, real.validators[0].address, sender=real.spare[1])
    assert roles.lockedOf(real.validator_agents[0], VALIDATOR) == 0


def test_signed_votes_that_do_not_decide_each_lock_their_stake(real):
    c, roles = real.coordinator, real.roles
    run = real.run([spec(real.chain_id, quorum=3)], STAKE)
    real.submitted(run)
    c.respondSigned(run, 0, [_signed(real, run, 0, 100), _signed(real, run, 1, 20)],
                    sender=real.spare[0])
    assert c.tallies(run, 0) == (1, 1) and c.stepState(run, 0) == SUBMITTED
    for agent in real.validator_agents[:2]:
        assert roles.lockedOf(agent, VALIDATOR) == STAKE and c.hasVoted(run, 0, agent)


def test_signed_votes_after_the_deciding_one_are_ignored(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    tx = c.respondSigned(run, 0, [_signed(real, run, 0, 100), _signed(real, run, 1, 100),
                                  _signed(real, run, 2, 0)], sender=real.spare[0])
    counted = tx.events.filter(c.StepValidated)
    assert [e.agentId for e in counted] == real.validator_agents[:2]
    assert [(e.approvals, e.rejections) for e in counted] == [(1, 0), (2, 0)]
    # Done: nothing left to tally (a verdict in one transaction records no tallies)
    assert c.stepState(run, 0) == DONE and c.tallies(run, 0) == (0, 0)
    assert real.roles.lockedOf(real.validator_agents[2], VALIDATOR) == 0


def test_signed_votes_keep_the_independence_and_one_vote_per_owner_rules(real):
    c = real.coordinator
    run = real.run([spec(real.chain_id, quorum=2)], STAKE)
    real.submitted(run)
    sybil = real.agent(real.executor, VALIDATOR)  # the executor signs for its own sybil
    with ape.reverts(c.CoordinatorValidatorNotIndependent, runId=run, step=0, agentId=sybil):
        c.respondSigned(run, 0, [_signed(real, run, real.executor, 100, agent_id=sybil)],
                        sender=real.spare[0])
    second = real.agent(real.validators[0], VALIDATOR)  # one owner, two identities
    with ape.reverts(c.CoordinatorAlreadyVoted, runId=run, step=0,
                     owner=real.validators[0].address):
        c.respondSigned(run, 0, [_signed(real, run, 0, 100),
                                 _signed(real, run, 0, 100, agent_id=second)],
                        sender=real.spare[0])
    # a stranger's key cannot vote for a validator it neither owns nor operates
    stranger_signed = _signed(real, run, 0, 100, key_of=real.spare[1])
    assert stranger_signed[2] == real.spare[1].address  # a valid signature, by the stranger
    with ape.reverts(real.roles.AgentRolesNotEligible, agentId=real.validator_agents[0],
                     operator=real.spare[1].address, role=VALIDATOR):
        c.respondSigned(run, 0, [stranger_signed], sender=real.spare[0])
    assert c.tallies(run, 0) == (0, 0)
