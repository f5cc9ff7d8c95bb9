"""``accord agents``: run the agents an agents.yaml names."""

from __future__ import annotations

from pathlib import Path

import click

from accord.cli.common import (
    client_for,
    coordinator_client,
    network_name,
    network_options,
    one_line_errors,
    rpc_budget_option,
)


@click.group()
def agents() -> None:
    """Run agents that claim workflow steps and submit results."""


@agents.command("run")
@network_options
@click.option("--config", "config_path", required=True, type=click.Path(),
              help="agents.yaml: the agents, their keys, roles and handlers.")
@click.option("--store", help="Result store: a directory, or an http(s) result service "
                              "('accord results serve') [default: the file's 'store' or "
                              ".accord/results].")
@rpc_budget_option
@click.option("--seconds", type=float, help="Stop after this many seconds.")
@click.option("--until-run", "until_runs", type=int, multiple=True,
              help="Stop once these runs have ended (repeatable).")
@click.option("--ws/--no-ws", default=None, help="Force (or forbid) the WebSocket "
                                                 "subscription [default: try it].")
@click.option("-v", "--verbose", count=True, help="-v: info logs, -vv: debug (lost races).")
@one_line_errors
def agents_run(network: str, rpc: str | None, config_path: str, store: str | None,
               rpc_budget: float | None, seconds: float | None, until_runs: tuple[int, ...],
               ws: bool | None, verbose: int) -> None:
    """Serve the agents of an agents.yaml until Ctrl-C (or --seconds / --until-run)."""
    import asyncio
    import logging

    from accord.agents.agents_file import load_agents
    from accord.agents.runner import build_host, serve

    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(asctime)s %(name)s %(message)s")
    cfg = load_agents(config_path)
    name, client, coordinator = coordinator_client(network, rpc, max_rps=rpc_budget)
    host = build_host(client, name, coordinator, cfg, store=store, ws=ws,
                      config_stem=Path(config_path).stem, echo=click.echo)
    click.echo(f"serving {len(host.agents)} agents on {name} (coordinator {coordinator})")
    asyncio.run(serve(host, client, coordinator, seconds=seconds, until_runs=until_runs))
    click.echo("stopped: " + ", ".join(f"{k} {v}" for k, v in sorted(host.stats.items()))
               if host.stats else "stopped")


@agents.command("show")
@click.argument("agent_id", type=click.IntRange(min=0))
@network_options
@click.option("--store", help="Where accord-store:// cards are kept [default: .accord/results]; "
                              "http(s) cards are fetched from their service.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@one_line_errors
def agents_show(agent_id: int, network: str, rpc: str | None, store: str | None,
                as_json: bool) -> None:
    """An agent's ERC-8004 registration file, checked against the chain (exit 1 if it is
    missing or names another agent or registry)."""
    import json

    from accord.agents.card import check_card
    from accord.deploy import context
    from accord.errors import ConfigError
    from accord.workflows.result_store import ResultStore, default_store

    name = network_name(network)
    client = client_for(name, rpc)
    identity = context.deployed(client, name, "identity")
    found = check_card(client, identity, agent_id, ResultStore(store) if store else
                       default_store())
    if as_json:
        click.echo(json.dumps({"agent_id": agent_id, "owner": found.owner, "uri": found.uri,
                               "card": found.card, "problems": found.problems}))
    elif found.ok:
        click.echo(f"agent {agent_id} on {name}: owner {found.owner}")
        click.echo(f"  card: {found.uri or '(none)'}")
        card = found.card or {}
        for key in ("name", "description"):
            if key in card:
                click.echo(f"  {key}: {card[key]}")
        for service in card.get("services") or []:
            if isinstance(service, dict):
                click.echo(f"  service: {service.get('name')} {service.get('endpoint')}")
        for reg in card.get("registrations") or []:
            if isinstance(reg, dict):
                click.echo(f"  registration: agent {reg.get('agentId')} in "
                           f"{reg.get('agentRegistry')}")
    if not found.ok:
        raise ConfigError(f"agent {agent_id}'s registration file does not match the chain: "
                          + "; ".join(found.problems))
    if not as_json:
        click.echo("  ok: the card names this agent in this registry")
