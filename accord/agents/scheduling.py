"""Scheduling: which of this host's agents works which ready step.

Each ready step goes to ONE agent of the host that holds the step's role and has room for it
(so agents of one host never race each other; agents of different hosts or processes do, and
the loser's claim reverts). An agent holds up to ``max_concurrent`` steps, as far as its free
bond covers their stakes; a step goes preferably to an agent whose open claim batch has room
(one transaction for several steps), then to the least busy, and after a failure to another
agent. Ready steps come from ``StepReady`` events and from rescans of ``readySteps`` (lapsed
leases and elapsed backoffs are derived on chain and emit no event until someone acts)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from accord.agents.execution import Executor
from accord.agents.state import Agent, CoordinatorLink, RunView
from accord.errors import ContractRevert


class Scheduler:
    """The queue of ready steps and the hand-out to agents."""

    def __init__(self, link: CoordinatorLink, agents: list[Agent], runs: dict[int, RunView],
                 executor: Executor) -> None:
        self.link = link
        self.runs = runs
        self.executor = executor
        self.queue: dict[tuple[int, int], None] = {}
        self.inflight: set[tuple[int, int]] = set()
        self.by_role: dict[bytes, list[Agent]] = {}
        for agent in agents:
            for rid in agent.role_ids():
                self.by_role.setdefault(rid, []).append(agent)

    def enqueue(self, run_id: int, step: int) -> None:
        key = (run_id, step)
        if key in self.inflight or key in self.queue:
            return
        self.queue[key] = None
        self.pump()

    def released(self, key: tuple[int, int] | None) -> None:
        """An agent has room again (``key``, if given, is no longer in flight)."""
        if key is not None:
            self.inflight.discard(key)
        self.pump()

    def drop_run(self, run_id: int) -> None:
        for key in [k for k in self.queue if k[0] == run_id]:
            self.queue.pop(key, None)

    def pump(self) -> None:
        """Hand queued steps to agents with room."""
        for key in list(self.queue):
            run = self.runs.get(key[0])
            if run is None or run.ended:
                self.queue.pop(key)
                continue
            candidates = self.by_role.get(run.definition.steps[key[1]].role)
            if not candidates:
                self.queue.pop(key)
                continue
            free = [a for a in candidates if a.room() > 0]
            if not free:
                continue
            fresh = [a for a in free if key not in a.failed]
            agent = min(fresh or free, key=self._preference)
            if not fresh and len(free) < len(candidates):
                continue  # wait for an agent that has not failed this step
            self.queue.pop(key)
            self.inflight.add(key)
            agent.active += 1
            self.executor.start(agent, run, key[1])

    def _preference(self, agent: Agent) -> tuple[bool, int, int]:
        """Fill an agent's open claim batch first (one transaction for several steps), then
        the least busy agent."""
        open_batch = 0 < self.executor.open_claims(agent) < agent.batch
        return not open_batch, agent.active, agent.stats["claimed"]

    async def rescan_loop(self, interval_s: float, also: Callable[[], Awaitable[None]]) -> None:
        """Every ``interval_s``: enqueue what ``readySteps`` says is ready, then ``also()``."""
        while True:
            for run in list(self.runs.values()):
                try:
                    (mask,) = await self.link.view("readySteps", run.run_id)
                except ContractRevert:
                    continue
                for step in range(len(run.definition.steps)):
                    if mask >> step & 1:
                        self.enqueue(run.run_id, step)
            await also()
            await asyncio.sleep(interval_s)
