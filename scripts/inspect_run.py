"""`ape run inspect_run RUN_ID --network ethereum:chaina:node`: a run's state and its steps."""

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand

from accord.chain.results import find_results
from accord.chain.types import DefinitionInfo, RunInfo, RunState, StepState
from accord.deploy import context


@click.command(cls=ConnectedProviderCommand)
@click.argument("run_id", type=int)
def cli(network, run_id):
    coordinator = project.WorkflowCoordinator.at(context.address(network.name, "coordinator"))
    info = RunInfo.from_abi(coordinator.runInfo(run_id))
    click.echo(f"run {run_id}: {RunState(coordinator.runState(run_id)).label}, "
               f"escrow {info.escrow}")
    count = DefinitionInfo.from_abi(coordinator.definitionInfo(info.definitionId)).stepCount
    # the coordinator keeps a commitment per result; hash and URI come from its events
    results = find_results(chain.provider.web3, coordinator.address, run_id, list(range(count)))
    for step in range(count):
        state = StepState(coordinator.stepState(run_id, step)).label
        uri = results[step].resultURI if step in results else ""
        click.echo(f"  step {step}: {state:<10} {uri or '-'}")
