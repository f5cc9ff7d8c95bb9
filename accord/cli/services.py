"""The cross-chain services: ``accord validate`` (a gateway attester), ``accord relay`` and
``accord keep``."""

from __future__ import annotations

from typing import Any

import click

from accord.cli.common import one_line_errors, open_store, poll_option, rpc_budget_option


@click.command()
@click.option("--chain", required=True, help="Origin chain to watch (devnet name or RPC URL).")
@click.option("--key-env", help="Environment variable holding the validator's private key.")
@click.option("--dev-account", type=int, help="Devnets only: sign with anvil dev account N.")
@click.option("--confirmations", type=int,
              help="Blocks to wait before signing [default: the chain's 'confirmations' in "
                   "ape-config.yaml's accord.networks; 0 when it names none].")
@click.option("--window", type=int, default=50, show_default=True,
              help="Messages per signed window; must equal the relayer's --batch-size.")
@click.option("--store",
              help="SQLite file shared with the relayer [default: .accord/relay.sqlite]")
@click.option("--gateway", help="Gateway address [default: from the chain's deployment manifest]")
@click.option("--straggler-seconds", type=float, default=0.5, show_default=True,
              help="Sign a message singly when its window is still open after this long.")
@click.option("--seconds", type=float,
              help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--serve", metavar="HOST:PORT",
              help="Also publish this attester's signatures over HTTP on HOST:PORT (port 0: "
                   "any free one) and announce where on the chain, so relayers on other "
                   "machines find them (then --store is this attester's own file).")
@click.option("--public-url", help="The URL relayers reach --serve at, when not the address "
                                   "served (behind a proxy or NAT) [default: the served URL]")
@click.option("--announce", "announce_at",
              help="AttesterAnnounce address on --chain [default: its deployment manifest]")
@rpc_budget_option
@poll_option
@one_line_errors
def validate(chain: str, key_env: str | None, dev_account: int | None, confirmations: int | None,
             window: int, store: str | None, gateway: str | None, straggler_seconds: float,
             seconds: float | None, serve: str | None, public_url: str | None,
             announce_at: str | None, rpc_budget: float | None, poll_seconds: float) -> None:
    """Watch an origin gateway's MessageSent events and publish attestations."""
    from eth_keys import keys

    from accord.chain.client import Client
    from accord.crosschain.attester import Attester, AttesterConfig
    from accord.deploy import context

    listen = _host_port(serve) if serve is not None else None
    if listen is not None and _wildcard(listen[0]) and public_url is None:
        from accord.errors import ConfigError

        raise ConfigError(f"--serve {serve} listens on every address, which is nowhere a "
                          "relayer can reach: pass --public-url with the URL relayers use")
    if public_url is not None:
        from accord.crosschain.announce import check_location

        check_location(public_url)
    if confirmations is None:
        confirmations = _confirmations(chain)
    elif confirmations < 0:
        from accord.errors import ConfigError

        raise ConfigError(f"--confirmations {confirmations}: give 0 or more blocks")
    account = context.signer(key_env, dev_account, chain)
    client = Client(context.rpc_url(chain), max_rps=rpc_budget)
    cfg = AttesterConfig(gateway=context.deployed(client, chain, "gateway", gateway, "--gateway"),
                          confirmations=confirmations, window=window,
                          straggler_s=straggler_seconds, poll_s=poll_seconds)
    v = Attester(client, open_store(store), keys.PrivateKey(account.key), cfg)
    click.echo(f"validator {v.address} watching {cfg.gateway} on chain {client.chain_id}")
    if listen is not None:
        from accord.crosschain.announce import announce, check_location
        from accord.crosschain.publication import serve_attestations

        board = context.deployed(client, chain, "announce", announce_at, "--announce")
        url = serve_attestations(v.store, v.address, *listen).start()
        where = check_location(public_url or url)
        announced = announce(client, board, keys.PrivateKey(account.key), where, account)
        click.echo(f"publishing at {url}; {'announced' if announced else 'already announced'} "
                   f"{where} on {board}")
    v.run(stop_after_s=seconds)


