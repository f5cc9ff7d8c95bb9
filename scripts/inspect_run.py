"""`ape run inspect_run RUN_ID --network ethereum:chaina:node`: a run's state and its steps."""

import click
from ape import project
from ape.cli import ConnectedProviderCommand

from accord.chain.types import DefinitionInfo, RunInfo, RunState, StepResult, StepState
from accord.deploy import context


@click.command(cls=ConnectedProviderCommand)
@click.argument("run_id", type=int)
def cli(network, run_id):
    coordinator = project.WorkflowCoordinator.at(context.address(network.name, "coordinator"))
    info = RunInfo.from_abi(coordinator.runInfo(run_id))
    click.echo(f"run {run_id}: {RunState(coordinator.runState(run_id)).label}, "
               f"escrow {info.escrow}")
    count = DefinitionInfo.from_abi(coordinator.definitionInfo(info.definitionId)).stepCount
    for step in range(count):
        state = StepState(coordinator.stepState(run_id, step)).label
        uri = StepResult.from_abi(coordinator.result(run_id, step)).resultURI
        click.echo(f"  step {step}: {state:<10} {uri or '-'}")
