"""The ``accord`` command line: the top-level group and its command groups, one module each
(``accord/cli/*.py``). Imports of web3 and ape happen inside commands, so ``accord --help``
answers fast."""

from __future__ import annotations

import click

from accord.cli.agents import agents
from accord.cli.dashboard import dashboard, demo
from accord.cli.deploy import deploy, doctor, link
from accord.cli.devnet import devnet
from accord.cli.message import message
from accord.cli.results import results
from accord.cli.router import router
from accord.cli.services import keep, relay, validate
from accord.cli.workflow import workflow


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


@click.command()
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


for _command in (devnet, deploy, link, doctor, validate, relay, keep, router, message, dashboard,
                 demo, paths, agents, workflow, results):
    cli.add_command(_command)


def main() -> None:
    # SIGTERM (a supervisor, `timeout`, CI) unwinds like Ctrl-C, so every context manager
    # stops what it started (chains, services), and ends the process within 2 s regardless.
    from accord.service import shutdown

    shutdown.install()
    cli(prog_name="accord")
