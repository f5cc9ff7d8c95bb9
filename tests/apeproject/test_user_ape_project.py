"""Accord inside a user's own ape project (README "In your own ape project"): a scratch project
whose ape-config.yaml is the README's snippet with the installed package's folders filled in, a contract
importing `IWorkflowCoordinator` and implementing `IERC7786Recipient`, compiled with
`ape compile`, and an `ape run` script that deploys it with the coordinator address from
`accord.deployment` and starts a run of examples/hello.yaml; the run is then read on chain.

The subprocesses run as a user's would: in the scratch project, without ACCORD_ROOT (Accord
finds its checkout from its own package, which PYTHONPATH points at this one), with ape's
data folder (its dependency cache) in tmp, offline (solc is the solc-js wrapper in .solcx)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import accord
from accord.dev.devnet import Devnet

ROOT = Path(__file__).resolve().parents[2]

CONTRACT = """\
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IWorkflowCoordinator} from "@accord/IWorkflowCoordinator.sol";
import {IWorkflowCoordinatorTypes} from "@accord/IWorkflowCoordinatorTypes.sol";
import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// Knows its Accord coordinator and accepts ERC-7786 messages (keeps the last payload).
contract MyRecipient is IERC7786Recipient {
    IWorkflowCoordinator public immutable coordinator;
    bytes public lastPayload;

    constructor(IWorkflowCoordinator coordinator_) {
        coordinator = coordinator_;
    }

    function isRunning(uint256 runId) external view returns (bool) {
        return coordinator.runState(runId) == IWorkflowCoordinatorTypes.RunState.Running;
    }

    function receiveMessage(bytes32, bytes calldata, bytes calldata payload)
        external payable returns (bytes4)
    {
        lastPayload = payload;
        return IERC7786Recipient.receiveMessage.selector;
    }
}
"""

SCRIPT = '''\
import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option

import accord


@click.command(cls=ConnectedProviderCommand)
@click.argument("workflow", type=click.Path(exists=True))
@account_option()
def cli(network, provider, account, workflow):
    coordinator = accord.deployment(network.name)["coordinator"]
    mine = project.MyRecipient.deploy(coordinator, sender=account)
    assert mine.coordinator() == coordinator
    acc = accord.connect(network.name, dev_account=0, rpc=provider.uri)
    run = acc.start(workflow, input=b"tides")
    assert mine.isRunning(run)
    click.echo(f"MyRecipient {mine.address} coordinator {coordinator}")
    click.echo(f"run {run} started")
'''


def readme_snippet(solidity: Path) -> str:
    """The first yaml block of the README's "In your own ape project", with the folder
    `accord paths` prints filled in."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## In your own ape project", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README: no yaml block under 'In your own ape project'"
    assert "/path/from/accord-paths" in block.group(1)
    return block.group(1).replace("/path/from/accord-paths", str(solidity))


def installed_package(tmp_path: Path) -> Path:
    """The `accord` package as a wheel installs it (setuptools' build_py: the package files
    and their package data, the interfaces copied, not linked), built offline."""
    lib = tmp_path / "site"
    out = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                          "build_py", "--build-lib", str(lib)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return lib


def test_the_package_ships_the_interfaces_and_the_openzeppelin_file_they_import(
        tmp_path: Path) -> None:
    solidity = installed_package(tmp_path) / "accord" / "solidity"
    shipped = sorted(p.name for p in (solidity / "interfaces").glob("*.sol"))
    assert shipped == sorted(p.name for p in (ROOT / "interfaces").glob("*.sol"))
    assert not (solidity / "interfaces").is_symlink()  # real files in the wheel
    oz = "interfaces/draft-IERC7786.sol"
    assert (solidity / "openzeppelin" / oz).read_bytes() == (
        ROOT / "node_modules" / "@openzeppelin" / "contracts" / oz).read_bytes()
    # `accord paths` names the folders (here, in the checkout: the same files)
    out = subprocess.run(["accord", "paths", "--json"], capture_output=True, text=True,
                         timeout=60)
    found = json.loads(out.stdout)
    assert (Path(found["interfaces"]) / "IWorkflowCoordinator.sol").is_file()
    assert (Path(found["openzeppelin"]) / oz).is_file()


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_user_ape_project_compiles_against_accord_and_starts_a_run(
        recorded_devnet: Callable[..., Devnet], manifests: Path, tmp_path: Path) -> None:
    proj = tmp_path / "myproject"
    (proj / "contracts").mkdir(parents=True)
    (proj / "scripts").mkdir()
    solidity = installed_package(tmp_path) / "accord" / "solidity"
    (proj / "ape-config.yaml").write_text("name: myproject\n\n" + readme_snippet(solidity))
    (proj / "contracts" / "MyRecipient.sol").write_text(CONTRACT)
    (proj / "scripts" / "start_hello.py").write_text(SCRIPT)

    env = dict(os.environ)
    env.pop("ACCORD_ROOT", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["SOLCX_BINARY_PATH"] = str(ROOT / ".solcx")
    env["APE_DATA_FOLDER"] = str(tmp_path / "ape-data")

    out = run(["ape", "accord", "--help"], proj, env)
    assert out.returncode == 0 and "deploy" in out.stdout, out.stdout + out.stderr

    out = run(["ape", "compile"], proj, env)
    assert out.returncode == 0, out.stdout + out.stderr
    built = json.loads((proj / ".build" / "__local__.json").read_text())
    assert "MyRecipient" in built["contractTypes"]
    # Only the interfaces it imports were compiled, never Accord's contracts/.
    assert "WorkflowCoordinator" not in built["contractTypes"]

    chain = recorded_devnet("chaina").chains["chaina"]
    out = run(["ape", "accord", "deploy", "--network", "chaina"], proj, env)
    assert out.returncode == 0, out.stdout + out.stderr

    out = run(["ape", "run", "start_hello", str(ROOT / "examples" / "hello.yaml"),
               "--network", f"ethereum:chaina:{chain.rpc_url}", "--account", "TEST::0"],
              proj, env)
    assert out.returncode == 0, out.stdout + out.stderr
    started = re.search(r"run (\d+) started", out.stdout)
    assert started, out.stdout
    run_id = int(started.group(1))
    coordinator = accord.deployment("chaina")["coordinator"]
    assert f"coordinator {coordinator}" in out.stdout

    status = accord.connect("chaina", dev_account=0).status(run_id)
    assert status.state == "Running"
    assert [row.state for row in status.rows][0] == "Ready"
