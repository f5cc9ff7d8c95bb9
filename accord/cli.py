"""The ``accord`` command line. Imports of web3 and ape happen inside commands, so
``accord --help`` answers fast. Every error a user can cause prints one line and exits 1."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from accord.errors import AccordError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(fn: F) -> F:
    """Turn AccordError (and Ctrl-C) into one line on stderr and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AccordError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted; everything this command started has been stopped", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug or an error we did not foresee: still one line
            if os.environ.get("ACCORD_DEBUG"):
                raise
            click.echo(f"error: unexpected {type(exc).__name__}: {_first_line(exc)} "
                       f"(traceback in {_save_traceback()}; ACCORD_DEBUG=1 shows it here)",
                       err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else "(no message)"


def _save_traceback() -> str:
    """Write the current exception's traceback where the user can send it; return the path."""
    import traceback

    from accord.config import state_dir

    try:
        path = state_dir() / "logs" / "last-error.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc())
        return str(path)
    except OSError:
        return "nowhere: the state directory is not writable"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accord", prog_name="accord")
@click.option("-v", "--verbose", count=True,
              help="-v: Accord's info lines; -vv: its debug lines too (other libraries, web3's "
                   "included, stay at warnings).")
def cli(verbose: int) -> None:
    """Accord: coordinate multi-agent workflows across EVM chains.

    Start with `accord demo`, which runs the whole system on two local chains.
    """
    if verbose:
        import logging

        logging.basicConfig(level=logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
        logging.getLogger("accord").setLevel(logging.INFO if verbose == 1 else logging.DEBUG)


# -- devnet --------------------------------------------------------------------------------
@cli.group()
def devnet() -> None:
    """Named local anvil chains (chaina, chainb, ...) and forks of them."""


@devnet.command("up")
@click.argument("names", nargs=-1)
@click.option("--any-port", is_flag=True,
              help="Use free loopback ports, not the ports of ape-config.yaml's node URIs.")
@one_line_errors
def devnet_up(names: tuple[str, ...], any_port: bool) -> None:
    """Start named chains (default: every chain in ape-config.yaml) and leave them running.

    If one cannot start, the chains this command started are stopped again."""
    from accord import devnet as dn

    path = dn.up(names, any_port=any_port, echo=click.echo)
    click.echo(f"manifest: {path}")


@devnet.command("fork")
@click.argument("chain")
@click.option("--block", type=int, help="Fork at this block (default: the latest).")
@click.option("--name", help="Name of the fork [default: <chain>-fork].")
@one_line_errors
def devnet_fork(chain: str, block: int | None, name: str | None) -> None:
    """Fork a running chain (devnet name or RPC URL) into a new local chain, left running."""
    from accord import context
    from accord import devnet as dn

    url = context.rpc_url(chain)
    fork_name = name or f"{chain if not chain.startswith('http') else 'upstream'}-fork"
    running = {n: c for n, c in dn.read_manifest().items() if dn.chain_alive(c)}
    if fork_name in running:
        raise dn.DevnetError(f"'{fork_name}' is already running at "
                             f"{running[fork_name].rpc_url}; stop it with 'accord devnet down'"
                             " or pass --name")
    net = dn.Devnet(detach=True)
    net.chains.update(running)
    fork = net.fork(url, name=fork_name, block=block)
    fork.fork_of = chain
    net.write_manifest()
    net.release()
    click.echo(f"{fork_name}: fork of {chain} at block {block if block is not None else 'latest'}"
               f", chain id {fork.chain_id} at {fork.rpc_url} (pid {fork.pid})")


@devnet.command("down")
@one_line_errors
def devnet_down() -> None:
    """Stop every chain `accord devnet up` started (by its recorded process id)."""
    from accord import devnet as dn

    stopped = dn.stop_recorded()
    click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@devnet.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@one_line_errors
def devnet_status(as_json: bool) -> None:
    """Show the recorded chains and whether each still answers."""
    from accord import devnet as dn

    chains = dn.read_manifest()
    if as_json:
        import json

        click.echo(json.dumps([{"name": name, "up": dn.chain_alive(chain),
                                "chain_id": chain.chain_id, "rpc_url": chain.rpc_url,
                                "pid": chain.pid} for name, chain in chains.items()]))
        return
    if not chains:
        click.echo("no devnet is running; start one with 'accord devnet up'")
        return
    for name, chain in chains.items():
        state = "up" if dn.chain_alive(chain) else "DOWN"
        click.echo(f"{name}: {state} chain id {chain.chain_id} at {chain.rpc_url} "
                   f"(pid {chain.pid})")


# -- deployment ------------------------------------------------------------------------------
@cli.command()
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
    from accord import context, settings, suite
    from accord.chain import Client
    from accord.deploy import run_plan

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
    from accord import doctor as doc
    from accord.deploy import read_manifest

    findings = doc.diagnose([doc.Deployed(name, client, read_manifest(path),
                                          live=not context.is_devnet(name))])
    for f in findings:
        click.echo(f.line())
    if any(f.level == "error" for f in findings):
        sys.exit(1)


@cli.command()
@click.argument("networks", nargs=-1, required=True)
@click.option("--dev-account", type=int, default=0, show_default=True,
              help="Devnets: the admin's anvil dev account.")
@click.option("--account", help="ape account alias of the gateways' admin (live networks).")
@one_line_errors
def link(networks: tuple[str, ...], dev_account: int, account: str | None) -> None:
    """Make the gateways of NETWORKS trust each other with the configured validator set."""
    from accord import context, settings
    from accord.chain import Client
    from accord.chain import dev_account as dev
    from accord.errors import ConfigError
    from accord.links import GatewayEnd
    from accord.links import link as do_link

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
    for n in networks:
        admin = context.signer(None, dev_account if context.is_devnet(n) else None, n, account)
        contracts = context.deployment(n).get("contracts", {})
        router = contracts["router"]["address"] if "router" in contracts else None
        client = Client(context.rpc_url(n))
        ends.append(GatewayEnd(client, context.deployed(client, n, "gateway"), admin, router))
    changed = do_link(ends, validators, net.threshold)
    for line in changed or ["nothing to do: the gateways already trust each other"]:
        click.echo(line)


@cli.command()
@click.option("--network", "networks", multiple=True, required=True,
              help="A deployed network to check; repeat it to check links between networks.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: {errors, warnings, findings: [{level, network, message}]}.")
@one_line_errors
def doctor(networks: tuple[str, ...], as_json: bool) -> None:
    """Lint deployments and their cross-chain links; exit 1 on errors."""
    from accord import context
    from accord import doctor as doc
    from accord.chain import Client

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


# -- cross-chain services -------------------------------------------------------------------
def _store_path(store: str | None) -> str:
    from accord.config import state_dir

    return store or str(state_dir() / "relay.sqlite")


def _open_store(store: str | None) -> Any:
    """The validators' and relayer's SQLite store (its folder created), or a one-line error."""
    import sqlite3
    from pathlib import Path

    from accord.errors import ConfigError
    from accord.store import SqliteStore

    path = Path(_store_path(store))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(path)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the message store {path} ({exc}); pass --store with a "
                          "writable path to an SQLite file (or a new one)") from None


@cli.command()
@click.option("--chain", required=True, help="Origin chain to watch (devnet name or RPC URL).")
@click.option("--key-env", help="Environment variable holding the validator's private key.")
@click.option("--dev-account", type=int, help="Devnets only: sign with anvil dev account N.")
@click.option("--confirmations", type=int, default=0, show_default=True,
              help="Blocks to wait before signing (0 on automine devnets).")
@click.option("--window", type=int, default=50, show_default=True,
              help="Messages per signed window; must equal the relayer's --batch-size.")
@click.option("--store",
              help="SQLite file shared with the relayer [default: .accord/relay.sqlite]")
@click.option("--gateway", help="Gateway address [default: from the chain's deployment manifest]")
@click.option("--straggler-seconds", type=float, default=0.5, show_default=True,
              help="Sign a message singly when its window is still open after this long.")
@click.option("--seconds", type=float,
              help="Stop after this many seconds (default: run until Ctrl-C).")
@one_line_errors
def validate(chain: str, key_env: str | None, dev_account: int | None, confirmations: int,
             window: int, store: str | None, gateway: str | None, straggler_seconds: float,
             seconds: float | None) -> None:
    """Watch an origin gateway's MessageSent events and publish attestations."""
    from eth_keys import keys

    from accord import context
    from accord.chain import Client
    from accord.validator import Validator, ValidatorConfig

    account = context.signer(key_env, dev_account, chain)
    client = Client(context.rpc_url(chain))
    cfg = ValidatorConfig(gateway=context.deployed(client, chain, "gateway", gateway, "--gateway"),
                          confirmations=confirmations, window=window,
                          straggler_s=straggler_seconds)
    v = Validator(client, _open_store(store), keys.PrivateKey(account.key), cfg)
    click.echo(f"validator {v.address} watching {cfg.gateway} on chain {client.chain_id}")
    v.run(stop_after_s=seconds)


@cli.command()
@click.option("--from", "origin", required=True, help="Origin chain (devnet name or RPC URL).")
@click.option("--to", "dest", required=True, help="Destination chain (devnet name or RPC URL).")
@click.option("--key-env", help="Environment variable holding the relayer's private key.")
@click.option("--dev-account", type=int, help="Devnets only: pay gas from anvil dev account N.")
@click.option("--batch-size", type=int, default=50, show_default=True)
@click.option("--recipient-gas", type=click.IntRange(1, 10_000_000), default=200_000,
              show_default=True,
              help="Least gas every recipient gets (a message's own gas limit, if larger, wins).")
@click.option("--max-gas-per-message", type=click.IntRange(min=1), default=3_000_000,
              show_default=True,
              help="Gas (receipts' gasUsed) the relayer pays for one message over all its "
                   "tries, the first included; a failed message in a batch is charged its "
                   "recipient's gas plus a share of the batch. Past it, it gives up and records "
                   "why ('accord message status ID --store DB').")
@click.option("--store",
              help="SQLite file shared with the validators [default: .accord/relay.sqlite]")
@click.option("--gateway", help="Destination gateway [default: from its deployment manifest]")
@click.option("--metrics-port", type=int, help="Serve Prometheus metrics on 127.0.0.1:PORT.")
@one_line_errors
def relay(origin: str, dest: str, key_env: str | None, dev_account: int | None,
          batch_size: int, recipient_gas: int, max_gas_per_message: int, store: str | None,
          gateway: str | None, metrics_port: int | None) -> None:
    """Deliver attested messages from one chain's gateway to another's, in batches.

    A message whose recipient fails is simulated before any retry: one that refuses on
    purpose is checked again later at its own gas, never with more; one that ran out of gas
    is retried with about the gas the simulation needed. The relayer gives up on a message
    after 3 failures or when a retry would exceed --max-gas-per-message, and records why;
    'accord message retry ID' hands it back."""
    import logging

    from accord import context
    from accord.chain import Client, with_retries
    from accord.contract_types import OriginConfig
    from accord.relayer import Relayer, RelayerConfig, serve_metrics

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    account = context.signer(key_env, dev_account, dest)
    origin_id = Client(context.rpc_url(origin)).chain_id
    client = Client(context.rpc_url(dest))
    gateway = context.deployed(client, dest, "gateway", gateway, "--gateway")
    threshold = with_retries(lambda: OriginConfig.from_abi(
        client.contract("AccordGateway", gateway).functions.originConfig(origin_id).call())
        .threshold, "reading the gateway's quorum")
    cfg = RelayerConfig(gateway=gateway, origin_chain=origin_id, threshold=threshold,
                        batch_size=batch_size, recipient_gas=recipient_gas,
                        max_gas_per_message=max_gas_per_message)
    db = _open_store(store)
    relayer = with_retries(lambda: Relayer(client, db, account, cfg),
                           "reading the gateway's validator set")
    if metrics_port:
        serve_metrics(relayer, metrics_port)
    click.echo(f"relaying {relayer.route} to {gateway} (threshold {threshold})")
    from accord._shutdown import STOP

    relayer.run(stop=STOP)


@cli.command()
@click.option("--network", "networks", multiple=True, required=True,
              help="A deployed network to keep (repeatable).")
@click.option("--key-env", help="Environment variable holding the keeper's private key.")
@click.option("--dev-account", type=int, help="Devnets only: pay gas from anvil dev account N.")
@click.option("--seconds", type=float, help="Stop after this many seconds.")
@one_line_errors
def keep(networks: tuple[str, ...], key_env: str | None, dev_account: int | None,
         seconds: float | None) -> None:
    """Move remote workflow steps along: dispatch, expire, open and report (permissionless)."""
    import logging
    import time

    from accord import context
    from accord._shutdown import STOP
    from accord.chain import Client
    from accord.keeper import Keeper

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    keepers = []
    for n in networks:
        account = context.signer(key_env, dev_account, n)
        client = Client(context.rpc_url(n))
        keepers.append(Keeper(client, context.deployed(client, n, "coordinator"),
                              context.deployed(client, n, "router"), account))
    click.echo("keeping " + ", ".join(networks))
    deadline = None if seconds is None else time.monotonic() + seconds
    while not STOP.is_set() and (deadline is None or time.monotonic() < deadline):
        if sum(k.step() for k in keepers) == 0:
            STOP.wait(0.2)


# -- router deposits ---------------------------------------------------------------------
@cli.group()
def router() -> None:
    """Run creators' deposits on a chain's RemoteStepRouter, which pay the steps that run there.

    A workflow step that runs on another chain is paid on that chain from its run creator's
    deposit; until the deposit covers the step's reward the task waits there, Unfunded."""


def _amount(text: str) -> int:
    """Wei from '0.01ether', '0.01 ether', '5 gwei' or plain wei; a one-line error otherwise."""
    from accord.errors import ConfigError
    from accord.workflow_yaml import parse_amount

    wei = parse_amount(text, "--amount")
    if wei == 0:
        raise ConfigError("--amount must be more than 0, e.g. --amount 0.01ether")
    return wei


def _router_of(network: str) -> tuple[Any, Any]:
    from accord import context
    from accord.chain import Client

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
    from accord import context

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
    from accord import context

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


# -- messages ------------------------------------------------------------------------------
@cli.group()
def message() -> None:
    """Inspect cross-chain messages."""


@message.command("status")
@click.argument("message_id")
@click.option("--network", "networks", multiple=True,
              help="Chains to search (repeatable) [default: every running devnet chain].")
@click.option("--store", help="The validators' and relayer's SQLite store, to show who "
                                "attested and what the relayer spent (and why it gave up).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (hashes whole, times ISO 8601) instead of lines.")
@one_line_errors
def message_status(message_id: str, networks: tuple[str, ...], store: str | None,
                   as_json: bool) -> None:
    """The life of one message: sent, attested, delivered or failed (and why), latency."""
    from pathlib import Path

    from accord import context
    from accord.devnet import read_manifest
    from accord.store import SqliteStore
    from accord.trace import check_message_id, message_life

    check_message_id(message_id)  # before any chain is asked
    names = list(networks) or sorted(read_manifest())
    for n in names:
        context.check_network(n)
    if not names:
        raise context.ConfigError("no chains to search: pass --network or start the devnet")
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

    from accord.errors import ConfigError
    from accord.trace import check_message_id

    mid = check_message_id(message_id)
    path = _store_path(store)
    if not Path(path).is_file():
        raise ConfigError(f"no relayer store at {path}; pass --store with the relayer's file")
    db = _open_store(path)
    before = db.reopen(mid)
    if before is None:
        rec = db.message(mid)
        what = f"is {rec.status}" if rec is not None else "is not known"
        raise ConfigError(f"message {mid} {what} in {path}; only a message the relayer gave "
                          "up on can be handed back ('accord message status' says which)")
    click.echo(f"message {mid} handed back to the relayer (before: {before.note})")


def _chain_view(name: str) -> Any:
    from accord import context
    from accord.chain import Client
    from accord.trace import ChainView

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
    from accord import context
    from accord.trace import message_life, run_messages

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


# -- dashboard and demo ----------------------------------------------------------------------
def _open_browser(url: str) -> None:
    import webbrowser

    if not webbrowser.open(url):
        click.echo("no browser found here; open the URL yourself", err=True)


@cli.command()
@click.option("--network", "networks", multiple=True,
              help="Show this network (repeatable) [default: the devnet manifest's chains].")
@click.option("--manifest", type=click.Path(dir_okay=False),
              help="Devnet manifest to follow [default: .accord/devnet.json; a running "
                   "'accord demo' writes .accord/demo/devnet.json].")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback keeps the page to this machine).")
