"""The keeper: pokes the permissionless transitions that move workflow steps along.

Nothing here is trusted: every call it makes anyone may make, and the contracts check it.
Home side, per coordinator: ``dispatch`` Ready steps that run on another chain,
``expireRemote`` Dispatched steps whose deadline passed, and ``expireValidation`` Submitted
steps nobody decided by their validation deadline (the definition says what happens then);
once a run has ended and settled, ``publishOutcomes`` for each agent that worked on it and
``publishValidation`` for each quorum verdict (the ERC-8004 records, kept off the hot path).
Remote side, per router: ``report`` tasks whose local run ended (or whose deadline passed), and
``open`` unfunded tasks once their creator's deposit covers the reward. Losing a race to another
keeper is normal (the call reverts on estimate and is skipped, logged at debug); a task waiting
for its creator's deposit is logged at warning, once per shortfall, naming the creator and the
wei missing; any other revert (a router missing, a registry refusing) at warning with its
decoded reason, once per call and reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from eth_account.signers.local import LocalAccount

from accord.chain.client import Client
from accord.chain.results import find_result
from accord.chain.types import (
    DefinitionInfo,
    Lease,
    Request,
    RequestState,
    RunInfo,
    StepSpec,
    StepState,
)
from accord.errors import ChainError, ContractRevert
from accord.service.loop import run_service, until

log = logging.getLogger("accord.keeper")

# Reverts that mean "someone else did it first" or "not yet": normal, logged at debug.
RACES = frozenset({
    "CoordinatorStepNotReady", "CoordinatorRemoteNotExpired", "CoordinatorRunNotRunning",
    "CoordinatorValidationNotExpired", "CoordinatorStepNotSubmitted",
    "CoordinatorRunNotSettled", "CoordinatorAlreadyPublished", "CoordinatorNothingToPublish",
    "CoordinatorNoVerdictToPublish", "RouterRequestNotUnfunded", "RouterRequestNotOpen",
    "RouterAlreadyReported", "RouterRunNotFinished", "RouterRequestExpired",
})


@dataclass
class Keeper:
    client: Client
    coordinator: str
    router: str
    account: LocalAccount
    actions: int = 0
    _runs: dict[int, bytes] = field(default_factory=dict)          # runId -> definitionId
    _remote_steps: dict[bytes, list[int]] = field(default_factory=dict)  # defId -> steps
    _deps: dict[tuple[bytes, int], int] = field(default_factory=dict)  # its remote steps' deps
    _requests: set[bytes] = field(default_factory=set)
    _submitted: set[tuple[int, int]] = field(default_factory=set)  # (runId, step) to watch
    publish: bool = True  # publish the ERC-8004 records of ended runs
    _workers: dict[int, set[int]] = field(default_factory=dict)  # runId -> agentIds that claimed
    _verdicts: dict[int, set[int]] = field(default_factory=dict)  # runId -> steps a quorum decided
    _ended: set[int] = field(default_factory=set)  # runs whose records are still to publish
    _short: dict[bytes, int] = field(default_factory=dict)  # requestId -> wei last warned short
    _failing: dict[str, str] = field(default_factory=dict)  # call -> revert last warned about
    _cursor: int = 0

    def __post_init__(self) -> None:
        self.c = self.client.contract("WorkflowCoordinator", self.coordinator)
        self.r = self.client.contract("RemoteStepRouter", self.router)

    def _try(self, fn: Any, what: str,
             explain: Callable[[ContractRevert], bool] | None = None) -> bool:
        """Send ``fn``; a revert is skipped. ``explain`` may log it its own way and return
        True; a race lost to another keeper, or a call made before its time (RACES), is logged
        at debug; any other revert at warning with its decoded reason, once per call and
        reason until the call succeeds (it will not go away by itself)."""
        try:
            self.client.transact(fn, self.account)
        except ContractRevert as exc:
            if explain is not None and explain(exc):
                return False
            if exc.name in RACES:
                log.debug("%s skipped: %s", what, exc)
            elif self._failing.get(what) != exc.name:
                self._failing[what] = exc.name
                log.warning("%s failed: %s; it is retried every pass", what, exc)
            return False
        except (ChainError, ValueError) as exc:  # ValueError: arguments web3 cannot encode
            log.warning("%s failed: %s", what, exc)
            return False
        self._failing.pop(what, None)
        self.actions += 1
        log.info("%s", what)
        return True

    def _unfunded(self, rid: bytes) -> Callable[[ContractRevert], bool]:
        """Explain an ``open`` that reverted because the creator's deposit is short."""
        def explain(exc: ContractRevert) -> bool:
            if exc.name != "RouterUnfunded":
                return False
            _, creator, have, need = exc.args_
            balance, needed = int(cast(int, have)), int(cast(int, need))
            missing = needed - balance
            if self._short.get(rid) != missing:
                self._short[rid] = missing
                log.warning("request 0x%s waits for its creator's deposit: creator %s has %d wei "
                            "on router %s, the task needs %d, %d wei missing (anyone may "
                            "deposit(%s) on that router)", rid.hex(), creator, balance,
                            self.router, needed, missing, creator)
            return True
        return explain

    def _lookup(self, what: str, read: Callable[..., tuple[bytes, str]],
                *args: Any) -> tuple[bytes, str] | None:
        """``read(*args)``, the result a call carries; None (logged, retried next pass) when
        it cannot be read now (a node error, logs the node no longer serves)."""
        try:
            return read(*args)
        except (ChainError, ValueError) as exc:
            log.warning("%s: reading the result it carries failed: %s; retried next pass",
                        what, exc)
            return None

    def _result(self, run_id: int, step: int) -> tuple[bytes, str]:
        """The current result of ``step`` (empty before any), from its event."""
        found = find_result(self.client.w3, self.coordinator, run_id, step)
        return (found.resultHash, found.resultURI) if found is not None else (b"\x00" * 32, "")

    def _input(self, run_id: int, definition_id: bytes, step: int, done: int
               ) -> tuple[bytes, str]:
        """A remote step's input: the result of its lowest-index Done dependency (``done``:
        the run's done mask)."""
        inputs = self._deps[(definition_id, step)] & done
        if not inputs:
            return b"\x00" * 32, ""
        return self._result(run_id, (inputs & -inputs).bit_length() - 1)

    def _remote(self, definition_id: bytes) -> list[int]:
        if definition_id not in self._remote_steps:
            count = DefinitionInfo.from_abi(
                self.c.functions.definitionInfo(definition_id).call()).stepCount
            here = self.client.chain_id
            specs = [StepSpec.from_abi(self.c.functions.definitionStep(definition_id, i).call())
                     for i in range(count)]
            remote = [i for i, spec in enumerate(specs) if spec.chainId not in (0, here)]
            self._deps.update({(definition_id, i): specs[i].deps for i in remote})
            self._remote_steps[definition_id] = remote
        return self._remote_steps[definition_id]

    def _publish(self, run_id: int) -> None:
        """The ERC-8004 records of an ended run, once it has settled (no step in flight)."""
        info = RunInfo.from_abi(self.c.functions.runInfo(run_id).call())
        if info.compensationOpen or int(self.c.functions.inflight(run_id).call()):
            return  # compensating, or a step still in flight after a cancel
        for agent_id in sorted(self._workers.pop(run_id, set())):
            self._try(self.c.functions.publishOutcomes(run_id, agent_id),
                      f"publishOutcomes run {run_id} agent {agent_id}")
        verdicts = self._verdicts.get(run_id, set())
        for step in sorted(verdicts):
            what = f"publishValidation run {run_id} step {step}"
            pair = self._lookup(what, self._result, run_id, step)
            if pair is None:
                continue  # the step stays for the next pass
            verdicts.discard(step)
            self._try(self.c.functions.publishValidation(run_id, step, *pair), what)
        if not verdicts:
            self._verdicts.pop(run_id, None)
            self._ended.discard(run_id)

    def step(self) -> int:
        """One pass over new events and open work; returns the calls it made."""
        before = self.actions
        head = self.client.w3.eth.block_number
        if head >= self._cursor:
            for ev in self.c.events.RunStarted().get_logs(from_block=self._cursor, to_block=head):
                self._runs[int(ev["args"]["runId"])] = bytes(ev["args"]["definitionId"])
            for ev in self.r.events.TaskReceived().get_logs(from_block=self._cursor,
                                                            to_block=head):
                self._requests.add(bytes(ev["args"]["requestId"]))
            for ev in self.c.events.StepSubmitted().get_logs(from_block=self._cursor,
                                                             to_block=head):
                self._submitted.add((int(ev["args"]["runId"]), int(ev["args"]["step"])))
            if self.publish:
                for ev in self.c.events.StepClaimed().get_logs(from_block=self._cursor,
                                                               to_block=head):
                    self._workers.setdefault(int(ev["args"]["runId"]), set()).add(
                        int(ev["args"]["agentId"]))
                for ev in self.c.events.StepValidated().get_logs(from_block=self._cursor,
                                                                 to_block=head):
                    self._verdicts.setdefault(int(ev["args"]["runId"]), set()).add(
                        int(ev["args"]["step"]))
            self._cursor = head + 1
        now = int(self.client.w3.eth.get_block("latest")["timestamp"])
        for run_id, step in list(self._submitted):
            if int(self.c.functions.stepState(run_id, step).call()) != StepState.SUBMITTED:
                self._submitted.discard((run_id, step))
                continue
            deadline = Lease.from_abi(self.c.functions.lease(run_id, step).call()).leaseEnd
            if now >= deadline and self._try(self.c.functions.expireValidation(run_id, step),
                                             f"expireValidation run {run_id} step {step}"):
                self._submitted.discard((run_id, step))
        for run_id, def_id in list(self._runs.items()):
            info = RunInfo.from_abi(self.c.functions.runInfo(run_id).call())
            if not info.state.active:
                del self._runs[run_id]
                if self.publish:
                    self._ended.add(run_id)
                continue
            remote = self._remote(def_id)
            if not remote:
                continue
            ready = int(self.c.functions.readySteps(run_id).call())
            for s in remote:
                if ready >> s & 1:
                    what = f"dispatch run {run_id} step {s}"
                    given = self._lookup(what, self._input, run_id, def_id, s, info.doneMask)
                    if given is not None:
                        self._try(self.c.functions.dispatch(run_id, s, *given), what)
                elif int(self.c.functions.stepState(run_id, s).call()) == StepState.DISPATCHED:
                    self._try(self.c.functions.expireRemote(run_id, s),
                              f"expireRemote run {run_id} step {s}")
        for run_id in list(self._ended):
            self._publish(run_id)
        for rid in list(self._requests):
            req = Request.from_abi(self.r.functions.request(rid).call())
            if req.state is RequestState.UNFUNDED:
                if now >= req.deadline:  # expired: it can never open
                    self._requests.discard(rid)
                    self._short.pop(rid, None)
                    continue
                if self._try(self.r.functions.open(rid), f"open request 0x{rid.hex()}",
                             self._unfunded(rid)):
                    self._short.pop(rid, None)
            elif req.state is RequestState.OPEN:
                run = RunInfo.from_abi(self.c.functions.runInfo(req.remoteRunId).call())
                if not run.state.active or now > req.deadline:
                    what = f"report request 0x{rid.hex()}"
                    outcome = self._lookup(what, self._result, req.remoteRunId, 0)
                    if outcome is not None:
                        self._try(self.r.functions.report(rid, *outcome), what)
            else:
                self._requests.discard(rid)
                self._short.pop(rid, None)
        return self.actions - before

    def run(self, poll_s: float = 0.2, stop_after_s: float | None = None,
            max_error_backoff_s: float = 5.0) -> None:
        """Step until ``stop_after_s``; a pass that fails (node down or flaky) is retried
        with exponential backoff (the next pass re-reads everything it needs)."""
        run_service(self.step, what="keeper pass", poll_s=poll_s, first_backoff_s=poll_s,
                    max_backoff_s=max_error_backoff_s, log=log, running=until(stop_after_s))
