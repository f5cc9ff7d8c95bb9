"""AccordGasPaymaster: relayer fees paid on the origin, quoted per destination (Hyperlane's
IGP). The quote math, payments recorded and topped up, refunds (and refunds that fail),
re-entry through the refund, who may set prices, and where fees can go."""

from __future__ import annotations

import ape
import pytest
from eth_utils import function_signature_to_4byte_selector

from accord.chain.accounts import dev_account
from accord.chain.client import Client
from accord.chain.types import GasOracle
from accord.crosschain.messages import MAX_GAS_LIMIT, Message
from accord.crosschain.paymaster import (
    TOKEN_EXCHANGE_RATE_SCALE,
    Paymaster,
    quote_of,
    top_up_gas,
)
from accord.errors import PaymentError

DEST = 31337002
OTHER = 31337003
# chainb's gas at 3 gwei, its token worth 1.5 of ours, 60,000 gas overhead per message
ORACLE = GasOracle(15 * 10**9, 3 * 10**9, 60_000)
ID = b"\x42" * 32
ZERO = "0x" + "00" * 20


@pytest.fixture
def owner(accounts):
    return accounts[0]


@pytest.fixture
def payer(accounts):
    return accounts[2]


@pytest.fixture
def stranger(accounts):
    return accounts[4]


@pytest.fixture
def beneficiary(accounts):
    return accounts[3]


@pytest.fixture
def pm(project, owner, beneficiary):
    paymaster = project.AccordGasPaymaster.deploy(owner, beneficiary, sender=owner)
    paymaster.setGasOracle(DEST, tuple(ORACLE), sender=owner)
    return paymaster


def _quote(gas: int, oracle: GasOracle = ORACLE) -> int:
    return (gas + oracle.gasOverhead) * oracle.gasPrice * oracle.tokenExchangeRate // 10**10


# ---------------------------------------------------------------- quotes
def test_the_quote_is_gas_plus_overhead_times_price_times_rate_rounded_down(pm, owner):
    for gas in (0, 1, 200_000, MAX_GAS_LIMIT):
        assert pm.quoteGasPayment(DEST, gas) == _quote(gas) == quote_of(ORACLE, gas)
    assert pm.quoteGasPayment(DEST, 200_000) == 260_000 * 3 * 10**9 * 3 // 2
    assert pm.TOKEN_EXCHANGE_RATE_SCALE() == TOKEN_EXCHANGE_RATE_SCALE
    # a rate that does not divide evenly rounds down, as Hyperlane's
    odd = GasOracle(3, 7, 0)
    pm.setGasOracle(OTHER, tuple(odd), sender=owner)
    assert pm.quoteGasPayment(OTHER, 1_000_000) == 7 * 3 * 1_000_000 // 10**10 == quote_of(
        odd, 1_000_000)
    assert pm.gasOracle(DEST) == tuple(ORACLE)


def test_the_largest_oracle_and_gas_limit_cannot_overflow_the_quote(pm, owner):
    """(gasLimit + overhead) * price * rate with every field at its type's maximum and the
    largest gas limit stays far below 2**256: the quote is exact, never wrapped."""
    top = GasOracle(2**128 - 1, 2**64 - 1, 2**32 - 1)
    pm.setGasOracle(OTHER, tuple(top), sender=owner)
    assert pm.quoteGasPayment(OTHER, MAX_GAS_LIMIT) == quote_of(top, MAX_GAS_LIMIT)
    assert 2**224 < (MAX_GAS_LIMIT + top.gasOverhead) * top.gasPrice * top.tokenExchangeRate < 2**226


@pytest.mark.covers("AccordGasPaymaster.payForGas", "bad_arguments")
def test_a_gas_limit_above_the_gateways_maximum_is_refused(pm, payer):
    with ape.reverts(pm.GasPaymasterGasLimitTooHigh, gasLimit=MAX_GAS_LIMIT + 1,
                     max=MAX_GAS_LIMIT):
        pm.quoteGasPayment(DEST, MAX_GAS_LIMIT + 1)
    with ape.reverts(pm.GasPaymasterGasLimitTooHigh, gasLimit=2**256 - 1, max=MAX_GAS_LIMIT):
        pm.payForGas(ID, DEST, 2**256 - 1, payer, sender=payer, value=10**18)


@pytest.mark.covers("AccordGasPaymaster.payForGas", "wrong_state")
def test_a_destination_without_an_oracle_cannot_be_quoted_or_paid(pm, owner, payer):
    with ape.reverts(pm.GasPaymasterUnknownDestination, destinationChainId=OTHER):
        pm.quoteGasPayment(OTHER, 200_000)
    with ape.reverts(pm.GasPaymasterUnknownDestination, destinationChainId=OTHER):
        pm.payForGas(ID, OTHER, 200_000, payer, sender=payer, value=10**18)
    # a zero exchange rate removes an oracle
    tx = pm.setGasOracle(DEST, (0, 0, 0), sender=owner)
    assert [(e.destinationChainId, e.tokenExchangeRate) for e in tx.events] == [(DEST, 0)]
    with ape.reverts(pm.GasPaymasterUnknownDestination, destinationChainId=DEST):
        pm.payForGas(ID, DEST, 200_000, payer, sender=payer, value=10**18)


