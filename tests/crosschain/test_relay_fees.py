"""Relayer fees across two chains: a relayer run with the ``paid`` fee policy delivers what
was paid for on the origin's gas paymaster at the current quote, holds back the rest with a
reason `accord message status` shows, and delivers a message once it is paid (`accord message
pay`); a held-back message can still be delivered by anyone with its attestations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from web3.logs import DISCARD

from accord.chain.accounts import dev_account
from accord.chain.types import GasOracle, MessageStatus, MessageStatusInfo
from accord.crosschain.attestation_store import SqliteStore
from accord.crosschain.fee_policy import UNPAID, FeeGate
from accord.crosschain.messages import encode_interop_address, pack_signatures
from accord.crosschain.paymaster import Paymaster, quote_of, send_and_pay
from accord.crosschain.relayer import Relayer, RelayerConfig
from accord.crosschain.trace import find_sent
from accord.dev.devnet import Devnet

WINDOW = 10
ORACLE = GasOracle(10**10, 10**9, 60_000)  # chainb's gas at 1 gwei, same token, 60k overhead


def _paymaster(tc: Any) -> Paymaster:
    """A paymaster on chaina (the origin) that quotes chainb, fees to dev account 3."""
    contract, _ = tc.a.client.deploy("AccordGasPaymaster", tc.admin.address,
                                     dev_account(3).address, sender=tc.admin)
    tc.a.client.transact(contract.functions.setGasOracle(tc.b.client.chain_id, tuple(ORACLE)),
                         tc.admin)
    return Paymaster(tc.a.client, contract.address)


def _send(tc: Any, payload: bytes = b"job") -> str:
    """One unpaid message chaina -> chainb's counting recipient; its id."""
    gw = tc.a.client.contract("AccordGateway", tc.a.gateway)
    receipt = tc.a.client.transact(gw.functions.sendMessage(
        encode_interop_address(tc.b.client.chain_id, tc.b.recipient), payload, []), tc.admin)
    sent = gw.events.MessageSent().process_receipt(receipt, errors=DISCARD)
    return "0x" + bytes(sent[0]["args"]["sendId"]).hex()


def _relayer(tc: Any, store: SqliteStore, pm: Paymaster) -> Relayer:
    for v in tc.validator_set(tc.a, store, window=WINDOW):
        v.poll_once()
    cfg = RelayerConfig(gateway=tc.b.gateway, origin_chain=tc.a.client.chain_id,
                        threshold=tc.threshold, batch_size=WINDOW, backoff_s=0.0,
                        retry_backoff_s=0.0)
    route = f"{tc.a.client.chain_id}->{tc.b.client.chain_id}"
    gate = FeeGate(pm, store, route, tc.b.client.chain_id, recheck_s=0.0, max_recheck_s=0.0)
    return Relayer(tc.b.client, store, dev_account(3), cfg, gate)


def _on_chain(tc: Any, mid: str, nonce: int) -> MessageStatus:
    gw = tc.b.client.contract("AccordGateway", tc.b.gateway)
    return MessageStatusInfo.from_abi(gw.functions.messageStatus(
        tc.a.client.chain_id, tc.a.gateway, nonce, bytes.fromhex(mid[2:])).call()).status


def _cli(tc: Any, devnet: Devnet, manifests: Path, pm: Paymaster, *args: str) -> Any:
    """`accord ARGS` against this test's contracts (devnet and deployment manifests)."""
    from accord.cli import cli
    from accord.dev.devnet import manifest_path

    manifest_path().parent.mkdir(parents=True, exist_ok=True)
    devnet.write_manifest()
    manifests.mkdir(parents=True, exist_ok=True)
    for side, name, extra in ((tc.a, "chaina", {"paymaster": {"address": pm.address}}),
                              (tc.b, "chainb", {})):
        (manifests / f"ethereum_{name}.json").write_text(json.dumps(
            {"chain_id": side.client.chain_id,
             "contracts": {"gateway": {"address": side.gateway}, **extra}}))
    return CliRunner().invoke(cli, list(args))


