"""Agents against a fork: a workflow completes on a fork of a deployed chain while the
upstream chain stays untouched."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from agent_helpers import Suite, drive

from accord.agents.handlers import StepInput, Verdict
from accord.chain.client import Client
from accord.dev.devnet import Devnet

COMPLETED = 3
WORKFLOW = """
steps:
  - {name: plan, role: research}
  - {name: act, role: execute, depends_on: [plan]}
  - {name: sum-up, role: report, depends_on: [act], quorum: 1}
"""


def test_agents_complete_a_workflow_on_a_fork_and_the_upstream_stays_untouched(
        suite: Suite, fresh_devnet: Devnet) -> None:
    block_up = suite.client.w3.eth.block_number
    fork = fresh_devnet.fork(suite.chain)
    on_fork = replace(suite, chain=fork, client=Client(fork.rpc_url))

    def work(inp: StepInput) -> bytes:
        return f"{inp.name} done on the fork".encode()

    agents = [on_fork.agent("planner", {"research": work}),
              on_fork.agent("actor", {"execute": work}),
              on_fork.agent("writer", {"report": work}),
              on_fork.agent("checker", validator=lambda v: Verdict(True, 90))]
    run_id = on_fork.start(WORKFLOW, b"fork input")
    asyncio.run(drive([on_fork.host(agents)], lambda: on_fork.run_state(run_id) == COMPLETED))

    assert on_fork.run_state(run_id) == COMPLETED
    assert len(on_fork.events("StepDone", run_id)) == 3
    # the upstream chain saw none of it: not one block, and no such run
    assert suite.client.w3.eth.block_number == block_up
    assert suite.run_state(run_id) == 0
