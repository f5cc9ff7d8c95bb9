"""``accord message``: a message's status, its hand-back to the relayer, its relayer fee and
a run's trace."""

from __future__ import annotations

from typing import Any

import click

from accord.cli.common import one_line_errors, open_store, store_path


@click.group()
def message() -> None:
    """Inspect cross-chain messages (and pay their relayer fees)."""


@message.command("status")
@click.argument("message_id")
@click.option("--network", "networks", multiple=True,
              help="Chains to search (repeatable) [default: every running devnet chain "
                   "Accord is deployed on].")
@click.option("--store", help="The validators' and relayer's SQLite store, to show who "
                                "attested and what the relayer spent (and why it gave up).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (hashes whole, times ISO 8601) instead of lines.")
@one_line_errors
def message_status(message_id: str, networks: tuple[str, ...], store: str | None,
                   as_json: bool) -> None:
    """The life of one message: sent, attested, delivered or failed (and why), latency."""
    from pathlib import Path

    from accord.crosschain.attestation_store import SqliteStore
    from accord.crosschain.trace import check_message_id, message_life
    from accord.deploy import context
    from accord.dev.devnet import read_manifest

    check_message_id(message_id)  # before any chain is asked
    names = list(networks) or [n for n in sorted(read_manifest())
                               if context.deployment_path(n).is_file()]
    for n in names:
        context.check_network(n)
    if not names:
        raise context.ConfigError("no chains to search: pass --network, or start the devnet "
                                  "and deploy Accord on it")
    views = [_chain_view(n) for n in names]
    db = SqliteStore(store) if store and Path(store).is_file() else None
    life = message_life(message_id, views, db)
    if life.origin is None:  # not found is an error: scripts must see it in the exit code
        raise context.ConfigError(f"message {life.id} not found on {', '.join(names)}; check "
                                  "the id, and pass --network for the chain that sent it")
    if as_json:
        import json

        click.echo(json.dumps(life.as_json()))
        return
    for line in life.lines():
        click.echo(line)


@message.command("retry")
@click.argument("message_id")
@click.option("--store",
              help="The relayer's SQLite store [default: .accord/relay.sqlite]")
@one_line_errors
def message_retry(message_id: str, store: str | None) -> None:
    """Hand a message the relayer gave up on back to it, with a fresh gas budget and tries
    (after fixing its recipient, or to pay for it anyway); a running relayer picks it up."""
    from pathlib import Path

    from accord.crosschain.trace import check_message_id
    from accord.errors import ConfigError

    mid = check_message_id(message_id)
    path = store_path(store)
    if not Path(path).is_file():
        raise ConfigError(f"no relayer store at {path}; pass --store with the relayer's file")
    db = open_store(path)
    before = db.reopen(mid)
    if before is None:
        rec = db.message(mid)
        what = f"is {rec.status}" if rec is not None else "is not known"
        raise ConfigError(f"message {mid} {what} in {path}; only a message the relayer gave "
                          "up on can be handed back ('accord message status' says which)")
    click.echo(f"message {mid} handed back to the relayer (before: {before.note})")


def _chain_view(name: str) -> Any:
    from accord.chain.client import Client
    from accord.crosschain.trace import ChainView
    from accord.deploy import context

    contracts = context.deployment(name).get("contracts", {})
    router = contracts["router"]["address"] if "router" in contracts else None
    client = Client(context.rpc_url(name))
    return ChainView(name, client, context.deployed(client, name, "gateway"), router)


@message.command("trace")
@click.argument("run_id", type=int)
@click.option("--network", "networks", multiple=True, required=True,
              help="The run's chain first, then the chains its remote steps ran on.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (one object per message, as 'message status --json').")
@one_line_errors
def message_trace(run_id: int, networks: tuple[str, ...], as_json: bool) -> None:
    """Every cross-chain message of a workflow run: tasks out, results back, and their life."""
    from accord.crosschain.trace import message_life, run_messages
    from accord.deploy import context

    for n in networks:
        context.check_network(n)
    views = [_chain_view(n) for n in networks]
    found = run_messages(run_id, views[0], views[1:])
    if as_json:
        import json

        click.echo(json.dumps([{"label": label, **message_life(mid, views).as_json()}
                               for label, mid in found]))
        return
    if not found:
        click.echo(f"run {run_id} on {networks[0]} sent and received no cross-chain messages")
        return
    for label, mid in found:
        click.echo(label)
        for line in message_life(mid, views).lines():
            click.echo(f"  {line}")


