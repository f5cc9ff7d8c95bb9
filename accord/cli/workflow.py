"""``accord workflow``: define, start and inspect workflows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from accord.cli.common import (
    client_for,
    coordinator_address,
    coordinator_client,
    network_name,
    network_options,
    one_line_errors,
    signer_for,
    signer_options,
)


@click.group()
def workflow() -> None:
    """Define, start and inspect workflows."""


def _define(client: Any, network: str, path: str, sender: Any) -> tuple[bytes, Any]:
    from accord.workflows.runs import define

    return define(client, coordinator_address(network, client), path, sender, home_chain=network)


@workflow.command("define")
@click.argument("file", type=click.Path())
@network_options
@signer_options
@one_line_errors
def workflow_define(file: str, network: str, rpc: str | None, account: str | None,
                    key_env: str | None, dev_account: int | None) -> None:
    """Compile a workflow YAML file and register its definition (idempotent)."""
    from accord.workflows.compiler import known_roles_from_settings, load_workflow

    name = network_name(network)
    load_workflow(file, known_roles=known_roles_from_settings(), home_chain=name)  # fail fast
    coordinator_address(name)
    client = client_for(name, rpc)
    def_id, wf = _define(client, name, file, signer_for(name, key_env, dev_account, account))
    click.echo(f"definition 0x{def_id.hex()} ({wf.name}: {len(wf.steps)} steps, rewards "
               f"{wf.total_reward()} wei)")
    # Judges may bond after the definition: say what is missing now, refuse nothing.
    for gap in _quorum_gaps(client, name, wf.definition(client.chain_id), wf.names):
        click.echo("warning: " + gap.message(name), err=True)


def _quorum_gaps(client: Any, network: str, definition: Any, names: list[str]) -> list[Any]:
    """The quorum check, reading AgentRoles' bonds from the block it was deployed in."""
    from accord.deploy import context
    from accord.workflows.runs import quorum_gaps

    roles = context.deployment(network).get("contracts", {}).get("roles", {})
    return quorum_gaps(client, coordinator_address(network, client), definition, names,
                       from_block=int(roles.get("block", 0)))


@workflow.command("start")
@click.argument("definition")
@network_options
@click.option("--input", "input_path", type=click.Path(), help="File whose bytes are the run "
                                                              "input [default: empty].")
@click.option("--budget", help="Escrow, e.g. '0.1 ether' [default: the sum of the rewards].")
@click.option("--store", help="Result store directory [default: .accord/results].")
@click.option("--force", is_flag=True, help="Start even if the judges bonded now cannot reach "
                                            "a step's quorum.")
