"""Agent processes (``accord agents run``) under faults.

- One SIGKILLed while it holds a lease: the lease lapses, an agent of another process claims
  the step (attempt + 1) and the run completes with every step Done and none stuck.
- Two talking to the chain through a fault proxy (10% each of drop/delay/duplicate/fail):
  every step is done exactly once and the run completes.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faults_support import record, wait_until

from accord.dev.devnet import Chain
from accord.dev.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "agents"))  # agent_helpers: the agent tests' Suite

from agent_helpers import Suite, deploy_suite  # noqa: E402

COMPLETED = 3
DONE = 5
LEASE = 30
STEPS = 3


@pytest.fixture(scope="module")
def suite(chaina: Chain, tmp_path_factory: pytest.TempPathFactory) -> Suite:
    """The agent tests' deployment, on this module's own root."""
    return deploy_suite(chaina, tmp_path_factory.mktemp("faults-agents"))


@pytest.fixture
def agent_procs(tmp_path: Path) -> Iterator[Supervisor]:
    with Supervisor(tmp_path / "logs") as s:
        yield s


def _fanout(n: int) -> str:
    return "steps:\n" + "".join(f"  - name: s{i}\n    role: execute\n    reward: 1000\n"
                                f"    lease: {LEASE}\n" for i in range(n))


def _start_agents(suite: Suite, procs: Supervisor, tmp_path: Path, handler: str, rpc: str,
                  extra_env: dict[str, str]) -> dict[int, str]:
    """Two onboarded agents with the execute role, each in its own ``accord agents run``
    process on ``rpc``; returns agentId -> process name once both serve."""
    env = {"ACCORD_STATE_DIR": str(suite.root), "PYTHONUNBUFFERED": "1", **extra_env,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).parent)])}
    proc_of: dict[int, str] = {}
    for name in ("agent-a", "agent-b"):
        agent = suite.agent(name)  # onboarded here; bonded for execute by the process
        key_env = f"KEY_{name.replace('-', '_').upper()}"
        env[key_env] = "0x" + agent.operator.key.hex()
        (tmp_path / f"{name}.yaml").write_text(
            f"store: {suite.root / 'results'}\nagents:\n  - name: {name}\n"
            f"    key_env: {key_env}\n    agent_id: {agent.agent_id}\n"
            f"    roles: {{execute: {handler}}}\n")
        proc_of[agent.agent_id] = name
    for name in proc_of.values():
        procs.start(name, "agents", "run", "--network", "chaina", "--rpc", rpc,
                    "--config", str(tmp_path / f"{name}.yaml"), "--no-ws", env=env)
    wait_until(lambda: all("serving" in (tmp_path / "logs" / f"{n}.log").read_text()
                           for n in proc_of.values()), 60, "agent processes up",
               lambda: "\n".join(procs.log_tail(n, 5) for n in proc_of.values()))
    return proc_of


def test_agent_killed_holding_a_lease_is_replaced_and_the_run_completes(
        suite: Suite, agent_procs: Supervisor, tmp_path: Path) -> None:
    marker = tmp_path / "s0-hung"
    proc_of = _start_agents(suite, agent_procs, tmp_path, "fault_handlers:hang_once",
                            suite.chain.rpc_url, {"FAULTS_MARKER": str(marker)})

    def logs() -> str:
        return "\n".join(f"{n}: {agent_procs.log_tail(n, 5)}" for n in list(proc_of.values()))

    run_id = suite.start(_fanout(STEPS))
    wait_until(marker.exists, 60, "s0 claimed and its handler hanging", logs)
    holder = next(e["agentId"] for e in suite.events("StepClaimed", run_id) if e["step"] == 0)
    assert marker.read_text().split()[1] == str(holder)
    # The other agent finishes s1.. first, so the time travel below lapses s0's lease only.
    wait_until(lambda: len(suite.events("StepDone", run_id)) == STEPS - 1, 60,
               "the other steps done", logs)
    killed = proc_of[holder]
    agent_procs.kill(killed)  # SIGKILL with the lease held: no heartbeat, no submit
    suite.travel(LEASE + 1)

    wait_until(lambda: suite.run_state(run_id) == COMPLETED, 60, "the run completed", logs)
    claims = [(e["step"], e["agentId"], e["attempt"]) for e in suite.events("StepClaimed", run_id)]
    s0 = [(agent, attempt) for step, agent, attempt in claims if step == 0]
    survivor = next(a for a in proc_of if a != holder)
    assert s0 == [(holder, s0[0][1]), (survivor, s0[0][1] + 1)]
    assert [(e["agentId"], e["step"]) for e in suite.events("LeaseExpired", run_id)] == [
        (holder, 0)]
    states = [int(suite.coordinator.functions.stepState(run_id, i).call()) for i in range(STEPS)]
    done = sum(s == DONE for s in states)
    assert done == STEPS
    assert sorted(e["step"] for e in suite.events("StepDone", run_id)) == list(range(STEPS))
    time.sleep(0.1)
    assert agent_procs.alive(proc_of[survivor])
    record("agent_sigkill_holding_lease", steps_completed=done, steps_stuck=STEPS - done,
           kills=1, reclaimed_attempt=s0[1][1], run_completed=True)


def test_agents_complete_every_step_once_through_a_fault_proxy(
        suite: Suite, agent_procs: Supervisor, proxies: Any, tmp_path: Path) -> None:
    proxy = proxies(suite.chain.rpc_url, "--drop", "0.1", "--delay", "0.1", "--duplicate",
                    "0.1", "--fail", "0.1", "--max-delay", "0.2", "--seed", "5")
    proc_of = _start_agents(suite, agent_procs, tmp_path, "fault_handlers:work", proxy.url, {})
    steps = 8
    run_id = suite.start(_fanout(steps))

    def logs() -> str:
        return "\n".join(f"{n}: {agent_procs.log_tail(n, 8)}" for n in proc_of.values())

    wait_until(lambda: suite.run_state(run_id) == COMPLETED, 90, "the run completed", logs)
    assert all(agent_procs.alive(n) for n in proc_of.values()), logs()
    counts = proxy.counts()
    states = [int(suite.coordinator.functions.stepState(run_id, i).call()) for i in range(steps)]
    done = sum(s == DONE for s in states)
    assert done == steps
    assert sorted(e["step"] for e in suite.events("StepDone", run_id)) == list(range(steps))
    record("agents_through_fault_proxy", steps_completed=done, steps_stuck=steps - done,
           claims=len(suite.events("StepClaimed", run_id)),
           proxy={k: counts.get(k, 0) for k in ("calls", "dropped", "delayed", "duplicated",
                                                "failed")})