@click.option("--port", type=int, default=8700, show_default=True, help="0 = any free port.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@one_line_errors
def dashboard(networks: tuple[str, ...], manifest: str | None, host: str, port: int,
              open_browser: bool) -> None:
    """Serve a live web page of runs, step graphs, agents and cross-chain messages."""
    from pathlib import Path

    from accord._shutdown import STOP
    from accord.dashboard.data import Dashboard
    from accord.dashboard.server import DashboardServer
    from accord.dashboard.source import Source

    source = Source(Path(manifest) if manifest else None, networks)
    server = DashboardServer(Dashboard(source), host, port)
    url = server.start()
    click.echo(f"dashboard: {url} (reading {source.describe()}); Ctrl-C to stop")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}: anyone who can reach it sees the page",
                   err=True)
    if open_browser:
        _open_browser(url)
    try:
        STOP.wait()  # SIGTERM ends the wait (with SystemExit); Ctrl-C too
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    click.echo("dashboard stopped")


@cli.command()
@click.option("--dashboard", "with_dashboard", is_flag=True,
              help="Serve the dashboard during the demo and keep it (and the chains) up "
                   "afterwards until Ctrl-C.")
@click.option("--dashboard-port", type=int, default=8700, show_default=True,
              help="Port of the dashboard; 0 = any free port.")