def _host_port(value: str) -> tuple[str, int]:
    """``--serve HOST:PORT`` parsed, or a one-line ConfigError."""
    from accord.errors import ConfigError

    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--serve {value!r} is not HOST:PORT (e.g. 0.0.0.0:8801; port 0 "
                          "takes any free one)")
    return host, int(port)


def _wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "[::]", "")  # noqa: S104 (detecting it, not binding)


@click.command()
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
@click.option("--discover", is_flag=True,
              help="Share nothing with the attesters: follow the origin gateway yourself and "
                   "fetch their signatures from the locations they announced on the origin "
                   "chain (verified before use); --store is then this relayer's own file.")
@click.option("--announce", "announce_at",
              help="AttesterAnnounce address on --from [default: its deployment manifest]")
@click.option("--origin-gateway",
              help="Origin gateway, with --discover [default: from its deployment manifest]")
@click.option("--fee-policy", type=click.Choice(["any", "paid"]), default="any",
              show_default=True,
              help="any: deliver every attested message, paid for or not. paid: deliver (and "
                   "retry) only messages paid for on the origin's gas paymaster at its current "
                   "quote for their gas; the others wait, with the reason in 'accord message "
                   "status ID --store DB', until paid ('accord message pay ID'). Anyone may "
                   "still deliver those themselves.")
@click.option("--paymaster",
              help="The origin's AccordGasPaymaster, with --fee-policy paid [default: from "
                   "the origin's deployment manifest]")
@rpc_budget_option
@poll_option
@one_line_errors
def relay(origin: str, dest: str, key_env: str | None, dev_account: int | None,
          batch_size: int, recipient_gas: int, max_gas_per_message: int, store: str | None,
          gateway: str | None, metrics_port: int | None, discover: bool,
          announce_at: str | None, origin_gateway: str | None, fee_policy: str,
          paymaster: str | None, rpc_budget: float | None, poll_seconds: float) -> None:
    """Deliver attested messages from one chain's gateway to another's, in batches.

    A message whose recipient fails is simulated before any retry: one that refuses on
    purpose is checked again later at its own gas, never with more; one that ran out of gas
    is retried with about the gas the simulation needed. The relayer gives up on a message
    after 3 failures or when a retry would exceed --max-gas-per-message, and records why;
    'accord message retry ID' hands it back.

    With --fee-policy paid the relayer works only for messages whose senders paid its fee on
    the origin chain (docs/relayer-fees.md)."""
    import logging

    from accord.chain.client import Client, with_retries
    from accord.chain.types import OriginConfig
    from accord.crosschain.relayer import Relayer, RelayerConfig, serve_metrics
    from accord.deploy import context

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if paymaster is not None and fee_policy != "paid":
        from accord.errors import ConfigError

        raise ConfigError("--paymaster is only used with --fee-policy paid; drop it or add "
                          "--fee-policy paid")
    account = context.signer(key_env, dev_account, dest)
    up = Client(context.rpc_url(origin), max_rps=rpc_budget)
    origin_id = up.chain_id
    client = Client(context.rpc_url(dest), max_rps=rpc_budget)
    gateway = context.deployed(client, dest, "gateway", gateway, "--gateway")
    threshold = with_retries(lambda: OriginConfig.from_abi(
        client.contract("AccordGateway", gateway).functions.originConfig(origin_id).call())
        .threshold, "reading the gateway's quorum")
    cfg = RelayerConfig(gateway=gateway, origin_chain=origin_id, threshold=threshold,
                        batch_size=batch_size, recipient_gas=recipient_gas,
                        max_gas_per_message=max_gas_per_message, poll_s=poll_seconds)
    db = open_store(store)
    fees = _fee_gate(origin, up, client.chain_id, db, paymaster) if fee_policy == "paid" \
        else None
    relayer = with_retries(lambda: Relayer(client, db, account, cfg, fees),
                           "reading the gateway's validator set")
    if metrics_port:
        serve_metrics(relayer, metrics_port)
    click.echo(f"relaying {relayer.route} to {gateway} (threshold {threshold}"
               + (f"; only messages paid for on {fees.paymaster.address})" if fees else ")"))
    from accord.service.shutdown import STOP

    feed = _feed(origin, client, gateway, db, relayer, batch_size, threshold, announce_at,
                 origin_gateway, rpc_budget) if discover else None
    relayer.run(stop=STOP, before=feed.step if feed is not None else None)