@signer_options
@one_line_errors
def workflow_start(definition: str, network: str, rpc: str | None, input_path: str | None,
                   budget: str | None, store: str | None, force: bool, account: str | None,
                   key_env: str | None, dev_account: int | None) -> None:
    """Start a run of DEFINITION (a 0x definition id or a workflow YAML file).

    Refused when judges are bonded for the validator role but fewer (counting independent
    owners) than a step's quorum: the run would wait in Submitted (--force starts it anyway).
    With no judge bonded yet (agents bond when they first run) it only warns."""
    from accord.errors import ConfigError
    from accord.workflows.compiler import known_roles_from_settings, load_workflow, parse_amount
    from accord.workflows.result_store import open_store
    from accord.workflows.runs import start

    name = network_name(network)
    coordinator = coordinator_address(name)
    data = b""
    if input_path is not None:
        try:
            data = Path(input_path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read --input {input_path}: {exc.strerror}") from None
    is_id = definition.startswith("0x") and len(definition) == 66
    if not is_id and not Path(definition).is_file():
        raise ConfigError(f"'{definition}' is neither a 0x definition id (64 hex digits) nor "
                          "a workflow file")
    client = client_for(name, rpc)
    coordinator = coordinator_address(name, client)
    sender = signer_for(name, key_env, dev_account, account)
    if is_id:  # an unknown id or a short budget fails here, before any transaction
        from accord.workflows import catalog
        from accord.workflows.runs import registered_definition

        def_id = bytes.fromhex(definition[2:])
        total = _total_reward(client.contract("WorkflowCoordinator", coordinator), def_id)
        compiled = registered_definition(client, coordinator, def_id)
        names = catalog.names(def_id, len(compiled.steps))
    else:
        wf = load_workflow(definition, known_roles=known_roles_from_settings(), home_chain=name)
        total = wf.total_reward()
        compiled, names = wf.definition(client.chain_id), wf.names
    warnings = []
    for gap in _quorum_gaps(client, name, compiled, names):
        if gap.judges and not force:
            raise ConfigError(gap.message(name) + " (--force starts it anyway)")
        warnings.append("warning: " + gap.message(name))
    value = parse_amount(budget, "--budget") if budget is not None else total
    if value < total:
        raise ConfigError(f"--budget {value} wei is below the run's rewards, {total} wei; pass "
                          "at least that, or omit --budget to escrow exactly the rewards")
    if not is_id:
        def_id, _ = _define(client, name, definition, sender)
    blobs = open_store(store)
    run_id, _ = start(client, coordinator, def_id, data, value, sender, blobs)
    click.echo(f"run {run_id} started (definition 0x{def_id.hex()[:12]}…, budget {value} wei, "
               f"input {len(data)} bytes)")
    for line in warnings:
        click.echo(line, err=True)


def _total_reward(coord: Any, def_id: bytes) -> int:
    from accord.chain.client import decode_revert
    from accord.chain.types import DefinitionInfo
    from accord.errors import ConfigError

    try:
        return DefinitionInfo.from_abi(coord.functions.definitionInfo(def_id).call()).totalReward
    except Exception as exc:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and decode_revert(data).name == "CoordinatorUnknownDefinition":
            raise ConfigError(f"definition 0x{def_id.hex()} is not registered; run 'accord "
                              "workflow define <file.yaml>' first") from None
        raise


@workflow.command("status")
@click.argument("run_id", type=int)
@network_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@one_line_errors
def workflow_status(run_id: int, network: str, rpc: str | None, as_json: bool) -> None:
    """A table of the run's steps: state, agent, lease left, attempts, result, votes."""
    from accord.workflows.status import render_text, snapshot
    from accord.workflows.stuck import run_lines

    name, client, coordinator = coordinator_client(network, rpc)
    snap = snapshot(client, coordinator, run_id)
    stuck = run_lines(client, name, coordinator, run_id) if not snap.finished else []
    if as_json:
        click.echo(json.dumps({"run": run_id, "state": snap.state, "summary": snap.summary,
                               "skipped": snap.skipped,
                               "stuck": [line.removeprefix("stuck: ") for line in stuck],
                               "steps": [r.data() for r in snap.rows]}))
        return
    for line in render_text(snap):
        click.echo(line)
    for line in stuck:  # why a remote step is not moving, and the command that fixes it
        click.echo(line)


@workflow.command("runs")
@network_options
@click.option("--state", help="Only runs in this state (Running, Paused, Completed, Failed, "
                              "Cancelled).")
@click.option("--creator", help="Only runs started by this address.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@one_line_errors
def workflow_runs(network: str, rpc: str | None, state: str | None, creator: str | None,
                  as_json: bool) -> None:
    """List the runs of this network's coordinator, oldest first."""
    from accord.api import connect
    from accord.chain.types import RunState
    from accord.errors import ConfigError

    if state is not None and state.capitalize() not in RunState.labels():
        raise ConfigError(f"--state {state!r} is not a run state; use one of "
                          f"{', '.join(RunState.labels()[1:])}")
    name = network_name(network)
    coordinator_address(name)
    found = connect(name, rpc=rpc, read_only=True).runs(state, creator=creator)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in found]))
        return
    if not found:
        click.echo(f"no runs{f' in state {state}' if state else ''} on {name}")
    for r in found:
        click.echo(f"run {r.run_id}: {r.state}  definition {r.definition_id}  creator "
                   f"{r.creator}  block {r.block}")


@workflow.command("result")
@click.argument("run_id", type=int)
@click.argument("step")
@network_options
@click.option("--out", type=click.Path(dir_okay=False), help="Write the bytes to this file "
                                                            "[default: standard output].")
@click.option("--store", help="Result store directory [default: .accord/results].")
@one_line_errors
def workflow_result(run_id: int, step: str, network: str, rpc: str | None, out: str | None,
                    store: str | None) -> None:
    """Print (or --out) what STEP (its name or index) of RUN_ID produced, checked against the
    hash the coordinator holds."""
    from accord.api import connect

    name = network_name(network)
    coordinator_address(name)
    acc = connect(name, rpc=rpc, read_only=True, store=store)
    data = acc.result(run_id, int(step) if step.isdigit() else step)
    if out is not None:
        Path(out).write_bytes(data)
        click.echo(f"{len(data)} bytes written to {out}")
    else:
        click.echo(data.decode(errors="replace"))


@workflow.command("watch")
@click.argument("run_id", type=int)
@network_options
@click.option("--interval", type=float, default=1.0, show_default=True,
              help="Redraw at least this often (seconds); events redraw at once.")
@one_line_errors
def workflow_watch(run_id: int, network: str, rpc: str | None, interval: float) -> None:
    """A live view of the run's steps, agents and leases; exits when the run ends."""
    import time

    from rich.console import Console
    from rich.live import Live

    from accord.workflows.status import render_rich, snapshot

    name, client, coordinator = coordinator_client(network, rpc)
    topic = "0x" + run_id.to_bytes(32, "big").hex()
    cursor = int(client.w3.eth.block_number)
    snap = snapshot(client, coordinator, run_id)
    with Live(render_rich(snap), console=Console(), refresh_per_second=8) as live:
        last = time.monotonic()
        while not snap.finished:
            time.sleep(0.2)
            head = int(client.w3.eth.block_number)
            fresh = False
            if head > cursor:
                logs = client.w3.eth.get_logs({"address": coordinator, "fromBlock": cursor + 1,
                                               "toBlock": head, "topics": [None, topic]})
                cursor = head
                fresh = bool(logs)
            if fresh or time.monotonic() - last >= interval:
                snap = snapshot(client, coordinator, run_id)
                live.update(render_rich(snap))
                last = time.monotonic()
    click.echo(f"run {run_id} ended: {snap.summary}")
