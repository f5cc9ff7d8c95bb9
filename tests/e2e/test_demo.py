"""`accord demo` end to end, as the README's first command runs it, and its clean shutdown."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _anvils_and_children_of(state: Path) -> list[int]:
    """Processes whose command line mentions the demo's state dir or its anvil logs."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if str(state).encode() in environ and ("anvil" in cmd or "accord.cli" in cmd
                                               or "ipfs/node.mjs" in cmd):
            pids.append(int(proc.name))
    return pids


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ACCORD_STATE_DIR": str(tmp_path / "state")}


def test_demo_runs_a_three_chain_workflow_to_completion_and_stops_everything(
        tmp_path: Path) -> None:
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "accord.cli", "demo"], capture_output=True,
                         text=True, timeout=300, env=_env(tmp_path))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.search(r"run 1: Completed in [\d.]+s", out.stdout)
    assert "steps      8 done of 8" in out.stdout
    assert "execute         Dispatched" in out.stdout  # the chainb step went cross-chain
    assert "audit           Dispatched" in out.stdout  # and the chainc step (2 s blocks)
    assert "(delivered 4)" in out.stdout                  # tasks there, results back
    # the chainb executor's handler saw the home step's name, not the remote run's "step0"
    assert '"execute": {"step": "execute"' in out.stdout
    # every party is its own operator: its own state directory and key, sharing no file
    operators = tmp_path / "state" / "demo" / "operators"
    assert sorted(p.name for p in operators.iterdir()) == sorted([
        "creator", "agents-chaina", "validators-chaina", "agents-chainb", "agents-chainc",
        "keeper", "relayer-chaina-chainb", "relayer-chainb-chaina", "relayer-chaina-chainc",
        "relayer-chainc-chaina", *(f"attester-{c}-{i}" for c in ("chaina", "chainb", "chainc")
                                   for i in (5, 6))])
    # and the summary says who did what: the work was the agent groups', each relayer
    # delivered its own direction, the attesters announced where they publish
    lines = out.stdout.split("  operators", 1)[1].splitlines()
    what = {tuple(line.split()[:2]): line for line in lines if line.startswith("    ")}
    assert "submit" in what["agents-chaina", "chaina:"]
    assert "respond" in what["validators-chaina", "chaina:"]
    assert "deliver" in what["relayer-chaina-chainb", "chainb:"]
    assert "deliver" in what["relayer-chainb-chaina", "chaina:"]
    assert "announce 1" in what["attester-5", "chaina:"]
    # results crossed operators on IPFS: every step's result is an ipfs:// raw block
    assert re.search(r"results    8 on ipfs://", out.stdout)
    assert "deliver" in what["relayer-chainc-chaina", "chaina:"]
    assert time.monotonic() - started < 200  # a sanity bound, not a benchmark
    assert _anvils_and_children_of(tmp_path / "state") == []


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_stops_the_demo_and_everything_it_started(
        tmp_path: Path, sig: int, code: int) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "accord.cli", "demo"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(tmp_path))
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until the services are up, then interrupt
        if line.startswith("started "):
            break
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert "Traceback" not in err
    assert _anvils_and_children_of(tmp_path / "state") == []