# ---------------------------------------------------------------- payments
def test_a_payment_is_recorded_per_message_and_announced(pm, payer):
    quote = _quote(200_000)
    tx = pm.payForGas(ID, DEST, 200_000, payer, sender=payer, value=quote)
    assert [(bytes(e.messageId), e.destinationChainId, e.gasLimit, e.payment)
            for e in tx.decode_logs(pm.GasPaid)] == [(ID, DEST, 200_000, quote)]
    assert pm.paidFor(ID) == quote and pm.paidFor(b"\x43" * 32) == 0
    assert pm.balance == quote


def test_paying_again_tops_the_message_up(pm, owner, payer, stranger):
    """Payments add up per id, whoever pays: after a price rise the sender (or anyone) pays
    the difference and the message is covered at the new quote."""
    first = _quote(200_000)
    pm.payForGas(ID, DEST, 200_000, payer, sender=payer, value=first)
    dearer = GasOracle(ORACLE.tokenExchangeRate, 2 * ORACLE.gasPrice, ORACLE.gasOverhead)
    pm.setGasOracle(DEST, tuple(dearer), sender=owner)
    now = pm.quoteGasPayment(DEST, 200_000)
    assert pm.paidFor(ID) == first < now  # the old payment keeps its amount
    gas = top_up_gas(dearer, now - first)
    assert pm.quoteGasPayment(DEST, gas) >= now - first > pm.quoteGasPayment(DEST, max(gas - 1, 0))
    pm.payForGas(ID, DEST, gas, stranger, sender=stranger, value=pm.quoteGasPayment(DEST, gas))
    assert pm.paidFor(ID) >= now


@pytest.mark.covers("AccordGasPaymaster.payForGas", "bad_arguments")
def test_an_underpayment_reverts_with_what_was_sent_and_what_is_required(pm, payer):
    quote = _quote(200_000)
    with ape.reverts(pm.GasPaymasterInsufficientPayment, messageId=ID, value=quote - 1,
                     required=quote):
        pm.payForGas(ID, DEST, 200_000, payer, sender=payer, value=quote - 1)
    assert pm.paidFor(ID) == 0 and pm.balance == 0


def test_the_excess_goes_back_to_the_refund_address(pm, payer, stranger):
    quote = _quote(200_000)
    before_payer, before_refund = payer.balance, stranger.balance
    tx = pm.payForGas(ID, DEST, 200_000, stranger, sender=payer, value=quote + 12345)
    assert stranger.balance == before_refund + 12345
    assert payer.balance == before_payer - quote - 12345 - tx.total_fees_paid
    assert pm.paidFor(ID) == quote and pm.balance == quote


@pytest.mark.covers("AccordGasPaymaster.payForGas", "bad_arguments")
def test_an_excess_without_a_refund_address_is_refused(pm, payer):
    quote = _quote(200_000)
    with ape.reverts(pm.GasPaymasterInvalidRefundAddress):
        pm.payForGas(ID, DEST, 200_000, ZERO, sender=payer, value=quote + 1)
    pm.payForGas(ID, DEST, 200_000, ZERO, sender=payer, value=quote)  # nothing to refund
    assert pm.paidFor(ID) == quote


@pytest.mark.covers("AccordGasPaymaster.payForGas", "bad_arguments")
def test_a_refund_to_a_contract_that_rejects_it_reverts_the_payment(project, pm, owner, payer):
    wall = project.RejectingReceiverMock.deploy(sender=owner)
    quote = _quote(200_000)
    with ape.reverts(pm.GasPaymasterRefundFailed, refundAddress=wall.address, amount=7):
        pm.payForGas(ID, DEST, 200_000, wall, sender=payer, value=quote + 7)
    assert pm.paidFor(ID) == 0 and pm.balance == 0


