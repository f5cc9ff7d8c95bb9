"""`ape run register_agent --network ethereum:chaina:node --account TEST::1 [--uri URI]`:
register an ERC-8004 agent identity on a deployed suite (addresses from the manifest)."""

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option

from accord.deploy import context


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--uri", default="", help="The agent's registration file URI.")
def cli(network, account, uri):
    identity = project.IdentityRegistry.at(context.address(network.name, "identity"))
    tx = identity.register(uri, sender=account)
    agent_id = tx.events.filter(identity.Registered)[0].agentId
    click.echo(f"registered agent {agent_id} owned by {account.address} (tx {tx.txn_hash})")
