"""accord.chain.results: the coordinator keeps one commitment per result; readers find the
result itself in the step's events, scanning back from the newest block."""

from __future__ import annotations

import pytest
from coord_helpers import BACKOFF, mask

from accord.chain.results import commitment, find_result, find_results, verdict_tallies
from accord.errors import ChainError


def _w3(world):
    return world.chain.provider.web3


def test_the_python_commitment_is_the_coordinators(world):
    run = world.run_of([world.spec()])
    world.claim(run, 0)
    world.submit(run, 0, result=b"\x5a" * 32, uri="https://results.example/blobs/" + "ab" * 32)
    assert world.coordinator.resultCommitment(run, 0) == commitment(
        b"\x5a" * 32, "https://results.example/blobs/" + "ab" * 32)


@pytest.mark.parametrize("chunk", [1, 2, 10_000])
def test_a_result_is_found_behind_later_blocks_in_any_query_size(world, chunk):
    run = world.run_of([world.spec(), world.spec(deps=mask(0))])
    world.claim(run, 0)
    world.submit(run, 0, result=b"\x01" * 32, uri="ipfs://first")
    world.chain.mine(5)
    world.finish(run, 1)
    got = find_results(_w3(world), world.coordinator.address, run, [0, 1], chunk=chunk)
    assert got[0] == (b"\x01" * 32, "ipfs://first")
    assert got[1] == (b"\x22" * 32, "ipfs://result")


def test_the_current_result_is_the_latest_attempts_not_an_earlier_one(world):
    c = world.coordinator
    run = world.run_of([world.spec(quorum=2)])
    world.claim(run, 0)
    world.submit(run, 0, result=b"\x01" * 32, uri="ipfs://attempt-0")
    world.respond(run, 0, 0, 0)
    tx = world.respond(run, 0, 1, 0)
    assert world.state(run, 0) == BACKOFF
    world.warp_to(int(tx.events.filter(c.StepRejected)[0].retryAt))
    world.claim(run, 0)
    world.submit(run, 0, result=b"\x02" * 32, uri="ipfs://attempt-1")
    assert find_result(_w3(world), c.address, run, 0, chunk=1) == (b"\x02" * 32,
                                                                   "ipfs://attempt-1")
    # the rejected attempt's tallies are what the events say its verdict was
    assert verdict_tallies(_w3(world), c.address, run, [0]) == {0: (0, 2)}


def test_a_commitment_without_its_event_in_range_is_a_clear_error(world):
    run = world.run_of([world.spec()])
    world.claim(run, 0)
    world.submit(run, 0)
    head = int(world.chain.blocks.head.number)
    with pytest.raises(ChainError, match="no StepSubmitted or RemoteResultReceived event"):
        find_result(_w3(world), world.coordinator.address, run, 0, from_block=head + 1)
