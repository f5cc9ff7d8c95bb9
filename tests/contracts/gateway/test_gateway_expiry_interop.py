"""Expiry (destination record + notice proven back on the origin) and OpenZeppelin ERC-7786
recipients working over the gateway unchanged."""

from __future__ import annotations

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak

from accord.chain.types import MessageStatus
from accord.crosschain.messages import EXPIRY_NOTICE, expiry_notice_payload

GAS_LIMIT = 200_000  # gas the relayer gives each recipient call
UNKNOWN, DELIVERED, FAILED, EXPIRED, CANCELLED = MessageStatus


def _status(dst, m):
    return tuple(dst.messageStatus(m.origin_chain_id, m.origin_gateway, m.nonce, m.id))


@pytest.mark.covers("AccordGateway.markExpired", "wrong_state", "replay")
def test_expired_message_is_marked_on_destination_and_proven_on_origin(
        project, src, dst, admin, recipient, interop, expiry_attr, chain, sign, relayer, user,
        sent_messages, chain_id):
    app = project.MockExpirySender.deploy(src, sender=admin)
    expiry = chain.pending_timestamp + 60
    tx = app.send(interop(recipient), b"late", [expiry_attr(expiry)], sender=user)
    [m] = sent_messages(src, tx)
    assert m.sender == app.address and m.expiry == expiry
    with ape.reverts(dst.AccordGatewayNotExpired, id=m.id, expiry=expiry):
        dst.markExpired(m.encode(), [], sign(m), sender=user)

    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayMessageExpired, id=m.id, expiry=expiry):
        dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    tx = dst.markExpired(m.encode(), [], sign(m), sender=user)
    [notice] = sent_messages(dst, tx)
    expired = tx.decode_logs(dst.MessageExpired)[0]
    assert bytes(expired.id) == m.id and bytes(expired.noticeId) == notice.id
    assert _status(dst, m)[0] == EXPIRED
    assert (notice.sender, notice.recipient) == (dst.address, src.address)
    assert notice.payload == expiry_notice_payload(m.id, app.address)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=EXPIRED):
        dst.markExpired(m.encode(), [], sign(m), sender=user)

    # the relayer carries the notice back; the origin gateway records it and tells the sender
    assert not src.expiredOnDestination(m.id)
    tx = src.deliver(notice.encode(), sign(notice), GAS_LIMIT, sender=relayer)
    assert bytes(tx.decode_logs(src.MessageExpiredOnDestination)[0].id) == m.id
    assert src.expiredOnDestination(m.id)
    assert app.expired(m.id)
    assert tx.decode_logs(app.ExpiryObserved)[0].destinationChainId == chain_id


@pytest.mark.covers("AccordGateway.receiveMessage", "wrong_caller")
def test_forged_expiry_notice_from_a_non_gateway_sender_is_not_recorded(src, make_message, sign,
                                                                        relayer, user, chain_id):
    fake_id = b"\x42" * 32
    # a notice claiming to come from a gateway src does not trust (here: src itself)
    forged = make_message(src, expiry_notice_payload(fake_id, user.address), nonce=500,
                          origin_gateway=src.address)
    with ape.reverts(src.AccordGatewayUntrustedOrigin):
        src.deliver(forged.encode(), sign(forged), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.receiveMessage", "wrong_caller")
def test_notice_from_a_user_through_the_trusted_gateway_is_recorded_failed(
        src, dst, make_message, sign, relayer, user):
    # dst (trusted by src) carries a message whose sender is a user, not dst itself
    fake_id = b"\x43" * 32
    m = make_message(src, expiry_notice_payload(fake_id, user.address), nonce=501,
                     origin_gateway=dst.address)
    src.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    assert _status(src, m)[0] == FAILED
    assert not src.expiredOnDestination(fake_id)


@pytest.mark.covers("AccordGateway.markExpired", "wrong_state")
def test_mark_expired_of_delivered_message_reverts(dst, recipient, make_message, sign, relayer,
                                                   chain, user):
    expiry = chain.pending_timestamp + 60
    m = make_message(recipient, nonce=510, expiry=expiry)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayAlreadyProcessed, id=m.id):
        dst.markExpired(m.encode(), [], sign(m), sender=user)


@pytest.mark.covers("AccordGateway.retry", "wrong_state")
def test_mark_expired_of_failed_message_needs_no_signatures_and_stops_retries(
        dst, recipient, make_message, sign, relayer, chain, user):
    recipient.setMode(1, sender=relayer)
    expiry = chain.pending_timestamp + 60
    m = make_message(recipient, nonce=511, expiry=expiry)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    recipient.setMode(0, sender=relayer)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayMessageExpired, id=m.id, expiry=expiry):
        dst.retry(m.encode(), b"", GAS_LIMIT, sender=user)
    dst.markExpired(m.encode(), [], b"", sender=user)
    assert _status(dst, m)[0] == EXPIRED
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=EXPIRED):
        dst.retry(m.encode(), b"", GAS_LIMIT, sender=user)


