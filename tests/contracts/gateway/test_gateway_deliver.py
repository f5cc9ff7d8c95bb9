"""Destination side: verification and single delivery, every revert path, admin."""

from __future__ import annotations

import ape
import pytest
from eth_utils import to_checksum_address

from accord.chain.types import MessageStatus
from accord.crosschain.messages import attestation_digest, encode_interop_address, sign_digest

GAS_LIMIT = 200_000  # gas the relayer gives each recipient call

UNKNOWN, DELIVERED, FAILED, EXPIRED, CANCELLED = MessageStatus


def _status(dst, m):
    return tuple(dst.messageStatus(m.origin_chain_id, m.origin_gateway, m.nonce, m.id))


def test_deliver_calls_recipient_with_id_and_interop_sender(dst, src, recipient, make_message,
                                                            sign, relayer, user, chain_id):
    m = make_message(recipient, b"payload", nonce=7)
    assert _status(dst, m)[0] == UNKNOWN
    tx = dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    assert [bytes(e.id) for e in tx.decode_logs(dst.MessageDelivered)] == [m.id]
    gateway, rid, sender, payload = recipient.last()
    assert gateway == dst.address
    assert bytes(rid) == m.id
    assert bytes(sender) == encode_interop_address(chain_id, user.address)
    assert bytes(payload) == b"payload"
    assert _status(dst, m)[0] == DELIVERED
    assert dst.messageId(m.encode()) == m.id


def test_contract_digest_matches_python(dst, src, make_message, chain_id):
    m = make_message("0x" + "11" * 20)
    assert bytes(dst.attestationDigest(chain_id, src.address, m.id, False)) == \
        attestation_digest(chain_id, src.address, m.id)
    assert bytes(dst.attestationDigest(chain_id, src.address, m.id, True)) == \
        attestation_digest(chain_id, src.address, m.id, batch=True)


def test_deliver_accepts_all_three_signatures(dst, recipient, make_message, sign, relayer,
                                              validators):
    m = make_message(recipient, nonce=8)
    dst.deliver(m.encode(), sign(m, signers=validators), GAS_LIMIT, sender=relayer)
    assert _status(dst, m)[0] == DELIVERED


@pytest.mark.covers("AccordGateway.deliver", "replay")
def test_deliver_reverts_on_replay(dst, recipient, make_message, sign, relayer):
    m = make_message(recipient, nonce=9)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    with ape.reverts(dst.AccordGatewayAlreadyProcessed, id=m.id):
        dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "replay")
def test_deliver_reverts_on_other_message_reusing_a_delivered_nonce(dst, recipient, make_message,
                                                                    sign, relayer):
    m = make_message(recipient, b"one", nonce=10)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    twin = make_message(recipient, b"two", nonce=10)
    with ape.reverts(dst.AccordGatewayAlreadyProcessed, id=twin.id):
        dst.deliver(twin.encode(), sign(twin), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_wrong_destination(dst, recipient, make_message, sign, relayer,
                                              chain_id):
    m = make_message(recipient, destination=chain_id + 1)
    with ape.reverts(dst.AccordGatewayWrongDestination, destinationChainId=chain_id + 1,
                     chainId=chain_id):
        dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_untrusted_origin_gateway(dst, recipient, make_message, sign, relayer,
                                                     chain_id, user):
    m = make_message(recipient, origin_gateway=user.address)
    with ape.reverts(dst.AccordGatewayUntrustedOrigin, originChainId=chain_id,
                     gateway=user.address):
        dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_unconfigured_origin_chain(dst, src, recipient, make_message, sign,
                                                      relayer):
    m = make_message(recipient)
    m = type(m)(**{**m.__dict__, "origin_chain_id": 424242})
    with ape.reverts(dst.AccordGatewayUntrustedOrigin, originChainId=424242, gateway=src.address):
        dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "wrong_caller")
