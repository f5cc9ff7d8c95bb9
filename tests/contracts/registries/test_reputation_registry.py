"""ReputationRegistry: feedback, revocation, responses and summaries as the reference v2.0.0."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak

ZERO = "0x0000000000000000000000000000000000000000"
HASH = keccak(text="feedback")
MAX_ABS = 10**38


def _give(reputation: Any, sender: Any, agent_id: int = 0, value: int = 80, decimals: int = 0,
          tag1: str = "quality", tag2: str = "latency") -> Any:
    return reputation.giveFeedback(agent_id, value, decimals, tag1, tag2, "https://agent.example/api",
                                   "ipfs://feedback", HASH, sender=sender)


def test_constructor_rejects_zero_identity_registry(project: Any, deployer: Any, reputation: Any) -> None:
    with ape.reverts(reputation.ReputationRegistryZeroIdentityRegistry):
        project.ReputationRegistry.deploy(ZERO, sender=deployer)


def test_identity_registry_and_version(reputation: Any, identity: Any) -> None:
    assert reputation.getIdentityRegistry() == identity.address
    assert reputation.getVersion() == "2.0.0"


def test_give_feedback_stores_and_emits_with_one_based_index(reputation: Any, carol: Any) -> None:
    tx = _give(reputation, carol, value=-125, decimals=2)
    event = tx.events.filter(reputation.NewFeedback)[0]
    assert (event.agentId, event.clientAddress, event.feedbackIndex) == (0, carol.address, 1)
    assert (event.value, event.valueDecimals, event.tag1, event.tag2) == (-125, 2, "quality", "latency")
    assert (event.endpoint, event.feedbackURI, event.feedbackHash) == (
        "https://agent.example/api", "ipfs://feedback", HASH)
    assert reputation.getLastIndex(0, carol.address) == 1
    assert reputation.readFeedback(0, carol.address, 1) == (-125, 2, "quality", "latency", False)


def test_feedback_index_is_per_agent_and_client(reputation: Any, carol: Any, dave: Any) -> None:
    _give(reputation, carol)
    _give(reputation, carol)
    _give(reputation, dave)
    _give(reputation, carol, agent_id=1)
    assert reputation.getLastIndex(0, carol.address) == 2
    assert reputation.getLastIndex(0, dave.address) == 1
    assert reputation.getLastIndex(1, carol.address) == 1
    assert reputation.getClients(0) == [carol.address, dave.address]
    assert reputation.getClients(1) == [carol.address]


def test_give_feedback_accepts_bounds(reputation: Any, carol: Any) -> None:
    _give(reputation, carol, value=MAX_ABS, decimals=18)
    _give(reputation, carol, value=-MAX_ABS, decimals=0)
    assert reputation.readFeedback(0, carol.address, 1)[:2] == (MAX_ABS, 18)
    assert reputation.readFeedback(0, carol.address, 2)[:2] == (-MAX_ABS, 0)


@pytest.mark.covers("ReputationRegistry.giveFeedback", "bad_arguments")
def test_give_feedback_rejects_more_than_18_decimals(reputation: Any, carol: Any) -> None:
    with ape.reverts(reputation.ReputationRegistryTooManyDecimals, valueDecimals=19):
        _give(reputation, carol, decimals=19)


@pytest.mark.covers("ReputationRegistry.giveFeedback", "bad_arguments")
def test_give_feedback_rejects_values_beyond_1e38(reputation: Any, carol: Any) -> None:
    with ape.reverts(reputation.ReputationRegistryValueOutOfRange, value=MAX_ABS + 1):
        _give(reputation, carol, value=MAX_ABS + 1)
    with ape.reverts(reputation.ReputationRegistryValueOutOfRange, value=-MAX_ABS - 1):
        _give(reputation, carol, value=-MAX_ABS - 1)


@pytest.mark.covers("ReputationRegistry.giveFeedback", "wrong_caller")
def test_give_feedback_rejects_self_feedback_by_owner(reputation: Any, alice: Any) -> None:
    with ape.reverts(reputation.ReputationRegistrySelfFeedback, agentId=0, caller=alice.address):
        _give(reputation, alice)


@pytest.mark.covers("ReputationRegistry.giveFeedback", "wrong_caller")
def test_give_feedback_rejects_self_feedback_by_operator_and_approved(
        reputation: Any, identity: Any, alice: Any, carol: Any, dave: Any) -> None:
    identity.setApprovalForAll(carol.address, True, sender=alice)
    with ape.reverts(reputation.ReputationRegistrySelfFeedback, agentId=0, caller=carol.address):
        _give(reputation, carol)
    identity.approve(dave.address, 0, sender=alice)
    with ape.reverts(reputation.ReputationRegistrySelfFeedback, agentId=0, caller=dave.address):
        _give(reputation, dave)


@pytest.mark.covers("ReputationRegistry.giveFeedback", "bad_arguments")
def test_give_feedback_reverts_for_unknown_agent(reputation: Any, identity: Any, carol: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=50):
        _give(reputation, carol, agent_id=50)


def test_revoke_feedback_marks_it_revoked(reputation: Any, carol: Any) -> None:
    _give(reputation, carol)
    tx = reputation.revokeFeedback(0, 1, sender=carol)
    assert tx.events.filter(reputation.FeedbackRevoked) == [
        reputation.FeedbackRevoked(agentId=0, clientAddress=carol.address, feedbackIndex=1)]
    assert reputation.readFeedback(0, carol.address, 1)[4] is True


@pytest.mark.covers("ReputationRegistry.revokeFeedback", "wrong_state", "replay")
def test_revoke_feedback_twice_reverts(reputation: Any, carol: Any) -> None:
    _give(reputation, carol)
    reputation.revokeFeedback(0, 1, sender=carol)
    with ape.reverts(reputation.ReputationRegistryAlreadyRevoked, agentId=0, clientAddress=carol.address,
                     feedbackIndex=1):
        reputation.revokeFeedback(0, 1, sender=carol)


@pytest.mark.covers("ReputationRegistry.revokeFeedback", "wrong_caller", "bad_arguments")
def test_revoke_feedback_rejects_zero_and_out_of_bounds_index(reputation: Any, carol: Any, dave: Any) -> None:
    _give(reputation, carol)
    with ape.reverts(reputation.ReputationRegistryIndexOutOfBounds, agentId=0, clientAddress=carol.address,
                     feedbackIndex=0, lastIndex=1):
        reputation.revokeFeedback(0, 0, sender=carol)
    with ape.reverts(reputation.ReputationRegistryIndexOutOfBounds, agentId=0, clientAddress=carol.address,
                     feedbackIndex=2, lastIndex=1):
        reputation.revokeFeedback(0, 2, sender=carol)
    # only the client's own feedback: dave has none
    with ape.reverts(reputation.ReputationRegistryIndexOutOfBounds, agentId=0, clientAddress=dave.address,
                     feedbackIndex=1, lastIndex=0):
        reputation.revokeFeedback(0, 1, sender=dave)


def test_read_feedback_rejects_bad_index(reputation: Any, carol: Any) -> None:
    with ape.reverts(reputation.ReputationRegistryIndexOutOfBounds, agentId=0, clientAddress=carol.address,
                     feedbackIndex=0, lastIndex=0):
        reputation.readFeedback(0, carol.address, 0)
    with ape.reverts(reputation.ReputationRegistryIndexOutOfBounds, agentId=0, clientAddress=carol.address,
                     feedbackIndex=1, lastIndex=0):
        reputation.readFeedback(0, carol.address, 1)


def test_append_response_by_anyone_counts_per_responder(reputation: Any, alice: Any, carol: Any, dave: Any) -> None:
    _give(reputation, carol)
    rh = keccak(text="response")
    tx = reputation.appendResponse(0, carol.address, 1, "ipfs://response", rh, sender=alice)
    assert tx.events.filter(reputation.ResponseAppended) == [reputation.ResponseAppended(
        agentId=0, clientAddress=carol.address, feedbackIndex=1, responder=alice.address,
        responseURI="ipfs://response", responseHash=rh)]
    reputation.appendResponse(0, carol.address, 1, "ipfs://response2", rh, sender=alice)
    reputation.appendResponse(0, carol.address, 1, "ipfs://response3", rh, sender=dave)
    assert reputation.getResponseCount(0, carol.address, 1, []) == 3
    assert reputation.getResponseCount(0, carol.address, 1, [alice.address]) == 2
    assert reputation.getResponseCount(0, carol.address, 1, [dave.address]) == 1
    assert reputation.getResponseCount(0, carol.address, 0, []) == 3
    assert reputation.getResponseCount(0, ZERO, 0, []) == 3


@pytest.mark.covers("ReputationRegistry.appendResponse", "bad_arguments")
def test_append_response_rejects_empty_uri(reputation: Any, alice: Any, carol: Any) -> None:
    _give(reputation, carol)
    with ape.reverts(reputation.ReputationRegistryEmptyResponseURI):
        reputation.appendResponse(0, carol.address, 1, "", HASH, sender=alice)


@pytest.mark.covers("ReputationRegistry.appendResponse", "bad_arguments")
def test_append_response_rejects_bad_index(reputation: Any, alice: Any, carol: Any) -> None:
    _give(reputation, carol)
    with ape.reverts(reputation.ReputationRegistryIndexOutOfBounds, agentId=0, clientAddress=carol.address,
                     feedbackIndex=0, lastIndex=1):
        reputation.appendResponse(0, carol.address, 0, "ipfs://r", HASH, sender=alice)
    with ape.reverts(reputation.ReputationRegistryIndexOutOfBounds, agentId=0, clientAddress=carol.address,
                     feedbackIndex=2, lastIndex=1):
        reputation.appendResponse(0, carol.address, 2, "ipfs://r", HASH, sender=alice)


def test_get_summary_requires_client_addresses(reputation: Any) -> None:
    with ape.reverts(reputation.ReputationRegistryClientAddressesRequired):
        reputation.getSummary(0, [], "", "")


def test_get_summary_averages_in_the_most_frequent_decimals(reputation: Any, carol: Any, dave: Any) -> None:
    _give(reputation, carol, value=90, decimals=0)          # 90
    _give(reputation, carol, value=7550, decimals=2)        # 75.50
    _give(reputation, dave, value=8000, decimals=2)         # 80.00
    _give(reputation, dave, value=10, decimals=0, tag1="other")
    reputation.revokeFeedback(0, 2, sender=dave)            # the "other" one
    # (90 + 75.5 + 80) / 3 = 81.8333.. in mode decimals 2 -> 8183
    assert reputation.getSummary(0, [carol.address, dave.address], "", "") == (3, 8183, 2)
    # a tie between decimals 0 and 2 keeps the lower; (90 + 75.5) / 2 = 82.75 -> 82
    assert reputation.getSummary(0, [carol.address], "quality", "") == (2, 82, 0)
    assert reputation.getSummary(0, [dave.address], "other", "") == (0, 0, 0)
    assert reputation.getSummary(0, [carol.address], "", "nope") == (0, 0, 0)


def test_get_summary_negative_values(reputation: Any, carol: Any) -> None:
    _give(reputation, carol, value=-3, decimals=0)
    _give(reputation, carol, value=-4, decimals=0)
    assert reputation.getSummary(0, [carol.address], "", "") == (2, -3, 0)  # -3.5 truncates to -3


def test_read_all_feedback_filters_and_includes_revoked_on_request(reputation: Any, carol: Any, dave: Any) -> None:
    _give(reputation, carol, value=1)
    _give(reputation, dave, value=2, tag2="cost")
    _give(reputation, carol, value=3)
    reputation.revokeFeedback(0, 1, sender=carol)
    clients, idx, values, decs, t1, t2, revoked = reputation.readAllFeedback(0, [], "", "", False)
    assert list(clients) == [carol.address, dave.address]
    assert list(idx) == [2, 1] and list(values) == [3, 2] and list(revoked) == [False, False]
    everything = reputation.readAllFeedback(0, [], "", "", True)
    assert list(everything[2]) == [1, 3, 2] and list(everything[6]) == [True, False, False]
    only_cost = reputation.readAllFeedback(0, [dave.address, carol.address], "", "cost", True)
    assert list(only_cost[0]) == [dave.address] and list(only_cost[5]) == ["cost"]
    assert list(only_cost[3]) == [0] and list(only_cost[4]) == ["quality"]


# ------------------------------------------------------------------ negatives for the matrix


@pytest.mark.covers("ReputationRegistry.giveFeedback", "wrong_state")
def test_self_feedback_rule_follows_the_current_owner(reputation: Any, identity: Any, alice: Any,
                                                      carol: Any) -> None:
    identity.transferFrom(alice.address, carol.address, 0, sender=alice)
    with ape.reverts(reputation.ReputationRegistrySelfFeedback, agentId=0, caller=carol.address):
        _give(reputation, carol)
    _give(reputation, alice)  # the previous owner is an ordinary client now
    assert reputation.getLastIndex(0, alice.address) == 1


@pytest.mark.covers("ReputationRegistry.appendResponse", "wrong_state")
def test_append_response_before_any_feedback_reverts(reputation: Any, alice: Any, carol: Any) -> None:
    with ape.reverts(reputation.ReputationRegistryIndexOutOfBounds, agentId=0, clientAddress=carol.address,
                     feedbackIndex=1, lastIndex=0):
        reputation.appendResponse(0, carol.address, 1, "ipfs://r", b"\x00" * 32, sender=alice)
