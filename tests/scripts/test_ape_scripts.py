"""The `ape run` examples against a devnet chain: register an agent, start a workflow,
inspect the run. The chain runs on a free port; ape reaches it as the `chaina` network with
the node's URI in the network choice (`ethereum:chaina:http://...`), never the default
devnet port."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


from accord.dev.devnet import Chain

ROOT = Path(__file__).resolve().parents[2]


def _ape(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ape", "run", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ))


def test_ape_run_examples_register_start_and_inspect(deployed_chaina: Chain) -> None:
    chain = deployed_chaina
    net = ["--network", f"ethereum:chaina:{chain.rpc_url}"]
    out = _ape("register_agent", *net, "--account", "TEST::1", "--uri", "ipfs://agent")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "registered agent 1 owned by" in out.stdout
    out = _ape("start_workflow", "examples/research.yaml", *net, "--account", "TEST::0")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "run 1 of 'research' started" in out.stdout
    out = _ape("inspect_run", "1", *net)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "run 1: Running" in out.stdout and "step 0: Ready" in out.stdout