@click.option("--open", "open_browser", is_flag=True, help="With --dashboard: open a browser.")
@one_line_errors
def demo(with_dashboard: bool, dashboard_port: int, open_browser: bool) -> None:
    """Run the main job on two fresh local chains and stop everything afterwards."""
    from accord.demo import DashboardOptions, run_demo

    opts = DashboardOptions(port=dashboard_port,
                            on_url=_open_browser if open_browser else None
                            ) if with_dashboard else None
    run_demo(echo=click.echo, dashboard=opts)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def paths(as_json: bool) -> None:
    """Print the folders of Accord's Solidity interfaces (and the OpenZeppelin file they
    import) for the dependencies of your own ape project (README "In your own ape project")."""
    import json

    from accord.solidity import INTERFACES, OPENZEPPELIN

    found = {"interfaces": str(INTERFACES), "openzeppelin": str(OPENZEPPELIN)}
    if as_json:
        click.echo(json.dumps(found))
        return
    for key, value in found.items():
        click.echo(f"{key}: {value}")


# The agents and workflow groups live in their own module (imports stay lazy inside it).
from accord.cli_agents import agents, workflow  # noqa: E402, I001

cli.add_command(agents)
cli.add_command(workflow)


def main() -> None:
    # SIGTERM (a supervisor, `timeout`, CI) unwinds like Ctrl-C, so every context manager
    # stops what it started (chains, services), and ends the process within 2 s regardless.
    from accord import _shutdown

    _shutdown.install()
    cli(prog_name="accord")


if __name__ == "__main__":
    main()
