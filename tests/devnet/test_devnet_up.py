"""`accord devnet up` never leaves a chain running unknown: when a later chain cannot start,
the chains it started are stopped again (by pid) and the command fails with one line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accord.paths import anvil_executable, devnet_spec
from procs import gone

ROOT = Path(__file__).resolve().parents[2]


def _accord(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "accord.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private state dir, and an anvil that refuses to run chainb's chain id (as anvil does
    when it cannot bind its port or its arguments are wrong): it exits at once, with 1."""
    fake = tmp_path / "anvil"
    fake.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" --chain-id {devnet_spec("chainb").chain_id} "*)\n'
        '  echo "Error: Address already in use (os error 98)" >&2; exit 1;;\n'
        "esac\n"
        f'exec "{anvil_executable()}" "$@"\n')
    fake.chmod(0o755)
    state = tmp_path / "state"
    out = {**os.environ, "ACCORD_STATE_DIR": str(state), "ACCORD_ANVIL": str(fake)}
    out.pop("ACCORD_DEBUG", None)
    return out


def _manifest_chains(env: dict[str, str]) -> dict[str, dict[str, object]]:
    path = Path(env["ACCORD_STATE_DIR"]) / "devnet.json"
    return json.loads(path.read_text())["chains"] if path.is_file() else {}


def test_devnet_up_stops_the_first_chain_when_the_second_cannot_start(
        env: dict[str, str]) -> None:
    out = _accord(env, "devnet", "up", "chaina", "chainb", "--any-port")
    started = re.search(r"^chaina: chain id \d+ at \S+ \(pid (\d+)\)$", out.stdout, re.M)
    try:
        assert out.returncode == 1, out
        assert started, out.stdout
        assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: "), out.stderr
        assert "Traceback" not in out.stderr + out.stdout
        assert "could not start chain 'chainb'" in out.stderr
        assert "stopped chaina again" in out.stderr
        assert gone(int(started.group(1))), "chaina's anvil is still running"
        assert _manifest_chains(env) == {}  # nothing recorded that is not running
        status = _accord(env, "devnet", "status")
        assert "no devnet is running" in status.stdout
    finally:
        _accord(env, "devnet", "down")


def test_devnet_up_with_an_unknown_name_starts_nothing(env: dict[str, str]) -> None:
    out = _accord(env, "devnet", "up", "chaina", "nosuchchain", "--any-port")
    try:
        assert out.returncode == 1, out
        assert out.stderr.count("\n") == 1 and "unknown chain 'nosuchchain'" in out.stderr
        assert "chaina:" not in out.stdout  # checked before any chain started
        assert _manifest_chains(env) == {}
    finally:
        _accord(env, "devnet", "down")


def test_devnet_up_records_its_chains_and_down_stops_them(env: dict[str, str]) -> None:
    out = _accord(env, "devnet", "up", "chaina", "--any-port")
    try:
        assert out.returncode == 0, out
        pid = int(re.search(r"\(pid (\d+)\)", out.stdout).group(1))  # type: ignore[union-attr]
        assert _manifest_chains(env)["chaina"]["pid"] == pid
        assert "chaina: up" in _accord(env, "devnet", "status").stdout
    finally:
        down = _accord(env, "devnet", "down")
    assert "stopped: chaina" in down.stdout
    assert gone(pid)


def test_devnet_up_keeps_block_time_moving_without_transactions(env: dict[str, str]) -> None:
    """Leases, backoffs and deadlines read the latest block's timestamp: on an idle devnet it
    must still follow the wall clock (anvil mines on an interval as well as per transaction)."""
    from accord.dev.devnet import rpc

    out = _accord(env, "devnet", "up", "chaina", "--any-port")
    try:
        assert out.returncode == 0, out
        url = _manifest_chains(env)["chaina"]["rpc_url"]
        assert isinstance(url, str)

        def stamp() -> int:
            return int(rpc(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

        first = stamp()
        deadline = time.monotonic() + 10.0
        while stamp() < first + 3:
            assert time.monotonic() < deadline, "the idle chain's clock did not move in 10 s"
            time.sleep(0.2)
        # nothing was sent: every block since is an interval block
        assert int(rpc(url, "eth_getTransactionCount",
                       ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "latest"]), 16) == 0
    finally:
        _accord(env, "devnet", "down")
