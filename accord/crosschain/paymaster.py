"""Relayer fees, paid on the origin chain: quotes, payments and what a message has been paid.

The gateway carries no value (ERC-7786 ``sendMessage`` rejects it), so a sender who wants a
relayer to deliver pays ``AccordGasPaymaster`` on the origin chain for the message id, at the
quote of the destination's gas oracle for the message's gas (see
``interfaces/IAccordGasPaymaster.sol`` and ``docs/relayer-fees.md``)::

    quote = (gasLimit + gasOverhead) * gasPrice * tokenExchangeRate // 1e10

:class:`Paymaster` wraps one deployed paymaster; :func:`send_and_pay` sends a message and pays
for it, the way a script does it. A payment is a promise of nobody's: relayers with
``--fee-policy paid`` deliver what is paid (``accord.crosschain.fee_policy``), and anyone may
deliver any message with its attestations whether it was paid for or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from accord.chain.client import Client, with_retries
from accord.chain.types import GasOracle
from accord.crosschain.messages import (
    DEFAULT_GAS_LIMIT,
    MAX_GAS_LIMIT,
    Message,
    encode_interop_address,
    expiry_attribute,
    gas_limit_attribute,
    message_from_sent,
)
from accord.errors import ContractRevert, PaymentError

TOKEN_EXCHANGE_RATE_SCALE = 10**10
"""``AccordGasPaymaster.TOKEN_EXCHANGE_RATE_SCALE``: 1e10 is "one destination token is worth
one origin token" (Hyperlane's scale)."""


