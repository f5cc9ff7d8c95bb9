"""The Python API (`accord.connect`) as a user meets it: the README's example script run as
it is, and the calls' errors, against a devnet chain on a free port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import accord
from accord.dev.devnet import Chain, Devnet
from accord.errors import AccordError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def deployed(deployed_chaina: Chain) -> str:
    return "chaina"


def test_the_example_script_runs_a_workflow_with_two_agents_and_reads_its_result(
        deployed: str) -> None:
    out = subprocess.run([sys.executable, "examples/python_api.py", deployed], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].endswith(": Completed"), out.stdout
    assert lines[1] == "polish: DRAFT: WHY THE TIDES TURN"
    assert lines[2] == "runs completed so far: 1"
    # the same from the command line, as data a script can use
    run_id = int(lines[0].split()[1].rstrip(":"))
    runs = json.loads(_accord("workflow", "runs", "--network", deployed, "--state",
                              "completed", "--json"))
    assert [(r["run_id"], r["state"]) for r in runs] == [(run_id, "Completed")]
    assert _accord("workflow", "result", str(run_id), "polish", "--network",
                   deployed) == "DRAFT: WHY THE TIDES TURN\n"
    # a step as data: numbers as numbers, the hash whole, a Done step's attempts taken
    status = json.loads(_accord("workflow", "status", str(run_id), "--network", deployed,
                                "--json"))
    polish = status["steps"][1]
    assert (polish["name"], polish["state"], polish["attempts"], polish["max_attempts"]) == (
        "polish", "Done", 1, 2)
    assert isinstance(polish["agent_id"], int) and polish["lease_end"] is None
    assert polish["result"].startswith("0x") and len(polish["result"]) == 66
    table = _accord("workflow", "status", str(run_id), "--network", deployed)
    assert " 1  " in table.splitlines()[-1] and "/2" not in table  # Done: attempts taken
    [chain] = json.loads(_accord("devnet", "status", "--json"))
    assert chain["name"] == "chaina" and chain["up"] is True and isinstance(chain["pid"], int)


def _accord(*args: str) -> str:
    out = subprocess.run(["accord", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=dict(os.environ))
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_workflow_runs_rejects_an_unknown_state(deployed: str) -> None:
    out = subprocess.run(["accord", "workflow", "runs", "--network", deployed, "--state",
                          "Done"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ))
    assert out.returncode != 0 and out.stderr.count("\n") == 1
    assert "'Done' is not a run state; use one of Running, Paused" in out.stderr


def test_api_calls_on_a_run_say_what_is_wrong(deployed: str, tmp_path: Path) -> None:
    acc = accord.connect(deployed, dev_account=0, store=tmp_path / "results")
    run = acc.start(ROOT / "examples" / "hello.yaml", input=b"x")
    assert acc.status(run).state == "Running"
    assert [r.run_id for r in acc.runs("Running")] == [run]
    with pytest.raises(AccordError, match="has no step named 'nope'; its steps: draft, polish"):
        acc.result(run, "nope")
    with pytest.raises(AccordError, match="has no result yet"):
        acc.result(run, "draft")
    with pytest.raises(AccordError, match="below the run's rewards"):
        acc.start(ROOT / "examples" / "hello.yaml", budget=1)
    acc.cancel(run)
    assert acc.wait(run, timeout=30) == "Cancelled"
    assert acc.runs("Running") == []


def test_connect_to_a_network_without_a_deployment_says_how_to_deploy(
        recorded_devnet: Callable[..., Devnet]) -> None:
    recorded_devnet("chaina")
    with pytest.raises(AccordError, match="accord deploy --network chaina"):
        accord.connect("chaina", dev_account=0)
    with pytest.raises(AccordError, match=r"needs a signer: account=.*read_only=True"):
        accord.connect("chaina")
