"""Agent cards: onboarding publishes the ERC-8004 registration file and sets it as the agent
URI; `accord agents show` fetches it and checks it against the chain (a copied, missing or
tampered card is an error, exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

from agent_helpers import Suite, assert_one_line_error, run_cli

from accord.agents.agents_file import load_agents
from accord.agents.card import REGISTRATION_TYPE, publish_card, registration_file
from accord.agents.runner import build_host
from accord.chain.client import Client


def _card_for(suite: Suite, name: str, agent_id: int, **kw: str) -> dict:
    return registration_file(name, agent_id, suite.client.chain_id, suite.addresses["identity"],
                             **kw)


def test_onboarding_publishes_a_card_that_names_the_agent(suite: Suite, env: dict[str, str],
                                                         tmp_path: Path,
                                                         monkeypatch) -> None:
    monkeypatch.setenv("AGENT_KEY", suite.fund().key.hex())
    config = tmp_path / "agents.yaml"
    config.write_text("agents:\n  - name: carded\n    key_env: AGENT_KEY\n"
                      "    description: Reads filings\n    a2a: https://a.example/card\n"
                      "    roles:\n      research: accord.agents.demo_handlers:research\n")
    host = build_host(Client(env["rpc"]), "chaina", suite.addresses["coordinator"],
                      load_agents(config), echo=lambda _: None)
    agent_id = host.agents[0].agent_id

    shown = run_cli("agents", "show", str(agent_id), "--network", "chaina", "--rpc", env["rpc"], "--json")
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.output)
    assert found["problems"] == []
    assert found["card"]["type"] == REGISTRATION_TYPE
    assert found["card"]["name"] == "carded"
    assert found["card"]["description"] == "Reads filings"
    assert found["card"]["services"] == [{"name": "A2A", "endpoint": "https://a.example/card"}]
    assert found["card"]["registrations"] == [{
        "agentId": agent_id,
        "agentRegistry": f"eip155:{suite.client.chain_id}:{suite.addresses['identity']}"}]
    lines = run_cli("agents", "show", str(agent_id), "--network", "chaina", "--rpc", env["rpc"]).output
    assert "ok: the card names this agent in this registry" in lines


def test_a_card_copied_from_another_agent_is_flagged(suite: Suite, env: dict[str, str]) -> None:
    honest = suite.agent("honest", {"research": lambda inp: b""})
    copycat = suite.agent("copycat", {"research": lambda inp: b""})
    publish_card(suite.client, suite.addresses["identity"], copycat.operator, copycat.agent_id,
                 suite.store, _card_for(suite, "honest", honest.agent_id))
    assert_one_line_error(run_cli("agents", "show", str(copycat.agent_id), "--network",
                                  "chaina", "--rpc", env["rpc"]),
                          f"agent {copycat.agent_id}'s registration file does not match the "
                          f"chain: no registration names agentId {copycat.agent_id}")


def test_an_agent_without_a_card_is_flagged(suite: Suite, env: dict[str, str]) -> None:
    bare = suite.agent("bare", {"research": lambda inp: b""})
    assert_one_line_error(run_cli("agents", "show", str(bare.agent_id), "--network", "chaina", "--rpc", env["rpc"]),
                          f"agent {bare.agent_id}'s registration file does not match the "
                          "chain: no agent URI")


def test_a_tampered_card_is_rejected(suite: Suite, env: dict[str, str]) -> None:
    agent = suite.agent("tampered", {"research": lambda inp: b""})
    uri = publish_card(suite.client, suite.addresses["identity"], agent.operator,
                       agent.agent_id, suite.store, _card_for(suite, "tampered", agent.agent_id))
    hexdigest = uri.rsplit("/", 1)[1]
    suite.store.path_of(hexdigest).write_text(json.dumps(_card_for(suite, "evil", 0)))
    result = run_cli("agents", "show", str(agent.agent_id), "--network", "chaina", "--rpc", env["rpc"])
    assert_one_line_error(result, f"agent {agent.agent_id}'s registration file does not match "
                                  "the chain: cannot fetch its registration file")
    assert "the blob was altered or mislabelled" in result.output


def test_showing_an_unknown_agent_is_a_one_line_error(suite: Suite, env: dict[str, str]) -> None:
    assert_one_line_error(run_cli("agents", "show", "999999", "--network", "chaina", "--rpc", env["rpc"]),
                          "agent 999999 does not exist in the identity registry")


def test_an_agents_file_with_a_bad_endpoint_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "agents.yaml"
    config.write_text("agents:\n  - name: x\n    dev_account: 1\n    mcp: ftp://nope\n"
                      "    roles:\n      research: accord.agents.demo_handlers:research\n")
    import pytest

    from accord.workflows.compiler import WorkflowFileError

    with pytest.raises(WorkflowFileError, match="mcp of agent 'x' must be an http"):
        load_agents(config)


def test_the_dashboard_names_an_agent_by_its_card_and_never_by_one_copied_from_another(
        suite: Suite, env: dict[str, str]) -> None:
    from accord.dashboard.data import Dashboard
    from accord.dashboard.source import Source

    honest = suite.agent("honest-carded", {"research": lambda inp: b""})
    copycat = suite.agent("copycat-carded", {"research": lambda inp: b""})
    for agent in (honest, copycat):  # the copycat publishes the honest agent's card as its own
        publish_card(suite.client, suite.addresses["identity"], agent.operator, agent.agent_id,
                     suite.store, _card_for(suite, "Honest Research", honest.agent_id))
    from dataclasses import asdict

    manifest = suite.root / "devnet.json"  # the dashboard reads the chain the suite is on
    manifest.write_text(json.dumps({"chains": {suite.chain.name: asdict(suite.chain)}}))
    dashboard = Dashboard(Source(manifest))
    dashboard.refresh()
    names = {a["id"]: a["name"] for a in dashboard.agents()}
    assert names[honest.agent_id] == "Honest Research"
    assert names[copycat.agent_id] == ""
