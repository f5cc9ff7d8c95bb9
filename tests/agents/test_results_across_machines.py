"""Agents that share no directory work one run: each host keeps its own local store and
publishes to an HTTP result service, and every input and result crosses through it, checked
against the chain's hashes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agent_helpers import Suite, drive

from accord.agents.handlers import StepInput, ValidationInput, Verdict
from accord.agents.host import AgentHost
from accord.chain.client import Client
from accord.ipfs.node import IpfsNode
from accord.ipfs.store import IpfsResultStore
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


def test_agents_on_their_own_ipfs_nodes_complete_a_run_over_bitswap(
        suite: Suite, ipfs_nodes: Callable[..., IpfsNode], tmp_path: Path) -> None:
    """Each machine publishes to its own IPFS node (helia) and reads through it; the nodes
    are peered, so every input and result travels between them over bitswap."""
    nodes: list[IpfsNode] = []
    for name in ("m0", "m1", "m2", "m3"):
        nodes.append(ipfs_nodes(name, peers=[n.info.peer_address for n in nodes]))

    def machine(i: int) -> IpfsResultStore:
        return IpfsResultStore(nodes[i].info.api, nodes[i].token,
                               ResultStore(tmp_path / f"m{i}"))

    seen: dict[str, bytes] = {}

    def write(inp: StepInput) -> bytes:
        seen["write got"] = inp.deps["gather"]
        return b"report on " + inp.deps["gather"]

    def judge(v: ValidationInput) -> Verdict:
        seen["judged"] = v.result
        return Verdict(approve=True)

    researcher = _host(suite, [suite.agent("researcher", {
        "research": lambda inp: b"facts about " + inp.input})], machine(1))
    writer = _host(suite, [suite.agent("writer", {"report": write})], machine(2))
    checker = _host(suite, [suite.agent("checker", validator=judge)], machine(3))
    creator = dataclasses.replace(suite, store=machine(0))
    run_id = creator.start(WORKFLOW, b"the tides")

    asyncio.run(drive([researcher, writer, checker],
                      lambda: suite.run_state(run_id) == COMPLETED, timeout=60))

    assert seen == {"write got": b"facts about the tides",
                    "judged": b"report on facts about the tides"}
    uris = [e["resultURI"] for e in suite.events("StepSubmitted", run_id)]
    assert len(uris) == 2 and all(u.startswith("ipfs://bafkrei") for u in uris)


def test_an_executor_never_claims_a_step_whose_input_it_cannot_read(suite: Suite) -> None:
    """A claim locks stake and a lapsed lease is slashed: a run whose input URI is
    unreachable (or lies) is left alone, not claimed."""
    from eth_utils import keccak

    from accord.workflows.compiler import parse_workflow

    host = suite.host([suite.agent("careful", {"research": lambda inp: b"never runs"})])
    wf = parse_workflow("steps:\n  - {name: only, role: research, reward: 1000}\n")
    coord = suite.coordinator
    suite.client.transact(coord.functions.registerDefinition(
        wf.definition(suite.client.chain_id)), suite.admin)
    digest = keccak(b"an input nobody serves")
    run_id = None
    receipt = suite.client.transact(coord.functions.startRun(
        wf.definition_id(suite.client.chain_id), digest,
        f"http://127.0.0.1:9/blobs/{digest.hex()}"), suite.admin, value=wf.total_reward())
    run_id = coord.events.RunStarted().process_receipt(receipt)[0]["args"]["runId"]

    asyncio.run(drive([host], lambda: host.stats["inputs_unreadable"] >= 2, timeout=30))
    assert suite.events("StepClaimed", run_id) == []


def test_a_new_role_is_a_new_cursor() -> None:
    from accord.agents.runner import cursor_key

    before = cursor_key("agents.yaml", "0xC0", [("a", "0xA", 1, "research")])
    after = cursor_key("agents.yaml", "0xC0", [("a", "0xA", 1, "analysis,research")])
    assert before != after


class _Flaky:
    """A judge's store whose first reads fail as if the result's server were down."""

    def __init__(self, inner: HttpResultStore, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.reads = 0

    def put(self, data: bytes) -> tuple[bytes, str]:
        return self.inner.put(data)

    def get(self, uri: str, expected_hash: bytes | None = None) -> bytes:
        from accord.workflows.blobs import ResultNotFoundError

        self.reads += 1
        if self.reads <= self.failures:
            raise ResultNotFoundError(f"'{uri}': the result service is down (test)")
        return self.inner.get(uri, expected_hash)


def _run_with_a_flaky_judge(suite: Suite, service: ResultService, tmp_path: Path,
                            failures: int) -> tuple[_Flaky, list[AgentHost], int]:
    """A researcher, a writer and a judge on their own machines, the judge's first
    ``failures`` reads failing; a run of WORKFLOW started. Returns the judge's store, the
    hosts and the run id."""
    def machine(name: str) -> HttpResultStore:
        return HttpResultStore(service.url, service.token, ResultStore(tmp_path / name))

    flaky = _Flaky(machine("m3"), failures=failures)
    researcher = _host(suite, [suite.agent("researcher", {"research": lambda i: b"facts"})],
                       machine("m1"))
    writer = _host(suite, [suite.agent("writer", {"report": lambda i: b"report"})],
                   machine("m2"))
    checker = _host(suite, [suite.agent("checker", validator=lambda v: Verdict(approve=True))],
                    flaky)  # type: ignore[arg-type]
    creator = dataclasses.replace(suite, store=machine("m0"))
    return flaky, [researcher, writer, checker], creator.start(WORKFLOW, b"the tides")


def test_a_judge_that_cannot_fetch_a_result_asks_again_and_votes_once_it_can(
        suite: Suite, service: ResultService, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.agents.judging import Judges

    monkeypatch.setattr(Judges, "RETRY_FIRST_S", 0.3)

    flaky, hosts, run_id = _run_with_a_flaky_judge(suite, service, tmp_path, failures=2)
    asyncio.run(drive(hosts, lambda: suite.run_state(run_id) == COMPLETED, timeout=60))
    assert flaky.reads >= 3  # two failed reads, then the one it judged
    assert len(suite.events("StepValidated", run_id)) == 1


def test_a_judge_gives_up_on_a_result_that_never_resolves_after_a_bounded_number_of_fetches(
        suite: Suite, service: ResultService, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An executor whose result URI never resolves costs each judge RETRY_ROUNDS + 1 fetches,
    not one every RETRY_MAX_S for as long as the step stays Submitted."""
    import time

    from accord.agents.judging import Judges

    monkeypatch.setattr(Judges, "RETRY_FIRST_S", 0.05)
    monkeypatch.setattr(Judges, "RETRY_MAX_S", 0.1)
    monkeypatch.setattr(Judges, "RETRY_ROUNDS", 3)

    never, hosts, run_id = _run_with_a_flaky_judge(suite, service, tmp_path, failures=10**6)
    settled: list[float] = []

    def gave_up() -> bool:  # four reads, then nothing more for a second
        if never.reads < 4:
            return False
        settled.append(time.monotonic())
        return settled[-1] - settled[0] > 1.0

    asyncio.run(drive(hosts, gave_up, timeout=60))
    assert never.reads == 4
    assert suite.events("StepValidated", run_id) == []
