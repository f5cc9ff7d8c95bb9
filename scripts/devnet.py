"""`ape run devnet [NAMES...]`: start named local chains and keep them up until Ctrl-C.

Thin wiring over accord.dev.devnet (the same code the CLI and the test fixtures use)."""

import time

import click

from accord.dev.devnet import Devnet


@click.command()
@click.argument("names", nargs=-1)
def cli(names: tuple[str, ...]) -> None:
    """Start chaina and chainb (or NAMES) on free loopback ports; Ctrl-C stops them."""
    with Devnet() as net:
        for name in names or ("chaina", "chainb"):
            chain = net.start(name)
            click.echo(f"{name}: chain id {chain.chain_id} at {chain.rpc_url} (pid {chain.pid})")
        net.write_manifest()
        click.echo("running; press Ctrl-C to stop")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            click.echo("stopping")
