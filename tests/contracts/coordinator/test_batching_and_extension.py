"""An agent batches claims and submits in one transaction (OpenZeppelin Multicall), the
delegated extension refuses direct calls, and both halves of the coordinator stay small."""

from __future__ import annotations

import ape
import pytest
from coord_helpers import CLAIMED, DONE, REWARD, mask

LIMIT = 20_480  # EIP-170's 24,576 bytes minus 4 KB of headroom


@pytest.mark.covers("WorkflowCoordinator.multicall", "bad_arguments")
def test_an_agent_claims_and_submits_several_steps_in_one_transaction(world):
    c = world.coordinator
    run = world.run_of([world.spec(), world.spec(), world.spec(deps=mask(0, 1))])
    agent, op = world.agents[0], world.operators[0]
    claims = [c.claim.encode_input(run, s, agent) for s in (0, 1)]
    tx = c.multicall(claims, sender=op)
    assert [e.step for e in tx.events.filter(c.StepClaimed)] == [0, 1]
    assert world.state(run, 0) == world.state(run, 1) == CLAIMED
    submits = [c.submit.encode_input(run, s, b"\x22" * 32, f"ipfs://r{s}", 0) for s in (0, 1)]
    tx = c.multicall(submits, sender=op)
    assert [e.step for e in tx.events.filter(c.StepDone)] == [0, 1]
    assert world.state(run, 0) == world.state(run, 1) == DONE
    assert c.owed(op) == 2 * REWARD
    # a batch is all or nothing: one call that cannot go through reverts the whole batch
    with ape.reverts(c.CoordinatorStepNotReady):
        c.multicall([c.claim.encode_input(run, 2, agent), c.claim.encode_input(run, 2, agent)],
                    sender=op)
    with ape.reverts():
        c.multicall([b"\xde\xad\xbe\xef"], sender=op)  # no such function
    assert world.state(run, 2) != CLAIMED


def test_the_extension_refuses_direct_calls(world, project):
    c = world.coordinator
    ext = project.WorkflowCoordinatorExtension.at(c.extension())
    run = world.run_of([world.spec()])
    with ape.reverts(ext.CoordinatorNotDelegated):
        ext.cancelRun(run, sender=world.creator)
    with ape.reverts(ext.CoordinatorNotDelegated):
        ext.setRouter(world.outsider.address, sender=world.admin)
    with ape.reverts(ext.CoordinatorNotDelegated):
        ext.registerDefinition((b"\x00" * 32, 0, 0, 0, [world.spec()]), sender=world.outsider)


def test_every_deployable_keeps_four_kilobytes_of_headroom(project):
    for name in ("WorkflowCoordinator", "WorkflowCoordinatorExtension", "AgentRoles",
                 "RemoteStepRouter", "AccordGateway"):
        runtime = getattr(project, name).contract_type.runtime_bytecode.bytecode
        size = (len(runtime) - 2) // 2
        assert size <= LIMIT, f"{name} is {size} bytes of runtime code; the limit is {LIMIT}"
