"""Adversarial review of the packed-bytes gateway (since 59f99e6), each attack performed on anvil:

1. malformed encodings (short, empty, trailing bytes) in every entry point;
2. signature edge cases of the inline ecrecover (bad v, r = 0, s = 0, high s, other digest,
   single vs batch attestation);
3. gas extremes (message gas 0 / uint64 max, relayer parameter overflow);
4. batches: aliased (duplicate) messages, mixed origins, large payloads through the
   free-pointer reset;
5. retry/expiry after trust churn, batch re-attestation, fake-id notices, cancel races;
6. reentrancy from a recipient into retry / markExpired / cancelFailed;
7. an expiry hook that burns its whole budget (INVALID opcode) under the notice's fixed gas.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ape
import pytest
from gateway_helpers import status
from eth_utils import keccak

from accord.chain.types import MessageStatus
from accord.crosschain.messages import (
    GAS_LIMIT_ATTRIBUTE,
    MAX_GAS_LIMIT,
    Message,
    attestation_digest,
    sign_digest,
)

UNKNOWN, DELIVERED, FAILED, EXPIRED, CANCELLED = MessageStatus
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ZERO = "0x" + "00" * 20





def _deploy_raw(chain: Any, admin: Any, runtime: bytes) -> str:
    """Deploys `runtime` as code (PUSH1 n PUSH1 12 PUSH1 0 CODECOPY PUSH1 n PUSH1 0 RETURN)."""
    n = len(runtime)
    init = bytes([0x60, n, 0x60, 0x0C, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xF3]) + runtime
    w3 = chain.provider.web3
    tx = w3.eth.send_transaction({"from": admin.address, "data": "0x" + init.hex()})
    return w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]



@pytest.fixture
def parked(pair, project, admin, make_message, sign, relayer) -> tuple[Any, Any, Message]:
    _, dst = pair
    target = project.MockRecipient.deploy(sender=admin)
    target.setMode(1, sender=admin)
    m = make_message(target, nonce=7, origin_gateway=pair[0].address)
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    assert status(dst, m) == FAILED
    target.setMode(0, sender=admin)
    return dst, target, m


# ---------------------------------------------------------------- 1. malformed encodings
@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
@pytest.mark.parametrize("cut", [0, 1, 147])
def test_short_messages_revert_everywhere(dst, recipient, make_message, sign, relayer, cut):
    m = make_message(recipient, nonce=70_000 + cut)
    short = m.encode()[:cut]
    with ape.reverts(dst.AccordGatewayInvalidMessage, length=cut):
        dst.deliver(short, sign(m), 0, sender=relayer)
    with ape.reverts(dst.AccordGatewayInvalidMessage, length=cut):
        dst.deliverBatch([m.encode(), short], [], b"", 0, sender=relayer)
    with ape.reverts(dst.AccordGatewayInvalidMessage, length=cut):
        dst.retry(short, b"", 0, sender=relayer)
    with ape.reverts(dst.AccordGatewayInvalidMessage, length=cut):
        dst.markExpired(short, [], sign(m), sender=relayer)
    with ape.reverts(dst.AccordGatewayInvalidMessage, length=cut):
        dst.messageId(short)
    assert status(dst, m) == UNKNOWN


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_trailing_bytes_make_another_id_the_validators_never_signed(
        dst, recipient, make_message, sign, relayer):
    m = make_message(recipient, b"", nonce=70_010)
    assert len(m.encode()) == 148 and dst.messageId(m.encode()) == m.id
    padded = m.encode() + b"\x00"
    assert dst.messageId(padded) != m.id
    with ape.reverts(dst.AccordGatewaySignerNotValidator):
        dst.deliver(padded, sign(m), 0, sender=relayer)
    assert status(dst, m) == UNKNOWN
    before = recipient.received()
    tx = dst.deliver(m.encode(), sign(m), 0, sender=relayer)  # the exact 148 bytes: empty payload
    [got] = tx.decode_logs(recipient.Received)
    assert bytes(got.payload) == b"" and recipient.received() == before + 1


# ---------------------------------------------------------------- 2. signature edge cases
def _mutations(sig: bytes) -> dict[str, tuple[bytes, str]]:
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    high = (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # the malleable twin
    return {
        "v0": (sig[:64] + b"\x00", "ECDSAInvalidSignature"),
        "v1": (sig[:64] + b"\x01", "ECDSAInvalidSignature"),
        "v29": (sig[:64] + b"\x1d", "ECDSAInvalidSignature"),
        "r0": (b"\x00" * 32 + sig[32:], "ECDSAInvalidSignature"),
        "s0": (r + b"\x00" * 32 + sig[64:], "ECDSAInvalidSignature"),
        "rs0": (b"\x00" * 64 + sig[64:], "ECDSAInvalidSignature"),
        "highS": (r + high, "ECDSAInvalidSignatureS"),
    }


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
@pytest.mark.parametrize("case", ["v0", "v1", "v29", "r0", "s0", "rs0", "highS"])
def test_malformed_signatures_are_rejected_like_openzeppelin(
        dst, recipient, make_message, validators, relayer, case):
    m = make_message(recipient, nonce=70_100)
    digest = attestation_digest(m.origin_chain_id, m.origin_gateway, m.id)
    first = sign_digest(validators[0], digest)
    second = sign_digest(validators[1], digest)
    bad, error = _mutations(first)[case]
    with ape.reverts(getattr(dst, error)):
        dst.deliver(m.encode(), bad + second, 0, sender=relayer)
    assert status(dst, m) == UNKNOWN


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_signature_length_count_and_foreign_digests(dst, recipient, make_message, sign,
                                                    sign_batch, validators, relayer):
    m = make_message(recipient, nonce=70_110)
    other = make_message(recipient, nonce=70_111)
    good = sign(m)
    with ape.reverts(dst.AccordGatewayInvalidSignatureLength, length=131):
        dst.deliver(m.encode(), good + b"\x00", 0, sender=relayer)
    with ape.reverts(dst.AccordGatewayInsufficientSignatures, count=0, threshold=2):
        dst.deliver(m.encode(), b"", 0, sender=relayer)
    with ape.reverts(dst.AccordGatewayInsufficientSignatures, count=1, threshold=2):
        dst.deliver(m.encode(), good[:65], 0, sender=relayer)
    with ape.reverts(dst.AccordGatewaySignerNotValidator):  # another message's attestation
        dst.deliver(m.encode(), sign(other), 0, sender=relayer)
    with ape.reverts(dst.AccordGatewaySignerNotValidator):  # a batch attestation of [m]
        dst.deliver(m.encode(), sign_batch([m]), 0, sender=relayer)
    with ape.reverts(dst.AccordGatewaySignerNotValidator):  # Attestation(id) as a batch
        dst.deliverBatch([m.encode()], [], good, 0, sender=relayer)
    with ape.reverts(dst.AccordGatewayDuplicateSigner):
        dst.deliver(m.encode(), good[:65] + good[:65], 0, sender=relayer)
    with ape.reverts(dst.AccordGatewaySignersNotAscending):
        dst.deliver(m.encode(), good[65:] + good[:65], 0, sender=relayer)
    assert status(dst, m) == UNKNOWN


# ---------------------------------------------------------------- 3. gas extremes
@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_relayer_gas_parameter_overflow_reverts(dst, recipient, make_message, sign, relayer):
    m = make_message(recipient, nonce=70_200)
    for value in (MAX_GAS_LIMIT + 1, 2**64, 2**256 - 1):
        with ape.reverts(dst.AccordGatewayInvalidGasLimit, gasLimit=value):
            dst.deliver(m.encode(), sign(m), value, sender=relayer)
    assert status(dst, m) == UNKNOWN


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_uint64_max_message_gas_cannot_be_forwarded_and_records_nothing(
        dst, recipient, make_message, sign, relayer):
    m = make_message(recipient, nonce=70_210, gas_limit=2**64 - 1)
    with ape.reverts(dst.AccordGatewayInsufficientGas, gasLimit=2**64 - 1):
        dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    assert status(dst, m) == UNKNOWN


def test_zero_gas_message_is_never_emitted_and_if_attested_stays_retryable(
        src, dst, recipient, make_message, sign, relayer, interop, user):
    # the trusted gateway cannot emit it ...
    with ape.reverts(src.AccordGatewayInvalidGasLimit, gasLimit=0):
        src.sendMessage(interop(recipient), b"x", [GAS_LIMIT_ATTRIBUTE + (0).to_bytes(32, "big")], sender=user)
    # ... and a validator-signed one (validators must only sign emitted messages) is failed
    # with the relayer's 0 gas but not lost: a retry with gas delivers it
    m = make_message(recipient, nonce=70_220, gas_limit=0)
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    assert status(dst, m) == FAILED
    dst.retry(m.encode(), b"", 500_000, sender=relayer)
    assert status(dst, m) == DELIVERED


# ---------------------------------------------------------------- 4. batches
@pytest.mark.covers("AccordGateway.deliverBatch", "replay")
def test_a_batch_repeating_one_message_delivers_it_once(dst, project, admin, make_message,
                                                        sign_batch, relayer):
    target = project.MockRecipient.deploy(sender=admin)
    m = make_message(target, nonce=70_300)
    with ape.reverts(dst.AccordGatewayNotInBatch, id=m.id):  # signed list holds it once
        dst.deliverBatch([m.encode(), m.encode()], [m.id], sign_batch([m]), 0, sender=relayer)
    tx = dst.deliverBatch([m.encode(), m.encode()], [], sign_batch([m, m]), 0, sender=relayer)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [m.id]
    assert target.received() == 1


@pytest.mark.covers("AccordGateway.deliverBatch", "replay")
def test_a_batch_with_two_messages_on_one_nonce_runs_only_the_first(
        dst, project, admin, make_message, sign_batch, relayer):
    target = project.MockRecipient.deploy(sender=admin)
    a = make_message(target, b"a", nonce=70_310)
    b = replace(a, payload=b"b")  # same nonce, other bytes: the replay bit is per nonce
    tx = dst.deliverBatch([a.encode(), b.encode()], [], sign_batch([a, b]), 0, sender=relayer)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [a.id]
    assert target.received() == 1


@pytest.mark.covers("AccordGateway.deliverBatch", "bad_arguments")
def test_a_batch_mixing_origins_or_destinations_reverts(dst, recipient, make_message,
                                                        sign_batch, relayer, user, chain_id):
    a = make_message(recipient, nonce=70_320)
    foreign = make_message(recipient, nonce=70_321, origin_gateway=user.address)
    elsewhere = make_message(recipient, nonce=70_322, destination=chain_id + 1)
    with ape.reverts(dst.AccordGatewayInvalidBatch):
        dst.deliverBatch([a.encode(), foreign.encode()], [], sign_batch([a, foreign]), 0,
                         sender=relayer)
    with ape.reverts(dst.AccordGatewayWrongDestination):
        dst.deliverBatch([a.encode(), elsewhere.encode()], [], sign_batch([a, elsewhere]), 0,
                         sender=relayer)
    with ape.reverts(dst.AccordGatewayInvalidBatch):
        dst.deliverBatch([], [], b"", 0, sender=relayer)
    assert status(dst, a) == UNKNOWN


def test_large_odd_payloads_in_one_batch_arrive_intact(dst, project, admin, make_message,
                                                       sign_batch, relayer):
    # the recipient stores the payload (22k gas a word): each message carries the max gas
    sizes = [8_001, 33, 0, 4_097, 31]
    targets = [project.MockRecipient.deploy(sender=admin) for _ in sizes]
    msgs = [make_message(t, bytes((i * 7 + j) % 251 + 1 for j in range(n)), nonce=70_400 + i,
                         gas_limit=MAX_GAS_LIMIT)
            for i, (t, n) in enumerate(zip(targets, sizes))]
    tx = dst.deliverBatch([m.encode() for m in msgs], [], sign_batch(msgs), 0, sender=relayer,
                          gas=29_000_000)
    assert not tx.decode_logs(dst.MessageFailed)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [m.id for m in msgs]
    for t, m in zip(targets, msgs):
        [got] = [e for e in tx.decode_logs(t.Received) if e.contract_address == t.address]
        assert bytes(got.receiveId) == m.id and bytes(got.payload) == m.payload


# ---------------------------------------------------------------- 5. retry / expiry / cancel
@pytest.mark.covers("AccordGateway.retry", "wrong_state")
def test_retry_after_trusted_gateway_churn_needs_a_fresh_single_attestation(
        pair, parked, admin, chain_id, user, validators, sign, sign_batch):
    src, _ = pair
    dst, target, m = parked
    dst.setTrustedGateway(chain_id, user.address, sender=admin)
    with ape.reverts(dst.AccordGatewayUntrustedOrigin):
        dst.retry(m.encode(), sign(m, signers=validators[:2]), 0, sender=user)
    dst.setTrustedGateway(chain_id, src.address, sender=admin)  # back: a new set code
    with ape.reverts(dst.AccordGatewayStaleAttestation, id=m.id):
        dst.retry(m.encode(), b"", 0, sender=user)
    with ape.reverts(dst.AccordGatewaySignerNotValidator):  # a batch attestation won't do
        dst.retry(m.encode(), sign_batch([m], signers=validators[:2]), 0, sender=user)
    assert status(dst, m) == FAILED and target.received() == 0
    dst.retry(m.encode(), sign(m, signers=validators[:2]), 0, sender=user)
    assert status(dst, m) == DELIVERED and target.received() == 1


@pytest.mark.covers("AccordGateway.markExpired", "wrong_state")
def test_expiring_a_failed_message_after_churn_rejects_a_batch_attestation(
        pair, project, admin, make_message, sign, relayer, chain, chain_id, validators, user, sign_batch):
    src, dst = pair
    target = project.MockRecipient.deploy(sender=admin)
    target.setMode(1, sender=admin)
    expiry = chain.pending_timestamp + 60
    m = make_message(target, nonce=8, expiry=expiry, origin_gateway=src.address)
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    dst.setTrustedGateway(chain_id, src.address, sender=admin)  # same values, new set code
    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayStaleAttestation, id=m.id):
        dst.markExpired(m.encode(), [m.id], sign_batch([m], signers=validators[:2]), sender=user)
    assert status(dst, m) == FAILED


@pytest.mark.covers("AccordGateway.markExpired", "bad_arguments")
def test_no_notice_for_a_fake_id_or_a_redirected_hook(pair, project, admin, make_message, sign,
                                                      relayer, chain, user, outsider):
    src, dst = pair
    target = project.MockRecipient.deploy(sender=admin)
    target.setMode(1, sender=admin)
    expiry = chain.pending_timestamp + 60
    m = make_message(target, nonce=9, expiry=expiry, origin_gateway=src.address)
    dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    assert status(dst, m) == FAILED
    with ape.reverts(dst.AccordGatewayNotExpired, id=m.id, expiry=expiry):
        dst.markExpired(m.encode(), [], b"", sender=user)
    chain.pending_timestamp = expiry + 1
    # the failed record's bytes with another sender (to aim the hook) or payload: another,
    # unattested id
    for fake in (replace(m, sender=outsider.address), replace(m, payload=b"fake")):
        for sigs in (b"", sign(m)):  # its nonce is consumed: refused before any signature
            with ape.reverts(dst.AccordGatewayAlreadyProcessed, id=fake.id):
                dst.markExpired(fake.encode(), [], sigs, sender=user)
        assert status(dst, m) == FAILED
    fresh = replace(m, nonce=99, sender=outsider.address)  # an unused nonce: needs attestation
    with ape.reverts(dst.AccordGatewayInsufficientSignatures, count=0, threshold=2):
        dst.markExpired(fresh.encode(), [], b"", sender=user)
    with ape.reverts(dst.AccordGatewaySignerNotValidator):
        dst.markExpired(fresh.encode(), [], sign(m), sender=user)
    assert status(dst, fresh) == UNKNOWN
    tx = dst.markExpired(m.encode(), [], b"", sender=user)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageExpired)] == [m.id]
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=EXPIRED):
        dst.markExpired(m.encode(), [], b"", sender=user)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=EXPIRED):
        dst.retry(m.encode(), b"", 0, sender=user)


@pytest.mark.covers("AccordGateway.markExpired", "replay")
def test_mark_expired_of_a_delivered_or_cancelled_message_reverts(
        pair, project, admin, make_message, sign, relayer, chain, user):
    src, dst = pair
    target = project.MockRecipient.deploy(sender=admin)
    expiry = chain.pending_timestamp + 60
    ok = make_message(target, nonce=10, expiry=expiry, origin_gateway=src.address)
    dst.deliver(ok.encode(), sign(ok), 0, sender=relayer)
    target.setMode(1, sender=admin)
    bad = make_message(target, nonce=11, expiry=expiry, origin_gateway=src.address)
    dst.deliver(bad.encode(), sign(bad), 0, sender=relayer)
    dst.cancelFailed(bad.id, sender=admin)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayAlreadyProcessed, id=ok.id):
        dst.markExpired(ok.encode(), [], sign(ok), sender=user)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=bad.id, status=CANCELLED):
        dst.markExpired(bad.encode(), [], sign(bad), sender=user)


@pytest.mark.covers("AccordGateway.cancelFailed", "wrong_state")
def test_cancel_and_retry_race_whichever_lands_first_wins(parked, admin, user):
    dst, target, m = parked
    dst.retry(m.encode(), b"", 0, sender=user)  # the retry lands first
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=DELIVERED):
        dst.cancelFailed(m.id, sender=admin)
    assert target.received() == 1


@pytest.mark.covers("AccordGateway.retry", "wrong_state")
def test_cancel_front_running_a_retry_makes_the_retry_revert(parked, admin, user):
    dst, target, m = parked
    dst.cancelFailed(m.id, sender=admin)
    with ape.reverts(dst.AccordGatewayInvalidStatus, id=m.id, status=CANCELLED):
        dst.retry(m.encode(), b"", 0, sender=user)
    assert target.received() == 0 and status(dst, m) == CANCELLED


# ---------------------------------------------------------------- 6. reentrancy
@pytest.mark.covers("AccordGateway.retry", "replay")
@pytest.mark.parametrize("entry", ["retry", "markExpired", "cancelFailed", "deliver"])
def test_a_recipient_reentering_the_gateway_fails_its_own_delivery_only(
        pair, parked, project, admin, make_message, sign, relayer, entry):
    src, _ = pair
    dst, target, victim = parked
    attacker = project.ReentrantRecipient.deploy(sender=admin)
    data = {
        "retry": lambda: dst.retry.encode_input(victim.encode(), b"", 0),
        "markExpired": lambda: dst.markExpired.encode_input(victim.encode(), [], b""),
        "cancelFailed": lambda: dst.cancelFailed.encode_input(victim.id),
        "deliver": lambda: dst.deliver.encode_input(victim.encode(), sign(victim), 0),
    }[entry]()
    attacker.setAttack(data, sender=admin)
    m = make_message(attacker, nonce=50, origin_gateway=src.address)
    tx = dst.deliver(m.encode(), sign(m), 0, sender=relayer)
    [failed] = tx.decode_logs(dst.MessageFailed)
    assert bytes(failed.id) == m.id
    if entry == "cancelFailed":
        reason = keccak(text="OwnableUnauthorizedAccount(address)")[:4] + \
            bytes(12) + bytes.fromhex(attacker.address[2:])
    else:
        reason = keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert bytes(failed.reasonHash) == keccak(reason)
    assert status(dst, victim) == FAILED and target.received() == 0


# ---------------------------------------------------------------- 7. expiry hook budget
@pytest.mark.covers("AccordGateway.receiveMessage", "bad_arguments")
def test_a_hook_burning_its_whole_budget_cannot_fail_the_notice(
        pair, chain, admin, make_message, sign, relayer, user, sent_messages, recipient):
    src, dst = pair
    burner = _deploy_raw(chain, admin, b"\xfe")  # INVALID: consumes all gas it is given
    expiry = chain.pending_timestamp + 60
    m = make_message(recipient, nonce=60, expiry=expiry, origin_gateway=src.address,
                     sender=burner)
    chain.pending_timestamp = expiry + 1
    tx = dst.markExpired(m.encode(), [], sign(m), sender=user)
    [notice] = sent_messages(dst, tx)
    assert notice.gas_limit == 160_000
    tx = src.deliver(notice.encode(), sign(notice), 0, sender=relayer)  # the relayer adds nothing
    [failed] = tx.decode_logs(src.ExpiryHookFailed)
    assert (bytes(failed.id), failed.sender) == (m.id, burner)
    assert src.expiredOnDestination(m.id) and status(src, notice) == DELIVERED


@pytest.mark.covers("AccordGateway.receiveMessage", "wrong_caller")
def test_a_forged_notice_from_a_user_is_refused(pair, make_message, sign, relayer, user,
                                                chain_id):
    src, dst = pair
    from accord.crosschain.messages import expiry_notice_payload
    fake_id = b"\x42" * 32
    # a user (not the remote gateway) sends an "expiry notice" to the gateway itself
    m = make_message(src.address, expiry_notice_payload(fake_id, user.address), nonce=61,
                     origin_gateway=dst.address, sender=user.address)
    tx = src.deliver(m.encode(), sign(m), 0, sender=relayer)
    assert [bytes(e.id) for e in tx.decode_logs(src.MessageFailed)] == [m.id]
    assert not src.expiredOnDestination(fake_id)
    with ape.reverts(src.AccordGatewayUnauthorizedNotice):
        src.receiveMessage(fake_id, b"", expiry_notice_payload(fake_id, user.address),
                           sender=user)
