"""The agent runtime: many agents of one chain in one asyncio process.

An :class:`Agent` is an ERC-8004 identity (``agent_id``), the operator key that acts for it,
and one handler per role (plus, optionally, a validator handler). An :class:`AgentHost`
serves a list of agents on one chain with one web3-free JSON-RPC session:

- on start it learns every open run (:meth:`AgentHost._recover_runs`): from the runs its
  cursor file lists, or, with no usable cursor, from the ``RunStarted`` logs since the
  deployment block; either way checked against ``runInfo``, since runs are announced only by
  ``RunStarted`` and a saved cursor has gone past it;
- it follows the coordinator's events (WebSocket or polling, :mod:`accord.chain.events`)
  and rescans ``readySteps`` of the active runs (lapsed leases and elapsed backoffs are
  derived on chain and emit no event until someone acts);
- it hands each ready step to ONE of its agents holding the step's role and room for it (so
  agents of one host never race each other; agents of different hosts or processes do, and the
  loser's claim reverts with ``CoordinatorStepNotReady``, which is logged at debug and
  skipped). An agent holds up to ``max_concurrent`` steps (default 8), as far as its free bond
  covers their stakes; a step goes preferably to an agent whose next claim is not sent yet;
- an agent's claims, and its submits, are coalesced into one ``multicall`` transaction (up to
  ``batch`` calls, :mod:`accord.agents.batch`); a batch that loses a race is split and its
  other steps go out again in one more transaction;
- the winner fetches the run input and its dependencies' results (hash-checked), runs the
  handler in a thread with a timeout while heartbeating the lease, stores the result
  content-addressed and submits the commitment (hash + URI);
- validators check submitted results with their own handler and answer through
  ``respond``; a handler that raises or times out leaves the lease to lapse, after which the
  step goes preferably to another agent;
- a vote locks the definition's stake of the validator's bond until the verdict is final:
  the host frees it (``releaseVoteStake``) as soon as an event shows the verdict, and
  retries on every rescan until it is free, so a validator's bond is never tied up for good.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from accord.agents.batch import CallBatcher, PendingCall
from accord.agents.handlers import (
    DecisionResultError,
    Handler,
    StepInput,
    ValidationInput,
    ValidatorHandler,
    branch_mask,
    to_output,
    to_response,
)
from accord.agents.result_store import BlobStore, ResultIntegrityError, ResultNotFoundError
from accord.chain.client import Client
from accord.chain.events import GETLOGS_SPAN, Cursor, Event, EventDecoder, EventFollower
from accord.chain.rpc import Abi, AsyncChain
from accord.errors import AccordError, ChainError, ContractRevert
from accord.settings import role_id
from accord.workflows import catalog
from accord.workflows.origin import TaskIndex, home_step_name, log_filter

log = logging.getLogger("accord.agents")

# Reverts that only mean "someone else got there first": never an error.
RACE_ERRORS = frozenset({
    "CoordinatorStepNotReady", "CoordinatorStepNotSubmitted", "CoordinatorAlreadyVoted",
    "CoordinatorRunNotRunning", "CoordinatorStepNotClaimed", "CoordinatorNotLeaseHolder",
})
# Reverts that mean "this validator may not judge this step" (it shares an owner or operator
# with the executor): expected, never retried.
NOT_MINE_ERRORS = frozenset({"CoordinatorValidatorNotIndependent"})
# What to tell the operator when its bond cannot back a claim or a vote.
BOND_HINTS = {
    "AgentRolesInsufficientFreeBond": "its free bond (active minus what open claims and votes "
                                      "lock) is below the workflow's stake: bond more, or wait "
                                      "for its open steps and votes to settle",
    "AgentRolesNotEligible": "it is not eligible for the role (bond below the minimum, no "
                             "recent heartbeat, or the key is not its owner/operator)",
    "CoordinatorRecordBlocked": "the reputation registry refused its record because it made "
                                "the coordinator its operator: revoke that approval, then "
                                "publish its outcomes again (publishOutcomes)",
}
# Events after which the verdict on a step's earlier attempts is final.
VERDICT_EVENTS = frozenset({"StepDone", "StepRejected", "StepFailed", "ValidationExpired",
                            "InflightRefunded", "StepCancelled", "StepClaimed"})

# Gas limits (generous: an unused limit costs nothing; submit/respond may propagate to every
# dependent of a 64-step definition and write reputation).
GAS = {"claim": 400_000, "submit": 1_500_000, "respond": 1_500_000, "heartbeatLease": 120_000,
       "expireLease": 600_000, "heartbeat": 120_000, "releaseVoteStake": 200_000}

STEP_DONE = 5
STEP_SUBMITTED = 3
RUN_RUNNING, RUN_PAUSED, RUN_FAILED = 1, 2, 4


@dataclass
class Agent:
    """One agent: identity, operator key, a handler per role name, an optional validator."""

    name: str
    operator: LocalAccount
    agent_id: int
    handlers: dict[str, Handler] = field(default_factory=dict)
    validator: ValidatorHandler | None = None
    validator_role: str | None = None  # default: the coordinator's global validator role
    max_concurrent: int = 8  # steps held at once (handlers run concurrently, in threads)
    batch: int = 8  # claims (and submits) per transaction; 1: no multicall
    timeout_s: float | None = None  # default: the lease cap (LEASE_CAP_FACTOR x lease)
    # runtime state
    active: int = 0  # steps handed to it and not released yet
    held: int = 0  # steps whose claim locks its stake (claimed, submit not mined yet)
    bond_cap: int | None = None  # steps its free bond was found to back (reset by liveness)
    failed: set[tuple[int, int]] = field(default_factory=set)
    stats: Counter[str] = field(default_factory=Counter)

    def role_ids(self) -> dict[bytes, str]:
        return {role_id(name): name for name in self.handlers}

    def room(self) -> int:
        """How many more steps it may take now."""
        cap = self.max_concurrent if self.bond_cap is None else min(self.max_concurrent,
                                                                     self.bond_cap)
        return cap - self.active


@dataclass
class StepInfo:
    role: bytes
    deps: int
    lease: int
    quorum: int
    decision: bool
    dependents: int = 0


@dataclass
class DefinitionView:
    id: bytes
    steps: list[StepInfo]
    names: list[str]
    validator_role: bytes
    compensation_mask: int


@dataclass
class RunView:
    run_id: int
    definition: DefinitionView
    input_hash: bytes
    input_uri: str
    ended: bool = False
    results: dict[int, tuple[bytes, str]] = field(default_factory=dict)
    input_cache: bytes | None = None
    names: list[str] | None = None  # a remote step's run: its home step's name (workflows.origin)

    def name(self, step: int) -> str:
        return self.names[step] if self.names is not None else self.definition.names[step]


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
        self.abi = Abi("WorkflowCoordinator")
        self.roles_abi = Abi("AgentRoles")
        self.follower = EventFollower(self.chain, self.coordinator, "WorkflowCoordinator",
                                      cursor=Cursor(cursor_path, from_block,
                                                    snapshot=self._open_runs), ws=ws,
                                      poll_s=poll_s)
        self.rescan_s = rescan_s
        self.precheck = precheck  # None: only while other operators compete (see _precheck)
        self._contested_until = 0.0
        self._operators = {a.operator.address.lower() for a in agents}
        self.liveness_s = liveness_s
        self.catalog_root = catalog_root
        self.runs: dict[int, RunView] = {}
        self.definitions: dict[bytes, DefinitionView] = {}
        self.queue: dict[tuple[int, int], None] = {}
        self.inflight: set[tuple[int, int]] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stats: Counter[str] = Counter()
        self.by_role: dict[bytes, list[Agent]] = {}
        for agent in agents:
            for rid in agent.role_ids():
                self.by_role.setdefault(rid, []).append(agent)
        self._decoder = EventDecoder("WorkflowCoordinator")
        self._global_validator_role = b""
        self._roles_address = ""
        # votes whose stake is still locked: (run, step) -> [(attempt, agent)]
        self.votes: dict[tuple[int, int], list[tuple[int, Agent]]] = {}
        self._router: str | None = None  # the coordinator's RemoteStepRouter, read once
        self._tasks = TaskIndex()
        self._tasks_next = from_block  # first block of the router's logs not read yet
        self._owners: dict[int, str] = {}
        # per agent name: its claims and its submits, coalesced into multicalls
        self._claims = {a.name: self._batcher(a, "claim", wait_mined=True) for a in agents}
        self._submits = {a.name: self._batcher(a, "submit", wait_mined=False) for a in agents}

    def _batcher(self, agent: Agent, fn: str, *, wait_mined: bool) -> CallBatcher:
        return CallBatcher(self.chain, self.coordinator, agent.operator, self.abi, fn=fn,
                           gas=GAS[fn], limit=agent.batch, wait_mined=wait_mined,
                           spawn=self._spawn, stats=self.stats,
                           precheck=self._precheck if fn == "claim" else lambda: False)

    # ------------------------------------------------------------------ lifecycle
    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until ``stop`` is set (forever when None)."""
        stop = stop or asyncio.Event()
        regs = self.abi.decode("registries", await self.chain.call(
            self.coordinator, self.abi.encode("registries")))
        self._roles_address = self.chain.client.w3.to_checksum_address(regs[1])
        self._global_validator_role = bytes(regs[4])
        identity = Abi("IdentityRegistry")
        for agent in self.agents:
            if agent.validator is not None:
                (owner,) = identity.decode("ownerOf", await self.chain.call(
                    regs[0], identity.encode("ownerOf", agent.agent_id)))
                self._owners[agent.agent_id] = str(owner)
        try:
            await self._liveness_once()
        except (ChainError, AccordError) as exc:  # e.g. an agent that never bonded
            log.warning("liveness heartbeat failed: %s", exc)
        await self._recover_runs()
        loops = [asyncio.ensure_future(self.follower.run(self._on_event)),
                 asyncio.ensure_future(self._rescan_loop()),
                 asyncio.ensure_future(self._liveness_loop())]
        waiter = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait([waiter, *loops], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not waiter and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            await _cancel_all([waiter, *loops, *self.tasks])
            await self.chain.close()

    # ------------------------------------------------------------------ recovery
    def _open_runs(self) -> dict[str, Any]:
        """Saved with the cursor's block: the runs open as of that block, which a restart
        cannot learn from the events after it, and the votes whose stakes this host's
        validators still have locked (a restart frees them once their verdicts are final;
        votes after the block come back with their replayed StepValidated events)."""
        return {"coordinator": self.coordinator, "runs": [
            [r.run_id, "0x" + r.definition.id.hex(), "0x" + r.input_hash.hex(), r.input_uri]
            for r in self.runs.values() if not r.ended],
            "votes": [[run_id, step, attempt, agent.agent_id]
                      for (run_id, step), pending in self.votes.items()
                      for attempt, agent in pending]}

    def _remember_vote(self, run_id: int, step: int, attempt: int, agent: Agent) -> None:
        pending = self.votes.setdefault((run_id, step), [])
        if all(a != attempt or x is not agent for a, x in pending):
            pending.append((attempt, agent))

    def _recover_votes(self, saved: Any) -> None:
        """The saved votes with locked stakes, for this host's validators; freed by the
        first rescan (or when their run's verdict event arrives)."""
        judges = {a.agent_id: a for a in self.agents if a.validator is not None}
        for item in saved if isinstance(saved, list) else []:
            try:
                run_id, step, attempt, agent_id = (int(x) for x in item)
            except (TypeError, ValueError):
                continue
            if agent_id in judges:
                self._remember_vote(run_id, step, attempt, judges[agent_id])

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
        listed = state.get("runs") if state.get("coordinator") == self.coordinator else None
        if state.get("coordinator") == self.coordinator:
            self._recover_votes(state.get("votes"))
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
                info = self.abi.decode_struct("runInfo", await self.chain.call(
                    self.coordinator, self.abi.encode("runInfo", run_id)))
            except ContractRevert:
                continue
            if bytes(info["definitionId"]) != def_id or not _open(info):
                continue
            run = RunView(run_id, await self._definition(def_id), input_hash, input_uri)
            await self._name_remote(run, str(info["creator"]))
            self.runs[run_id] = run
            await self._resume_validations(run)
        cursor.save(cursor.block, force=True)
        if self.runs:
            log.info("resuming %d open run(s): %s", len(self.runs),
                     ", ".join(str(r) for r in sorted(self.runs)))

    async def _resume_validations(self, run: RunView) -> None:
        """Judge the Submitted steps of a recovered run (their StepSubmitted may lie before
        the cursor). A vote already cast is found by the pre-checked ``respond``."""
        if not any(a.validator is not None for a in self.agents):
            return
        for step, info in enumerate(run.definition.steps):
            if info.quorum == 0:
                continue
            (state,) = self.abi.decode("stepState", await self.chain.call(
                self.coordinator, self.abi.encode("stepState", run.run_id, step)))
            if state != STEP_SUBMITTED:
                continue
            executor = self.abi.decode("lease", await self.chain.call(
                self.coordinator, self.abi.encode("lease", run.run_id, step)))[0]
            digest, uri = self.abi.decode("result", await self.chain.call(
                self.coordinator, self.abi.encode("result", run.run_id, step)))
            run.results[step] = (bytes(digest), uri)
            self._start_validations(run, step, int(executor), bytes(digest), uri)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # ------------------------------------------------------------------ events
    async def _on_event(self, ev: Event) -> None:
        a = ev.args
        name = ev.name
        if name == "RunStarted":
            defn = await self._definition(bytes(a["definitionId"]))
            started = RunView(a["runId"], defn, bytes(a["inputHash"]), a["inputURI"])
            await self._name_remote(started, str(a["creator"]))
            self.runs[a["runId"]] = started
            return
        if name == "StepValidated":  # ours, replayed after a restart: its stake to free
            judge = next((x for x in self.agents if x.agent_id == a["agentId"]
                          and x.validator is not None), None)
            known = self.runs.get(a["runId"])
            deciding = known is not None and known.definition.steps[a["step"]].quorum in (
                a["approvals"], a["rejections"])  # locked nothing
            if judge is not None and not deciding:
                self._remember_vote(a["runId"], a["step"], a["attempt"], judge)
        if name in VERDICT_EVENTS and (a["runId"], a["step"]) in self.votes:
            self._spawn(self._release_votes(a["runId"], a["step"]))
        run = self.runs.get(a.get("runId", -1))
        if run is None:
            return
        if name == "StepReady":
            self._enqueue(run.run_id, a["step"])
        elif name == "StepClaimed":
            if str(a["operator"]).lower() not in self._operators:
                self._contested()
        elif name == "StepSubmitted":
            run.results[a["step"]] = (bytes(a["resultHash"]), a["resultURI"])
            if run.definition.steps[a["step"]].quorum > 0:
                self._start_validations(run, a["step"], a["agentId"],
                                        bytes(a["resultHash"]), a["resultURI"])
        elif name in ("StepRejected", "LeaseExpired"):
            for agent in self.agents:
                if agent.agent_id == a["agentId"]:
                    agent.failed.add((run.run_id, a["step"]))
        elif name in ("RunCompleted", "RunCancelled", "RunCompensated") or (
                name == "RunFailed" and run.definition.compensation_mask == 0):
            run.ended = True
            for key in [k for k in self.queue if k[0] == run.run_id]:
                self.queue.pop(key, None)
            self.runs.pop(run.run_id, None)
            for key in [k for k in self.votes if k[0] == run.run_id]:
                self._spawn(self._release_votes(*key))

    async def _name_remote(self, run: RunView, creator: str) -> None:
        """A run the RemoteStepRouter opened keeps its home step's name (accord.workflows.origin):
        the router's task logs are read incrementally (in GETLOGS_SPAN spans), the name at
        most once per run. Only cosmetic: a failure keeps the definition's names."""
        try:
            if self._router is None:
                (router,) = self.abi.decode("router", await self.chain.call(
                    self.coordinator, self.abi.encode("router")))
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
        info = self.abi.decode("definitionInfo", await self.chain.call(
            self.coordinator, self.abi.encode("definitionInfo", def_id)))
        count = int(info[0])
        steps: list[StepInfo] = []
        for i in range(count):
            spec = self.abi.decode_struct("definitionStep", await self.chain.call(
                self.coordinator, self.abi.encode("definitionStep", def_id, i)))
            steps.append(StepInfo(bytes(spec["role"]), int(spec["deps"]),
                                  int(spec["leaseSeconds"]), int(spec["quorum"]),
                                  bool(spec["decision"])))
        for i, s in enumerate(steps):
            for j in range(count):
                if s.deps >> j & 1:
                    steps[j].dependents |= 1 << i
        view = DefinitionView(def_id, steps, catalog.names(def_id, count, self.catalog_root),
                              bytes(info[4]), int(info[1]))
        self.definitions[def_id] = view
        return view

    # ------------------------------------------------------------------ dispatch
    def _enqueue(self, run_id: int, step: int) -> None:
        key = (run_id, step)
        if key in self.inflight or key in self.queue:
            return
        self.queue[key] = None
        self._pump()

    def _pump(self) -> None:
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
            claim = self._claims[agent.name].add(key, self.abi.encode(
                "claim", key[0], key[1], agent.agent_id))
            self._spawn(self._execute(agent, run, key[1], claim))

    def _preference(self, agent: Agent) -> tuple[bool, int, int]:
        """Fill an agent's open claim batch first (one transaction for several steps), then
        the least busy agent."""
        open_batch = 0 < len(self._claims[agent.name].pending) < agent.batch
        return not open_batch, agent.active, agent.stats["claimed"]

    async def _rescan_loop(self) -> None:
        await self.follower.caught_up.wait()
        while True:
            for run in list(self.runs.values()):
                try:
                    (mask,) = self.abi.decode("readySteps", await self.chain.call(
                        self.coordinator, self.abi.encode("readySteps", run.run_id)))
                except ContractRevert:
                    continue
                for step in range(len(run.definition.steps)):
                    if mask >> step & 1:
                        self._enqueue(run.run_id, step)
            for key in list(self.votes):
                await self._release_votes(*key)
            await asyncio.sleep(self.rescan_s)

    # ------------------------------------------------------------------ executing
    async def _tx(self, agent: Agent, fn: str, *args: Any,
                  precheck: bool = False) -> dict[str, Any]:
        return await self.chain.transact(agent.operator, self.coordinator,
                                         self.abi.encode(fn, *args), gas=GAS[fn],
                                         precheck=precheck)

    async def _execute(self, agent: Agent, run: RunView, step: int, claim: PendingCall) -> None:
        key = (run.run_id, step)
        info = run.definition.steps[step]
        name = run.name(step)
        released = claimed = False
        try:
            try:
                rcpt = await claim.done
            except ContractRevert as exc:
                self._claim_refused(agent, run, step, exc)
                return
            agent.stats["claimed"] += 1
            agent.held += 1
            claimed = True
            attempt = self._claimed_attempt(rcpt, key)
            role_name = agent.role_ids()[info.role]
            handler = agent.handlers[role_name]
            try:
                inp = await self._step_input(run, step, role_name, attempt, agent.agent_id)
                timeout = agent.timeout_s or info.lease * 4
                heartbeat = asyncio.ensure_future(self._heartbeat(agent, run, step, info.lease))
                try:
                    out = to_output(await asyncio.wait_for(_call(handler, inp), timeout))
                finally:
                    heartbeat.cancel()
                branches = branch_mask(name, info.decision, out.branches,
                                       run.definition.names, info.dependents)
            except DecisionResultError as exc:  # a handler bug: never submit a silent skip
                agent.failed.add(key)
                agent.stats["bad_decision"] += 1
                self.stats["bad_decision"] += 1
                log.error("%s: run %s: not submitting: %s; the lease will lapse", agent.name,
                          run.run_id, exc)
                return
            except Exception as exc:  # the handler is user code: any failure lets the lease lapse
                agent.failed.add(key)
                agent.stats["handler_failed"] += 1
                self.stats["handler_failed"] += 1
                what = "timed out" if isinstance(exc, asyncio.TimeoutError) else f"failed: {exc!r}"
                log.warning("%s: handler for run %s step %s %s; the lease will lapse",
                            agent.name, run.run_id, name, what)
                return
            digest, uri = self.store.put(out.data)
            submit = self._submits[agent.name].add(key, self.abi.encode(
                "submit", run.run_id, step, digest, uri, branches))
            await submit.sent
            # Sent: this agent may claim its next step while the submit is mined (its nonce
            # orders the two); the step leaves the in-flight set only once we know.
            agent.active -= 1
            released = True
            self._pump()
            try:
                rcpt = await submit.done
            except ContractRevert as exc:
                log.warning("%s: submit of run %s step %s reverted: %s", agent.name,
                            run.run_id, name, exc)
                return
            agent.stats["submitted"] += 1
            self.stats["submitted"] += 1
            done = "StepDone" in self._step_events(rcpt, key)
            log.info("%s submitted run %s step %s (%s)%s", agent.name, run.run_id, name, uri,
                     "; done" if done else "")
        except (ChainError, AccordError) as exc:
            log.warning("%s: run %s step %s: %s", agent.name, run.run_id, name, exc)
        finally:
            self.inflight.discard(key)
            if not released:
                agent.active -= 1
            agent.held -= claimed
            self._pump()

    def _claim_refused(self, agent: Agent, run: RunView, step: int,
                       exc: ContractRevert) -> None:
        name = run.name(step)
        if exc.name in RACE_ERRORS:
            self._contested()
            agent.stats["lost_race"] += 1
            self.stats["lost_race"] += 1
            log.debug("%s: %s/%s taken by another agent (%s)", agent.name, run.run_id, name,
                      exc.name)
            return
        if exc.name == "AgentRolesInsufficientFreeBond" and agent.held > 0:
            # Its bond backs fewer steps than it may hold: hold only what it backs (until the
            # next liveness round); the step goes back to the queue with the next rescan.
            if agent.bond_cap == agent.held:
                return
            agent.bond_cap = agent.held
            log.warning("%s: its free bond backs only %d step(s) at once (max_concurrent %d): "
                        "bond more for the role to hold more; holding %d meanwhile", agent.name,
                        agent.bond_cap, agent.max_concurrent, agent.bond_cap)
            return
        hint = BOND_HINTS.get(exc.name or "")
        if hint is not None:
            # Nothing about this step: the agent cannot claim any step now (not eligible, no
            # free bond, a blocked record). Hold no more than it holds until the next liveness
            # round re-checks, instead of paying for a reverted claim at every rescan.
            if agent.bond_cap == agent.held:
                return
            agent.bond_cap = agent.held
        log.warning("%s cannot claim run %s step %s: %s%s", agent.name, run.run_id, name, exc,
                    f"; {hint}; claiming again after the next liveness check" if hint else "")

    def _precheck(self) -> bool:
        """eth_call each claim first (no gas burnt on lost races) when told to, or, by
        default, while other operators are claiming on this coordinator."""
        if self.precheck is not None:
            return self.precheck
        return time.monotonic() < self._contested_until

    def _contested(self) -> None:
        self._contested_until = time.monotonic() + 60.0

    def _step_events(self, rcpt: dict[str, Any], key: tuple[int, int]) -> dict[str, Event]:
        """The coordinator's events of a receipt about step ``key`` (a batch's receipt holds
        the events of every step it carried), by name."""
        # Step events index (runId, step) first: compare topics, decode only the matches.
        want = ["0x" + n.to_bytes(32, "big").hex() for n in key]
        coordinator = self.coordinator.lower()
        found: dict[str, Event] = {}
        for raw in rcpt.get("logs", []):
            topics = [t.lower() for t in raw.get("topics", [])[1:3]]
            if topics != want or raw.get("address", "").lower() != coordinator:
                continue
            ev = self._decoder.decode(raw)
            if ev is not None:
                found.setdefault(ev.name, ev)
        return found

    def _claimed_attempt(self, rcpt: dict[str, Any], key: tuple[int, int]) -> int:
        ev = self._step_events(rcpt, key).get("StepClaimed")
        return int(ev.args["attempt"]) if ev is not None else 0

    def _voted_attempt(self, rcpt: dict[str, Any], quorum: int) -> int | None:
        """The attempt a vote locked its stake on (StepValidated of the vote's receipt);
        None for a deciding vote, which locks nothing."""
        for raw in rcpt.get("logs", []):
            ev = self._decoder.decode(raw)
            if ev is not None and ev.name == "StepValidated":
                if quorum in (ev.args["approvals"], ev.args["rejections"]):
                    return None
                return int(ev.args["attempt"])
        return None

    async def _release_votes(self, run_id: int, step: int) -> None:
        """Free the stakes this host's validators locked on `step`, where the verdict is final.
        A vote whose verdict is still pending stays listed (the rescan retries it)."""
        pending = self.votes.get((run_id, step), [])
        if not pending:
            return
        keep: list[tuple[int, Agent]] = []
        for voted_on, agent in pending:
            owner = self._owners.get(agent.agent_id, agent.operator.address)
            try:
                await self._tx(agent, "releaseVoteStake", run_id, step, voted_on, owner,
                               precheck=True)
                agent.stats["vote_stakes_released"] += 1
            except ContractRevert as exc:
                if exc.name == "CoordinatorVerdictPending":
                    keep.append((voted_on, agent))
                elif exc.name != "CoordinatorNoVoteStake":  # already freed by someone
                    log.warning("%s: cannot free its vote stake on run %s step %s: %s",
                                agent.name, run_id, step, exc)
            except (ChainError, AccordError) as exc:
                log.warning("%s: freeing its vote stake on run %s step %s: %s", agent.name,
                            run_id, step, exc)
                keep.append((voted_on, agent))
        if keep:
            self.votes[(run_id, step)] = keep
        else:
            self.votes.pop((run_id, step), None)

    async def _heartbeat(self, agent: Agent, run: RunView, step: int, lease: int) -> None:
        while True:
            await asyncio.sleep(max(lease / 3, 0.5))
            try:
                await self._tx(agent, "heartbeatLease", run.run_id, step)
                agent.stats["lease_heartbeats"] += 1
            except ContractRevert as exc:
                log.warning("%s: cannot extend the lease of run %s step %s: %s", agent.name,
                            run.run_id, step, exc.name)
                return

    async def _step_input(self, run: RunView, step: int, role: str, attempt: int,
                          agent_id: int) -> StepInput:
        if run.input_cache is None:
            run.input_cache = await asyncio.to_thread(self.store.get, run.input_uri,
                                                      run.input_hash)
        deps: dict[str, bytes] = {}
        info = run.definition.steps[step]
        if info.deps:
            (runinfo,) = self.abi.decode("runInfo", await self.chain.call(
                self.coordinator, self.abi.encode("runInfo", run.run_id)))
            done_mask = int(runinfo[4])
            for j in range(len(run.definition.steps)):
                if info.deps >> j & 1 and done_mask >> j & 1:
                    if j not in run.results:
                        h, uri = self.abi.decode("result", await self.chain.call(
                            self.coordinator, self.abi.encode("result", run.run_id, j)))
                        run.results[j] = (bytes(h), uri)
                    h, uri = run.results[j]
                    deps[run.name(j)] = await asyncio.to_thread(
                        self.store.get, uri, h)
        return StepInput(run.run_id, step, run.name(step), role,
                         run.input_cache, deps, attempt, agent_id)

    # ------------------------------------------------------------------ validating
    def _validator_role(self, run: RunView) -> bytes:
        return run.definition.validator_role if any(
            run.definition.validator_role) else self._global_validator_role

    def _start_validations(self, run: RunView, step: int, executor: int, digest: bytes,
                           uri: str) -> None:
        role = self._validator_role(run)
        for agent in self.agents:
            if agent.validator is None or agent.agent_id == executor:
                continue
            mine = role_id(agent.validator_role) if agent.validator_role else \
                self._global_validator_role
            if mine == role:
                self._spawn(self._validate(agent, run, step, executor, digest, uri))

    async def _validate(self, agent: Agent, run: RunView, step: int, executor: int,
                        digest: bytes, uri: str) -> None:
        name = run.name(step)
        assert agent.validator is not None
        try:
            try:
                result = await asyncio.to_thread(self.store.get, uri, digest)
            except ResultIntegrityError as exc:
                log.warning("%s rejects run %s step %s: %s", agent.name, run.run_id, name, exc)
                response = 0
            except ResultNotFoundError as exc:
                log.warning("%s cannot judge run %s step %s: %s", agent.name, run.run_id, name,
                            exc)
                return
            else:
                inp = await self._step_input(run, step, "validator", 0, executor)
                try:
                    verdict = await asyncio.wait_for(
                        _call(agent.validator, ValidationInput(inp, result, executor)),
                        agent.timeout_s or run.definition.steps[step].lease * 4)
                    response = to_response(verdict)
                except Exception as exc:  # user code
                    agent.stats["handler_failed"] += 1
                    log.warning("%s: validator handler failed on run %s step %s: %r",
                                agent.name, run.run_id, name, exc)
                    return
            try:
                rcpt = await self._tx(agent, "respond", run.run_id, step, agent.agent_id,
                                      response, precheck=True)
            except ContractRevert as exc:
                if exc.name in RACE_ERRORS or exc.name in NOT_MINE_ERRORS:
                    log.debug("%s: vote on %s/%s not needed (%s)", agent.name, run.run_id,
                              name, exc.name)
                    return
                hint = BOND_HINTS.get(exc.name or "")
                log.warning("%s cannot validate run %s step %s: %s%s", agent.name, run.run_id,
                            name, exc, f"; {hint}" if hint else "")
                return
            attempt = self._voted_attempt(rcpt, run.definition.steps[step].quorum)
            if attempt is not None:
                self._remember_vote(run.run_id, step, attempt, agent)
            agent.stats["validated"] += 1
            self.stats["validated"] += 1
            log.info("%s answered %d on run %s step %s", agent.name, response, run.run_id, name)
        except (ChainError, AccordError) as exc:
            log.warning("%s: validating run %s step %s: %s", agent.name, run.run_id, name, exc)

    # ------------------------------------------------------------------ liveness
    async def _liveness_loop(self) -> None:
        while True:
            await asyncio.sleep(self.liveness_s)
            try:
                await self._liveness_once()
            except (ChainError, AccordError) as exc:
                log.warning("liveness heartbeat failed: %s", exc)

    async def _liveness_once(self) -> None:
        """Send AgentRoles.heartbeat for agents whose liveness ends within 2 x liveness_s;
        forget what a claim refused for lack of bond taught (the bond may have grown)."""
        now = await self.chain.block_timestamp()
        for agent in self.agents:
            agent.bond_cap = None
            (until,) = self.roles_abi.decode("liveUntil", await self.chain.call(
                self._roles_address, self.roles_abi.encode("liveUntil", agent.agent_id)))
            if until - now < 2 * self.liveness_s + 60:
                await self.chain.transact(agent.operator, self._roles_address,
                                          self.roles_abi.encode("heartbeat", agent.agent_id),
                                          gas=GAS["heartbeat"])


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
    state = int(info["state"])
    return state in (RUN_RUNNING, RUN_PAUSED) or (
        state == RUN_FAILED
        and bool(int(info["compensationPending"]) | int(info["compensationOpen"])))


async def _call(fn: Any, arg: Any) -> Any:
    if inspect.iscoroutinefunction(fn):
        return await fn(arg)
    return await _in_daemon_thread(fn, arg)


async def _in_daemon_thread(fn: Any, arg: Any) -> Any:
    """``fn(arg)`` in a daemon thread of its own. A handler is user code and may block for
    minutes (a model call): it must not hold up a stop (SIGTERM, the end of ``--seconds``),
    which waits for the default executor's threads, nor keep one of that executor's few
    threads after its timeout has given up on it."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()
    ctx = contextvars.copy_context()

    def settle(ok: bool, value: Any) -> None:
        if not done.done():  # cancelled when the caller timed out or stopped
            if ok:
                done.set_result(value)
            else:
                done.set_exception(value)

    def work() -> None:
        try:
            outcome = (True, ctx.run(fn, arg))
        except BaseException as exc:  # noqa: BLE001 (handed to the awaiting task)
            outcome = (False, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop has closed: nobody waits for this answer any more
            pass

    threading.Thread(target=work, name=f"handler-{getattr(fn, '__name__', 'call')}",
                     daemon=True).start()
    return await done


def run_state(client: Client, coordinator: str, run_id: int) -> int:
    """The stored RunState of ``run_id`` (1 Running ... 3 Completed, 4 Failed, 5 Cancelled)."""
    return int(client.contract("WorkflowCoordinator", coordinator).functions.runState(
        run_id).call())


def wait_for_run(client: Client, coordinator: str, run_id: int, *, timeout: float = 60.0,
                 poll_s: float = 0.05) -> int:
    """Block until ``run_id`` leaves Running/Paused; returns its final RunState."""
    deadline = time.monotonic() + timeout
    while True:
        state = run_state(client, coordinator, run_id)
        if state not in (0, 1, 2):
            return state
        if time.monotonic() > deadline:
            raise ChainError(f"run {run_id} is still running after {timeout:.0f}s; are agents "
                             "serving every role of its steps?")
        time.sleep(poll_s)
