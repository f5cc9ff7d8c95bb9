"""``accord router``: the run creators' deposits on a RemoteStepRouter."""

from __future__ import annotations

from typing import Any

import click

from accord.cli.common import one_line_errors


@click.group()
def router() -> None:
    """Run creators' deposits on a chain's RemoteStepRouter, which pay the steps that run there.

    A workflow step that runs on another chain is paid on that chain from its run creator's
    deposit; until the deposit covers the step's reward the task waits there, Unfunded."""


def _amount(text: str) -> int:
    """Wei from '0.01ether', '0.01 ether', '5 gwei' or plain wei; a one-line error otherwise."""
    from accord.errors import ConfigError
    from accord.workflows.compiler import parse_amount

    wei = parse_amount(text, "--amount")
    if wei == 0:
        raise ConfigError("--amount must be more than 0, e.g. --amount 0.01ether")
    return wei


def _router_of(network: str) -> tuple[Any, Any]:
    from accord.chain.client import Client
    from accord.deploy import context

    client = Client(context.rpc_url(network))
    address = context.deployed(client, network, "router")
    return client, client.contract("RemoteStepRouter", address)


@router.command("deposit")
@click.option("--network", required=True,
              help="The chain the remote steps run on (where the deposit pays them).")
@click.option("--creator", help="The run creator to credit (an address) [default: the "
                                "signer].")
@click.option("--amount", required=True,
              help="How much to add: '0.01ether', '5 gwei' or wei.")
@click.option("--account", help="ape account alias that pays (passphrase in "
                                "APE_ACCOUNTS_<alias>_PASSPHRASE).")
@click.option("--key-env", help="Environment variable holding the payer's private key.")
@click.option("--dev-account", type=int,
              help="Devnets only: pay from anvil dev account N [default: 0].")
@one_line_errors
def router_deposit(network: str, creator: str | None, amount: str, account: str | None,
                   key_env: str | None, dev_account: int | None) -> None:
    """Add to a run creator's deposit on NETWORK's RemoteStepRouter (anyone may pay it).

    Example: accord router deposit --network chainb --creator 0xf39F... --amount 0.01ether"""
    from accord.deploy import context

    context.check_network(network)
    wei = _amount(amount)
    who = context.checked_address(creator, "--creator") if creator else None
    if account is None and key_env is None and dev_account is None and context.is_devnet(
            network):
        dev_account = 0
    payer = context.signer(key_env, dev_account, network, account)
    client, contract = _router_of(network)
    who = who or payer.address
    client.transact(contract.functions.deposit(who), payer, value=wei)
    balance = int(contract.functions.depositOf(who).call())
    click.echo(f"deposited {wei} wei for {who} on {network}'s router {contract.address}; "
               f"its deposit is now {balance} wei")


@router.command("balance")
@click.option("--network", required=True, help="The chain whose router to read.")
@click.option("--creator", required=True, help="The run creator (an address).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (amounts in wei).")
@one_line_errors
def router_balance(network: str, creator: str, as_json: bool) -> None:
    """A run creator's deposit on NETWORK's RemoteStepRouter, and the router's total."""
    from accord.deploy import context

    context.check_network(network)
    who = context.checked_address(creator, "--creator")
    _, contract = _router_of(network)
    balance = int(contract.functions.depositOf(who).call())
    total = int(contract.functions.totalDeposits().call())
    if as_json:
        import json

        click.echo(json.dumps({"network": network, "router": contract.address, "creator": who,
                               "deposit_wei": balance, "total_deposits_wei": total}))
        return
    click.echo(f"{who} has {balance} wei ({balance / 10**18:.6g} ether) on {network}'s router "
               f"{contract.address} (all deposits: {total} wei)")
