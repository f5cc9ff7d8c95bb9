"""A mistyped network name says so, with the names that exist, whatever the command
(issue 17: `--network chainc` used to answer "use --key-env" or "run accord deploy first")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("argv", [
    ["deploy", "--network", "chaind"],
    ["deploy", "--network", "ethereum:chaind", "--dev-account", "0"],
    ["doctor", "--network", "chaina", "--network", "chaind"],
    ["keep", "--network", "chaind", "--dev-account", "2"],
    ["validate", "--chain", "chaind", "--dev-account", "5"],
    ["relay", "--from", "chaina", "--to", "chaind", "--dev-account", "3"],
    ["workflow", "status", "1", "--network", "chaind"],
    ["router", "balance", "--network", "chaind",
     "--creator", "0x0000000000000000000000000000000000000001"],
], ids=lambda argv: "-".join(argv[:2]))
def test_unknown_network_names_the_known_ones(argv: list[str], manifests: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "accord.cli", *argv], capture_output=True,
                         text=True, timeout=60, env=dict(os.environ))
    assert out.returncode == 1
    assert out.stderr.startswith(
        "error: unknown network 'chaind'; known: chaina, chainb, chainc"), \
        out.stderr
    assert out.stderr.count("\n") == 1
