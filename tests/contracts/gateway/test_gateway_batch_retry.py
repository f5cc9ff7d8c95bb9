"""Batches, failure records, retries, reentrancy."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from accord.chain.types import MessageStatus
from accord.crosschain.messages import RECEIVE_MESSAGE_SELECTOR, batch_root

GAS_LIMIT = 200_000  # gas the relayer gives each recipient call
UNKNOWN, DELIVERED, FAILED, EXPIRED, CANCELLED = MessageStatus
REFUSED = keccak(text="MockRecipientRefused(bytes32)")[:4]


def _status(dst, m):
    return tuple(dst.messageStatus(m.origin_chain_id, m.origin_gateway, m.nonce, m.id))


def _batch(make_message, recipients, first_nonce):
    return [make_message(r, bytes([i]) * 32, nonce=first_nonce + i)
            for i, r in enumerate(recipients)]


def test_failing_recipient_mid_batch_does_not_block_the_others(dst, recipients, make_message,
                                                               sign_batch, relayer):
    recipients[1].setMode(1, sender=relayer)  # Revert
    msgs = _batch(make_message, recipients, 300)
    tx = dst.deliverBatch([m.encode() for m in msgs], [], sign_batch(msgs), GAS_LIMIT,
                          sender=relayer)
    delivered = [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)]
    assert delivered == [msgs[0].id, msgs[2].id]
    failed = tx.decode_logs(dst.MessageFailed)
    reason = keccak(REFUSED + msgs[1].id)
    assert [(bytes(f.id), bytes(f.reasonHash), f.attempts) for f in failed] == \
        [(msgs[1].id, reason, 1)]
    assert recipients[0].received() == 1 and recipients[2].received() == 1
    assert _status(dst, msgs[1]) == (FAILED, reason, 1)
    assert _status(dst, msgs[0])[0] == DELIVERED and _status(dst, msgs[2])[0] == DELIVERED


@pytest.mark.covers("AccordGateway.retry", "replay")
def test_retry_succeeds_once_and_never_twice(dst, recipients, make_message, sign_batch, relayer,
                                             user):
    recipients[1].setMode(1, sender=relayer)
    msgs = _batch(make_message, recipients, 320)
    dst.deliverBatch([m.encode() for m in msgs], [], sign_batch(msgs), GAS_LIMIT,
                     sender=relayer)
    bad = msgs[1]
    # still failing: attempts grow, status stays Failed
    tx = dst.retry(bad.encode(), b"", GAS_LIMIT, sender=user)
    assert tx.decode_logs(dst.MessageFailed)[0].attempts == 2
    assert _status(dst, bad)[0] == FAILED and _status(dst, bad)[2] == 2
    recipients[1].setMode(0, sender=relayer)
    tx = dst.retry(bad.encode(), b"", GAS_LIMIT, sender=user)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [bad.id]
    assert recipients[1].received() == 1
    assert _status(dst, bad)[0] == DELIVERED
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=bad.id, status=DELIVERED):
        dst.retry(bad.encode(), b"", GAS_LIMIT, sender=user)
    assert recipients[1].received() == 1


@pytest.mark.covers("AccordGateway.retry", "wrong_state")
def test_retry_reverts_for_unknown_or_delivered_messages(dst, recipient, make_message, sign,
                                                         relayer, user):
    m = make_message(recipient, nonce=340)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=UNKNOWN):
        dst.retry(m.encode(), b"", GAS_LIMIT, sender=user)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=UNKNOWN):
        dst.retry(m.encode(), b"", GAS_LIMIT, sender=user)


@pytest.mark.covers("AccordGateway.retry", "bad_arguments")
def test_retry_rechecks_the_id_against_the_failed_record(dst, recipient, make_message, sign,
                                                         relayer, user):
    recipient.setMode(1, sender=relayer)
    m = make_message(recipient, b"original", nonce=341)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    recipient.setMode(0, sender=relayer)
    altered = make_message(recipient, b"altered", nonce=341)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=altered.id, status=UNKNOWN):
        dst.retry(altered.encode(), b"", GAS_LIMIT, sender=user)


def test_wrong_selector_is_recorded_as_failure_with_hash_of_return_data(dst, recipient,
                                                                        make_message, sign,
                                                                        relayer):
    recipient.setMode(2, sender=relayer)  # returns 0xdeadbeef
    m = make_message(recipient, nonce=342)
    tx = dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    reason = keccak(bytes.fromhex("deadbeef") + b"\x00" * 28)
    assert bytes(tx.decode_logs(dst.MessageFailed)[0].reasonHash) == reason
    assert _status(dst, m) == (FAILED, reason, 1)


def test_recipient_without_code_is_recorded_as_failure(dst, make_message, sign, relayer, user):
    m = make_message(user.address, nonce=343)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    assert _status(dst, m) == (FAILED, keccak(b""), 1)


def test_recipient_out_of_its_own_gas_is_recorded_and_retry_with_more_gas_succeeds(
        dst, recipient, make_message, sign, relayer, user):
    m = make_message(recipient, nonce=344, gas_limit=5_000)  # the sender asked for too little
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    assert _status(dst, m)[0] == FAILED
    dst.retry(m.encode(), b"", GAS_LIMIT, sender=user)
    assert _status(dst, m)[0] == DELIVERED


@pytest.mark.covers("AccordGateway.deliverBatch", "replay")
def test_batch_of_a_signed_list_can_be_delivered_in_parts(dst, recipients, make_message,
                                                          sign_batch, relayer):
    msgs = _batch(make_message, recipients, 350)
    ids = [m.id for m in msgs]
    sigs = sign_batch(msgs, ids=ids)
    dst.deliverBatch([msgs[1].encode()], ids, sigs, GAS_LIMIT, sender=relayer)
    assert _status(dst, msgs[1])[0] == DELIVERED and _status(dst, msgs[0])[0] == UNKNOWN
    # the rest later, including the already delivered one, which is skipped
    tx = dst.deliverBatch([m.encode() for m in msgs], ids, sigs, GAS_LIMIT, sender=relayer)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [ids[0], ids[2]]
    assert recipients[1].received() == 1


@pytest.mark.covers("AccordGateway.deliverBatch", "bad_arguments")
def test_batch_reverts_when_a_message_is_not_in_the_signed_list(dst, recipients, make_message,
                                                                sign_batch, relayer):
    msgs = _batch(make_message, recipients, 360)
    ids = [m.id for m in msgs[:2]]
    with ape.reverts(dst.AccordGatewayNotInBatch, id=msgs[2].id):
        dst.deliverBatch([msgs[2].encode()], ids, sign_batch(msgs, ids=ids), GAS_LIMIT,
                         sender=relayer)
    # out of order is "not in the list" too
    with ape.reverts(dst.AccordGatewayNotInBatch, id=msgs[0].id):
        dst.deliverBatch([msgs[1].encode(), msgs[0].encode()], ids,
                         sign_batch(msgs, ids=ids), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliverBatch", "bad_arguments")
def test_batch_reverts_on_signatures_over_another_root(dst, recipients, make_message, sign_batch,
                                                       relayer):
    msgs = _batch(make_message, recipients, 370)
    with ape.reverts(dst.AccordGatewaySignerNotValidator):
        dst.deliverBatch([m.encode() for m in msgs], [], sign_batch(msgs[:2]), GAS_LIMIT,
                         sender=relayer)


@pytest.mark.covers("AccordGateway.deliverBatch", "bad_arguments")
def test_batch_single_attestation_is_not_a_batch_attestation(dst, recipient, make_message, sign,
                                                             relayer):
    m = make_message(recipient, nonce=371)
    with ape.reverts(dst.AccordGatewaySignerNotValidator):
        dst.deliverBatch([m.encode()], [], sign(m), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliverBatch", "bad_arguments")
def test_batch_reverts_when_empty_mixed_or_misaddressed(dst, recipients, make_message,
                                                        sign_batch, relayer, user, chain_id):
    with ape.reverts(dst.AccordGatewayInvalidBatch):
        dst.deliverBatch([], [], b"", GAS_LIMIT, sender=relayer)
    a = make_message(recipients[0], nonce=380)
    b = make_message(recipients[1], nonce=381, origin_gateway=user.address)
    with ape.reverts(dst.AccordGatewayInvalidBatch):
        dst.deliverBatch([a.encode(), b.encode()], [], sign_batch([a, b]), GAS_LIMIT,
                         sender=relayer)
    c = make_message(recipients[1], nonce=382, destination=chain_id + 5)
    with ape.reverts(dst.AccordGatewayWrongDestination, destinationChainId=chain_id + 5,
                     chainId=chain_id):
        dst.deliverBatch([a.encode(), c.encode()], [], sign_batch([a, c]), GAS_LIMIT,
                         sender=relayer)
    d = make_message(recipients[1], nonce=383, origin_gateway=user.address)
    with ape.reverts(dst.AccordGatewayUntrustedOrigin, originChainId=chain_id,
                     gateway=user.address):
        dst.deliverBatch([d.encode()], [], sign_batch([d]), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliverBatch", "wrong_state")
def test_batch_skips_expired_messages(dst, recipients, make_message, sign_batch, relayer, chain):
    now = chain.pending_timestamp
    a = make_message(recipients[0], nonce=390, expiry=now + 10)
    b = make_message(recipients[1], nonce=391, expiry=now + 10_000)
    chain.pending_timestamp = now + 100
    tx = dst.deliverBatch([a.encode(), b.encode()], [], sign_batch([a, b]), GAS_LIMIT,
                          sender=relayer)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [b.id]
    assert _status(dst, a)[0] == UNKNOWN


def test_batch_root_matches_python(make_message, recipients):
    msgs = _batch(make_message, recipients, 0)
    assert batch_root([m.id for m in msgs]) == keccak(b"".join(m.id for m in msgs))


def test_recipient_reentering_deliver_is_blocked_and_recorded_failed(project, dst, admin,
                                                                     make_message, sign,
                                                                     relayer, recipient):
    attacker = project.ReentrantRecipient.deploy(sender=admin)
    inner = make_message(recipient, nonce=400)
    attacker.setAttack(dst.deliver.encode_input(inner.encode(), sign(inner), GAS_LIMIT),
                       sender=admin)
    outer = make_message(attacker, nonce=401)
    dst.deliver(outer.encode(), sign(outer), 500_000, sender=relayer)
    guard = keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert _status(dst, outer) == (FAILED, keccak(guard), 1)
    assert _status(dst, inner)[0] == UNKNOWN
    assert recipient.received() == 0


@pytest.mark.covers("AccordGateway.retry", "replay")
def test_recipient_reentering_retry_cannot_deliver_twice(project, dst, admin, make_message, sign,
                                                         relayer, user):
    attacker = project.ReentrantRecipient.deploy(sender=admin)
    m = make_message(attacker, nonce=402)
    # first delivery fails because the attack calldata targets retry of itself
    attacker.setAttack(dst.retry.encode_input(m.encode(), b"", GAS_LIMIT), sender=admin)
    dst.deliver(m.encode(), sign(m), 600_000, sender=relayer)
    guard = keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert _status(dst, m) == (FAILED, keccak(guard), 1)
    # retrying re-enters retry again: still blocked, the record just counts the attempt
    dst.retry(m.encode(), b"", 600_000, sender=user)
    assert _status(dst, m) == (FAILED, keccak(guard), 2)
    # once the recipient behaves (a harmless call), the retry delivers exactly once
    attacker.setAttack(dst.nextNonce.encode_input(), sender=admin)
    dst.retry(m.encode(), b"", 600_000, sender=user)
    assert _status(dst, m)[0] == DELIVERED
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=DELIVERED):
        dst.retry(m.encode(), b"", 600_000, sender=user)


def test_receive_message_selector_constant(recipient):
    assert RECEIVE_MESSAGE_SELECTOR == keccak(text="receiveMessage(bytes32,bytes,bytes)")[:4]


@pytest.mark.covers("AccordGateway.deliverBatch", "bad_arguments")
def test_batch_with_too_little_transaction_gas_reverts_instead_of_recording_failures(
        dst, recipients, make_message, sign_batch, relayer):
    msgs = _batch(make_message, recipients, 410)
    with ape.reverts(dst.AccordGatewayInsufficientGas, gasLimit=1_000_000):
        dst.deliverBatch([m.encode() for m in msgs], [], sign_batch(msgs), 1_000_000,
                         sender=relayer, gas=1_020_000)
    assert all(_status(dst, m)[0] == UNKNOWN for m in msgs)


@pytest.mark.covers("AccordGateway.retry", "bad_arguments")
def test_retry_with_too_little_transaction_gas_reverts_and_keeps_the_record(
        dst, recipient, make_message, sign, relayer, user):
    recipient.setMode(1, sender=relayer)
    m = make_message(recipient, nonce=420)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    with ape.reverts(dst.AccordGatewayInsufficientGas, gasLimit=2_000_000):
        dst.retry(m.encode(), b"", 2_000_000, sender=user, gas=1_000_000)
    assert _status(dst, m)[:3:2] == (FAILED, 1)


# ---------------------------------------------------------------- negatives for the matrix
@pytest.mark.covers("AccordGateway.deliverBatch", "wrong_caller")
def test_batch_signed_by_non_validators_reverts(dst, recipients, make_message, sign_batch, relayer,
                                                validators, outsider, chain_id):
    msgs = _batch(make_message, recipients, 380)
    sigs = sign_batch(msgs, signers=[validators[0], outsider]
                      if int(validators[0].address, 16) < int(outsider.address, 16)
                      else [outsider, validators[0]])
    with ape.reverts(dst.AccordGatewaySignerNotValidator, originChainId=chain_id,
                     signer=outsider.address):
        dst.deliverBatch([m.encode() for m in msgs], [], sigs, GAS_LIMIT, sender=relayer)
