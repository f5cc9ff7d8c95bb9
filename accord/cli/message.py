"""``accord message``: a message's status, its hand-back to the relayer and a run's trace."""

from __future__ import annotations

from typing import Any

import click

from accord.cli.common import one_line_errors, open_store, store_path


@click.group()
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

    from accord.crosschain.attestation_store import SqliteStore
    from accord.crosschain.trace import check_message_id, message_life
    from accord.deploy import context
    from accord.dev.devnet import read_manifest

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
