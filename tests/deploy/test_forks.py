"""Forks of a deployed chain: upstream state visible, writes isolated, accounts impersonated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from web3 import Web3

from accord import settings
from accord.deploy import suite
from accord.chain.client import Client
from accord.chain.accounts import dev_account
from accord.deploy.plan import read_manifest, run_plan
from accord.dev.devnet import Chain, Devnet, rpc

ROLE = settings.role_id("analysis")


def _deployed(chain: Chain, tmp_path: Path) -> dict[str, str]:
    admin = dev_account(0)
    path = tmp_path / "m.json"
    run_plan(Client(chain.rpc_url), admin, suite.plan(settings.load(), "chaina", admin.address),
             path, network="chaina")
    return {k: v["address"] for k, v in read_manifest(path)["contracts"].items()}


def test_fork_sees_the_deployment_and_its_writes_stay_on_the_fork(
        chain: Chain, fresh_devnet: Devnet, tmp_path: Path) -> None:
    addrs = _deployed(chain, tmp_path)
    fork = fresh_devnet.fork(chain)
    up, down = Client(chain.rpc_url), Client(fork.rpc_url)
    assert down.w3.eth.get_code(addrs["coordinator"]) == up.w3.eth.get_code(addrs["coordinator"])
    roles_fork = down.contract("AgentRoles", addrs["roles"])
    down.transact(roles_fork.functions.configureRole(ROLE, 12345), dev_account(0))
    assert roles_fork.functions.roleMinBond(ROLE).call()[0] == 12345
    roles_up = up.contract("AgentRoles", addrs["roles"])
    assert roles_up.functions.roleMinBond(ROLE).call()[0] != 12345


def test_impersonated_admin_acts_on_the_fork_without_its_key(
        chain: Chain, fresh_devnet: Devnet, tmp_path: Path) -> None:
    addrs = _deployed(chain, tmp_path)
    fork = fresh_devnet.fork(chain)
    admin = dev_account(0).address
    rpc(fork.rpc_url, "anvil_impersonateAccount", [admin])
    w3 = Web3(Web3.HTTPProvider(fork.rpc_url))
    gw = Client(fork.rpc_url).contract("AccordGateway", addrs["gateway"])
    tx = gw.functions.setTrustedGateway(777, addrs["coordinator"]).transact({"from": admin})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    assert gw.functions.trustedGateway(777).call() == addrs["coordinator"]
    up = Client(chain.rpc_url).contract("AccordGateway", addrs["gateway"])
    assert int(up.functions.trustedGateway(777).call(), 16) == 0


def test_cli_devnet_fork_starts_a_named_fork_recorded_in_the_manifest(
        chain: Chain, manifests: Path, fresh_devnet: Devnet) -> None:
    state = Path(os.environ["ACCORD_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    fresh_devnet.write_manifest(state / "devnet.json")
    block = int(rpc(chain.rpc_url, "eth_blockNumber"), 16)
    out = subprocess.run([sys.executable, "-m", "accord.cli", "devnet", "fork", "chaina",
                          "--block", str(block)], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("chaina-fork: fork of chaina at block")
    down = subprocess.run([sys.executable, "-m", "accord.cli", "devnet", "down"],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert "chaina-fork" in down.stdout
