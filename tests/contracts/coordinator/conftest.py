"""WorkflowCoordinator fixtures: mocks for the ERC-8004 registries and AgentRoles, one
coordinator per module (ape isolates every test with a snapshot)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from coord_helpers import EXEC, VALIDATOR, World


@pytest.fixture(scope="module")
def world(project, accounts, chain) -> World:
    admin, creator = accounts[0], accounts[1]
    operators = [accounts[2], accounts[3], accounts[4]]
    validators = [accounts[5], accounts[6], accounts[7]]
    outsider = accounts[8]
    identity = project.MockIdentityRegistry.deploy(sender=admin)
    roles = project.MockAgentRoles.deploy(sender=admin)
    roles.setIdentity(identity.address, sender=admin)
    reputation = project.MockReputationRegistry.deploy(sender=admin)
    validation = project.MockValidationRegistry.deploy(identity.address, sender=admin)
    coordinator = project.WorkflowCoordinator.deploy(
        identity.address, roles.address, reputation.address, validation.address, VALIDATOR,
        admin.address, sender=admin)
    # agentIds are sequential from 0; 0 is the coordinator's own identity
    agents, validator_agents = [], []
    for op in operators:
        identity.register(sender=op)
        agents.append(len(agents) + 1)
        roles.setEligible(agents[-1], op.address, EXEC, True, sender=admin)
    for v in validators:
        identity.register(sender=v)
        validator_agents.append(len(operators) + len(validator_agents) + 1)
        roles.setEligible(validator_agents[-1], v.address, VALIDATOR, True, sender=admin)
    assert identity.ownerOf(agents[0]) == operators[0].address
    assert identity.ownerOf(validator_agents[-1]) == validators[-1].address
    # executor 0 may also validate (to prove the executor-cannot-validate rule)
    roles.setEligible(agents[0], operators[0].address, VALIDATOR, True, sender=admin)
    return World(chain=chain, coordinator=coordinator, roles=roles, identity=identity,
                 reputation=reputation, validation=validation, admin=admin, creator=creator,
                 operators=operators, agents=agents, validators=validators,
                 validator_agents=validator_agents, outsider=outsider)


@pytest.fixture(autouse=True)
def _balance_invariant(world: World) -> Iterator[None]:
    """balance == totalOwed + totalEscrowed after every test."""
    yield
    world.assert_invariant()
