"""The ``accord`` command line. Imports of web3 and ape happen inside commands, so
``accord --help`` answers fast. Every error a user can cause prints one line and exits 1."""

from __future__ import annotations

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

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accord", prog_name="accord")
def cli() -> None:
    """Accord: coordinate multi-agent workflows across EVM chains.

    Start with `accord demo`, which runs the whole system on two local chains.
    """


# -- devnet --------------------------------------------------------------------------------
@cli.group()
def devnet() -> None:
    """Named local anvil chains (chaina, chainb, ...) and forks of them."""


@devnet.command("up")
@click.argument("names", nargs=-1)
@one_line_errors
def devnet_up(names: tuple[str, ...]) -> None:
    """Start named chains (default: every chain in ape-config.yaml) and leave them running."""
    from accord import devnet as dn
    from accord.config import devnet_specs

    running = {n: c for n, c in dn.read_manifest().items() if dn.chain_alive(c)}
    wanted = list(names) or sorted(devnet_specs())
    net = dn.Devnet(detach=True)
    net.chains.update(running)
    for name in wanted:
        if name in running:
            click.echo(f"{name}: already running at {running[name].rpc_url}")
            continue
        spec = dn.devnet_spec(name)
        port = None
        if spec.default_uri:
            default_port = int(spec.default_uri.rsplit(":", 1)[1].split("/")[0])
            port = default_port if dn.port_is_free(default_port) else None
        chain = net.start(name, port=port)
        click.echo(f"{name}: chain id {chain.chain_id} at {chain.rpc_url} (pid {chain.pid})")
    path = net.write_manifest()
    click.echo(f"manifest: {path}")


@devnet.command("down")
@one_line_errors
def devnet_down() -> None:
    """Stop every chain `accord devnet up` started (by its recorded process id)."""
    from accord import devnet as dn

    stopped = dn.stop_recorded()
    click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@devnet.command("status")
@one_line_errors
def devnet_status() -> None:
    """Show the recorded chains and whether each still answers."""
    from accord import devnet as dn

    chains = dn.read_manifest()
    if not chains:
        click.echo("no devnet is running; start one with 'accord devnet up'")
        return
    for name, chain in chains.items():
        state = "up" if dn.chain_alive(chain) else "DOWN"
        click.echo(f"{name}: {state} chain id {chain.chain_id} at {chain.rpc_url} "
                   f"(pid {chain.pid})")


# -- demo ----------------------------------------------------------------------------------
@cli.command()
@one_line_errors
def demo() -> None:
    """Run the main job on two fresh local chains and stop everything afterwards."""
    from accord.demo import run_demo

    run_demo(echo=click.echo)


def main() -> None:
    cli(prog_name="accord")


if __name__ == "__main__":
    main()
