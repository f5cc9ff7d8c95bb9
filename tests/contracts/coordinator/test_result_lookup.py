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
    # the rejected attempt's tallies are what the events say its verdict was; the current
    # attempt has no vote yet, and the old verdict is never shown for it
    assert verdict_tallies(_w3(world), c.address, run, {0: 0}) == {0: (0, 2)}
    assert verdict_tallies(_w3(world), c.address, run, {0: 1}) == {}


def test_a_uri_that_is_not_utf8_is_read_as_it_was_committed(world):
    """Solidity does not check UTF-8: such a URI must not break readers or its commitment."""
    c = world.coordinator
    run = world.run_of([world.spec()])
    world.claim(run, 0)
    raw = b"ipfs://\xff\xfe-not-utf8"
    # string and bytes encode alike in the ABI: the raw bytes go out as the URI
    tx = world.chain.provider.web3.eth.send_transaction({
        "from": world.operators[0].address, "to": c.address,
        "data": _submit_calldata(run, 0, b"\x22" * 32, raw)})
    world.chain.provider.web3.eth.wait_for_transaction_receipt(tx)
    found = find_result(_w3(world), c.address, run, 0)
    assert found is not None and found.resultURI.encode("utf-8", "surrogateescape") == raw
    assert commitment(*found) == c.resultCommitment(run, 0)


def _submit_calldata(run: int, step: int, result: bytes, uri: bytes) -> str:
    from eth_abi import encode
    from eth_utils import keccak
    selector = keccak(text="submit(uint256,uint8,bytes32,string,uint64)")[:4]
    return "0x" + (selector + encode(["uint256", "uint8", "bytes32", "bytes", "uint64"],
                                     [run, step, result, uri, 0])).hex()


def test_a_commitment_without_its_event_in_range_is_a_clear_error(world):
    run = world.run_of([world.spec()])
    world.claim(run, 0)
    world.submit(run, 0)
    head = int(world.chain.blocks.head.number)
    with pytest.raises(ChainError, match="no StepSubmitted or RemoteResultReceived event"):
        find_result(_w3(world), world.coordinator.address, run, 0, from_block=head + 1)