def _fee_gate(origin: str, up: Any, dest_chain_id: int, db: Any, paymaster: str | None) -> Any:
    """``accord relay --fee-policy paid``: the origin's paymaster, checked, behind a gate."""
    from accord.crosschain.attester import route_name
    from accord.crosschain.fee_policy import FeeGate
    from accord.crosschain.paymaster import Paymaster
    from accord.deploy import context
    from accord.errors import ConfigError

    if paymaster is None and origin.startswith(("http://", "https://", "ws://")):
        raise ConfigError("--fee-policy paid with --from as an RPC URL needs --paymaster: the "
                          "origin's AccordGasPaymaster address")
    address = context.deployed(up, origin, "paymaster", paymaster, "--paymaster")
    return FeeGate(Paymaster(up, address), db, route_name(up.chain_id, dest_chain_id),
                   dest_chain_id)


def _confirmations(chain: str) -> int:
    """The blocks a chain's messages wait before they count (its ape-config.yaml setting)."""
    from accord import settings

    return settings.load().network(chain).confirmations


def _feed(origin: str, dest: Any, gateway: str, db: Any, relayer: Any, window: int,
          threshold: int, announce_at: str | None, origin_gateway: str | None,
          rpc_budget: float | None) -> Any:
    """``accord relay --discover``: the relayer's own follower and attestation fetcher."""
    from urllib.parse import urlsplit

    from accord.chain.client import Client
    from accord.crosschain.attester import Attester, AttesterConfig
    from accord.crosschain.publication import Feed, Fetcher, announced_sources
    from accord.deploy import context

    up = Client(context.rpc_url(origin), max_rps=rpc_budget)
    source_gateway = context.deployed(up, origin, "gateway", origin_gateway, "--origin-gateway")
    board = context.deployed(up, origin, "announce", announce_at, "--announce")
    observer = Attester(up, db, None, AttesterConfig(gateway=source_gateway, window=window,
                                                      confirmations=_confirmations(origin)))
    # attesters at loopback or private addresses are fetched from only on a local devnet
    local = urlsplit(up.rpc_url).hostname in ("127.0.0.1", "localhost", "::1")
    fetcher = Fetcher(db, [], up.chain_id, source_gateway, route=relayer.route, window=window,
                      allow_private=local)
    feed = Feed(observer, fetcher, relayer.route, window, threshold,
                lambda: announced_sources(up, board, dest, gateway))
    click.echo(f"following {source_gateway} on chain {up.chain_id} myself; attestations from "
               f"the locations announced on {board}")
    return feed


@click.command()
@click.option("--network", "networks", multiple=True, required=True,
              help="A deployed network to keep (repeatable).")
@click.option("--key-env", help="Environment variable holding the keeper's private key.")
@click.option("--dev-account", type=int, help="Devnets only: pay gas from anvil dev account N.")
@click.option("--seconds", type=float, help="Stop after this many seconds.")
@rpc_budget_option
@one_line_errors
def keep(networks: tuple[str, ...], key_env: str | None, dev_account: int | None,
         seconds: float | None, rpc_budget: float | None) -> None:
    """Move remote workflow steps along: dispatch, expire, open and report (permissionless)."""
    import logging
    import time

    from accord.chain.client import Client
    from accord.crosschain.keeper import Keeper
    from accord.deploy import context
    from accord.service.shutdown import STOP

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    keepers = []
    for n in networks:
        account = context.signer(key_env, dev_account, n)
        client = Client(context.rpc_url(n), max_rps=rpc_budget)
        keepers.append(Keeper(client, context.deployed(client, n, "coordinator"),
                              context.deployed(client, n, "router"), account))
    click.echo("keeping " + ", ".join(networks))
    deadline = None if seconds is None else time.monotonic() + seconds
    while not STOP.is_set() and (deadline is None or time.monotonic() < deadline):
        if sum(k.step() for k in keepers) == 0:
            STOP.wait(0.2)
