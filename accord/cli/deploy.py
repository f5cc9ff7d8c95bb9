"""``accord deploy``, ``accord link`` and ``accord doctor``: put the suite on a chain, trust
between chains, and lint both."""

from __future__ import annotations

import sys

import click

from accord.cli.common import one_line_errors


@click.command()
@click.option("--network", required=True,
              help="Devnet name (chaina) or ape network choice (ethereum:sepolia:node).")
@click.option("--rpc", help="RPC URL [default: the devnet manifest or ape-config.yaml's node URI]")
@click.option("--account",
              help="ape account alias (passphrase in APE_ACCOUNTS_<alias>_PASSPHRASE).")
@click.option("--key-env", help="Environment variable holding the deployer's private key.")
@click.option("--dev-account", type=int, help="Devnets only: deploy from anvil dev account N.")
@one_line_errors
def deploy(network: str, rpc: str | None, account: str | None, key_env: str | None,
           dev_account: int | None) -> None:
    """Deploy and wire the whole suite; rerunning changes nothing, or only what differs."""
    from accord import settings
    from accord.chain.client import Client
    from accord.deploy import context, suite
    from accord.deploy.plan import run_plan

    name = network if context.is_devnet(network) else ":".join(
        context.parse_network(network))
    if account is None and key_env is None and dev_account is None and context.is_devnet(name):
        dev_account = 0
    sender = context.signer(key_env, dev_account, name, account)
    cfg = settings.load()
    client = Client(rpc or context.rpc_url(name),
                    confirmations=cfg.network(name).confirmations)
    path = context.deployment_path(name)
    report = run_plan(client, sender, suite.plan(cfg, name, sender.address), path,
                      network=network, log=lambda line: click.echo(f"  {line}"))
    for line in report.lines():
        click.echo(line)
    click.echo(f"manifest: {path}")
    from accord.deploy import doctor as doc
    from accord.deploy.plan import read_manifest

    findings = doc.diagnose([doc.Deployed(name, client, read_manifest(path),
                                          live=not context.is_devnet(name))])
    for f in findings:
        click.echo(f.line())
    if any(f.level == "error" for f in findings):
        sys.exit(1)


@click.command()
@click.argument("networks", nargs=-1, required=True)
@click.option("--dev-account", type=int, default=0, show_default=True,
              help="Devnets: the admin's anvil dev account.")
@click.option("--account", help="ape account alias of the gateways' admin (live networks).")
@one_line_errors
def link(networks: tuple[str, ...], dev_account: int, account: str | None) -> None:
    """Make the gateways of NETWORKS trust each other with the configured validator set.

    Also sets, on each network's gas paymaster, the price of delivering to the others: a
    network's gas_price (gas_overhead, token_exchange_rate) in ape-config.yaml, or on a
    devnet 1 gwei where none is set yet."""
    from accord import settings
    from accord.chain.accounts import dev_account as dev
    from accord.chain.client import Client
    from accord.deploy import context
    from accord.deploy.links import GatewayEnd, destination_oracle
    from accord.deploy.links import link as do_link
    from accord.errors import ConfigError

    if len(networks) < 2:
        raise ConfigError("name at least two networks to link")
    for n in networks:
        context.check_network(n)
    cfg = settings.load()
    net = cfg.network(networks[0])
    if net.validator_addresses:
        validators = list(net.validator_addresses)
    elif all(context.is_devnet(n) for n in networks):
        validators = [dev(5 + i).address for i in range(net.validators)]
    else:
        raise ConfigError(f"set accord.networks.{networks[0]}.validator_addresses in "
                          "ape-config.yaml to link live networks")
    ends = []
    unpriced = []
    for n in networks:
        admin = context.signer(None, dev_account if context.is_devnet(n) else None, n, account)
        contracts = context.deployment(n).get("contracts", {})
        router = contracts["router"]["address"] if "router" in contracts else None
        paymaster = contracts["paymaster"]["address"] if "paymaster" in contracts else None
        oracle, enforced = destination_oracle(cfg.network(n), context.is_devnet(n))
        if oracle is None:
            unpriced.append(n)
        client = Client(context.rpc_url(n))
        ends.append(GatewayEnd(client, context.deployed(client, n, "gateway"), admin, router,
                               paymaster, oracle, enforced))
    changed = do_link(ends, validators, net.threshold)
    for line in changed or ["nothing to do: the gateways already trust each other"]:
        click.echo(line)
    for n in unpriced:
        click.echo(f"note: no relayer-fee price for messages to {n}: set accord.networks.{n}."
                   "gas_price in ape-config.yaml and relink, or senders cannot pay for them")


@click.command()
@click.option("--network", "networks", multiple=True, required=True,
              help="A deployed network to check; repeat it to check links between networks.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: {errors, warnings, findings: [{level, network, message}]}.")
@one_line_errors
def doctor(networks: tuple[str, ...], as_json: bool) -> None:
    """Lint deployments and their cross-chain links; exit 1 on errors."""
    from accord.chain.client import Client
    from accord.deploy import context
    from accord.deploy import doctor as doc

    for n in networks:  # a typo is named before anything else is looked up
        context.check_network(n)
    deployed = [doc.Deployed(n, Client(context.rpc_url(n)), context.deployment(n),
                             live=not context.is_devnet(n)) for n in networks]
    findings = doc.diagnose(deployed)
    errors = sum(1 for f in findings if f.level == "error")
    warnings = sum(1 for f in findings if f.level == "warning")
    if as_json:
        import json

        click.echo(json.dumps({"errors": errors, "warnings": warnings,
                               "findings": [f.__dict__ for f in findings]}))
    else:
        for f in findings:
            click.echo(f.line())
        click.echo(f"{errors} errors, {warnings} warnings")
    if errors:
        sys.exit(1)
