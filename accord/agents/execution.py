"""Executing steps: an agent's claim (coalesced with its other claims into one multicall),
its step's input, the handler in a thread with a timeout while the lease is heartbeated, the
result stored content-addressed, and the submit (coalesced likewise).

A handler that raises or times out leaves the lease to lapse, after which the step goes
preferably to another agent; a claim that loses a race is logged at debug and skipped."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
import time
from collections.abc import Callable
from typing import Any

from accord.agents.batch import CallBatcher, PendingCall
from accord.agents.handlers import DecisionResultError, branch_mask, to_output
from accord.agents.inputs import InputLoader
from accord.agents.state import (
    BOND_HINTS,
    GAS,
    RACE_ERRORS,
    Agent,
    CoordinatorLink,
    RunView,
    log,
)
from accord.chain.events import Event, EventDecoder
from accord.errors import AccordError, ChainError, ContractRevert


class Executor:
    """Claims, runs and submits the steps the scheduler hands to this host's agents."""

    def __init__(self, link: CoordinatorLink, agents: list[Agent], inputs: InputLoader,
                 *, precheck: bool | None,
                 on_release: Callable[[tuple[int, int] | None], None]) -> None:
        self.link = link
        self.inputs = inputs
        self.precheck = precheck  # None: only while other operators compete (see _precheck)
        # an agent has room again (and, given a step, that step is no longer in flight)
        self.on_release = on_release
        self._contested_until = 0.0
        self._decoder = EventDecoder("WorkflowCoordinator")
        # per agent name: its claims and its submits, coalesced into multicalls
        self.claims = {a.name: self._batcher(a, "claim", wait_mined=True) for a in agents}
        self.submits = {a.name: self._batcher(a, "submit", wait_mined=False) for a in agents}

    def _batcher(self, agent: Agent, fn: str, *, wait_mined: bool) -> CallBatcher:
        return CallBatcher(self.link.chain, self.link.coordinator, agent.operator,
                           self.link.abi, fn=fn, gas=GAS[fn], limit=agent.batch,
                           wait_mined=wait_mined, spawn=self.link.spawn, stats=self.link.stats,
                           precheck=self._precheck if fn == "claim" else lambda: False)

    def open_claims(self, agent: Agent) -> int:
        """Claims of the agent queued for its next transaction."""
        return len(self.claims[agent.name].pending)

    def start(self, agent: Agent, run: RunView, step: int) -> None:
        """Queue the agent's claim of ``step`` (its inputs are loaded: the scheduler hands
        out no step before) and work it when the claim is mined."""
        claim = self.claims[agent.name].add((run.run_id, step), self.link.abi.encode(
            "claim", run.run_id, step, agent.agent_id))
        self.link.spawn(self._execute(agent, run, step, claim))

    def contested(self) -> None:
        """Another operator claims on this coordinator: pre-check claims for a while."""
        self._contested_until = time.monotonic() + 60.0

    def step_events(self, rcpt: dict[str, Any], key: tuple[int, int]) -> dict[str, Event]:
        """The coordinator's events of a receipt about step ``key`` (a batch's receipt holds
        the events of every step it carried), by name."""
        # Step events index (runId, step) first: compare topics, decode only the matches.
        want = ["0x" + n.to_bytes(32, "big").hex() for n in key]
        coordinator = self.link.coordinator.lower()
        found: dict[str, Event] = {}
        for raw in rcpt.get("logs", []):
            topics = [t.lower() for t in raw.get("topics", [])[1:3]]
            if topics != want or raw.get("address", "").lower() != coordinator:
                continue
            ev = self._decoder.decode(raw)
            if ev is not None:
                found.setdefault(ev.name, ev)
        return found

    async def _execute(self, agent: Agent, run: RunView, step: int, claim: PendingCall) -> None:
        key = (run.run_id, step)
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
            ev = self.step_events(rcpt, key).get("StepClaimed")
            attempt = int(ev.args["attempt"]) if ev is not None else 0
            queued = await self._work(agent, run, step, attempt)
            if queued is None:
                return
            submit, uri = queued
            await submit.sent
            # Sent: this agent may claim its next step while the submit is mined (its nonce
            # orders the two); the step leaves the in-flight set only once we know.
            agent.active -= 1
            released = True
            self.on_release(None)
            try:
                rcpt = await submit.done
            except ContractRevert as exc:
                log.warning("%s: submit of run %s step %s reverted: %s", agent.name,
                            run.run_id, name, exc)
                return
            self.link.count(agent, "submitted")
            done = "StepDone" in self.step_events(rcpt, key)
            log.info("%s submitted run %s step %s (%s)%s", agent.name, run.run_id, name, uri,
                     "; done" if done else "")
        except (ChainError, AccordError) as exc:
            log.warning("%s: run %s step %s: %s", agent.name, run.run_id, name, exc)
        finally:
            if not released:
                agent.active -= 1
            agent.held -= claimed
            self.on_release(key)

    async def _work(self, agent: Agent, run: RunView, step: int,
                    attempt: int) -> tuple[PendingCall, str] | None:
        """Run the handler on the claimed step and queue its submit (with the result's
        URI); None when it failed (the lease will lapse)."""
        info = run.definition.steps[step]
        name = run.name(step)
        role_name = agent.role_ids()[info.role]
        try:
            inp = await self.inputs.step_input(run, step, role_name, attempt, agent.agent_id)
            heartbeat = asyncio.ensure_future(self._heartbeat(agent, run, step, info.lease))
            try:
                out = to_output(await asyncio.wait_for(
                    call_handler(agent.handlers[role_name], inp),
                    agent.timeout_s or info.lease * 4))
            finally:
                heartbeat.cancel()
            branches = branch_mask(name, info.decision, out.branches, run.definition.names,
                                   info.dependents)
        except DecisionResultError as exc:  # a handler bug: never submit a silent skip
            agent.failed.add((run.run_id, step))
            self.link.count(agent, "bad_decision")
            log.error("%s: run %s: not submitting: %s; the lease will lapse", agent.name,
                      run.run_id, exc)
            return None
        except Exception as exc:  # the handler is user code: any failure lets the lease lapse
            agent.failed.add((run.run_id, step))
            self.link.count(agent, "handler_failed")
            what = "timed out" if isinstance(exc, asyncio.TimeoutError) else f"failed: {exc!r}"
            log.warning("%s: handler for run %s step %s %s; the lease will lapse",
                        agent.name, run.run_id, name, what)
            return None
        digest, uri = await self.inputs.put(out.data)
        return self.submits[agent.name].add((run.run_id, step), self.link.abi.encode(
            "submit", run.run_id, step, digest, uri, branches)), uri

    def _claim_refused(self, agent: Agent, run: RunView, step: int,
                       exc: ContractRevert) -> None:
        name = run.name(step)
        if exc.name in RACE_ERRORS:
            self.contested()
            self.link.count(agent, "lost_race")
            log.debug("%s: %s/%s taken by another agent (%s)", agent.name, run.run_id, name,
                      exc.name)
            return
        if exc.name == "AgentRolesInsufficientFreeBond" and agent.held > 0:
            # Its bond backs fewer steps than it may hold: hold only what it backs (until the
            # next liveness round); the step goes back to the queue with the next rescan.
            if agent.hold_only_what_it_holds():
                log.warning("%s: its free bond backs only %d step(s) at once (max_concurrent "
                            "%d): bond more for the role to hold more; holding %d meanwhile",
                            agent.name, agent.bond_cap, agent.max_concurrent, agent.bond_cap)
            return
        hint = BOND_HINTS.get(exc.name or "")
        # Nothing about this step: the agent cannot claim any step now (not eligible, no free
        # bond, a blocked record). Hold no more than it holds until the next liveness round
        # re-checks, instead of paying for a reverted claim at every rescan.
        if hint is not None and not agent.hold_only_what_it_holds():
            return
        log.warning("%s cannot claim run %s step %s: %s%s", agent.name, run.run_id, name, exc,
                    f"; {hint}; claiming again after the next liveness check" if hint else "")

    def _precheck(self) -> bool:
        """eth_call each claim first (no gas burnt on lost races) when told to, or, by
        default, while other operators are claiming on this coordinator."""
        if self.precheck is not None:
            return self.precheck
        return time.monotonic() < self._contested_until

    async def _heartbeat(self, agent: Agent, run: RunView, step: int, lease: int) -> None:
        while True:
            await asyncio.sleep(max(lease / 3, 0.5))
            try:
                await self.link.transact(agent, "heartbeatLease", run.run_id, step)
                agent.stats["lease_heartbeats"] += 1
            except ContractRevert as exc:
                log.warning("%s: cannot extend the lease of run %s step %s: %s", agent.name,
                            run.run_id, step, exc.name)
                return


async def call_handler(fn: Any, arg: Any) -> Any:
    """A handler's answer: awaited if it is a coroutine function, else run in a thread."""
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
