"""`ape run start_workflow FILE.yaml --network ethereum:chaina:node --account TEST::0`:
define (idempotent) and start a workflow run with the sum of its rewards as budget."""

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option

from accord.deploy import context
from accord.workflows.compiler import known_roles_from_settings, load_workflow


@click.command(cls=ConnectedProviderCommand)
@click.argument("file", type=click.Path(exists=True))
@account_option()
def cli(network, account, file):
    wf = load_workflow(file, known_roles=known_roles_from_settings(), home_chain=network.name)
    coordinator = project.WorkflowCoordinator.at(context.address(network.name, "coordinator"))
    chain_id = network.chain_id
    coordinator.registerDefinition(wf.definition(chain_id), sender=account)
    def_id = wf.definition_id(chain_id)
    tx = coordinator.startRun(def_id, b"\x00" * 32, "", sender=account, value=wf.total_reward())
    run_id = tx.events.filter(coordinator.RunStarted)[0].runId
    click.echo(f"run {run_id} of '{wf.name}' started (definition 0x{def_id.hex()})")
