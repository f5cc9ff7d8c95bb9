"""`ape run inspect_run RUN_ID --network ethereum:chaina:node`: a run's state and its steps."""

import click
from ape import project
from ape.cli import ConnectedProviderCommand

from accord import context
from accord.demo import RUN_STATES, STEP_STATES


@click.command(cls=ConnectedProviderCommand)
@click.argument("run_id", type=int)
def cli(network, run_id):
    coordinator = project.WorkflowCoordinator.at(context.address(network.name, "coordinator"))
    info = coordinator.runInfo(run_id)
    click.echo(f"run {run_id}: {RUN_STATES[coordinator.runState(run_id)]}, escrow {info.escrow}")
    count = coordinator.definitionInfo(info.definitionId)[0]
    for step in range(count):
        state = STEP_STATES[coordinator.stepState(run_id, step)]
        result_hash, uri = coordinator.result(run_id, step)
        click.echo(f"  step {step}: {state:<10} {uri or '-'}")