@pytest.mark.covers("AccordGasPaymaster.payForGas", "replay")
@pytest.mark.covers("AccordGasPaymaster.claim", "replay")
def test_a_reentrant_refund_recipient_can_neither_pay_twice_nor_claim(project, pm, owner,
                                                                       payer, beneficiary):
    """The refund is the only call out of a payment: the refundee re-enters payForGas (to
    turn one payment into two records) and claim (to move fees while the excess still sits
    in the balance). Both are refused; the payment counts once and the fees stay put."""
    mal = project.MockReentrantRefundee.deploy(pm, sender=owner)
    quote = _quote(200_000)
    mal.pay(ID, DEST, 200_000, sender=payer, value=quote + 10**15)
    guard = function_signature_to_4byte_selector("ReentrancyGuardReentrantCall()")
    assert mal.reentryAttempts() == 1 and mal.reentrySuccesses() == 0
    assert bytes(mal.lastError()) == guard
    assert pm.paidFor(ID) == quote and pm.balance == quote
    assert mal.balance == 10**15  # its excess came back, once
    # a refundee that insists (its receive reverts when re-entry fails) loses the payment
    mal.setStrict(True, sender=owner)
    with ape.reverts(pm.GasPaymasterRefundFailed, refundAddress=mal.address, amount=10**15):
        mal.pay(b"\x43" * 32, DEST, 200_000, sender=payer, value=quote + 10**15)
    assert pm.paidFor(b"\x43" * 32) == 0
    before = pm.balance
    pm.claim(sender=owner)
    assert pm.balance == 0 and before == quote


# ---------------------------------------------------------------- claims
@pytest.mark.covers("AccordGasPaymaster.claim", "wrong_state")
@pytest.mark.covers("AccordGasPaymaster.claim", "wrong_caller")
def test_only_the_owner_or_beneficiary_claims_and_fees_go_only_to_the_beneficiary(
        pm, owner, payer, stranger, beneficiary):
    with ape.reverts(pm.GasPaymasterNothingToClaim):
        pm.claim(sender=beneficiary)
    quote = _quote(200_000)
    pm.payForGas(ID, DEST, 200_000, payer, sender=payer, value=quote)
    pm.payForGas(b"\x43" * 32, DEST, 0, payer, sender=payer, value=_quote(0))
    # a stranger cannot trigger it (it could front-run the owner replacing the beneficiary)
    with ape.reverts(pm.GasPaymasterUnauthorizedClaim, caller=stranger.address):
        pm.claim(sender=stranger)
    before_b = beneficiary.balance
    tx = pm.claim(sender=owner)
    assert [(e.beneficiary, e.amount) for e in tx.events] == [(beneficiary.address,
                                                               quote + _quote(0))]
    assert beneficiary.balance == before_b + quote + _quote(0)
    assert pm.balance == 0
    with ape.reverts(pm.GasPaymasterNothingToClaim):  # nothing left for a second claim
        pm.claim(sender=beneficiary)


def test_a_stranger_cannot_front_run_a_beneficiary_change_to_pay_the_old_one(
        pm, owner, payer, stranger, beneficiary):
    """The owner replaces a beneficiary whose key was lost: the fees not yet claimed go to
    the new one; a stranger who sees the change coming cannot claim them to the old one."""
    quote = _quote(200_000)
    pm.payForGas(ID, DEST, 200_000, payer, sender=payer, value=quote)
    with ape.reverts(pm.GasPaymasterUnauthorizedClaim, caller=stranger.address):
        pm.claim(sender=stranger)  # front-running setBeneficiary
    pm.setBeneficiary(stranger, sender=owner)
    before_old, before_new = beneficiary.balance, stranger.balance
    tx = pm.claim(sender=owner)
    assert stranger.balance == before_new + quote and beneficiary.balance == before_old
    assert tx.events[0].beneficiary == stranger.address


def test_a_beneficiary_that_rejects_fees_keeps_them_here_until_the_owner_names_another(
        project, pm, owner, payer, stranger):
    wall = project.RejectingReceiverMock.deploy(sender=owner)
    pm.setBeneficiary(wall, sender=owner)
    quote = _quote(200_000)
    pm.payForGas(ID, DEST, 200_000, payer, sender=payer, value=quote)
    with ape.reverts(pm.GasPaymasterClaimFailed, beneficiary=wall.address, amount=quote):
        pm.claim(sender=owner)
    assert pm.balance == quote
    tx = pm.setBeneficiary(stranger, sender=owner)
    assert [e.beneficiary for e in tx.events] == [stranger.address]
    before = stranger.balance
    pm.claim(sender=owner)
    assert stranger.balance == before + quote and pm.beneficiary() == stranger.address


# ---------------------------------------------------------------- the owner
@pytest.mark.covers("AccordGasPaymaster.setGasOracle", "wrong_caller")
@pytest.mark.covers("AccordGasPaymaster.setBeneficiary", "wrong_caller")
def test_only_the_owner_sets_prices_and_the_beneficiary(pm, stranger):
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=stranger.address):
        pm.setGasOracle(DEST, (1, 1, 1), sender=stranger)
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=stranger.address):
        pm.setBeneficiary(stranger, sender=stranger)
    assert pm.gasOracle(DEST) == tuple(ORACLE)


