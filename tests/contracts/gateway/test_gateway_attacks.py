"""The gateway review's attacks, each performed on anvil and shown to fail:

1. failures on demand: a relayer starving the recipient (the sender fixes its gas in the id);
2. smuggling past a rotation: retrying a message attested by a set the admin has replaced or
   an origin it no longer trusts (and the admin's cancel);
3. a starved expiry hook: the notice either gives the hook its whole budget or stays retryable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import ape
import pytest
from gateway_helpers import status
from eth_account import Account
from eth_account.signers.local import LocalAccount

from accord.chain.types import MessageStatus
from accord.crosschain.messages import (
    DEFAULT_GAS_LIMIT,
    GAS_LIMIT_ATTRIBUTE,
    MAX_GAS_LIMIT,
    Message,
    expiry_attribute,
    gas_limit_attribute,
)

UNKNOWN, DELIVERED, FAILED, EXPIRED, CANCELLED = MessageStatus
HOOK_GAS = 100_000




@pytest.fixture
def new_set() -> list[LocalAccount]:
    return sorted((Account.from_key((0xB0B0 + i).to_bytes(32, "big")) for i in range(3)),
                  key=lambda a: int(a.address, 16))



# ---------------------------------------------------------------- 1. failures on demand
@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_relayer_offering_no_gas_still_gives_the_recipient_the_senders_gas(
        dst, recipient, make_message, sign, relayer):
    recipient.setMinGas(150_000, sender=relayer)  # its work needs 150k; the message fixes 200k
    try:
        m = make_message(recipient, nonce=9_001)
        assert m.gas_limit == DEFAULT_GAS_LIMIT
        tx = dst.deliver(m.encode(), sign(m), 0, sender=relayer)
        assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [m.id]
        assert status(dst, m) == DELIVERED
    finally:
        recipient.setMinGas(0, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_relayer_starving_the_transaction_reverts_instead_of_parking_the_message_failed(
        dst, recipient, make_message, sign, relayer):
    m = make_message(recipient, nonce=9_002, gas_limit=1_000_000)
    with ape.reverts(dst.AccordGatewayInsufficientGas, gasLimit=1_000_000):
        dst.deliver(m.encode(), sign(m), 0, sender=relayer, gas=400_000)
    assert status(dst, m) == UNKNOWN  # nothing recorded: an honest relayer delivers it later
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    assert status(dst, m) == DELIVERED


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_relayer_lowering_the_messages_gas_breaks_its_attestation(
        dst, recipient, make_message, sign, relayer, validators, chain_id):
    m = make_message(recipient, nonce=9_003)
    starved = replace(m, gas_limit=1)  # another id: the validators never signed it
    with ape.reverts(dst.AccordGatewaySignerNotValidator):
        dst.deliver(starved.encode(), sign(m), 0, sender=relayer)
    assert status(dst, m) == UNKNOWN and status(dst, starved) == UNKNOWN


@pytest.mark.covers("AccordGateway.deliverBatch", "bad_arguments")
def test_batch_gives_every_message_its_own_gas_whatever_the_relayer_offers(
        dst, recipients, make_message, sign_batch, relayer):
    for r in recipients:
        r.setMinGas(150_000, sender=relayer)
    try:
        msgs = [make_message(r, nonce=9_010 + i) for i, r in enumerate(recipients)]
        tx = dst.deliverBatch([m.encode() for m in msgs], [], sign_batch(msgs), 0,
                              sender=relayer)
        assert len(tx.decode_logs(dst.MessageDelivered)) == 3
        assert not tx.decode_logs(dst.MessageFailed)
    finally:
        for r in recipients:
            r.setMinGas(0, sender=relayer)


def test_sender_fixes_the_gas_with_the_erc7985_attribute_and_the_id_covers_it(
        src, recipient, interop, user, sent_messages):
    assert src.supportsAttribute(GAS_LIMIT_ATTRIBUTE)
    tx = src.sendMessage(interop(recipient), b"heavy", [gas_limit_attribute(750_000)],
                         sender=user)
    [m] = sent_messages(src, tx)  # the rebuilt id equals sendId (checked inside)
    assert m.gas_limit == 750_000
    tx = src.sendMessage(interop(recipient), b"plain", [], sender=user)
    [plain] = sent_messages(src, tx)  # OpenZeppelin's apps pass no attributes
    assert plain.gas_limit == DEFAULT_GAS_LIMIT == src.DEFAULT_GAS_LIMIT()


@pytest.mark.covers("AccordGateway.sendMessage", "bad_arguments")
@pytest.mark.parametrize("value", [0, MAX_GAS_LIMIT + 1, 2**256 - 1])
def test_send_rejects_a_gas_limit_outside_one_to_max(src, recipient, interop, user, value):
    attr = GAS_LIMIT_ATTRIBUTE + value.to_bytes(32, "big")
    with ape.reverts(src.AccordGatewayInvalidGasLimit, gasLimit=value):
        src.sendMessage(interop(recipient), b"x", [attr], sender=user)


@pytest.mark.covers("AccordGateway.sendMessage", "bad_arguments")
def test_send_rejects_a_repeated_or_malformed_gas_attribute(src, recipient, interop, user):
    attr = gas_limit_attribute(300_000)
    with ape.reverts(src.AccordGatewayDuplicateAttribute):
        src.sendMessage(interop(recipient), b"x", [attr, attr], sender=user)
    with ape.reverts(src.AccordGatewayInvalidAttribute):
        src.sendMessage(interop(recipient), b"x", [attr + b"\x00"], sender=user)


@pytest.mark.covers("AccordGateway.retry", "bad_arguments")
def test_retry_offering_more_than_max_gas_reverts(dst, recipient, make_message, sign, relayer,
                                                   user):
    recipient.setMode(1, sender=relayer)
    m = make_message(recipient, nonce=9_020)
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    recipient.setMode(0, sender=relayer)
    with ape.reverts(dst.AccordGatewayInvalidGasLimit, gasLimit=MAX_GAS_LIMIT + 1):
        dst.retry(m.encode(), b"", MAX_GAS_LIMIT + 1, sender=user)
    assert status(dst, m) == FAILED


# ---------------------------------------------------------------- 2. smuggled past a rotation
@pytest.fixture
def parked(pair, project, admin, make_message, sign, relayer) -> tuple[Any, Any, Message]:
    """A message attested by the old set whose delivery failed (its recipient refused)."""
    _, dst = pair
    target = project.MockRecipient.deploy(sender=admin)
    target.setMode(1, sender=admin)
    m = make_message(target, nonce=1, origin_gateway=pair[0].address)
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    assert status(dst, m) == FAILED
    target.setMode(0, sender=admin)  # it would now accept: a retry would execute it
    return dst, target, m


@pytest.mark.covers("AccordGateway.retry", "wrong_state")
def test_retry_after_the_admin_rotated_the_validator_set_needs_the_new_set(
        parked, admin, new_set, validators, chain_id, user, sign):
    dst, target, m = parked
    dst.setValidatorSet(chain_id, [v.address for v in new_set], 2, sender=admin)
    with ape.reverts(dst.AccordGatewayStaleAttestation, id=m.id):
        dst.retry(m.encode(), b"", 0, sender=user)
    with ape.reverts(dst.AccordGatewaySignerNotValidator):  # the old (compromised) keys
        dst.retry(m.encode(), sign(m, signers=validators[:2]), 0, sender=user)
    assert status(dst, m) == FAILED and target.received() == 0
    # the current set re-attests it: now it may run, exactly once
    dst.retry(m.encode(), sign(m, signers=new_set[:2]), 0, sender=user)
    assert status(dst, m) == DELIVERED and target.received() == 1
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=DELIVERED):
        dst.retry(m.encode(), sign(m, signers=new_set[:2]), 0, sender=user)


@pytest.mark.covers("AccordGateway.retry", "wrong_state")
def test_retry_after_the_admin_untrusted_the_origin_gateway_reverts(parked, admin, chain_id,
                                                                     new_set, user):
    dst, target, m = parked
    dst.setTrustedGateway(chain_id, "0x" + "00" * 20, sender=admin)
    with ape.reverts(dst.AccordGatewayUntrustedOrigin):
        dst.retry(m.encode(), b"", 0, sender=user)
    assert status(dst, m) == FAILED and target.received() == 0


def test_retry_under_an_unchanged_set_needs_no_signatures(parked, user):
    dst, target, m = parked
    dst.retry(m.encode(), b"", 0, sender=user)
    assert status(dst, m) == DELIVERED and target.received() == 1


@pytest.mark.covers("AccordGateway.cancelFailed", "wrong_state")
def test_admin_cancels_a_failed_message_and_it_can_never_run(parked, admin, user, new_set):
    dst, target, m = parked
    tx = dst.cancelFailed(m.id, sender=admin)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageCancelled)] == [m.id]
    assert status(dst, m) == CANCELLED
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=CANCELLED):
        dst.retry(m.encode(), b"", 0, sender=user)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=CANCELLED):
        dst.cancelFailed(m.id, sender=admin)
    assert target.received() == 0


@pytest.mark.covers("AccordGateway.cancelFailed", "wrong_caller")
def test_only_the_admin_cancels(parked, user):
    dst, _, m = parked
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=user.address):
        dst.cancelFailed(m.id, sender=user)
    assert status(dst, m) == FAILED


@pytest.mark.covers("AccordGateway.cancelFailed", "bad_arguments", "replay")
def test_cancel_of_an_unknown_or_delivered_message_reverts(dst, recipient, make_message, sign,
                                                           relayer, admin):
    m = make_message(recipient, nonce=9_030)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=UNKNOWN):
        dst.cancelFailed(m.id, sender=admin)
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=UNKNOWN):
        dst.cancelFailed(m.id, sender=admin)  # delivered first time: no record to cancel


@pytest.mark.covers("AccordGateway.markExpired", "wrong_state")
def test_expiring_a_failed_message_after_a_rotation_needs_the_new_set(
        pair, project, admin, make_message, sign, relayer, chain, chain_id, new_set, user):
    src, dst = pair
    target = project.MockRecipient.deploy(sender=admin)
    target.setMode(1, sender=admin)
    expiry = chain.pending_timestamp + 60
    m = make_message(target, nonce=2, expiry=expiry, origin_gateway=src.address)
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    dst.setValidatorSet(chain_id, [v.address for v in new_set], 2, sender=admin)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayStaleAttestation, id=m.id):
        dst.markExpired(m.encode(), [], b"", sender=user)
    dst.markExpired(m.encode(), [], sign(m, signers=new_set[:2]), sender=user)
    assert status(dst, m) == EXPIRED


# ---------------------------------------------------------------- 3. starved expiry hook
@pytest.fixture
def expired_notice(pair, project, admin, interop, recipient, chain, sign, user, sent_messages,
                   ) -> Callable[..., tuple[Any, Any, Message, Message]]:
    """(src, app, original, notice): an app's message expired on dst; the notice is ready to
    be carried back to src. The app's hook is configured first."""

    def make(hook_min_gas: int = 0, hook_reverts: bool = False):
        src, dst = pair
        app = project.MockExpirySender.deploy(src, sender=admin)
        app.setHook(hook_min_gas, hook_reverts, sender=admin)
        expiry = chain.pending_timestamp + 60
        tx = app.send(interop(recipient), b"late", [gas_limit_attribute(90_000),
                                                    expiry_attribute(expiry)], sender=user)
        [m] = sent_messages(src, tx)
        chain.pending_timestamp = expiry + 1
        tx = dst.markExpired(m.encode(), [], sign(m), sender=user)
        [notice] = sent_messages(dst, tx)
        return src, app, m, notice

    return make