def test_a_paid_relayer_delivers_the_paid_message_holds_back_the_unpaid_one_and_anyone_may_deliver_it(  # noqa: E501
        tc: Any, store_path: Path, devnet: Devnet, manifests: Path) -> None:
    store = SqliteStore(store_path)
    pm = _paymaster(tc)
    quote = quote_of(ORACLE, 200_000)
    paid = send_and_pay(tc.a.client, tc.a.gateway, pm, tc.admin, tc.b.client.chain_id,
                        tc.b.recipient, b"paid")
    assert paid.payment.payment == paid.payment.total == quote == pm.paid_for(paid.id)
    unpaid = _send(tc, b"unpaid")
    relayer = _relayer(tc, store, pm)

    assert relayer.step() == 1
    assert store.message(paid.id).status == "delivered"  # type: ignore[union-attr]
    held = store.message(unpaid)
    assert held is not None and held.status == UNPAID
    assert held.note == (f"not relayed: paid 0 wei of the {quote:,} wei quote for 200,000 gas "
                         f"to chain {tc.b.client.chain_id} (fee policy 'paid'); pay the rest "
                         f"with 'accord message pay {unpaid} --network <origin>', or anyone "
                         "may deliver it (self-relay)")
    for _ in range(3):  # looked at again, never delivered
        relayer.step()
    assert _on_chain(tc, unpaid, 1) is MessageStatus.UNKNOWN
    assert relayer.metrics_text().count("accord_relayer_unpaid 1") == 1

    out = _cli(tc, devnet, manifests, pm, "message", "status", unpaid, "--network", "chaina",
               "--network", "chainb", "--store", str(store_path))
    assert out.exit_code == 0, out.output
    assert f"  relayer   {held.note}" in out.output.splitlines()

    # self-relay: anyone with the attesters' signatures delivers it, paid or not
    sigs = pack_signatures([(s, bytes.fromhex(sig[2:]))
                            for s, sig in store.attestations(unpaid).items()][:2])
    assert len(sigs) == 130
    gw = tc.b.client.contract("AccordGateway", tc.b.gateway)
    found = find_sent(tc.a.client, tc.a.gateway, unpaid)  # what a self-relayer reads
    assert found is not None
    tc.b.client.transact(gw.functions.deliver(found[0].encode(), sigs, 0), dev_account(9))
    assert _on_chain(tc, unpaid, 1) is MessageStatus.DELIVERED
    relayer.step()  # the relayer's next look finds it delivered by someone else
    assert store.message(unpaid).status == "delivered"  # type: ignore[union-attr]
    assert tc.delivered_total(tc.b) == 2


def test_a_held_back_message_is_delivered_once_it_is_paid_with_accord_message_pay(
        tc: Any, store_path: Path, devnet: Devnet, manifests: Path) -> None:
    store = SqliteStore(store_path)
    pm = _paymaster(tc)
    mid = _send(tc)
    relayer = _relayer(tc, store, pm)
    relayer.step()
    assert store.message(mid).status == UNPAID  # type: ignore[union-attr]

    quote = quote_of(ORACLE, 200_000)
    shown = _cli(tc, devnet, manifests, pm, "message", "pay", mid, "--network", "chaina",
                 "--quote")
    assert shown.exit_code == 0, shown.output
    assert f"paid 0 wei, quote {quote:,} wei ({quote:,} wei short)" in shown.output
    out = _cli(tc, devnet, manifests, pm, "message", "pay", mid, "--network", "chaina",
               "--dev-account", "4", "--max-fee", "0.01ether")
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"paid {quote:,} wei for message {mid}")
    assert pm.paid_for(mid) == quote
    again = _cli(tc, devnet, manifests, pm, "message", "pay", mid, "--network", "chaina")
    assert again.exit_code == 0 and "(covers it); nothing to pay" in again.output

    assert relayer.step() == 1
    rec = store.message(mid)
    assert rec is not None and rec.status == "delivered"
    assert rec.note == f"paid {quote:,} wei, covers the {quote:,} wei quote: relaying"


def test_a_price_rise_holds_a_paid_message_back_until_it_is_topped_up(
        tc: Any, store_path: Path) -> None:
    """The relayer compares what was paid with the quote now, not at payment: the owner
    raising the price after a payment leaves the message short until someone tops it up."""
    store = SqliteStore(store_path)
    pm = _paymaster(tc)
    sent = send_and_pay(tc.a.client, tc.a.gateway, pm, tc.admin, tc.b.client.chain_id,
                        tc.b.recipient, b"early", gas_limit=300_000)
    dearer = GasOracle(ORACLE.tokenExchangeRate, 2 * ORACLE.gasPrice, ORACLE.gasOverhead)
    tc.a.client.transact(pm.contract.functions.setGasOracle(tc.b.client.chain_id,
                                                           tuple(dearer)), tc.admin)
    relayer = _relayer(tc, store, pm)
    relayer.step()
    rec = store.message(sent.id)
    assert rec is not None and rec.status == UNPAID
    assert rec.note is not None and rec.note.startswith(
        f"not relayed: paid {quote_of(ORACLE, 300_000):,} wei of the "
        f"{quote_of(dearer, 300_000):,} wei quote for 300,000 gas")
    top = pm.top_up(sent.message, dev_account(4))
    assert top is not None and top.gas_limit < 300_000  # just the difference
    assert relayer.step() == 1
    assert store.message(sent.id).status == "delivered"  # type: ignore[union-attr]


