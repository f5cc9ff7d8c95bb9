"""Source side: sendMessage, attributes, ids that match accord.crosschain.messages."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from accord.crosschain.messages import EXPIRY_ATTRIBUTE, Message, encode_interop_address, message_id


def _sent(src, tx) -> Message:
    sent = tx.decode_logs(src.MessageSent)[0]
    nonce_log = tx.decode_logs(src.MessageNonce)[0]
    return sent, nonce_log


def test_send_emits_message_sent_with_id_and_nonce_matching_python(src, user, recipient, interop,
                                                                  chain_id):
    target = interop(recipient)
    tx = src.sendMessage(target, b"hello", [], sender=user)
    sent, nonce_log = _sent(src, tx)
    expected = message_id(Message(chain_id, src.address, nonce_log.nonce, user.address, chain_id,
                                  recipient.address, 0, b"hello"))
    assert bytes(sent.sendId) == expected == bytes(nonce_log.id)
    assert bytes(sent.sender) == encode_interop_address(chain_id, user.address)
    assert bytes(sent.recipient) == target
    assert bytes(sent.payload) == b"hello"
    assert sent.value == 0 and list(sent.attributes) == []
    assert src.nextNonce() == nonce_log.nonce + 1


def test_send_assigns_increasing_nonces(src, user, recipient, interop):
    first = _sent(src, src.sendMessage(interop(recipient), b"a", [], sender=user))[1].nonce
    second = _sent(src, src.sendMessage(interop(recipient), b"a", [], sender=user))[1].nonce
    assert second == first + 1


def test_send_with_expiry_attribute_commits_the_expiry(src, user, recipient, interop, chain,
                                                       chain_id, expiry_attr):
    expiry = chain.pending_timestamp + 3600
    tx = src.sendMessage(interop(recipient), b"x", [expiry_attr(expiry)], sender=user)
    sent, nonce_log = _sent(src, tx)
    assert [bytes(a) for a in sent.attributes] == [expiry_attr(expiry)]
    expected = message_id(Message(chain_id, src.address, nonce_log.nonce, user.address, chain_id,
                                  recipient.address, expiry, b"x"))
    assert bytes(sent.sendId) == expected


def test_supports_attribute_is_true_only_for_expiry(src):
    assert src.EXPIRY_ATTRIBUTE() == EXPIRY_ATTRIBUTE == keccak(text="expiry(uint64)")[:4]
    assert src.supportsAttribute(EXPIRY_ATTRIBUTE)
    assert not src.supportsAttribute(b"\x00\x00\x00\x00")
    assert not src.supportsAttribute(keccak(text="gasLimit(uint256)")[:4])


@pytest.mark.covers("AccordGateway.sendMessage", "bad_arguments")
def test_send_reverts_on_unsupported_attribute(src, user, recipient, interop):
    selector = keccak(text="gasLimit(uint256)")[:4]
    with ape.reverts(src.UnsupportedAttribute, selector=selector):
        src.sendMessage(interop(recipient), b"", [selector + b"\x00" * 32], sender=user)


@pytest.mark.covers("AccordGateway.sendMessage", "bad_arguments")
def test_send_reverts_on_malformed_expiry_attribute(src, user, recipient, interop):
    too_short = EXPIRY_ATTRIBUTE + b"\x01" * 8
    with ape.reverts(src.AccordGatewayInvalidAttribute, attribute=too_short):
        src.sendMessage(interop(recipient), b"", [too_short], sender=user)
    not_uint64 = EXPIRY_ATTRIBUTE + (2**64).to_bytes(32, "big")
    with ape.reverts(src.AccordGatewayInvalidAttribute, attribute=not_uint64):
        src.sendMessage(interop(recipient), b"", [not_uint64], sender=user)
    with ape.reverts(src.AccordGatewayInvalidAttribute, attribute=b"\x01\x02"):
        src.sendMessage(interop(recipient), b"", [b"\x01\x02"], sender=user)


@pytest.mark.covers("AccordGateway.sendMessage", "bad_arguments")
def test_send_reverts_on_duplicate_expiry(src, user, recipient, interop, chain, expiry_attr):
    attr = expiry_attr(chain.pending_timestamp + 100)
    with ape.reverts(src.AccordGatewayDuplicateAttribute, selector=EXPIRY_ATTRIBUTE):
        src.sendMessage(interop(recipient), b"", [attr, attr], sender=user)


@pytest.mark.covers("AccordGateway.sendMessage", "bad_arguments")
def test_send_reverts_on_expiry_not_in_the_future(src, user, recipient, interop, chain,
                                                  expiry_attr):
    past = chain.pending_timestamp - 1
    with ape.reverts(src.AccordGatewayInvalidExpiry):
        src.sendMessage(interop(recipient), b"", [expiry_attr(past)], sender=user)


@pytest.mark.covers("AccordGateway.sendMessage", "bad_arguments")
def test_send_reverts_on_recipient_that_is_not_an_erc7930_evm_address(src, user, recipient,
                                                                       chain_id):
    no_chain = bytes.fromhex("000100000014") + bytes.fromhex(recipient.address[2:])
    no_address = encode_interop_address(chain_id, recipient.address)[:-21] + b"\x00"
    garbage = b"\x12\x34"
    zero_address = encode_interop_address(chain_id, "0x" + "00" * 20)
    for bad in (no_chain, no_address, garbage, zero_address):
        with ape.reverts(src.AccordGatewayInvalidRecipient, recipient=bad):
            src.sendMessage(bad, b"", [], sender=user)


@pytest.mark.covers("AccordGateway.sendMessage", "bad_arguments")
def test_send_reverts_when_value_is_attached(src, user, recipient, interop):
    with ape.reverts(src.AccordGatewayValueNotSupported, value=1):
        src.sendMessage(interop(recipient), b"", [], sender=user, value=1)