def test_expiry_notice_fixes_enough_gas_for_the_hooks_whole_budget(expired_notice, sign,
                                                                   relayer):
    src, app, m, notice = expired_notice(hook_min_gas=HOOK_GAS - 5_000)
    assert src.EXPIRY_HOOK_GAS() == HOOK_GAS and notice.gas_limit > HOOK_GAS
    tx = src.deliver(notice.encode(), sign(notice), 0, sender=relayer)
    assert app.expired(m.id) and src.expiredOnDestination(m.id)
    assert not tx.decode_logs(src.ExpiryHookFailed)


@pytest.mark.covers("AccordGateway.receiveMessage", "bad_arguments")
def test_relayer_starving_the_expiry_hook_reverts_and_the_notice_stays_deliverable(
        expired_notice, sign, relayer):
    src, app, m, notice = expired_notice(hook_min_gas=HOOK_GAS - 5_000)
    # just enough for the notice's own bookkeeping, not for the hook: the whole tx reverts
    with ape.reverts(src.AccordGatewayInsufficientGas):
        src.deliver(notice.encode(), sign(notice), 0, sender=relayer, gas=150_000)
    assert status(src, notice) == UNKNOWN and not src.expiredOnDestination(m.id)
    src.deliver(notice.encode(), sign(notice), 0, sender=relayer)
    assert app.expired(m.id) and src.expiredOnDestination(m.id)


def test_a_reverting_hook_is_reported_and_the_expiry_is_still_recorded(expired_notice, sign,
                                                                       relayer):
    src, app, m, notice = expired_notice(hook_reverts=True)
    tx = src.deliver(notice.encode(), sign(notice), 0, sender=relayer)
    [failed] = tx.decode_logs(src.ExpiryHookFailed)
    assert (bytes(failed.id), failed.sender) == (m.id, app.address)
    assert src.expiredOnDestination(m.id) and not app.expired(m.id)
    assert status(src, notice) == DELIVERED
