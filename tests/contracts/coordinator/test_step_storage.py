"""What one attempt leaves in a step's storage never reaches the next attempt.

A step's first claim writes one storage word and its submit one more: the claim no longer
resets the tallies, branches, heartbeat end and delegated owner of the previous attempt, so
those are cleared when an attempt ends (or never matter). Each test makes an attempt leave one
of them behind and shows the next attempt does not see it.
"""

from __future__ import annotations

import ape
import pytest
from coord_helpers import BACKOFF, DONE, READY, SKIPPED, SUBMITTED, mask


def _retry_after_rejection(world, run, step=0):
    """Attempt 0 rejected by both judges (quorum 2), its backoff waited out."""
    world.respond(run, step, 0, 10)
    tx = world.respond(run, step, 1, 10)
    assert world.state(run, step) == BACKOFF
    world.warp_to(int(tx.events.filter(world.coordinator.StepRejected)[0].retryAt))


def test_an_attempts_branches_do_not_choose_for_the_next_attempt(world):
    c = world.coordinator
    run = world.run_of([world.spec(decision=True, quorum=2), world.spec(deps=mask(0)),
                        world.spec(deps=mask(0))])
    world.claim(run, 0)
    world.submit(run, 0, branches=mask(1))  # attempt 0 picks branch 1 ...
    _retry_after_rejection(world, run)
    world.claim(run, 0)
    world.submit(run, 0, branches=mask(2))  # ... attempt 1 picks branch 2
    world.respond(run, 0, 0, 100)
    tx = world.respond(run, 0, 1, 100)
    assert [e.step for e in tx.events.filter(c.StepSkipped)] == [1]
    assert (world.state(run, 1), world.state(run, 2)) == (SKIPPED, READY)


def test_an_attempts_recorded_votes_do_not_count_for_the_next_attempt(world):
    c = world.coordinator
    run = world.run_of([world.spec(quorum=2)])
    world.claim(run, 0)
    world.submit(run, 0)
    world.respond(run, 0, 0, 10)  # recorded: 0 approvals, 1 rejection on attempt 0
    assert c.tallies(run, 0) == (0, 1)
    tx = world.respond(run, 0, 1, 10)
    world.warp_to(int(tx.events.filter(c.StepRejected)[0].retryAt))
    world.claim(run, 0)
    world.submit(run, 0)
    assert c.tallies(run, 0) == (0, 0)
    world.respond(run, 0, 0, 10)  # one rejection on attempt 1 does not reach the quorum of 2
    assert world.state(run, 0) == SUBMITTED and c.tallies(run, 0) == (0, 1)
    world.respond(run, 0, 1, 90)
    assert world.state(run, 0) == SUBMITTED and c.tallies(run, 0) == (1, 1)


def test_a_heartbeat_of_an_earlier_attempt_does_not_extend_the_next_lease(world):
    c = world.coordinator
    run = world.run_of([world.spec(quorum=2, backoff=(1, 1, 1))])
    start = world.now() + 1
    world.warp_to(start)
    world.claim(run, 0)
    world.warp_to(start + 90)
    beat = c.heartbeatLease(run, 0, sender=world.operators[0])
    # the heartbeat's block is at or after start + 90 (a busy machine's clock moves on)
    at = int(world.chain.blocks[beat.block_number].timestamp)
    assert at >= start + 90
    assert beat.events.filter(c.LeaseExtended)[0].leaseEnd == at + 100
    world.submit(run, 0)
    _retry_after_rejection(world, run)
    tx = world.claim(run, 0, who=1)
    end = int(tx.events.filter(c.StepClaimed)[0].leaseEnd)  # the claim's time + 100
    assert c.lease(run, 0).leaseEnd == end  # a stale heartbeat end is always below it ...
    world.warp_to(end)
    assert world.state(run, 0) == READY  # ... and the lease lapses at its own end


def test_the_lease_view_shows_no_deadline_outside_a_lease_or_a_validation(world):
    c = world.coordinator
    run = world.run_of([world.spec(quorum=2)])
    assert c.lease(run, 0).leaseEnd == 0
    world.claim(run, 0)
    world.submit(run, 0)
    deadline = c.lease(run, 0).leaseEnd
    assert deadline >= world.now()
    world.respond(run, 0, 0, 100)
    world.respond(run, 0, 1, 100)
    assert world.state(run, 0) == DONE and c.lease(run, 0).leaseEnd == 0


@pytest.mark.covers("WorkflowCoordinator.respond", "bad_arguments")
def test_respond_reverts_for_agent_id_above_uint40(world):
    run = world.run_of([world.spec(quorum=2)])
    world.claim(run, 0)
    world.submit(run, 0)
    with ape.reverts(world.coordinator.CoordinatorAgentIdTooLarge, agentId=2**40):
        world.coordinator.respond(run, 0, 2**40, 100, sender=world.validators[0])
