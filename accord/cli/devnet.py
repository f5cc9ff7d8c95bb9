"""``accord devnet``: named local anvil chains and forks."""

from __future__ import annotations

import click

from accord.cli.common import one_line_errors


@click.group()
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
    from accord.dev import devnet as dn

    path = dn.up(names, any_port=any_port, echo=click.echo)
    click.echo(f"manifest: {path}")


@devnet.command("fork")
@click.argument("chain")
@click.option("--block", type=int, help="Fork at this block (default: the latest).")
@click.option("--name", help="Name of the fork [default: <chain>-fork].")
@one_line_errors
def devnet_fork(chain: str, block: int | None, name: str | None) -> None:
    """Fork a running chain (devnet name or RPC URL) into a new local chain, left running."""
    from accord.deploy import context
    from accord.dev import devnet as dn

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
    from accord.dev import devnet as dn

    stopped = dn.stop_recorded()
    click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@devnet.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@one_line_errors
def devnet_status(as_json: bool) -> None:
    """Show the recorded chains and whether each still answers."""
    from accord.dev import devnet as dn

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