def test_deliver_reverts_on_signature_by_non_validator(dst, recipient, make_message, sign,
                                                       relayer, validators, outsider, chain_id):
    m = make_message(recipient)
    sigs = sign(m, signers=[validators[0], outsider])
    with ape.reverts(dst.AccordGatewaySignerNotValidator, originChainId=chain_id,
                     signer=outsider.address):
        dst.deliver(m.encode(), sigs, GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_signatures_over_another_message(dst, recipient, make_message, sign,
                                                            relayer):
    m = make_message(recipient, b"real")
    forged = make_message(recipient, b"forged")
    with ape.reverts(dst.AccordGatewaySignerNotValidator):
        dst.deliver(forged.encode(), sign(m), GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_signature_under_another_domain(dst, recipient, make_message, relayer,
                                                           validators, user, chain_id):
    m = make_message(recipient)
    digest = attestation_digest(chain_id, user.address, m.id)  # wrong origin gateway
    sigs = b"".join(sign_digest(v, digest) for v in validators[:2])
    with ape.reverts(dst.AccordGatewaySignerNotValidator):
        dst.deliver(m.encode(), sigs, GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_too_few_signatures(dst, recipient, make_message, sign, relayer,
                                               validators):
    m = make_message(recipient)
    with ape.reverts(dst.AccordGatewayInsufficientSignatures, count=1, threshold=2):
        dst.deliver(m.encode(), sign(m, signers=validators[:1]), GAS_LIMIT, sender=relayer)
    with ape.reverts(dst.AccordGatewayInsufficientSignatures, count=0, threshold=2):
        dst.deliver(m.encode(), b"", GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_duplicated_signature(dst, recipient, make_message, sign, relayer,
                                                 validators):
    m = make_message(recipient)
    one = sign(m, signers=validators[:1])
    with ape.reverts(dst.AccordGatewayDuplicateSigner, signer=validators[0].address):
        dst.deliver(m.encode(), one + one, GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_unsorted_signatures(dst, recipient, make_message, sign, relayer,
                                                validators):
    m = make_message(recipient)
    sigs = sign(m, signers=[validators[1], validators[0]], ordered=False)
    with ape.reverts(dst.AccordGatewaySignersNotAscending, previous=validators[1].address,
                     signer=validators[0].address):
        dst.deliver(m.encode(), sigs, GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_on_bad_signature_encoding(dst, recipient, make_message, sign, relayer):
    m = make_message(recipient)
    sigs = sign(m)
    with ape.reverts(dst.AccordGatewayInvalidSignatureLength, length=len(sigs) - 1):
        dst.deliver(m.encode(), sigs[:-1], GAS_LIMIT, sender=relayer)
    bad_v = sigs[:64] + b"\x05" + sigs[65:]
    with ape.reverts(dst.ECDSAInvalidSignature):
        dst.deliver(m.encode(), bad_v, GAS_LIMIT, sender=relayer)
    # a high-s (malleable) twin of a valid signature is rejected
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    r, s, v = sigs[:32], int.from_bytes(sigs[32:64], "big"), sigs[64]
    twin = r + (n - s).to_bytes(32, "big") + bytes([55 - v]) + sigs[65:]
    with ape.reverts(dst.ECDSAInvalidSignatureS):
        dst.deliver(m.encode(), twin, GAS_LIMIT, sender=relayer)


@pytest.mark.covers("AccordGateway.deliver", "wrong_state")
def test_deliver_reverts_after_expiry(dst, recipient, make_message, sign, relayer, chain):
    expiry = chain.pending_timestamp + 100
    m = make_message(recipient, expiry=expiry)
    chain.pending_timestamp = expiry + 1
    with ape.reverts(dst.AccordGatewayMessageExpired, id=m.id, expiry=expiry):
        dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)


def test_deliver_before_expiry_succeeds(dst, recipient, make_message, sign, relayer, chain):
    m = make_message(recipient, nonce=11, expiry=chain.pending_timestamp + 100)
    dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    assert _status(dst, m)[0] == DELIVERED


@pytest.mark.covers("AccordGateway.deliver", "bad_arguments")
def test_deliver_reverts_when_transaction_gas_cannot_cover_the_gas_limit(dst, recipient,
                                                                         make_message, sign,
                                                                         relayer):
    m = make_message(recipient, nonce=12)
    with ape.reverts(dst.AccordGatewayInsufficientGas, gasLimit=1_000_000):
        dst.deliver(m.encode(), sign(m), 1_000_000, sender=relayer, gas=600_000)
    assert _status(dst, m)[0] == UNKNOWN


@pytest.mark.covers("AccordGateway.deliver", "wrong_caller", "wrong_state")
def test_rotated_out_validators_can_no_longer_sign(dst, recipient, make_message, sign, relayer,
                                                   admin, validators, outsider, chain_id):
    new_set = sorted([validators[2].address, outsider.address], key=lambda a: int(a, 16))
    tx = dst.setValidatorSet(chain_id, new_set, 2, sender=admin)
    log = tx.decode_logs(dst.ValidatorSetChanged)[0]
    assert [to_checksum_address(a) for a in log.validators] == new_set and log.threshold == 2
    assert not dst.isValidator(chain_id, validators[0].address)
    assert dst.isValidator(chain_id, outsider.address)
    assert list(dst.validators(chain_id)) == new_set
    m = make_message(recipient, nonce=13)
    with ape.reverts(dst.AccordGatewaySignerNotValidator, originChainId=chain_id,
                     signer=validators[0].address):
        dst.deliver(m.encode(), sign(m), GAS_LIMIT, sender=relayer)
    dst.deliver(m.encode(), sign(m, signers=[validators[2], outsider]), GAS_LIMIT,
                sender=relayer)


@pytest.mark.covers("AccordGateway.setTrustedGateway", "wrong_caller")
@pytest.mark.covers("AccordGateway.setValidatorSet", "wrong_caller")
def test_admin_functions_revert_for_non_admin(dst, user, chain_id, validators):
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=user.address):
        dst.setTrustedGateway(chain_id, user.address, sender=user)
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=user.address):
        dst.setValidatorSet(chain_id, [v.address for v in validators], 1, sender=user)


def test_set_trusted_gateway_emits_and_is_readable(dst, admin, user):
    tx = dst.setTrustedGateway(777, user.address, sender=admin)
    assert tx.decode_logs(dst.TrustedGatewaySet)[0].gateway == user.address
    assert dst.trustedGateway(777) == user.address


@pytest.mark.parametrize("case", ["empty", "unsorted", "duplicate", "zero", "threshold0",
                                  "threshold_too_high"])
@pytest.mark.covers("AccordGateway.setValidatorSet", "bad_arguments")
def test_set_validator_set_rejects_invalid_sets(dst, admin, validators, chain_id, case):
    addrs = [v.address for v in validators]
    args = {
        "empty": ([], 1),
        "unsorted": (list(reversed(addrs)), 2),
        "duplicate": ([addrs[0], addrs[0]], 1),
        "zero": (["0x" + "00" * 20, addrs[0]], 1),
        "threshold0": (addrs, 0),
        "threshold_too_high": (addrs, 4),
    }[case]
    with ape.reverts(dst.AccordGatewayInvalidValidatorSet):
        dst.setValidatorSet(chain_id, *args, sender=admin)


def test_admin_transfer_is_two_step(dst, admin, user):
    dst.transferOwnership(user, sender=admin)
    assert dst.owner() == admin.address
    dst.acceptOwnership(sender=user)
    assert dst.owner() == user.address


@pytest.mark.covers("AccordGateway.receiveMessage", "wrong_caller")
def test_receive_message_rejects_direct_calls(dst, src, user, interop):
    with ape.reverts(dst.AccordGatewayUnauthorizedNotice):
        dst.receiveMessage(b"\x00" * 32, interop(src), b"", sender=user)


@pytest.mark.parametrize("size", [0, 1, 31, 32, 33, 64, 300])
def test_deliver_passes_payloads_of_any_length_intact(dst, recipient, make_message, sign, relayer,
                                                      user, chain_id, size):
    payload = bytes((i * 7 + 1) % 256 for i in range(size))
    m = make_message(recipient, payload, nonce=600 + size)
    dst.deliver(m.encode(), sign(m), 1_000_000, sender=relayer)  # the mock stores the payload
    _, rid, sender, got = recipient.last()
    assert (bytes(rid), bytes(sender), bytes(got)) == (
        m.id, encode_interop_address(chain_id, user.address), payload)


def test_deliver_accepts_non_adjacent_validators(dst, recipient, make_message, sign, relayer,
                                                 validators):
    m = make_message(recipient, nonce=14)
    dst.deliver(m.encode(), sign(m, signers=[validators[0], validators[2]]), GAS_LIMIT,
                sender=relayer)
    assert _status(dst, m)[0] == DELIVERED


def test_origin_config_is_one_slot_pointing_at_the_set_code(dst, src, chain_id, validators):
    cfg = dst.originConfig(chain_id)
    assert (cfg.threshold, cfg.size) == (2, 3)
    assert dst.trustedGateway(chain_id) == src.address
    assert list(dst.validators(chain_id)) == [v.address for v in validators]
    assert dst.trustedGateway(123456) == "0x" + "00" * 20


# ---------------------------------------------------------------- negatives for the matrix
@pytest.mark.covers("AccordGateway.transferOwnership", "wrong_caller")
@pytest.mark.covers("AccordGateway.acceptOwnership", "wrong_caller", "wrong_state", "replay")
def test_two_step_transfer_refuses_strangers_and_a_second_accept(dst, admin, user, relayer):
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=user.address):
        dst.transferOwnership(user.address, sender=user)
    # nothing pending: even the owner cannot accept
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=admin.address):
        dst.acceptOwnership(sender=admin)
    dst.transferOwnership(user.address, sender=admin)
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=relayer.address):
        dst.acceptOwnership(sender=relayer)
    dst.acceptOwnership(sender=user)
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=user.address):
        dst.acceptOwnership(sender=user)
    assert dst.owner() == user.address and dst.pendingOwner() == "0x" + "00" * 20


@pytest.mark.covers("AccordGateway.renounceOwnership", "wrong_caller", "replay")
def test_renounce_ownership_is_owner_only_and_final(dst, admin, user):
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=user.address):
        dst.renounceOwnership(sender=user)
    dst.renounceOwnership(sender=admin)
    with ape.reverts(dst.OwnableUnauthorizedAccount, account=admin.address):
        dst.renounceOwnership(sender=admin)