@pytest.mark.covers("AccordGateway.markExpired", "wrong_caller", "wrong_state", "bad_arguments")
def test_mark_expired_requires_attestation_and_no_expiry_never_expires(
        dst, recipient, make_message, sign, sign_batch, chain, user, validators):
    expiry = chain.pending_timestamp + 60
    m = make_message(recipient, nonce=512, expiry=expiry)
    forever = make_message(recipient, nonce=513)
    other = make_message(recipient, nonce=514)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayNotExpired, id=forever.id, expiry=0):
        dst.markExpired(forever.encode(), [], sign(forever), sender=user)
    with ape.reverts(dst.AccordGatewayInsufficientSignatures, count=1, threshold=2):
        dst.markExpired(m.encode(), [], sign(m, signers=validators[:1]), sender=user)
    # a batch attestation works too (the message id must be in the signed list)
    ids = [other.id, m.id]
    with ape.reverts(dst.AccordGatewayNotInBatch, id=m.id):
        dst.markExpired(m.encode(), [other.id], sign_batch([other]), sender=user)
    dst.markExpired(m.encode(), ids, sign_batch([other, m], ids=ids), sender=user)
    assert _status(dst, m)[0] == EXPIRED


def test_expiry_notice_tag_matches(src):
    assert bytes(src.EXPIRY_NOTICE()) == EXPIRY_NOTICE


def test_openzeppelin_remote_executor_executes_over_the_gateway(
        project, src, dst, admin, user, interop, sign, relayer, sent_messages):
    controller = interop(user)
    executor = project.MockRemoteExecutor.deploy(dst, controller, sender=admin)
    probe = project.Probe.deploy(sender=admin)
    probe.transferOwnership(executor, sender=admin)
    # ERC-7579 single call, default exec type: mode (32 bytes) || target || value || calldata
    call = probe.set.encode_input(42)
    payload = b"\x00" * 32 + bytes.fromhex(probe.address[2:]) + (0).to_bytes(32, "big") + call
    tx = src.sendMessage(interop(executor), payload, [], sender=user)
    [m] = sent_messages(src, tx)
    tx = dst.deliver(m.encode(), sign(m), 300_000, sender=relayer)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [m.id]
    assert probe.value() == 42


def test_openzeppelin_recipient_rejects_other_senders_and_the_failure_is_recorded(
        project, src, dst, admin, user, relayer, interop, sign, sent_messages, accounts):
    executor = project.MockRemoteExecutor.deploy(dst, interop(user), sender=admin)
    probe = project.Probe.deploy(sender=admin)
    probe.transferOwnership(executor, sender=admin)
    payload = b"\x00" * 32 + bytes.fromhex(probe.address[2:]) + (0).to_bytes(32, "big") \
        + probe.set.encode_input(7)
    stranger = accounts[5]
    [m] = sent_messages(src, src.sendMessage(interop(executor), payload, [], sender=stranger))
    dst.deliver(m.encode(), sign(m), 300_000, sender=relayer)
    err = keccak(text="ERC7786RecipientUnauthorizedGateway(address,bytes)")[:4] + encode(
        ["address", "bytes"], [dst.address, interop(stranger)])
    assert _status(dst, m) == (FAILED, keccak(err), 1)
    assert probe.value() == 0


@pytest.mark.covers("AccordGateway.markExpired", "bad_arguments")
def test_mark_expired_checks_route_like_delivery(dst, recipient, make_message, sign, chain, user,
                                                 chain_id):
    expiry = chain.pending_timestamp + 10
    wrong_dest = make_message(recipient, nonce=520, expiry=expiry, destination=chain_id + 1)
    untrusted = make_message(recipient, nonce=521, expiry=expiry, origin_gateway=user.address)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayWrongDestination, destinationChainId=chain_id + 1,
                     chainId=chain_id):
        dst.markExpired(wrong_dest.encode(), [], sign(wrong_dest), sender=user)
    with ape.reverts(dst.AccordGatewayUntrustedOrigin, originChainId=chain_id,
                     gateway=user.address):
        dst.markExpired(untrusted.encode(), [], sign(untrusted), sender=user)


# ---------------------------------------------------------------- negatives for the matrix
@pytest.mark.covers("AccordGateway.receiveMessage", "bad_arguments")
def test_notice_with_an_unknown_tag_from_the_trusted_gateway_is_recorded_failed(
        src, dst, make_message, sign, relayer, user):
    fake_id = b"\x44" * 32
    payload = encode(["bytes4", "bytes32", "address"], [b"\xde\xad\xbe\xef", fake_id, user.address])
    m = make_message(src, payload, nonce=502, origin_gateway=dst.address, sender=dst.address)
    src.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    status = _status(src, m)
    invalid_notice = keccak(text="AccordGatewayInvalidNotice(bytes4)")[:4] + b"\xde\xad\xbe\xef" + b"\x00" * 28
    assert (status[0], bytes(status[1])) == (FAILED, keccak(invalid_notice))
    assert not src.expiredOnDestination(fake_id)
