"""Scheduling: which of this host's agents works which ready step.

Each ready step goes to ONE agent of the host that holds the step's role and has room for it
(so agents of one host never race each other; agents of different hosts or processes do, and
the loser's claim reverts). An agent holds up to ``max_concurrent`` steps, as far as its free
bond covers their stakes; a step goes preferably to an agent whose open claim batch has room
(one transaction for several steps), then to the least busy, and after a failure to another
agent. Ready steps come from ``StepReady`` events and from rescans of ``readySteps`` (lapsed
leases and elapsed backoffs are derived on chain and emit no event until someone acts).
A step is handed out only once its inputs (the run input, its dependencies' results) are
loaded and verified: a claim locks the agent's stake and a lease left to lapse is slashed, so a
step whose inputs cannot be read is never claimed (it is tried again later, after a pause).

Rescans cost a public endpoint's request budget, so they go only where something may have
changed: a run none of whose steps this host's agents can work is never read; a run is read
at the next tick after any event of its own, and otherwise at a growing interval (from the
rescan interval, doubling while nothing is ready, up to ``IDLE_RESCAN_CAP`` times it or 30 s,
whichever is less), which catches lapsed leases and elapsed backoffs. An idle host's calls
per second stay flat however many runs it cannot work on are open."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from accord.agents.execution import Executor
from accord.agents.inputs import InputLoader
from accord.agents.state import Agent, CoordinatorLink, DefinitionView, RunView, log
from accord.errors import AccordError, ChainError, ContractRevert

#: A quiet run is re-read at most this many rescan intervals (and 30 s) apart.
IDLE_RESCAN_CAP = 16
IDLE_RESCAN_MAX_S = 30.0


class Scheduler:
    """The queue of ready steps and the hand-out to agents."""

    def __init__(self, link: CoordinatorLink, agents: list[Agent], runs: dict[int, RunView],
                 executor: Executor, inputs: InputLoader) -> None:
        self.link = link
        self.runs = runs
        self.executor = executor
        self.inputs = inputs
        self._loading: set[tuple[int, int]] = set()  # steps whose inputs are being loaded
        self.queue: dict[tuple[int, int], None] = {}
        self.inflight: set[tuple[int, int]] = set()
        self.by_role: dict[bytes, list[Agent]] = {}
        for agent in agents:
            for rid in agent.role_ids():
                self.by_role.setdefault(rid, []).append(agent)
        # run -> (loop time of its next rescan, the interval after that one)
        self._next_scan: dict[int, tuple[float, float]] = {}

    def workable(self, definition: DefinitionView) -> int:
        """The steps of ``definition`` some agent of this host holds the role of (a mask)."""
        return sum(1 << i for i, s in enumerate(definition.steps)
                   if s.role in self.by_role and not s.remote)

    def touch(self, run_id: int) -> None:
        """Something happened in the run: read it at the next rescan."""
        self._next_scan.pop(run_id, None)

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
        self._next_scan.pop(run_id, None)

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
            if not self.inputs.load_now(run, key[1]):
                # A claim locks stake and a lapsed lease is slashed: load the step's inputs
                # first (a step whose inputs cannot be read is never claimed).
                if key not in self._loading:
                    self._loading.add(key)
                    self.link.spawn(self._load(run, key))
                continue
            fresh = [a for a in free if key not in a.failed]
            agent = min(fresh or free, key=self._preference)
            if not fresh and len(free) < len(candidates):
                continue  # wait for an agent that has not failed this step
            self.queue.pop(key)
            self.inflight.add(key)
            agent.active += 1
            self.executor.start(agent, run, key[1])

    async def _load(self, run: RunView, key: tuple[int, int]) -> None:
        try:
            await self.inputs.prefetch(run, key[1])
        except (ChainError, AccordError) as exc:
            self.queue.pop(key, None)  # the next rescan that finds it ready tries again
            self.link.stats["inputs_unreadable"] += 1
            log.log(logging.DEBUG if "trying again in" in str(exc) else logging.WARNING,
                    "not claiming run %s step %s: its inputs cannot be read (%s)",
                    run.run_id, run.name(key[1]), exc)
        finally:
            self._loading.discard(key)
        self.pump()

    def _preference(self, agent: Agent) -> tuple[bool, int, int]:
        """Fill an agent's open claim batch first (one transaction for several steps), then
        the least busy agent."""
        open_batch = 0 < self.executor.open_claims(agent) < agent.batch
        return not open_batch, agent.active, agent.stats["claimed"]

    async def rescan_loop(self, interval_s: float, also: Callable[[], Awaitable[None]]) -> None:
        """Every ``interval_s``: enqueue what ``readySteps`` says is ready in the runs due for
        a read (module doc), then ``also()``."""
        cap = min(interval_s * IDLE_RESCAN_CAP, max(IDLE_RESCAN_MAX_S, interval_s))
        loop = asyncio.get_running_loop()
        while True:
            for run in list(self.runs.values()):
                workable = self.workable(run.definition)
                planned = self._next_scan.get(run.run_id)
                due, interval = planned or (0.0, interval_s)
                if not workable or loop.time() < due:
                    continue
                try:
                    (mask,) = await self.link.view("readySteps", run.run_id)
                except ContractRevert:
                    continue
                ready = mask & workable
                for step in range(len(run.definition.steps)):
                    if ready >> step & 1:
                        self.enqueue(run.run_id, step)
                if self._next_scan.get(run.run_id) != planned or run.run_id not in self.runs:
                    continue  # touched (an event) or ended while we read: keep that
                interval = interval_s if ready else min(interval * 2, cap)
                self._next_scan[run.run_id] = (loop.time() + interval, interval)
            await also()
            await asyncio.sleep(interval_s)