def test_without_an_oracle_nothing_is_paid_and_the_note_says_who_fixes_it(
        tc: Any, store_path: Path) -> None:
    store = SqliteStore(store_path)
    pm = _paymaster(tc)
    tc.a.client.transact(pm.contract.functions.setGasOracle(tc.b.client.chain_id, (0, 0, 0)),
                         tc.admin)
    mid = _send(tc)
    relayer = _relayer(tc, store, pm)
    assert relayer.step() == 0
    rec = store.message(mid)
    assert rec is not None and rec.status == UNPAID and rec.note is not None
    assert f"has no gas oracle for chain {tc.b.client.chain_id}" in rec.note


def test_the_pay_and_relay_commands_refuse_bad_input_in_one_line(
        tc: Any, devnet: Devnet, manifests: Path) -> None:
    pm = _paymaster(tc)
    cases = [
        (["message", "pay", "0x1234", "--network", "chaina"], "is not a message id"),
        (["message", "pay", "0x" + "ab" * 32, "--network", "chainq"], "unknown network"),
        (["message", "pay", "0x" + "ab" * 32, "--network", "chaina"],
         "was not sent by the gateway"),
        (["message", "pay", "0x" + "ab" * 32, "--network", "chaina", "--max-fee", "lots"],
         "is not an amount"),
        (["relay", "--from", tc.a.chain.rpc_url, "--to", "chainb", "--dev-account", "3",
          "--fee-policy", "paid"], "needs --paymaster"),
        (["relay", "--from", "chaina", "--to", "chainb", "--dev-account", "3",
          "--paymaster", pm.address], "only used with --fee-policy paid"),
    ]
    for args, text in cases:
        out = _cli(tc, devnet, manifests, pm, *args)
        assert out.exit_code == 1, (args, out.output)
        assert text in out.output and out.output.count("\n") == 1, (args, out.output)
    bad = _cli(tc, devnet, manifests, pm, "relay", "--from", "chaina", "--to", "chainb",
               "--fee-policy", "some")
    assert bad.exit_code == 2 and "'any'" in bad.output and "'paid'" in bad.output
    helped = _cli(tc, devnet, manifests, pm, "message", "pay", "--help")
    assert helped.exit_code == 0
    assert "self-relay" in helped.output and "--max-fee" in helped.output


def test_a_paid_message_behind_a_page_of_never_paid_ones_is_still_looked_at_again(
        tc: Any, store_path: Path) -> None:
    """A stranger's unpaid messages fill the first pages of the unpaid list; the recheck
    goes round all of them, so a message paid later is delivered within a few passes."""
    store = SqliteStore(store_path)
    pm = _paymaster(tc)
    tc.send(tc.a, tc.b, 12)  # the stranger's, never paid
    mid = _send(tc, b"victim")
    relayer = _relayer(tc, store, pm)
    assert relayer.fees is not None
    relayer.fees.batch = 5  # pages of 5: the victim is on the third
    relayer.step()
    assert store.message(mid).status == UNPAID  # type: ignore[union-attr]
    pm_contract = tc.a.client.contract("AccordGasPaymaster", pm.address)
    tc.a.client.transact(pm_contract.functions.payForGas(
        mid, tc.b.client.chain_id, 200_000, tc.admin.address), tc.admin,
        value=quote_of(ORACLE, 200_000))
    for _ in range(4):
        relayer.step()
    rec = store.message(mid)
    assert rec is not None and rec.status == "delivered"


def test_a_paid_relayer_gives_a_recipient_only_the_gas_that_was_paid_for(
        tc: Any, store_path: Path) -> None:
    """The relayer's own --recipient-gas floor is a courtesy it pays for; under the paid
    policy a message gets the gas its sender fixed and paid for, no more."""
    store = SqliteStore(store_path)
    pm = _paymaster(tc)
    relayer = _relayer(tc, store, pm)
    relayer.config.recipient_gas = 1_000_000
    m = type("M", (), {"body": {"gasLimit": 200_000}})()
    assert relayer._recipient_gas(m) == 200_000  # type: ignore[arg-type]
    relayer.fees = None
    assert relayer._recipient_gas(m) == 1_000_000  # type: ignore[arg-type]


def test_a_relayer_that_delivers_everything_takes_over_what_a_paid_one_held_back(
        tc: Any, store_path: Path) -> None:
    store = SqliteStore(store_path)
    pm = _paymaster(tc)
    mid = _send(tc)
    _relayer(tc, store, pm).step()
    assert store.message(mid).status == UNPAID  # type: ignore[union-attr]
    cfg = RelayerConfig(gateway=tc.b.gateway, origin_chain=tc.a.client.chain_id,
                        threshold=tc.threshold, batch_size=WINDOW)
    anyone = Relayer(tc.b.client, store, dev_account(4), cfg)  # --fee-policy any
    assert anyone.step() == 1
    assert store.message(mid).status == "delivered"  # type: ignore[union-attr]
