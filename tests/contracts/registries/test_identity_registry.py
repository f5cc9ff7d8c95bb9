"""IdentityRegistry: ERC-8004 identity behaviour of the reference v2.0.0, typed errors."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from registry_constants import AGENT_URI
from eth_account import Account

ZERO = "0x0000000000000000000000000000000000000000"


def _now(chain: Any) -> int:
    return int(chain.pending_timestamp)


# ------------------------------------------------------------------ ERC-721 surface


def test_token_name_symbol_and_version_match_the_reference(identity: Any) -> None:
    assert identity.name() == "AgentIdentity"
    assert identity.symbol() == "AGENT"
    assert identity.getVersion() == "2.0.0"


def test_agent_ids_start_at_zero_and_increase(identity: Any, alice: Any, bob: Any, carol: Any) -> None:
    assert identity.ownerOf(0) == alice.address
    assert identity.ownerOf(1) == bob.address
    tx = identity.register(sender=carol)
    assert tx.return_value == 2
    assert identity.ownerOf(2) == carol.address


# ------------------------------------------------------------------ registration


def test_register_without_uri_emits_registered_and_sets_wallet_to_caller(identity: Any, carol: Any) -> None:
    tx = identity.register(sender=carol)
    assert tx.events.filter(identity.Registered) == [
        identity.Registered(agentId=2, agentURI="", owner=carol.address)]
    wallet_events = tx.events.filter(identity.MetadataSet)
    assert len(wallet_events) == 1
    assert wallet_events[0].metadataKey == "agentWallet"
    assert wallet_events[0].metadataValue == bytes.fromhex(carol.address[2:])
    assert identity.tokenURI(2) == ""
    assert identity.getAgentWallet(2) == carol.address
    assert identity.getMetadata(2, "agentWallet") == bytes.fromhex(carol.address[2:])


def test_register_with_uri_stores_uri(identity: Any, carol: Any) -> None:
    tx = identity.register("https://agent.example/card.json", sender=carol)
    assert tx.events.filter(identity.Registered)[0].agentURI == "https://agent.example/card.json"
    assert identity.tokenURI(2) == "https://agent.example/card.json"
    assert identity.tokenURI(0) == AGENT_URI


def test_register_with_metadata_stores_each_entry_and_emits_metadata_set(identity: Any, carol: Any) -> None:
    tx = identity.register(AGENT_URI, [("name", b"translator"), ("version", b"\x01\x02")], sender=carol)
    keys = [e.metadataKey for e in tx.events.filter(identity.MetadataSet)]
    assert keys == ["agentWallet", "name", "version"]
    assert identity.getMetadata(2, "name") == b"translator"
    assert identity.getMetadata(2, "version") == b"\x01\x02"
    assert identity.getMetadata(2, "missing") == b""


@pytest.mark.covers("IdentityRegistry.register(string,(string,bytes)[])", "bad_arguments")
def test_register_with_metadata_rejects_the_reserved_wallet_key(identity: Any, carol: Any) -> None:
    with ape.reverts(identity.IdentityRegistryReservedKey, metadataKey="agentWallet"):
        identity.register(AGENT_URI, [("name", b"x"), ("agentWallet", b"\x11" * 20)], sender=carol)


def test_register_from_contract_runs_the_receiver_hook(project: Any, identity: Any, deployer: Any) -> None:
    receiver = project.ReentrantReceiverMock.deploy(sender=deployer)
    receiver.registerAgent(identity.address, sender=deployer)
    assert identity.ownerOf(2) == receiver.address
    assert identity.getAgentWallet(2) == receiver.address


# ------------------------------------------------------------------ URI and metadata


def test_set_agent_uri_by_owner_emits_uri_updated(identity: Any, alice: Any) -> None:
    tx = identity.setAgentURI(0, "ipfs://new", sender=alice)
    assert tx.events.filter(identity.URIUpdated) == [
        identity.URIUpdated(agentId=0, newURI="ipfs://new", updatedBy=alice.address)]
    assert identity.tokenURI(0) == "ipfs://new"


def test_set_agent_uri_by_approved_and_operator(identity: Any, alice: Any, carol: Any, dave: Any) -> None:
    identity.approve(carol.address, 0, sender=alice)
    identity.setAgentURI(0, "ipfs://by-approved", sender=carol)
    identity.setApprovalForAll(dave.address, True, sender=alice)
    identity.setAgentURI(0, "ipfs://by-operator", sender=dave)
    assert identity.tokenURI(0) == "ipfs://by-operator"


@pytest.mark.covers("IdentityRegistry.setAgentURI", "wrong_caller")
def test_set_agent_uri_reverts_for_stranger(identity: Any, carol: Any) -> None:
    with ape.reverts(identity.IdentityRegistryNotAuthorized, agentId=0, caller=carol.address):
        identity.setAgentURI(0, "ipfs://x", sender=carol)


@pytest.mark.covers("IdentityRegistry.setAgentURI", "bad_arguments")
def test_set_agent_uri_reverts_for_unknown_agent(identity: Any, alice: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=99):
        identity.setAgentURI(99, "ipfs://x", sender=alice)


def test_set_metadata_by_owner_stores_and_emits(identity: Any, alice: Any) -> None:
    tx = identity.setMetadata(0, "skills", b"translate", sender=alice)
    event = tx.events.filter(identity.MetadataSet)[0]
    assert (event.agentId, event.metadataKey, event.metadataValue) == (0, "skills", b"translate")
    assert identity.getMetadata(0, "skills") == b"translate"
    identity.setMetadata(0, "skills", b"", sender=alice)
    assert identity.getMetadata(0, "skills") == b""


@pytest.mark.covers("IdentityRegistry.setMetadata", "bad_arguments")
def test_set_metadata_rejects_reserved_wallet_key(identity: Any, alice: Any) -> None:
    with ape.reverts(identity.IdentityRegistryReservedKey, metadataKey="agentWallet"):
        identity.setMetadata(0, "agentWallet", b"\x22" * 20, sender=alice)


@pytest.mark.covers("IdentityRegistry.setMetadata", "wrong_caller")
def test_set_metadata_reverts_for_stranger(identity: Any, carol: Any) -> None:
    with ape.reverts(identity.IdentityRegistryNotAuthorized, agentId=0, caller=carol.address):
        identity.setMetadata(0, "skills", b"x", sender=carol)


@pytest.mark.covers("IdentityRegistry.setMetadata", "bad_arguments")
def test_set_metadata_reverts_for_unknown_agent(identity: Any, alice: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=42):
        identity.setMetadata(42, "skills", b"x", sender=alice)


# ------------------------------------------------------------------ authorization view


def test_is_authorized_or_owner_covers_owner_approved_and_operator(
        identity: Any, alice: Any, bob: Any, carol: Any, dave: Any) -> None:
    assert identity.isAuthorizedOrOwner(alice.address, 0)
    assert not identity.isAuthorizedOrOwner(bob.address, 0)
    identity.approve(carol.address, 0, sender=alice)
    assert identity.isAuthorizedOrOwner(carol.address, 0)
    identity.setApprovalForAll(dave.address, True, sender=alice)
    assert identity.isAuthorizedOrOwner(dave.address, 0)
    assert not identity.isAuthorizedOrOwner(ZERO, 0)


def test_is_authorized_or_owner_reverts_for_unknown_agent(identity: Any, alice: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=7):
        identity.isAuthorizedOrOwner(alice.address, 7)


# ------------------------------------------------------------------ agent wallet (EIP-712)


def test_set_agent_wallet_with_eoa_signature(identity: Any, chain: Any, alice: Any, sign_wallet: Any) -> None:
    wallet = Account.create()
    deadline = _now(chain) + 120
    sig = sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline)
    tx = identity.setAgentWallet(0, wallet.address, deadline, sig, sender=alice)
    event = tx.events.filter(identity.MetadataSet)[0]
    assert (event.metadataKey, event.metadataValue) == ("agentWallet", bytes.fromhex(wallet.address[2:]))
    assert identity.getAgentWallet(0) == wallet.address
    assert identity.getMetadata(0, "agentWallet") == bytes.fromhex(wallet.address[2:])


def test_set_agent_wallet_with_test_account_key(
        identity: Any, chain: Any, alice: Any, dave: Any, sign_wallet: Any) -> None:
    deadline = _now(chain) + 60
    sig = sign_wallet(dave.private_key, 0, dave.address, alice.address, deadline)
    identity.setAgentWallet(0, dave.address, deadline, sig, sender=alice)
    assert identity.getAgentWallet(0) == dave.address


def test_set_agent_wallet_by_operator_signs_over_the_owner(
        identity: Any, chain: Any, alice: Any, carol: Any, sign_wallet: Any) -> None:
    identity.setApprovalForAll(carol.address, True, sender=alice)
    wallet = Account.create()
    deadline = _now(chain) + 60
    sig = sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline)
    identity.setAgentWallet(0, wallet.address, deadline, sig, sender=carol)
    assert identity.getAgentWallet(0) == wallet.address


def test_set_agent_wallet_with_erc1271_contract_signer(
        project: Any, identity: Any, chain: Any, alice: Any, deployer: Any, sign_wallet: Any) -> None:
    signer = Account.create()
    contract_wallet = project.ERC1271WalletMock.deploy(signer.address, sender=deployer)
    deadline = _now(chain) + 60
    sig = sign_wallet(signer.key, 0, contract_wallet.address, alice.address, deadline)
    identity.setAgentWallet(0, contract_wallet.address, deadline, sig, sender=alice)
    assert identity.getAgentWallet(0) == contract_wallet.address


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "bad_arguments")
def test_set_agent_wallet_rejects_erc1271_signature_of_wrong_key(
        project: Any, identity: Any, chain: Any, alice: Any, deployer: Any, sign_wallet: Any) -> None:
    contract_wallet = project.ERC1271WalletMock.deploy(Account.create().address, sender=deployer)
    deadline = _now(chain) + 60
    sig = sign_wallet(Account.create().key, 0, contract_wallet.address, alice.address, deadline)
    with ape.reverts(identity.IdentityRegistryInvalidWalletSignature, newWallet=contract_wallet.address):
        identity.setAgentWallet(0, contract_wallet.address, deadline, sig, sender=alice)


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "bad_arguments")
def test_set_agent_wallet_rejects_signature_by_another_key(
        identity: Any, chain: Any, alice: Any, sign_wallet: Any) -> None:
    wallet, impostor = Account.create(), Account.create()
    deadline = _now(chain) + 60
    sig = sign_wallet(impostor.key, 0, wallet.address, alice.address, deadline)
    with ape.reverts(identity.IdentityRegistryInvalidWalletSignature, newWallet=wallet.address):
        identity.setAgentWallet(0, wallet.address, deadline, sig, sender=alice)


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "bad_arguments")
def test_set_agent_wallet_rejects_signature_over_other_fields(
        identity: Any, chain: Any, alice: Any, bob: Any, sign_wallet: Any) -> None:
    wallet = Account.create()
    deadline = _now(chain) + 60
    wrong_owner = sign_wallet(wallet.key, 0, wallet.address, bob.address, deadline)
    with ape.reverts(identity.IdentityRegistryInvalidWalletSignature, newWallet=wallet.address):
        identity.setAgentWallet(0, wallet.address, deadline, wrong_owner, sender=alice)
    wrong_deadline = sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline - 1)
    with ape.reverts(identity.IdentityRegistryInvalidWalletSignature, newWallet=wallet.address):
        identity.setAgentWallet(0, wallet.address, deadline, wrong_deadline, sender=alice)


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "replay")
def test_set_agent_wallet_rejects_expired_deadline(identity: Any, chain: Any, alice: Any, sign_wallet: Any) -> None:
    wallet = Account.create()
    now = _now(chain)
    deadline = now - 1
    sig = sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline)
    chain.pending_timestamp = now
    with ape.reverts(identity.IdentityRegistrySignatureExpired, deadline=deadline, nowTs=now):
        identity.setAgentWallet(0, wallet.address, deadline, sig, sender=alice)


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "bad_arguments")
def test_set_agent_wallet_rejects_deadline_more_than_five_minutes_ahead(
        identity: Any, chain: Any, alice: Any, sign_wallet: Any) -> None:
    wallet = Account.create()
    now = _now(chain)
    deadline = now + 301
    sig = sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline)
    chain.pending_timestamp = now
    with ape.reverts(identity.IdentityRegistryDeadlineTooFar, deadline=deadline, maxDeadline=now + 300):
        identity.setAgentWallet(0, wallet.address, deadline, sig, sender=alice)


def test_set_agent_wallet_accepts_deadline_exactly_five_minutes_ahead(
        identity: Any, chain: Any, alice: Any, sign_wallet: Any) -> None:
    wallet = Account.create()
    now = _now(chain) + 5
    deadline = now + 300
    sig = sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline)
    chain.pending_timestamp = now
    identity.setAgentWallet(0, wallet.address, deadline, sig, sender=alice)
    assert identity.getAgentWallet(0) == wallet.address


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "bad_arguments")
def test_set_agent_wallet_rejects_zero_wallet(identity: Any, chain: Any, alice: Any) -> None:
    with ape.reverts(identity.IdentityRegistryInvalidWallet, newWallet=ZERO):
        identity.setAgentWallet(0, ZERO, _now(chain) + 60, b"", sender=alice)


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "wrong_caller")
def test_set_agent_wallet_reverts_for_stranger(identity: Any, chain: Any, carol: Any, sign_wallet: Any) -> None:
    with ape.reverts(identity.IdentityRegistryNotAuthorized, agentId=0, caller=carol.address):
        identity.setAgentWallet(0, carol.address, _now(chain) + 60, b"", sender=carol)


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "bad_arguments")
def test_set_agent_wallet_reverts_for_unknown_agent(identity: Any, chain: Any, alice: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=9):
        identity.setAgentWallet(9, alice.address, _now(chain) + 60, b"", sender=alice)


def test_unset_agent_wallet_clears_it(identity: Any, alice: Any) -> None:
    tx = identity.unsetAgentWallet(0, sender=alice)
    event = tx.events.filter(identity.MetadataSet)[0]
    assert (event.metadataKey, event.metadataValue) == ("agentWallet", b"")
    assert identity.getAgentWallet(0) == ZERO
    assert identity.getMetadata(0, "agentWallet") == b""


@pytest.mark.covers("IdentityRegistry.unsetAgentWallet", "wrong_caller")
def test_unset_agent_wallet_reverts_for_stranger(identity: Any, carol: Any) -> None:
    with ape.reverts(identity.IdentityRegistryNotAuthorized, agentId=0, caller=carol.address):
        identity.unsetAgentWallet(0, sender=carol)


@pytest.mark.covers("IdentityRegistry.unsetAgentWallet", "bad_arguments")
def test_unset_agent_wallet_reverts_for_unknown_agent(identity: Any, alice: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=5):
        identity.unsetAgentWallet(5, sender=alice)


def test_get_agent_wallet_of_unknown_agent_is_zero(identity: Any) -> None:
    assert identity.getAgentWallet(77) == ZERO
    assert identity.getMetadata(77, "agentWallet") == b""


@pytest.mark.parametrize("self_transfer", [False, True])
def test_transfer_clears_agent_wallet(
        identity: Any, chain: Any, alice: Any, carol: Any, sign_wallet: Any, self_transfer: bool) -> None:
    wallet = Account.create()
    deadline = _now(chain) + 60
    identity.setAgentWallet(0, wallet.address, deadline,
                            sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline), sender=alice)
    to = alice if self_transfer else carol
    tx = identity.transferFrom(alice.address, to.address, 0, sender=alice)
    cleared = tx.events.filter(identity.MetadataSet)
    assert [(e.metadataKey, e.metadataValue) for e in cleared] == [("agentWallet", b"")]
    assert identity.getAgentWallet(0) == ZERO
    assert identity.getMetadata(0, "agentWallet") == b""
    assert identity.ownerOf(0) == to.address


def test_transfer_clears_the_default_registrant_wallet(identity: Any, bob: Any, carol: Any) -> None:
    assert identity.getAgentWallet(1) == bob.address
    identity.transferFrom(bob.address, carol.address, 1, sender=bob)
    assert identity.getAgentWallet(1) == ZERO
    # the new owner may set it again
    identity.unsetAgentWallet(1, sender=carol)
    assert identity.getAgentWallet(1) == ZERO


@pytest.mark.covers("IdentityRegistry.setAgentWallet", "replay")
def test_new_owner_can_set_wallet_after_transfer(
        identity: Any, chain: Any, alice: Any, carol: Any, sign_wallet: Any) -> None:
    identity.transferFrom(alice.address, carol.address, 0, sender=alice)
    wallet = Account.create()
    deadline = _now(chain) + 60
    old_owner_sig = sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline)
    with ape.reverts(identity.IdentityRegistryInvalidWalletSignature, newWallet=wallet.address):
        identity.setAgentWallet(0, wallet.address, deadline, old_owner_sig, sender=carol)
    sig = sign_wallet(wallet.key, 0, wallet.address, carol.address, deadline)
    identity.setAgentWallet(0, wallet.address, deadline, sig, sender=carol)
    assert identity.getAgentWallet(0) == wallet.address


# ------------------------------------------------------------------ inherited ERC-721 writes: negatives


@pytest.mark.covers("IdentityRegistry.approve", "wrong_caller")
@pytest.mark.covers("IdentityRegistry.setApprovalForAll", "bad_arguments")
def test_approve_by_stranger_and_operator_zero_revert(identity: Any, alice: Any, carol: Any) -> None:
    with ape.reverts(identity.ERC721InvalidApprover, approver=carol.address):
        identity.approve(carol.address, 0, sender=carol)
    with ape.reverts(identity.ERC721InvalidOperator, operator=ZERO):
        identity.setApprovalForAll(ZERO, True, sender=alice)


@pytest.mark.covers("IdentityRegistry.approve", "bad_arguments")
def test_approve_reverts_for_unknown_agent(identity: Any, alice: Any, carol: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=77):
        identity.approve(carol.address, 77, sender=alice)


@pytest.mark.covers("IdentityRegistry.approve", "wrong_state")
def test_previous_owner_cannot_approve_after_transfer(identity: Any, alice: Any, carol: Any, dave: Any) -> None:
    identity.transferFrom(alice.address, carol.address, 0, sender=alice)
    with ape.reverts(identity.ERC721InvalidApprover, approver=alice.address):
        identity.approve(dave.address, 0, sender=alice)


def _transfer(identity: Any, how: str, frm: str, to: str, agent: int, sender: Any) -> Any:
    if how == "transferFrom":
        return identity.transferFrom(frm, to, agent, sender=sender)
    if how == "safeTransferFrom":
        return identity.safeTransferFrom(frm, to, agent, sender=sender)
    return identity.safeTransferFrom(frm, to, agent, b"data", sender=sender)


TRANSFERS = pytest.mark.parametrize("how", ["transferFrom", "safeTransferFrom", "safeTransferFrom_data"])
ALL_TRANSFERS = ("IdentityRegistry.transferFrom", "IdentityRegistry.safeTransferFrom(address,address,uint256)",
                 "IdentityRegistry.safeTransferFrom(address,address,uint256,bytes)")


@TRANSFERS
@pytest.mark.covers(ALL_TRANSFERS[0], "wrong_caller")
@pytest.mark.covers(ALL_TRANSFERS[1], "wrong_caller")
@pytest.mark.covers(ALL_TRANSFERS[2], "wrong_caller")
def test_transfer_by_stranger_reverts(identity: Any, alice: Any, carol: Any, how: str) -> None:
    with ape.reverts(identity.ERC721InsufficientApproval, operator=carol.address, tokenId=0):
        _transfer(identity, how, alice.address, carol.address, 0, carol)


@TRANSFERS
@pytest.mark.covers(ALL_TRANSFERS[0], "wrong_state")
@pytest.mark.covers(ALL_TRANSFERS[1], "wrong_state")
@pytest.mark.covers(ALL_TRANSFERS[2], "wrong_state")
def test_transfer_from_an_address_that_no_longer_owns_reverts(identity: Any, alice: Any, bob: Any, carol: Any,
                                                              how: str) -> None:
    identity.setApprovalForAll(carol.address, True, sender=alice)
    identity.transferFrom(alice.address, bob.address, 0, sender=alice)
    # carol is still alice's operator, but agent 0 is bob's now
    with ape.reverts(identity.ERC721InsufficientApproval, operator=carol.address, tokenId=0):
        _transfer(identity, how, alice.address, carol.address, 0, carol)
    with ape.reverts(identity.ERC721IncorrectOwner, sender=alice.address, tokenId=0, owner=bob.address):
        _transfer(identity, how, alice.address, carol.address, 0, bob)


@TRANSFERS
@pytest.mark.covers(ALL_TRANSFERS[0], "bad_arguments")
@pytest.mark.covers(ALL_TRANSFERS[1], "bad_arguments")
@pytest.mark.covers(ALL_TRANSFERS[2], "bad_arguments")
def test_transfer_to_zero_unknown_agent_or_non_receiver_reverts(identity: Any, alice: Any, carol: Any,
                                                                how: str) -> None:
    with ape.reverts(identity.ERC721InvalidReceiver, receiver=ZERO):
        _transfer(identity, how, alice.address, ZERO, 0, alice)
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=55):
        _transfer(identity, how, alice.address, carol.address, 55, alice)
    if how != "transferFrom":  # the safe variants refuse a contract without onERC721Received
        with ape.reverts(identity.ERC721InvalidReceiver, receiver=identity.address):
            _transfer(identity, how, alice.address, identity.address, 0, alice)


@TRANSFERS
@pytest.mark.covers(ALL_TRANSFERS[0], "replay")
@pytest.mark.covers(ALL_TRANSFERS[1], "replay")
@pytest.mark.covers(ALL_TRANSFERS[2], "replay")
def test_single_approval_is_spent_by_one_transfer(identity: Any, alice: Any, carol: Any, dave: Any,
                                                  how: str) -> None:
    identity.approve(dave.address, 0, sender=alice)
    _transfer(identity, how, alice.address, carol.address, 0, dave)
    assert identity.ownerOf(0) == carol.address
    identity.transferFrom(carol.address, alice.address, 0, sender=carol)
    # the approval was cleared by the first transfer: the same call again is refused
    with ape.reverts(identity.ERC721InsufficientApproval, operator=dave.address, tokenId=0):
        _transfer(identity, how, alice.address, carol.address, 0, dave)


@pytest.mark.covers("IdentityRegistry.setAgentURI", "wrong_state")
@pytest.mark.covers("IdentityRegistry.setMetadata", "wrong_state")
@pytest.mark.covers("IdentityRegistry.unsetAgentWallet", "wrong_state")
@pytest.mark.covers("IdentityRegistry.setAgentWallet", "wrong_state")
def test_previous_owner_loses_every_write_after_transfer(
        identity: Any, chain: Any, alice: Any, carol: Any, sign_wallet: Any) -> None:
    identity.transferFrom(alice.address, carol.address, 0, sender=alice)
    wallet = Account.create()
    deadline = _now(chain) + 60
    sig = sign_wallet(wallet.key, 0, wallet.address, alice.address, deadline)
    for call in (lambda: identity.setAgentURI(0, "ipfs://old-owner", sender=alice),
                 lambda: identity.setMetadata(0, "name", b"x", sender=alice),
                 lambda: identity.unsetAgentWallet(0, sender=alice),
                 lambda: identity.setAgentWallet(0, wallet.address, deadline, sig, sender=alice)):
        with ape.reverts(identity.IdentityRegistryNotAuthorized, agentId=0, caller=alice.address):
            call()
