"""A deployed Accord suite on the session's ``chaina``, one per test module."""

from __future__ import annotations

import pytest
from agent_helpers import BOND, ROLES, Suite
from eth_account import Account

from accord import suite as suite_mod
from accord.agents.store import ResultStore
from accord.chain import Client
from accord.deploy import read_manifest, run_plan
from accord.devnet import Chain
from accord.settings import Settings


@pytest.fixture(scope="module")
def suite(chaina: Chain, tmp_path_factory: pytest.TempPathFactory) -> Suite:
    root = tmp_path_factory.mktemp("agents-suite")
    client = Client(chaina.rpc_url)
    admin = Account.create()
    client.w3.provider.make_request("anvil_setBalance", [admin.address, hex(10**22)])
    settings = Settings(roles={r: BOND for r in ROLES}, validator_role="validator")
    manifest = root / "deployments" / "ethereum_chaina.json"
    run_plan(client, admin, suite_mod.plan(settings, "chaina", admin.address), manifest,
             network="chaina")
    addresses = {k: v["address"] for k, v in read_manifest(manifest)["contracts"].items()}
    return Suite(chaina, client, admin, addresses, ResultStore(root / "results"), manifest,
                 root)




@pytest.fixture
def env(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """State dir = the suite's (its manifest is there); a funded key in ACCORD_TEST_KEY."""
    monkeypatch.setenv("ACCORD_STATE_DIR", str(suite.root))
    creator = suite.fund()
    monkeypatch.setenv("ACCORD_TEST_KEY", creator.key.hex())
    return {"rpc": suite.chain.rpc_url}
