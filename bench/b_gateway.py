"""AccordGateway gas: send, single delivery (2-of-3, no-op recipient) and batched delivery;
and the relayer fee a sender pays beside a send (AccordGasPaymaster.payForGas).

Steady state, as most messages pay it: the sender's nonce slot and the destination's replay
word are already non-zero (the first message of every 256 nonces pays +17,100 gas for a fresh
replay word; printed below but not part of the keys). Both gateways live on one anvil; the
destination trusts the source as the gateway of this chain id (the single-chain path).
Batches deliver to one recipient (warm after the first call). ``pay_for_gas`` pays exactly
the quote for a message id not paid before (its record is a fresh storage slot), so no refund;
one with an excess to refund is printed below.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD

from accord.crosschain.messages import (
    Message,
    attestation_digest,
    batch_root,
    encode_interop_address,
    message_from_sent,
    pack_signatures,
    sign_digest,
)
from bench.common import BenchContext, gas

GAS_LIMIT = 100_000


def _payload(size: int, seed: int) -> bytes:
    out = b""
    while len(out) < size:
        out += keccak(seed.to_bytes(8, "big") + len(out).to_bytes(8, "big"))
    return out[:size]


class _Rig:
    def __init__(self, ctx: BenchContext) -> None:
        self.client = ctx.client
        self.admin = ctx.account(0)
        self.user = ctx.account(1)
        self.relayer = ctx.account(2)
        self.chain_id = self.client.chain_id
        self.validators: list[LocalAccount] = sorted(
            (Account.from_key((0xBE4C0 + i).to_bytes(32, "big")) for i in range(3)),
            key=lambda a: int(a.address, 16))
        self.src, _ = self.client.deploy("AccordGateway", self.admin.address, sender=self.admin)
        self.dst, _ = self.client.deploy("AccordGateway", self.admin.address, sender=self.admin)
        self.recipient, _ = self.client.deploy("NoopRecipient", sender=self.admin)
        self.client.transact(self.dst.functions.setTrustedGateway(self.chain_id, self.src.address),
                             self.admin)
        self.client.transact(self.dst.functions.setValidatorSet(
            self.chain_id, [v.address for v in self.validators], 2), self.admin)
        self.target = encode_interop_address(self.chain_id, self.recipient.address)
        self.paymaster, _ = self.client.deploy("AccordGasPaymaster", self.admin.address,
                                               self.relayer.address, sender=self.admin)
        # the devnet default `accord link` sets: 1 gwei, same token, 60,000 gas overhead
        self.client.transact(self.paymaster.functions.setGasOracle(
            self.chain_id, (10**10, 10**9, 60_000)), self.admin)

    def send(self, payload: bytes) -> tuple[Message, int]:
        receipt = self.client.transact(
            self.src.functions.sendMessage(self.target, payload, []), self.user)
        sent = self.src.events.MessageSent().process_receipt(receipt, errors=DISCARD)[0]["args"]
        nonce = self.src.events.MessageNonce().process_receipt(receipt, errors=DISCARD)[0]["args"]
        m = message_from_sent(self.src.address, sent["sender"], sent["recipient"],
                              sent["payload"], sent["attributes"], nonce["nonce"])
        assert m.id == bytes(sent["sendId"]), "Python and Solidity message ids disagree"
        return m, gas(receipt)

    def pay_for_gas(self, m: Message, excess: int = 0) -> int:
        """Gas of paying ``m``'s relayer fee (the quote, plus ``excess`` refunded)."""
        quote = self.paymaster.functions.quoteGasPayment(self.chain_id, m.gas_limit).call()
        receipt = self.client.transact(self.paymaster.functions.payForGas(
            m.id, self.chain_id, m.gas_limit, self.user.address), self.user,
            value=quote + excess)
        paid = self.paymaster.events.GasPaid().process_receipt(receipt, errors=DISCARD)
        assert len(paid) == 1 and paid[0]["args"]["payment"] == quote
        return gas(receipt)

    def signatures(self, digest: bytes) -> bytes:
        return pack_signatures([(v.address, sign_digest(v, digest)) for v in self.validators[:2]])

    def deliver(self, m: Message) -> int:
        sigs = self.signatures(attestation_digest(m.origin_chain_id, m.origin_gateway, m.id))
        receipt = self.client.transact(self.dst.functions.deliver(m.encode(), sigs, 0),
                                       self.relayer)
        self._check_delivered(receipt, 1)
        return gas(receipt)

    def deliver_batch(self, msgs: list[Message]) -> int:
        root = batch_root([m.id for m in msgs])
        sigs = self.signatures(attestation_digest(self.chain_id, self.src.address, root,
                                                  batch=True))
        receipt = self.client.transact(self.dst.functions.deliverBatch(
            [m.encode() for m in msgs], [], sigs, 0), self.relayer)
        self._check_delivered(receipt, len(msgs))
        return gas(receipt)

    def _check_delivered(self, receipt: Any, count: int) -> None:
        delivered = self.dst.events.MessageDelivered().process_receipt(receipt, errors=DISCARD)
        assert len(delivered) == count, f"expected {count} deliveries, got {len(delivered)}"


def run(ctx: BenchContext) -> dict[str, dict[str, int]]:
    rig = _Rig(ctx)
    # warm-up: nonce slot 0 -> 1 and the replay word of nonces 0..255 become non-zero
    first, first_send = rig.send(_payload(32, 0))
    first_deliver = rig.deliver(first)

    rig.pay_for_gas(first)  # warm-up: the paymaster's balance and oracle slot are touched

    m32, send_32 = rig.send(_payload(32, 1))
    pay_for_gas = rig.pay_for_gas(m32)
    pay_with_refund = rig.pay_for_gas(rig.send(_payload(32, 3))[0], excess=10**9)
    _, send_256 = rig.send(_payload(256, 2))
    deliver_single_32 = rig.deliver(m32)

    batch10 = [rig.send(_payload(32, 100 + i))[0] for i in range(10)]
    batch10_gas = rig.deliver_batch(batch10)
    batch50 = [rig.send(_payload(32, 200 + i))[0] for i in range(50)]
    batch50_gas = rig.deliver_batch(batch50)

    print(f"   first send (nonce slot 0->1): {first_send:,}; first delivery in a fresh replay "
          f"word: {first_deliver:,}; send_32 + deliver_single_32 = "
          f"{send_32 + deliver_single_32:,}; pay_for_gas with a refund: {pay_with_refund:,}; "
          f"send_32 + pay_for_gas = {send_32 + pay_for_gas:,}", flush=True)
    return {"gas": {
        "send_32": send_32,
        "send_256": send_256,
        "deliver_single_32": deliver_single_32,
        "deliver_batch10_per_msg": batch10_gas // 10,
        "deliver_batch50_per_msg": batch50_gas // 50,
        "pay_for_gas": pay_for_gas,
    }}
