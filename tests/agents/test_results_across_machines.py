"""Agents that share no directory work one run: each host keeps its own local store and
publishes to an HTTP result service, and every input and result crosses through it, checked
against the chain's hashes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_helpers import Suite, drive

from accord.agents.handlers import StepInput, ValidationInput, Verdict
from accord.agents.host import AgentHost
from accord.chain.client import Client
from accord.testing.result_service import ResultService
from accord.workflows.result_store import HttpResultStore, ResultStore

COMPLETED = 3
WORKFLOW = """
steps:
  - {name: gather, role: research, reward: 1000}
  - {name: write, role: report, reward: 1000, depends_on: [gather], quorum: 1}
"""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ResultService]:
    with ResultService(tmp_path / "service") as svc:
        yield svc


def _host(suite: Suite, agents: list, store: HttpResultStore) -> AgentHost:
    return AgentHost(Client(suite.chain.rpc_url), suite.addresses["coordinator"], agents, store,
                     from_block=suite.client.w3.eth.block_number,
                     catalog_root=suite.root / "workflows", rescan_s=0.1, poll_s=0.02)


def test_agents_that_share_no_directory_complete_a_run_through_the_result_service(
        suite: Suite, service: ResultService, tmp_path: Path) -> None:
    def machine(name: str) -> HttpResultStore:
        return HttpResultStore(service.url, service.token, ResultStore(tmp_path / name))

    seen: dict[str, bytes] = {}

    def gather(inp: StepInput) -> bytes:
        return b"facts about " + inp.input

    def write(inp: StepInput) -> bytes:
        seen["write got"] = inp.deps["gather"]
        return b"report on " + inp.deps["gather"]

    def judge(v: ValidationInput) -> Verdict:
        seen["judged"] = v.result
        return Verdict(approve=True)

    researcher = _host(suite, [suite.agent("researcher", {"research": gather})], machine("m1"))
    writer = _host(suite, [suite.agent("writer", {"report": write})], machine("m2"))
    checker = _host(suite, [suite.agent("checker", validator=judge)], machine("m3"))
    creator = dataclasses.replace(suite, store=machine("m0"))
    run_id = creator.start(WORKFLOW, b"the tides")

    asyncio.run(drive([researcher, writer, checker],
                      lambda: suite.run_state(run_id) == COMPLETED, timeout=60))

    assert seen == {"write got": b"facts about the tides",
                    "judged": b"report on facts about the tides"}
    submitted = suite.events("StepSubmitted", run_id)
    assert {e["resultURI"].split("/blobs/")[0] for e in submitted} == {service.url}
