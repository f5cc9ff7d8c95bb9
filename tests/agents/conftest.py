"""A deployed Accord suite on the session's ``chaina``, one per test module."""

from __future__ import annotations

import pytest
from agent_helpers import Suite, deploy_suite

from accord.dev.devnet import Chain


@pytest.fixture(scope="module")
def suite(chaina: Chain, tmp_path_factory: pytest.TempPathFactory) -> Suite:
    return deploy_suite(chaina, tmp_path_factory.mktemp("agents-suite"))


@pytest.fixture
def env(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """State dir = the suite's (its manifest is there); a funded key in ACCORD_TEST_KEY."""
    monkeypatch.setenv("ACCORD_STATE_DIR", str(suite.root))
    creator = suite.fund()
    monkeypatch.setenv("ACCORD_TEST_KEY", creator.key.hex())
    return {"rpc": suite.chain.rpc_url}
