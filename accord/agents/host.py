"""The agent host: many agents of one chain in one asyncio process.

An :class:`Agent` is an ERC-8004 identity (``agent_id``), the operator key that acts for it,
and one handler per role (plus, optionally, a validator handler). An :class:`AgentHost`
serves a list of agents on one chain with one web3-free JSON-RPC session, the way a Temporal
``Worker`` composes its activity and workflow workers. The host owns the lifecycle and routes
events; the work is done by its parts, each in its own module:

- :mod:`accord.agents.scheduling`: which agent works which ready step (``StepReady`` events
  and rescans of ``readySteps``);
- :mod:`accord.agents.execution`: claim, input, handler with heartbeats, submit (claims and
  submits coalesced into ``multicall`` transactions, :mod:`accord.agents.batch`);
- :mod:`accord.agents.judging`: validators judge submitted steps and free their vote stakes;
- :mod:`accord.agents.liveness`: every agent's AgentRoles heartbeat;
- :mod:`accord.agents.inputs`: one loader of step inputs for the executor and the judges.

On start the host learns every open run (:meth:`AgentHost._recover_runs`): from the runs its
cursor file lists, or, with no usable cursor, from the ``RunStarted`` logs since the
deployment block; either way checked against ``runInfo``, since runs are announced only by
``RunStarted`` and a saved cursor has gone past it. It then follows the coordinator's events
(WebSocket or polling, :mod:`accord.chain.events`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from accord.agents.execution import Executor
from accord.agents.inputs import InputLoader
from accord.agents.judging import VERDICT_EVENTS, Judges
from accord.agents.liveness import Liveness
from accord.agents.scheduling import Scheduler
from accord.agents.state import Agent, CoordinatorLink, DefinitionView, RunView, StepInfo, log
from accord.chain.client import Client
from accord.chain.events import GETLOGS_SPAN, Cursor, Event, EventFollower
from accord.chain.rpc import Abi, AsyncChain
from accord.chain.types import DefinitionInfo, Registries, RunState
from accord.errors import AccordError, ChainError, ContractRevert
from accord.workflows import catalog
from accord.workflows.origin import TaskIndex, home_step_name, log_filter
from accord.workflows.result_store import BlobStore

__all__ = ["Agent", "AgentHost"]

# Events that end a run for this host (a Failed run with compensation steps goes on).
RUN_ENDED = frozenset({"RunCompleted", "RunCancelled", "RunCompensated"})


class AgentHost:
    """Serve ``agents`` on the chain of ``client`` against the coordinator at ``coordinator``."""

    def __init__(self, client: Client, coordinator: str, agents: list[Agent], store: BlobStore,
                 *, cursor_path: Path | None = None, from_block: int = 0,
                 ws: bool | None = None, poll_s: float = 0.05, rescan_s: float = 0.5,
                 precheck: bool | None = None, liveness_s: float = 60.0,
                 catalog_root: Path | None = None) -> None:
        self.chain = AsyncChain(client)
        self.coordinator = client.w3.to_checksum_address(coordinator)
        self.agents = agents
        self.store = store
        self.link = CoordinatorLink(self.chain, self.coordinator)
        self.abi = self.link.abi
        self.stats = self.link.stats
        self.follower = EventFollower(self.chain, self.coordinator, "WorkflowCoordinator",
                                      cursor=Cursor(cursor_path, from_block,
                                                    snapshot=self._snapshot), ws=ws,
                                      poll_s=poll_s)
        self.rescan_s = rescan_s
        self.catalog_root = catalog_root
        self.runs: dict[int, RunView] = {}
        self.definitions: dict[bytes, DefinitionView] = {}
        self._operators = {a.operator.address.lower() for a in agents}
        self.inputs = InputLoader(self.link, store)
        self.executor = Executor(self.link, agents, self.inputs, precheck=precheck,
                                 on_release=lambda key: self.scheduler.released(key))
        self.scheduler = Scheduler(self.link, agents, self.runs, self.executor, self.inputs)
        self.judges = Judges(self.link, agents, self.inputs)
        self.liveness = Liveness(self.chain, agents, liveness_s)
        self._router: str | None = None  # the coordinator's RemoteStepRouter, read once
        self._tasks = TaskIndex()
        self._tasks_next = from_block  # first block of the router's logs not read yet

    # ------------------------------------------------------------------ lifecycle
    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until ``stop`` is set (forever when None)."""
        stop = stop or asyncio.Event()
        await self._read_registries()
        await self.liveness.once_logged()
        await self._recover_runs()
        loops = [asyncio.ensure_future(self.follower.run(self._on_event)),
                 asyncio.ensure_future(self._rescan()),
                 asyncio.ensure_future(self.liveness.loop())]
        waiter = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait([waiter, *loops], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not waiter and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            await _cancel_all([waiter, *loops, *self.link.tasks])
            await self.chain.close()
            self.inputs.close()

    async def _read_registries(self) -> None:
        """AgentRoles' address, the global validator role, and each judge's owner."""
        regs = Registries.from_abi(await self.link.view("registries"))
        self.liveness.roles = self.chain.client.w3.to_checksum_address(regs.agentRoles)
        self.judges.global_role = regs.validatorRole
        identity = Abi("IdentityRegistry")
        for agent in self.judges.judges:
            (owner,) = identity.decode("ownerOf", await self.chain.call(
                regs.identityRegistry, identity.encode("ownerOf", agent.agent_id)))
            self.judges.owners[agent.agent_id] = str(owner)

    async def _rescan(self) -> None:
        await self.follower.caught_up.wait()
        await self.scheduler.rescan_loop(self.rescan_s, self.judges.release_all)

    # ------------------------------------------------------------------ recovery
    def _snapshot(self) -> dict[str, Any]:
        """Saved with the cursor's block: the runs open as of that block, which a restart
        cannot learn from the events after it, and the votes whose stakes this host's
        validators still have locked (a restart frees them once their verdicts are final;
        votes after the block come back with their replayed StepValidated events)."""
        return {"coordinator": self.coordinator, "runs": [
            [r.run_id, "0x" + r.definition.id.hex(), "0x" + r.input_hash.hex(), r.input_uri]
            for r in self.runs.values() if not r.ended],
            "votes": self.judges.saved()}

    async def _recover_runs(self) -> None:
        """Learn every open run before following events.

        A cursor file written by this host lists the runs open at its block: those are
        checked against ``runInfo`` (O(open runs) calls) and the follower resumes after the
        block. Without such a list (no file, one from an older Accord or another coordinator)
        the ``RunStarted`` logs since the deployment block are read, filtered by topic, and the
        follower starts at the head: earlier events are not replayed, the coordinator's views
        say where every step stands (``readySteps`` by the rescan, ``stepState`` below).
        Enumerating runs by id through views alone would cost a call per run ever started
        at every start, and a run's input URI is only in its ``RunStarted`` event."""
        cursor = self.follower.cursor
        state = cursor.state if isinstance(cursor.state, dict) else {}
        ours = state.get("coordinator") == self.coordinator
        if ours:
            self.judges.restore(state.get("votes"))
        listed = state.get("runs") if ours else None
        found: list[tuple[int, bytes, bytes, str]] = []
        if isinstance(listed, list):
            for item in listed:
                try:
                    found.append((int(item[0]), bytes.fromhex(item[1][2:]),
                                  bytes.fromhex(item[2][2:]), str(item[3])))
                except (TypeError, ValueError, IndexError):
                    continue
        else:
            head = int(await self.chain.request("eth_blockNumber", []), 16)
            for ev in await self.follower.history("RunStarted", cursor.start, head):
                a = ev.args
                found.append((int(a["runId"]), bytes(a["definitionId"]),
                              bytes(a["inputHash"]), str(a["inputURI"])))
            cursor.block = head  # saved below, with the runs
        for run_id, def_id, input_hash, input_uri in found:
            try:
                info = await self.link.view_struct("runInfo", run_id)
            except ContractRevert:
                continue
            if bytes(info["definitionId"]) != def_id or not _open(info):
                continue
            run = RunView(run_id, await self._definition(def_id), input_hash, input_uri)
            if not self._serves(run):
                continue
            await self._name_remote(run, str(info["creator"]))
            self.runs[run_id] = run
            await self.judges.resume(run)
        cursor.save(cursor.block, force=True)
        if self.runs:
            log.info("resuming %d open run(s): %s", len(self.runs),
                     ", ".join(str(r) for r in sorted(self.runs)))

    # ------------------------------------------------------------------ events
    async def _on_event(self, ev: Event) -> None:
        a = ev.args
        name = ev.name
        if name == "RunStarted":
            defn = await self._definition(bytes(a["definitionId"]))
            started = RunView(a["runId"], defn, bytes(a["inputHash"]), a["inputURI"])
            if not self._serves(started):
                return
            await self._name_remote(started, str(a["creator"]))
            self.runs[a["runId"]] = started
            return
        if name == "StepValidated":  # ours, replayed after a restart: its stake to free
            self.judges.on_validated(a, self.runs.get(a["runId"]))
        if name in VERDICT_EVENTS:
            self.judges.on_verdict(a["runId"], a["step"])
        run = self.runs.get(a.get("runId", -1))
        if run is None:
            return
        self.scheduler.touch(run.run_id)
        if name == "StepReady":
            self.scheduler.enqueue(run.run_id, a["step"])
        elif name == "StepClaimed":
            if str(a["operator"]).lower() not in self._operators:
                self.executor.contested()
        elif name == "StepSubmitted":
            run.results[a["step"]] = (bytes(a["resultHash"]), a["resultURI"])
            if run.definition.steps[a["step"]].quorum > 0:
                self.judges.start(run, a["step"], a["agentId"], bytes(a["resultHash"]),
                                  a["resultURI"])
        elif name in ("StepRejected", "LeaseExpired"):
            for agent in self.agents:
                if agent.agent_id == a["agentId"]:
                    agent.failed.add((run.run_id, a["step"]))
        elif name in RUN_ENDED or (name == "RunFailed" and run.definition.compensation_mask == 0):
            run.ended = True
            self.scheduler.drop_run(run.run_id)
            self.runs.pop(run.run_id, None)
            self.inputs.forget(run.run_id)
            self.judges.on_run_ended(run.run_id)

    def _serves(self, run: RunView) -> bool:
        """Whether this host can do anything in the run: work one of its steps, or judge
        them. Other runs are never followed or read (a public endpoint's budget)."""
        if self.scheduler.workable(run.definition) or self.judges.serves(run):
            return True
        self.stats["runs_not_served"] += 1
        return False

    async def _name_remote(self, run: RunView, creator: str) -> None:
        """A run the RemoteStepRouter opened keeps its home step's name (workflows.origin):
        the router's task logs are read incrementally (in GETLOGS_SPAN spans), the name at
        most once per run. Only cosmetic: a failure keeps the definition's names."""
        try:
            if self._router is None:
                (router,) = await self.link.view("router")
                self._router = str(router).lower()
            if int(self._router, 16) == 0 or creator.lower() != self._router:
                return
            if self._tasks.origin(run.run_id) is None:
                head = int(await self.chain.request("eth_blockNumber", []), 16)
                while self._tasks_next <= head:
                    stop = min(head, self._tasks_next + GETLOGS_SPAN - 1)
                    self._tasks.add(await self.chain.request("eth_getLogs", [
                        log_filter(self._router, self._tasks_next, stop)]))
                    self._tasks_next = stop + 1
            found = self._tasks.origin(run.run_id)
            if found is None:
                return
            name = await asyncio.to_thread(home_step_name, *found)
        except (ChainError, AccordError) as exc:
            log.debug("run %s: no home step name (%s)", run.run_id, exc)
            return
        run.names = [name] + run.definition.names[1:]

    async def _definition(self, def_id: bytes) -> DefinitionView:
        if def_id in self.definitions:
            return self.definitions[def_id]
        info = DefinitionInfo.from_abi(await self.link.view("definitionInfo", def_id))
        count = info.stepCount
        steps: list[StepInfo] = []
        for i in range(count):
            spec = await self.link.view_struct("definitionStep", def_id, i)
            steps.append(StepInfo(bytes(spec["role"]), int(spec["deps"]),
                                  int(spec["leaseSeconds"]), int(spec["quorum"]),
                                  bool(spec["decision"]),
                                  remote=int(spec["chainId"]) not in (0, self.chain.chain_id)))
        for i, s in enumerate(steps):
            for j in range(count):
                if s.deps >> j & 1:
                    steps[j].dependents |= 1 << i
        view = DefinitionView(def_id, steps, catalog.names(def_id, count, self.catalog_root),
                              info.validatorRole, info.compensationMask)
        self.definitions[def_id] = view
        return view


async def _cancel_all(tasks: list[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended. A task is cancelled again while it
    runs on: Python 3.11's ``asyncio.wait_for`` (receipts, handler timeouts) swallows a cancel
    that arrives as its future completes, and a loop (rescan, heartbeat) would then run on and
    a plain gather wait for it forever."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        done, pending = await asyncio.wait(pending, timeout=0.5)
        for task in done:
            if not task.cancelled():
                task.exception()  # retrieved: an error on the way out is not reported twice


def _open(info: dict[str, Any]) -> bool:
    """Whether a run (its ``runInfo``) may still have steps to work on: Running, Paused, or
    Failed with compensation steps to run."""
    state = RunState(int(info["state"]))
    return state.active or (
        state == RunState.FAILED
        and bool(int(info["compensationPending"]) | int(info["compensationOpen"])))