def quote_of(oracle: GasOracle, gas_limit: int) -> int:
    """What ``quoteGasPayment`` answers for ``gas_limit`` under ``oracle`` (rounded down)."""
    if oracle.tokenExchangeRate == 0:
        raise PaymentError("no gas oracle: the destination has no price; its paymaster's owner "
                           "sets one (setGasOracle, or 'accord link' on devnets)")
    return ((gas_limit + oracle.gasOverhead) * oracle.gasPrice * oracle.tokenExchangeRate
            // TOKEN_EXCHANGE_RATE_SCALE)


def top_up_gas(oracle: GasOracle, shortfall: int) -> int:
    """The least gas limit whose quote under ``oracle`` is at least ``shortfall`` wei (0 when
    the overhead alone covers it): what a top-up pays for."""
    per_gas = oracle.gasPrice * oracle.tokenExchangeRate
    if shortfall <= 0 or per_gas == 0:
        return 0
    # floor(x / S) >= k  <=>  x >= k * S, so the least total gas is ceil(k * S / per_gas)
    need = -(-shortfall * TOKEN_EXCHANGE_RATE_SCALE // per_gas)
    return max(need - oracle.gasOverhead, 0)


def _hex(message_id: bytes | str) -> str:
    if isinstance(message_id, bytes | bytearray):
        return "0x" + bytes(message_id).hex()
    return message_id.lower()


def _raw(message_id: bytes | str) -> bytes:
    raw = bytes(message_id) if isinstance(message_id, bytes | bytearray) else bytes.fromhex(
        message_id.removeprefix("0x"))
    if len(raw) != 32:
        raise PaymentError(f"{_hex(message_id)} is not a message id; pass the 0x-prefixed "
                           "32-byte id")
    return raw


@dataclass(frozen=True)
class Payment:
    """One ``payForGas``: ``payment`` wei kept for ``gas_limit`` gas, ``total`` paid for the id
    after it."""

    message_id: str
    destination_chain_id: int
    gas_limit: int
    payment: int
    total: int
    tx: str


@dataclass(frozen=True)
class Coverage:
    """What a message has been paid against what delivering it costs now."""

    paid: int
    quote: int

    @property
    def covered(self) -> bool:
        return self.paid >= self.quote

    @property
    def shortfall(self) -> int:
        return max(self.quote - self.paid, 0)


class Paymaster:
    """One deployed ``AccordGasPaymaster`` (on a message's origin chain)."""

    def __init__(self, client: Client, address: str) -> None:
        self.client = client
        self.address = Web3.to_checksum_address(address)
        self.contract = client.contract("AccordGasPaymaster", self.address)

    def __repr__(self) -> str:
        return f"Paymaster({self.address} on chain {self.client.chain_id})"

    # -- reads --------------------------------------------------------------------------------
    def oracle(self, destination_chain_id: int) -> GasOracle:
        """``destination_chain_id``'s oracle (all zero: none)."""
        return GasOracle.from_abi(with_retries(
            self.contract.functions.gasOracle(destination_chain_id).call,
            f"reading the gas oracle of chain {destination_chain_id}"))

    def quote(self, destination_chain_id: int, gas_limit: int = DEFAULT_GAS_LIMIT) -> int:
        """What delivering ``gas_limit`` recipient gas to ``destination_chain_id`` costs now."""
        self._check_gas(gas_limit)
        oracle = self.oracle(destination_chain_id)
        if oracle.tokenExchangeRate == 0:
            raise self._no_oracle(destination_chain_id)
        return quote_of(oracle, gas_limit)

    def paid_for(self, message_id: bytes | str) -> int:
        """Wei paid for ``message_id`` so far."""
        return int(with_retries(self.contract.functions.paidFor(_raw(message_id)).call,
                                f"reading what {_hex(message_id)} was paid"))

    def paid_many(self, message_ids: Sequence[str]) -> dict[str, int]:
        """Wei paid per id, in one JSON-RPC batch (singly if the node refuses batches)."""
        if len(message_ids) <= 1:
            return {mid: self.paid_for(mid) for mid in message_ids}

        def batched() -> list[Any]:
            with self.client.w3.batch_requests() as batch:
                for mid in message_ids:
                    batch.add(self.contract.functions.paidFor(_raw(mid)))
                return list(batch.execute())

        try:
            replies = with_retries(batched, "reading what messages were paid", attempts=3,
                                   first_wait_s=0.02)
            return {mid: int(r) for mid, r in zip(message_ids, replies, strict=True)}
        except Exception:  # noqa: BLE001 (a node without batches: ask one by one)
            return {mid: self.paid_for(mid) for mid in message_ids}

    def coverage(self, message: Message) -> Coverage:
        """What ``message`` was paid against its quote now (for its own gas and destination)."""
        return Coverage(self.paid_for(message.id),
                        self.quote(message.destination_chain_id, message.gas_limit))

    # -- payments -------------------------------------------------------------------------------
    def pay(self, message_id: bytes | str, destination_chain_id: int, gas_limit: int,
            payer: LocalAccount, *, refund_to: str | None = None,
            max_fee: int | None = None) -> Payment:
        """Pay the quote for ``message_id``. With ``max_fee`` the payer sends that much and the
        paymaster keeps the quote at execution, refunding the rest to ``refund_to`` (default:
        the payer), so a price rise up to ``max_fee`` between quote and inclusion still goes
        through; without it exactly the current quote is sent."""
        quote = self.quote(destination_chain_id, gas_limit)
        if max_fee is not None and quote > max_fee:
            raise PaymentError(f"the quote for {gas_limit:,} gas to chain {destination_chain_id} "
                               f"is {quote:,} wei, above the {max_fee:,} wei you allow; raise "
                               "the limit or wait for a lower price")
        value = quote if max_fee is None else max_fee
        refund = Web3.to_checksum_address(refund_to or payer.address)
        fn = self.contract.functions.payForGas(_raw(message_id), destination_chain_id,
                                               gas_limit, refund)
        try:
            receipt = self.client.transact(fn, payer, value=value)
        except ContractRevert as exc:
            raise self._explain(exc, destination_chain_id) from None
        paid = self.contract.events.GasPaid().process_receipt(receipt, errors=DISCARD)
        kept = int(paid[0]["args"]["payment"]) if paid else quote
        return Payment(_hex(message_id), destination_chain_id, gas_limit, kept,
                       self.paid_for(message_id),
                       "0x" + bytes(receipt["transactionHash"]).hex())

    def top_up(self, message: Message, payer: LocalAccount, *, refund_to: str | None = None,
               max_fee: int | None = None) -> Payment | None:
        """Bring what ``message`` was paid up to its quote now: the whole quote if it was never
        paid, else just enough gas to cover the shortfall (after a price rise). None when it
        is covered already."""
        have = self.coverage(message)
        if have.covered:
            return None
        gas = message.gas_limit if have.paid == 0 else top_up_gas(
            self.oracle(message.destination_chain_id), have.shortfall)
        return self.pay(message.id, message.destination_chain_id, gas, payer,
                        refund_to=refund_to, max_fee=max_fee)

    # -- errors ---------------------------------------------------------------------------------
    def _no_oracle(self, destination_chain_id: int) -> PaymentError:
        return PaymentError(
            f"the paymaster {self.address} on chain {self.client.chain_id} has no gas oracle "
            f"for chain {destination_chain_id}: messages there cannot be paid for; its owner "
            "sets one (setGasOracle, or 'accord link' on devnets), or deliver the message "
            "yourself")

    @staticmethod
    def _check_gas(gas_limit: int) -> None:
        if not 0 <= gas_limit <= MAX_GAS_LIMIT:
            raise PaymentError(f"gas limit {gas_limit:,} is outside 0..{MAX_GAS_LIMIT:,}, the "
                               "recipient gas a message can have")

    def _explain(self, exc: ContractRevert, destination_chain_id: int) -> Exception:
        args = exc.args_
        if exc.name == "GasPaymasterUnknownDestination":
            return self._no_oracle(destination_chain_id)
        if exc.name == "GasPaymasterInsufficientPayment":
            return PaymentError(f"{args[1]:,} wei does not cover the {args[2]:,} wei quote (the "
                                "price rose since it was read); pay again, or allow a higher "
                                "fee")
        if exc.name == "GasPaymasterRefundFailed":
            return PaymentError(f"refunding {args[1]:,} wei to {args[0]} failed (it rejects "
                                "ETH), so nothing was paid; pass a refund address that accepts "
                                "ETH")
        if exc.name == "GasPaymasterGasLimitTooHigh":
            return PaymentError(f"gas limit {args[0]:,} is above {args[1]:,}, the most a message "
                                "can have")
        return exc


# ---------------------------------------------------------------- sending and paying
@dataclass(frozen=True)
class PaidMessage:
    """A message sent and paid for: every field its id commits to, and the payment."""

    message: Message
    payment: Payment

    @property
    def id(self) -> str:
        return "0x" + self.message.id.hex()


def sent_messages(client: Client, gateway: str, receipt: Any) -> list[Message]:
    """The messages ``gateway`` sent in the transaction of ``receipt`` (MessageSent and the
    MessageNonce that follows each), rebuilt as a relayer does; ids checked."""
    gw = client.contract("AccordGateway", gateway)
    sent = gw.events.MessageSent().process_receipt(receipt, errors=DISCARD)
    nonces = {bytes(e["args"]["id"]): int(e["args"]["nonce"])
              for e in gw.events.MessageNonce().process_receipt(receipt, errors=DISCARD)}
    out = []
    for e in sent:
        a = e["args"]
        m = message_from_sent(gw.address, bytes(a["sender"]), bytes(a["recipient"]),
                              bytes(a["payload"]), [bytes(x) for x in a["attributes"]],
                              nonces[bytes(a["sendId"])])
        assert m.id == bytes(a["sendId"]), "Python and Solidity message ids disagree"
        out.append(m)
    return out


def send_and_pay(client: Client, gateway: str, paymaster: Paymaster, sender: LocalAccount,
                 destination_chain_id: int, recipient: str, payload: bytes, *,
                 gas_limit: int | None = None, expiry: int = 0, refund_to: str | None = None,
                 max_fee: int | None = None) -> PaidMessage:
    """Send ``payload`` to ``recipient`` on ``destination_chain_id`` through ``gateway`` and
    pay its relayer fee (two transactions: the gateway carries no value). The quote is read
    first, so a destination that cannot be paid for fails before anything is sent.
    ``gas_limit`` is the recipient's gas (``minGasLimit``; ``DEFAULT_GAS_LIMIT`` when None).
    If the payment fails after the send, the PaymentError names the id to pay for with
    ``accord message pay``."""
    gas = DEFAULT_GAS_LIMIT if gas_limit is None else gas_limit
    quote = paymaster.quote(destination_chain_id, gas)
    if max_fee is not None and quote > max_fee:
        raise PaymentError(f"the quote for {gas:,} gas to chain {destination_chain_id} is "
                           f"{quote:,} wei, above the {max_fee:,} wei you allow; nothing was "
                           "sent")
    attributes = [] if gas_limit is None else [gas_limit_attribute(gas_limit)]
    if expiry:
        attributes.append(expiry_attribute(expiry))
    gw = client.contract("AccordGateway", gateway)
    receipt = client.transact(gw.functions.sendMessage(
        encode_interop_address(destination_chain_id, recipient), payload, attributes), sender)
    message = sent_messages(client, gateway, receipt)[0]
    try:
        payment = paymaster.pay(message.id, destination_chain_id, gas, sender,
                                refund_to=refund_to, max_fee=max_fee)
    except PaymentError as exc:
        raise PaymentError(f"message 0x{message.id.hex()} was sent but not paid for: {exc}; "
                           f"pay with 'accord message pay 0x{message.id.hex()}'") from exc
    return PaidMessage(message, payment)