@message.command("pay")
@click.argument("message_id")
@click.option("--network", required=True,
              help="The chain that sent the message (its paymaster is paid, on that chain).")
@click.option("--max-fee",
              help="Most you pay: '0.001ether', '5 gwei' or wei. That much is sent and the "
                   "paymaster keeps its quote at inclusion, refunding the rest, so a price rise "
                   "up to it still goes through [default: exactly the quote read now].")
@click.option("--refund-to", help="Where an excess goes back [default: the payer].")
@click.option("--quote", "quote_only", is_flag=True,
              help="Only show what the message was paid and what delivering it costs now.")
@click.option("--paymaster", help="The origin's AccordGasPaymaster [default: its manifest].")
@click.option("--gateway", help="The origin's gateway [default: its manifest].")
@click.option("--account", help="ape account alias that pays (passphrase in "
                                "APE_ACCOUNTS_<alias>_PASSPHRASE).")
@click.option("--key-env", help="Environment variable holding the payer's private key.")
@click.option("--dev-account", type=int,
              help="Devnets only: pay from anvil dev account N [default: 0].")
@one_line_errors
def message_pay(message_id: str, network: str, max_fee: str | None, refund_to: str | None,
                quote_only: bool, paymaster: str | None, gateway: str | None,
                account: str | None, key_env: str | None, dev_account: int | None) -> None:
    """Pay the relayer fee of a message NETWORK sent, on NETWORK's gas paymaster.

    Relayers run with '--fee-policy paid' deliver a message only once what was paid for it
    covers the paymaster's current quote for the message's own gas to its destination:
    (gas + overhead) x destination gas price x exchange rate. This pays what is missing: the
    whole quote for an unpaid message, the difference after a price rise; nothing when it is
    covered. The fee goes to the relayer operator (the paymaster's beneficiary); it buys no
    promise and is not refunded if nobody delivers. Anyone may deliver any attested message
    without paying (self-relay). See docs/relayer-fees.md.

    Example: accord message pay 0x<id> --network chaina --max-fee 0.001ether"""
    from accord.chain.client import Client
    from accord.crosschain.paymaster import Paymaster
    from accord.crosschain.trace import check_message_id, find_sent
    from accord.deploy import context
    from accord.errors import ConfigError, PaymentError

    mid = check_message_id(message_id)
    context.check_network(network)
    limit = _fee(max_fee) if max_fee is not None else None
    refund = context.checked_address(refund_to, "--refund-to") if refund_to else None
    client = Client(context.rpc_url(network))
    gw = context.deployed(client, network, "gateway", gateway, "--gateway")
    pm = Paymaster(client, context.deployed(client, network, "paymaster", paymaster,
                                            "--paymaster"))
    found = find_sent(client, gw, mid)
    if found is None:
        raise ConfigError(f"message {mid} was not sent by the gateway {gw} on {network}; check "
                          "the id, and pass --network for the chain that sent it")
    msg = found[0]
    have = pm.coverage(msg)
    where = (f"to chain {msg.destination_chain_id} with {msg.gas_limit:,} gas on {network}'s "
             f"paymaster {pm.address}")
    if quote_only or have.covered:
        state = "covers it" if have.covered else f"{have.shortfall:,} wei short"
        click.echo(f"message {mid} {where}: paid {have.paid:,} wei, quote {have.quote:,} wei "
                   f"({state})" + ("; nothing to pay" if have.covered and not quote_only else ""))
        return
    if limit is not None and have.shortfall > limit:
        raise PaymentError(f"message {mid} needs {have.shortfall:,} wei more, above --max-fee "
                           f"{limit:,} wei; raise --max-fee")
    if account is None and key_env is None and dev_account is None and context.is_devnet(
            network):
        dev_account = 0
    payer = context.signer(key_env, dev_account, network, account)
    done = pm.top_up(msg, payer, refund_to=refund, max_fee=limit)
    if done is None:  # paid by someone else meanwhile
        click.echo(f"message {mid} {where}: covered meanwhile; nothing paid")
        return
    click.echo(f"paid {done.payment:,} wei for message {mid} {where} in tx {done.tx}; "
               f"{done.total:,} wei paid in all, the quote is {have.quote:,} wei")


def _fee(text: str) -> int:
    """Wei from '--max-fee' ('0.001ether', '5 gwei', wei); a one-line error otherwise."""
    from accord.errors import ConfigError
    from accord.workflows.compiler import parse_amount

    wei = parse_amount(text, "--max-fee")
    if wei == 0:
        raise ConfigError("--max-fee must be more than 0, e.g. --max-fee 0.001ether")
    return wei
