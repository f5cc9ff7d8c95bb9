"""ValidationRegistry: requests by owner/operator, repeatable responses by the named validator."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak

ZERO = "0x0000000000000000000000000000000000000000"
REQ = keccak(text="request-1")
RESP = keccak(text="response-1")


def test_constructor_rejects_zero_identity_registry(project: Any, deployer: Any, validation: Any) -> None:
    with ape.reverts(validation.ValidationRegistryZeroIdentityRegistry):
        project.ValidationRegistry.deploy(ZERO, sender=deployer)


def test_identity_registry_and_version(validation: Any, identity: Any) -> None:
    assert validation.getIdentityRegistry() == identity.address
    assert validation.getVersion() == "2.0.0"


def test_request_by_owner_records_status_and_lists(validation: Any, chain: Any, alice: Any, carol: Any) -> None:
    tx = validation.validationRequest(carol.address, 0, "ipfs://req", REQ, sender=alice)
    assert tx.events.filter(validation.ValidationRequest) == [validation.ValidationRequest(
        validatorAddress=carol.address, agentId=0, requestURI="ipfs://req", requestHash=REQ)]
    status = validation.getValidationStatus(REQ)
    assert status == (carol.address, 0, 0, b"\x00" * 32, "", tx.timestamp)
    assert list(validation.getAgentValidations(0)) == [REQ]
    assert list(validation.getValidatorRequests(carol.address)) == [REQ]


def test_request_by_operator_is_allowed(validation: Any, identity: Any, alice: Any, carol: Any, dave: Any) -> None:
    identity.setApprovalForAll(dave.address, True, sender=alice)
    validation.validationRequest(carol.address, 0, "ipfs://req", REQ, sender=dave)
    assert validation.getValidationStatus(REQ)[1] == 0


@pytest.mark.covers("ValidationRegistry.validationRequest", "bad_arguments")
def test_request_rejects_zero_validator(validation: Any, alice: Any) -> None:
    with ape.reverts(validation.ValidationRegistryZeroValidator):
        validation.validationRequest(ZERO, 0, "ipfs://req", REQ, sender=alice)


@pytest.mark.covers("ValidationRegistry.validationRequest", "replay")
def test_request_rejects_duplicate_hash(validation: Any, alice: Any, bob: Any, carol: Any) -> None:
    validation.validationRequest(carol.address, 0, "ipfs://req", REQ, sender=alice)
    with ape.reverts(validation.ValidationRegistryRequestExists, requestHash=REQ):
        validation.validationRequest(carol.address, 1, "ipfs://req", REQ, sender=bob)


@pytest.mark.covers("ValidationRegistry.validationRequest", "wrong_caller")
def test_request_rejects_stranger(validation: Any, carol: Any) -> None:
    with ape.reverts(validation.ValidationRegistryNotAuthorized, agentId=0, caller=carol.address):
        validation.validationRequest(carol.address, 0, "ipfs://req", REQ, sender=carol)


@pytest.mark.covers("ValidationRegistry.validationRequest", "bad_arguments")
def test_request_reverts_for_unknown_agent(validation: Any, identity: Any, alice: Any, carol: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=12):
        validation.validationRequest(carol.address, 12, "ipfs://req", REQ, sender=alice)


def test_response_by_validator_updates_status_and_can_be_repeated(
        validation: Any, alice: Any, carol: Any) -> None:
    validation.validationRequest(carol.address, 0, "ipfs://req", REQ, sender=alice)
    tx = validation.validationResponse(REQ, 100, "ipfs://resp", RESP, "soft", sender=carol)
    assert tx.events.filter(validation.ValidationResponse) == [validation.ValidationResponse(
        validatorAddress=carol.address, agentId=0, requestHash=REQ, response=100,
        responseURI="ipfs://resp", responseHash=RESP, tag="soft")]
    assert validation.getValidationStatus(REQ) == (carol.address, 0, 100, RESP, "soft", tx.timestamp)
    resp2 = keccak(text="response-2")
    tx2 = validation.validationResponse(REQ, 0, "ipfs://resp2", resp2, "hard", sender=carol)
    assert validation.getValidationStatus(REQ) == (carol.address, 0, 0, resp2, "hard", tx2.timestamp)


@pytest.mark.covers("ValidationRegistry.validationResponse", "wrong_state")
def test_response_rejects_unknown_request(validation: Any, carol: Any) -> None:
    with ape.reverts(validation.ValidationRegistryUnknownRequest, requestHash=REQ):
        validation.validationResponse(REQ, 50, "", RESP, "", sender=carol)


@pytest.mark.covers("ValidationRegistry.validationResponse", "wrong_caller")
def test_response_rejects_anyone_but_the_validator(validation: Any, alice: Any, carol: Any, dave: Any) -> None:
    validation.validationRequest(carol.address, 0, "ipfs://req", REQ, sender=alice)
    with ape.reverts(validation.ValidationRegistryNotValidator, requestHash=REQ, caller=dave.address,
                     validatorAddress=carol.address):
        validation.validationResponse(REQ, 50, "", RESP, "", sender=dave)
    with ape.reverts(validation.ValidationRegistryNotValidator, requestHash=REQ, caller=alice.address,
                     validatorAddress=carol.address):
        validation.validationResponse(REQ, 50, "", RESP, "", sender=alice)


@pytest.mark.covers("ValidationRegistry.validationResponse", "bad_arguments")
def test_response_rejects_values_above_100(validation: Any, alice: Any, carol: Any) -> None:
    validation.validationRequest(carol.address, 0, "ipfs://req", REQ, sender=alice)
    with ape.reverts(validation.ValidationRegistryResponseOutOfRange, response=101):
        validation.validationResponse(REQ, 101, "", RESP, "", sender=carol)


def test_get_validation_status_rejects_unknown_request(validation: Any) -> None:
    with ape.reverts(validation.ValidationRegistryUnknownRequest, requestHash=REQ):
        validation.getValidationStatus(REQ)


def test_get_summary_counts_answered_requests_with_filters(
        validation: Any, alice: Any, carol: Any, dave: Any) -> None:
    hashes = [keccak(text=f"r{i}") for i in range(4)]
    for h, v in zip(hashes, [carol, carol, dave, dave]):
        validation.validationRequest(v.address, 0, "ipfs://req", h, sender=alice)
    validation.validationResponse(hashes[0], 100, "", RESP, "a", sender=carol)
    validation.validationResponse(hashes[1], 51, "", RESP, "b", sender=carol)
    validation.validationResponse(hashes[2], 20, "", RESP, "a", sender=dave)
    # hashes[3] unanswered: not counted
    assert validation.getSummary(0, [], "") == (3, 57)
    assert validation.getSummary(0, [carol.address], "") == (2, 75)
    assert validation.getSummary(0, [], "a") == (2, 60)
    assert validation.getSummary(0, [dave.address, carol.address], "b") == (1, 51)
    assert validation.getSummary(1, [], "") == (0, 0)
    assert len(validation.getAgentValidations(0)) == 4
    assert list(validation.getValidatorRequests(dave.address)) == hashes[2:]


# ------------------------------------------------------------------ negatives for the matrix


@pytest.mark.covers("ValidationRegistry.validationRequest", "wrong_state")
def test_previous_owner_cannot_request_after_transfer(validation: Any, identity: Any, alice: Any,
                                                      carol: Any) -> None:
    identity.transferFrom(alice.address, carol.address, 0, sender=alice)
    with ape.reverts(validation.ValidationRegistryNotAuthorized, agentId=0, caller=alice.address):
        validation.validationRequest(carol.address, 0, "ipfs://req", REQ, sender=alice)
