"""accord deploy: the whole suite, idempotent, resumable, recorded in a manifest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from web3.logs import DISCARD

from accord import settings
from accord.deploy import suite
from accord.chain.client import Client
from accord.chain.accounts import dev_account
from accord.deploy.plan import read_manifest, run_plan
from accord.dev.devnet import Chain, Devnet
from accord.errors import ChainError

SUITE = ["identity", "reputation", "validation", "roles", "coordinator", "gateway", "router",
         "announce", "paymaster"]


def _deploy(chain: Chain, path: Path) -> object:
    client = Client(chain.rpc_url)
    admin = dev_account(0)
    return run_plan(client, admin, suite.plan(settings.load(), "chaina", admin.address), path,
                    network="chaina")


def test_deploy_records_every_contract_with_code_hash_block_args_and_commit(
        chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "ethereum_chaina.json"
    report = _deploy(chain, path)
    assert report.deployed == SUITE  # type: ignore[attr-defined]
    m = read_manifest(path)
    assert m["chain_id"] == chain.chain_id and m["git_commit"]
    for key in SUITE:
        rec = m["contracts"][key]
        assert rec["address"].startswith("0x") and rec["block"] > 0
        assert rec["code_hash"] and "constructor_args" in rec
    roles = Client(chain.rpc_url).contract("AgentRoles", m["contracts"]["roles"]["address"])
    coordinator = m["contracts"]["coordinator"]["address"]
    assert roles.functions.isSlasher(coordinator).call()   # fresh roles: registered at once
    assert roles.functions.slashers().call() == [coordinator]
    assert roles.functions.slasherDelay().call() == settings.load().slasher_delay


def test_deploying_again_changes_nothing_and_says_so(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "ethereum_chaina.json"
    _deploy(chain, path)
    before = path.read_text()
    block = Client(chain.rpc_url).w3.eth.block_number
    report = _deploy(chain, path)
    assert not report.changed  # type: ignore[attr-defined]
    assert report.lines()[0].startswith("nothing to do: 9 contracts")  # type: ignore[attr-defined]
    assert Client(chain.rpc_url).w3.eth.block_number == block  # not one transaction sent
    assert json.loads(path.read_text())["contracts"] == json.loads(before)["contracts"]


def test_an_interrupted_deploy_resumes_where_it_stopped(
        chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ethereum_chaina.json"
    real_deploy = Client.deploy

    def dies_at_coordinator(self: Client, name: str, *args: object, **kw: object) -> object:
        if name == "WorkflowCoordinator":
            raise ChainError("connection lost")
        return real_deploy(self, name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Client, "deploy", dies_at_coordinator)
    with pytest.raises(ChainError):
        _deploy(chain, path)
    assert sorted(read_manifest(path)["contracts"]) == sorted(SUITE[:4])
    monkeypatch.setattr(Client, "deploy", real_deploy)
    report = _deploy(chain, path)
    assert report.unchanged == SUITE[:4]  # type: ignore[attr-defined]
    assert report.deployed == SUITE[4:]  # type: ignore[attr-defined]


def test_changed_wiring_is_repaired_and_reported(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "ethereum_chaina.json"
    _deploy(chain, path)
    m = read_manifest(path)
    client = Client(chain.rpc_url)
    roles = client.contract("AgentRoles", m["contracts"]["roles"]["address"])
    client.transact(roles.functions.removeSlasher(m["contracts"]["coordinator"]["address"]),
                    dev_account(0))
    report = _deploy(chain, path)
    assert report.wired == [suite.SLASHER_WIRE]  # type: ignore[attr-defined]
    assert report.deployed == [] and report.redeployed == []  # type: ignore[attr-defined]


def test_slasher_wiring_after_a_bond_is_pending_then_completes(chain: Chain, tmp_path: Path) -> None:
    """Once a bond exists, registering the coordinator again waits the public slasher delay:
    the deploy says so and succeeds; a rerun after the delay activates it."""
    path = tmp_path / "ethereum_chaina.json"
    _deploy(chain, path)
    m = read_manifest(path)
    client = Client(chain.rpc_url)
    identity = client.contract("IdentityRegistry", m["contracts"]["identity"]["address"])
    roles = client.contract("AgentRoles", m["contracts"]["roles"]["address"])
    coordinator = m["contracts"]["coordinator"]["address"]
    agent = dev_account(10)
    receipt = client.transact(identity.functions.register(), agent)
    agent_id = identity.events.Registered().process_receipt(receipt, errors=DISCARD)[0]["args"]["agentId"]
    role = settings.role_id("research")
    client.transact(roles.functions.bond(agent_id, role), agent,
                    value=settings.load().roles["research"])
    client.transact(roles.functions.removeSlasher(coordinator), dev_account(0))

    report = _deploy(chain, path)
    assert report.wired == [] and len(report.pending) == 1  # type: ignore[attr-defined]
    line = [x for x in report.lines() if x.startswith("pending")]  # type: ignore[attr-defined]
    assert line and suite.SLASHER_WIRE in line[0] and "activateSlasher" in line[0]
    assert not roles.functions.isSlasher(coordinator).call()
    active_at = roles.functions.slasherActiveAt(coordinator).call()
    assert active_at > 0

    again = _deploy(chain, path)                       # still pending: no second announcement
    assert len(again.pending) == 1  # type: ignore[attr-defined]
    assert roles.functions.slasherActiveAt(coordinator).call() == active_at

    client.w3.provider.make_request("evm_setNextBlockTimestamp", [active_at])  # type: ignore[arg-type]
    client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    done = _deploy(chain, path)
    assert done.wired == [suite.SLASHER_WIRE] and done.pending == []  # type: ignore[attr-defined]
    assert roles.functions.isSlasher(coordinator).call()


def test_sepolia_rehearsal_deploys_with_confirmations_through_the_cli(
        fresh_devnet: Devnet, manifests: Path) -> None:
    """The real deploy path against an anvil with Sepolia's chain id configured as that
    network's RPC: keys from the environment, 2 confirmations awaited per transaction."""
    sepolia = fresh_devnet.start("sepolia", chain_id=11155111, block_time=0.2)
    deployer = Account.create()
    funder = Client(sepolia.rpc_url)
    funder.send({"to": deployer.address, "value": 10**19, "gas": 21_000,
                 "chainId": 11155111}, dev_account(0))
    env = {"DEPLOYER_KEY": "0x" + deployer.key.hex()}
    out = subprocess.run(
        [sys.executable, "-m", "accord.cli", "deploy", "--network", "ethereum:sepolia:node",
         "--rpc", sepolia.rpc_url, "--key-env", "DEPLOYER_KEY"],
        capture_output=True, text=True, timeout=300, env={**_env(), **env})
    assert out.returncode == 0, out.stderr
    assert "deployed coordinator" in out.stdout
    assert "warning: [ethereum:sepolia] the gateway admin" in out.stdout  # doctor ran
    m = json.loads((manifests / "ethereum_sepolia.json").read_text())
    assert m["chain_id"] == 11155111
    client = Client(sepolia.rpc_url)
    last = max(rec["block"] for rec in m["contracts"].values())
    assert client.w3.eth.block_number >= last + 2


def test_deploy_to_an_unreachable_rpc_is_one_line_and_non_zero(manifests: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "accord.cli", "deploy", "--network", "ethereum:sepolia:node",
         "--rpc", "http://127.0.0.1:1", "--key-env", "K"],
        capture_output=True, text=True, timeout=60,
        env={**_env(), "K": "0x" + "11" * 32})
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "cannot reach the node" in out.stderr
    assert not (manifests / "ethereum_sepolia.json").exists()


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
