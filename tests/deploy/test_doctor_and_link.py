"""accord deploy / link / doctor across two devnets, through the CLI as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accord.devnet import Devnet


def _accord(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "accord.cli", *args], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))


@pytest.fixture
def two_devnets(fresh_devnet: Devnet, manifests: Path) -> Devnet:
    fresh_devnet.start("chaina")
    fresh_devnet.start("chainb")
    state = Path(os.environ["ACCORD_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    fresh_devnet.write_manifest(state / "devnet.json")
    for name in ("chaina", "chainb"):
        out = _accord("deploy", "--network", name)
        assert out.returncode == 0, out.stderr
    return fresh_devnet


def test_doctor_flags_unlinked_gateways_with_the_fix_and_exits_non_zero(two_devnets) -> None:
    out = _accord("doctor", "--network", "chaina", "--network", "chainb")
    assert out.returncode == 1
    errors = [line for line in out.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert all("no trusted gateway" in e and "accord link" in e for e in errors)


def test_link_makes_doctor_clean_and_is_idempotent(two_devnets) -> None:
    out = _accord("link", "chaina", "chainb")
    assert out.returncode == 0, out.stderr
    assert "2-of-3 validators" in out.stdout
    doctor = _accord("doctor", "--network", "chaina", "--network", "chainb")
    assert doctor.returncode == 0, doctor.stdout
    assert doctor.stdout.strip().endswith("0 errors, 0 warnings")
    again = _accord("link", "chaina", "chainb")
    assert again.stdout.strip() == "nothing to do: the gateways already trust each other"


def test_doctor_finds_code_that_differs_from_the_manifest(two_devnets, manifests: Path) -> None:
    path = manifests / "ethereum_chaina.json"
    m = json.loads(path.read_text())
    m["contracts"]["gateway"]["code_hash"] = "0x" + "00" * 32
    path.write_text(json.dumps(m))
    out = _accord("doctor", "--network", "chaina")
    assert out.returncode == 1
    assert "gateway at" in out.stdout and "differs from the manifest" in out.stdout


def test_doctor_without_a_manifest_says_to_deploy(manifests: Path, fresh_devnet: Devnet) -> None:
    chain = fresh_devnet.start("chaina")
    state = Path(os.environ["ACCORD_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    fresh_devnet.write_manifest(state / "devnet.json")
    out = _accord("doctor", "--network", "chaina")
    assert out.returncode == 1 and chain.rpc_url
    assert out.stderr.count("\n") == 1 and "accord deploy --network chaina" in out.stderr
