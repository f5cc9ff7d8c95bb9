"""The coordinator against the REAL ERC-8004 registries and AgentRoles (no mocks): agents
register, bond and heartbeat; a quorum-2 step lives its whole life; the verdict lands in the
Validation Registry, the outcome in the Reputation Registry, and a lapsed lease slashes the
executor's bond into AgentRoles' treasury."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from coord_helpers import DONE, EXEC, R_COMPLETED, READY, REWARD, VALIDATOR, definition_id, spec
from eth_abi import encode
from eth_utils import keccak

BOND = 10**16
SLASH = 4 * 10**15
SLASHER_ROLE = keccak(text="SLASHER_ROLE")


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

    def run(self, steps: list[tuple[Any, ...]], slash: int = 0) -> int:
        defn = (b"\x00" * 32, slash, steps)
        self.coordinator.registerDefinition(defn, sender=self.creator)
        def_id = definition_id(defn)
        value = self.coordinator.definitionInfo(def_id)[3]
        tx = self.coordinator.startRun(def_id, b"\x11" * 32, "ipfs://input", value=value,
                                       sender=self.creator)
        return int(tx.events.filter(self.coordinator.RunStarted)[0].runId)


@pytest.fixture(scope="module")
def real(project, accounts, chain) -> Real:
    admin, creator, executor = accounts[0], accounts[1], accounts[2]
    validators = [accounts[5], accounts[6]]
    identity = project.IdentityRegistry.deploy(sender=admin)
    reputation = project.ReputationRegistry.deploy(identity.address, sender=admin)
    validation = project.ValidationRegistry.deploy(identity.address, sender=admin)
    roles = project.AgentRoles.deploy(identity.address, admin.address, 86400, 3600, sender=admin)
    coordinator = project.WorkflowCoordinator.deploy(
        identity.address, roles.address, reputation.address, validation.address, VALIDATOR,
        admin.address, sender=admin)
    roles.grantRole(SLASHER_ROLE, coordinator.address, sender=admin)
    roles.configureRole(EXEC, BOND, sender=admin)
    roles.configureRole(VALIDATOR, BOND, sender=admin)

    def agent(acct: Any, role: bytes) -> int:
        tx = identity.register(sender=acct)
        agent_id = int(tx.events.filter(identity.Registered)[0].agentId)
        roles.bond(agent_id, role, value=BOND, sender=acct)
        roles.heartbeat(agent_id, sender=acct)
        assert roles.isEligible(agent_id, acct.address, role)
        return agent_id

    exec_agent = agent(executor, EXEC)
    validator_agents = [agent(v, VALIDATOR) for v in validators]
    return Real(chain, coordinator, identity, roles, reputation, validation, admin, creator,
                executor, exec_agent, validators, validator_agents)


@pytest.fixture(autouse=True)
def _balance_invariant(real: Real) -> Iterator[None]:
    """Overrides the mock world's invariant: the real coordinator's balance is its credits."""
    yield
    c = real.coordinator
    assert real.chain.provider.get_balance(c.address) == c.totalOwed() + c.totalEscrowed()


def test_quorum_two_step_records_validation_and_reputation_in_the_real_registries(real):
    c, chain_id = real.coordinator, int(real.chain.chain_id)
    run = real.run([spec(chain_id, quorum=2), spec(chain_id, deps=1)])
    c.claim(run, 0, real.exec_agent, sender=real.executor)
    c.submit(run, 0, b"\x22" * 32, "ipfs://result-0", 0, sender=real.executor)
    c.respond(run, 0, real.validator_agents[0], 80, sender=real.validators[0])
    tx = c.respond(run, 0, real.validator_agents[1], 100, sender=real.validators[1])
    assert tx.events.filter(c.StepDone)[0].reward == REWARD
    assert c.stepState(run, 0) == DONE and c.stepState(run, 1) == READY
    assert c.owed(real.executor.address) == REWARD

    # Validation Registry: request by the coordinator's agent, answered with the mean (90)
    request = keccak(encode(["address", "uint256", "uint8", "uint8"], [c.address, run, 0, 0]))
    validator, agent_id, response, response_hash, tag, _ = real.validation.getValidationStatus(
        request)
    assert (validator, agent_id, response, response_hash, tag) == (
        c.address, c.coordinatorAgentId(), 90, b"\x22" * 32, "accord")

    # Reputation Registry: the coordinator is a client of the executor with a 100 feedback
    assert list(real.reputation.getClients(real.exec_agent)) == [c.address]
    value, decimals, tag1, tag2, revoked = real.reputation.readFeedback(real.exec_agent,
                                                                        c.address, 1)
    assert (value, decimals, tag1, tag2, revoked) == (100, 0, "accord", "step", False)

    # the reward is withdrawable, the run completes
    before = real.chain.provider.get_balance(real.executor.address)
    receipt = c.withdraw(sender=real.executor)
    paid = real.chain.provider.get_balance(real.executor.address) - before
    assert paid + receipt.total_fees_paid == REWARD
    c.claim(run, 1, real.exec_agent, sender=real.executor)
    c.submit(run, 1, b"\x33" * 32, "ipfs://result-1", 0, sender=real.executor)
    assert c.runState(run) == R_COMPLETED


def test_lapsed_lease_slashes_the_bond_into_the_agent_roles_treasury(real):
    c, chain_id = real.coordinator, int(real.chain.chain_id)
    run = real.run([spec(chain_id, lease=100)], slash=SLASH)
    tx = c.claim(run, 0, real.exec_agent, sender=real.executor)
    lease_end = tx.events.filter(c.StepClaimed)[0].leaseEnd
    real.chain.mine(1, timestamp=lease_end)
    tx = c.expireLease(run, 0, sender=real.validators[0])
    assert tx.events.filter(c.LeaseExpired)[0].attempt == 1
    assert not tx.events.filter(c.SlashFailed)
    assert real.roles.treasuryBalance() == SLASH
    assert real.roles.bondOf(real.exec_agent, EXEC)[0] == BOND - SLASH
    assert c.stepState(run, 0) == READY
    # the failed attempt is on record too (feedback 0)
    last = real.reputation.getLastIndex(real.exec_agent, c.address)
    assert real.reputation.readFeedback(real.exec_agent, c.address, last)[0] == 0