@pytest.mark.covers("AccordGasPaymaster.setGasOracle", "bad_arguments")
@pytest.mark.covers("AccordGasPaymaster.setBeneficiary", "bad_arguments")
def test_chain_zero_and_a_zero_beneficiary_are_refused(project, pm, owner):
    with ape.reverts(pm.GasPaymasterInvalidChain, chainId=0):
        pm.setGasOracle(0, tuple(ORACLE), sender=owner)
    with ape.reverts(pm.GasPaymasterInvalidBeneficiary, beneficiary=ZERO):
        pm.setBeneficiary(ZERO, sender=owner)
    with ape.reverts(pm.GasPaymasterInvalidBeneficiary, beneficiary=ZERO):
        project.AccordGasPaymaster.deploy(owner, ZERO, sender=owner)


@pytest.mark.covers("AccordGasPaymaster.transferOwnership", "wrong_caller")
@pytest.mark.covers("AccordGasPaymaster.acceptOwnership", "wrong_caller", "wrong_state", "replay")
def test_two_step_transfer_refuses_strangers_and_a_second_accept(pm, owner, payer, stranger):
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=stranger.address):
        pm.transferOwnership(stranger, sender=stranger)
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=owner.address):
        pm.acceptOwnership(sender=owner)  # nothing pending
    pm.transferOwnership(stranger, sender=owner)
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=payer.address):
        pm.acceptOwnership(sender=payer)
    pm.acceptOwnership(sender=stranger)
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=stranger.address):
        pm.acceptOwnership(sender=stranger)
    assert pm.owner() == stranger.address


@pytest.mark.covers("AccordGasPaymaster.renounceOwnership", "wrong_caller", "replay")
def test_renouncing_freezes_prices_but_fees_still_reach_the_beneficiary(pm, owner, payer,
                                                                       stranger, beneficiary):
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=stranger.address):
        pm.renounceOwnership(sender=stranger)
    pm.renounceOwnership(sender=owner)
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=owner.address):
        pm.renounceOwnership(sender=owner)
    with ape.reverts(pm.OwnableUnauthorizedAccount, account=owner.address):
        pm.setBeneficiary(owner, sender=owner)
    quote = _quote(200_000)
    pm.payForGas(ID, DEST, 200_000, payer, sender=payer, value=quote)
    before = beneficiary.balance
    tx = pm.claim(sender=beneficiary)  # with no owner left, the beneficiary still claims
    assert beneficiary.balance == before + quote - tx.total_fees_paid


# ---------------------------------------------------------------- Python
@pytest.fixture
def client(chain) -> Client:
    return Client(chain.provider.web3.provider.endpoint_uri)


def _message(gas: int = 200_000) -> Message:
    return Message(31337001, ZERO[:-1] + "1", 7, ZERO[:-1] + "2", DEST, ZERO[:-1] + "3", 0,
                   b"job", gas)


def test_python_pays_tops_up_and_reads_what_the_contract_records(pm, owner, client):
    py = Paymaster(client, pm.address)
    m = _message()
    assert py.quote(DEST, 200_000) == pm.quoteGasPayment(DEST, 200_000)
    assert py.coverage(m).shortfall == _quote(200_000)
    first = py.top_up(m, dev_account(5))
    assert first is not None and first.payment == first.total == _quote(200_000)
    assert py.paid_for(m.id) == pm.paidFor(m.id) == first.total
    assert py.top_up(m, dev_account(5)) is None  # covered: nothing paid
    pm.setGasOracle(DEST, (ORACLE.tokenExchangeRate, ORACLE.gasPrice + 10**9,
                           ORACLE.gasOverhead), sender=owner)
    short = py.coverage(m).shortfall
    more = py.top_up(m, dev_account(5))
    assert more is not None and short <= more.payment < short + _quote(0)
    assert py.coverage(m).covered
    assert py.paid_many(["0x" + m.id.hex(), "0x" + "00" * 32]) == {
        "0x" + m.id.hex(): more.total, "0x" + "00" * 32: 0}


def test_python_says_what_to_do_when_a_payment_cannot_be_made(project, pm, owner, client):
    py = Paymaster(client, pm.address)
    with pytest.raises(PaymentError, match=f"no gas oracle for chain {OTHER}.*setGasOracle"):
        py.quote(OTHER)
    with pytest.raises(PaymentError, match="above the 1 wei you allow"):
        py.pay(ID, DEST, 200_000, dev_account(5), max_fee=1)
    wall = project.RejectingReceiverMock.deploy(sender=owner)
    with pytest.raises(PaymentError, match="rejects ETH.*refund address that accepts"):
        py.pay(ID, DEST, 200_000, dev_account(5), refund_to=wall.address,
               max_fee=_quote(200_000) + 1)
    paid = py.pay(ID, DEST, 200_000, dev_account(5), max_fee=_quote(200_000) * 2)
    assert paid.payment == _quote(200_000)  # the rest went back
