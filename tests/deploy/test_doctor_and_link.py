"""accord deploy / link / doctor across two devnets, through the CLI as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from web3.logs import DISCARD

from accord import settings
from accord.deploy import doctor
from accord.deploy import suite
from accord.chain.client import Client
from accord.chain.accounts import dev_account
from accord.deploy.plan import read_manifest, run_plan
from accord.dev.devnet import Chain, Devnet


def _accord(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "accord.cli", *args], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))


@pytest.fixture
def two_devnets(recorded_devnet: Callable[..., Devnet]) -> Devnet:
    net = recorded_devnet("chaina", "chainb")
    for name in ("chaina", "chainb"):
        out = _accord("deploy", "--network", name)
        assert out.returncode == 0, out.stderr
    return net


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


def test_doctor_without_a_manifest_says_to_deploy(
        recorded_devnet: Callable[..., Devnet]) -> None:
    chain = recorded_devnet("chaina").chains["chaina"]
    out = _accord("doctor", "--network", "chaina")
    assert out.returncode == 1 and chain.rpc_url
    assert out.stderr.count("\n") == 1 and "accord deploy --network chaina" in out.stderr


def test_doctor_reports_who_can_slash_and_pending_announcements(chain: Chain, tmp_path: Path) -> None:
    """Info: the slasher list; warnings: a pending announcement (the admin announcing itself
    after agents bonded) and a slasher that is not the coordinator; error: a coordinator that
    cannot lock stake."""
    path = tmp_path / "ethereum_chaina.json"
    client = Client(chain.rpc_url)
    admin = dev_account(0)
    run_plan(client, admin, suite.plan(settings.load(), "chaina", admin.address), path,
             network="chaina")

    def findings() -> list[doctor.Finding]:
        return doctor.check_slashers(doctor.Deployed("chaina", client, read_manifest(path),
                                                     live=False))

    m = read_manifest(path)
    coordinator = m["contracts"]["coordinator"]["address"]
    roles = client.contract("AgentRoles", m["contracts"]["roles"]["address"])
    clean = findings()
    assert [f.level for f in clean] == ["info"]
    assert clean[0].line() == (f"info: [chaina] who can lock and slash bonds on roles: "
                               f"{coordinator} (coordinator)")

    agent = dev_account(10)
    identity = client.contract("IdentityRegistry", m["contracts"]["identity"]["address"])
    receipt = client.transact(identity.functions.register(), agent)
    agent_id = identity.events.Registered().process_receipt(receipt, errors=DISCARD)[0]["args"]["agentId"]
    client.transact(roles.functions.bond(agent_id, settings.role_id("research")), agent,
                    value=settings.load().roles["research"])
    client.transact(roles.functions.announceSlasher(admin.address), admin)
    warned = [f.line() for f in findings() if f.level == "warning"]
    assert len(warned) == 1 and admin.address in warned[0] and "cancelSlasher" in warned[0]

    client.transact(roles.functions.removeSlasher(coordinator), admin)
    errors = [f.line() for f in findings() if f.level == "error"]
    assert len(errors) == 1 and "is not a slasher" in errors[0] and "accord deploy" in errors[0]
