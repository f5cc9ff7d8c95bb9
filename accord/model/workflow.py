"""Pure-Python reference model of the WorkflowCoordinator's definitions and step state
machine (contracts/WorkflowCoordinator.sol). Used by the property tests to compare every
observable state and balance with the contract after each operation.

Time-based states are derived exactly as the contract derives them: a lease is valid while
``now < lease_end``; a backoff elapses at ``now >= retry_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

NO_STEP = 255
LEASE_CAP_FACTOR = 4
APPROVAL_THRESHOLD = 50


class RunState(IntEnum):
    NONE = 0
    RUNNING = 1
    PAUSED = 2
    COMPLETED = 3
    FAILED = 4
    CANCELLED = 5


class StepState(IntEnum):
    BLOCKED = 0
    READY = 1
    CLAIMED = 2
    SUBMITTED = 3
    BACKOFF = 4
    DONE = 5
    FAILED = 6
    SKIPPED = 7
    CANCELLED = 8


class ModelRevert(Exception):
    """The contract would revert with the custom error ``name``."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class Step:
    deps: int = 0
    join: int = 0
    lease: int = 100
    attempts: int = 3
    backoff_initial: int = 10
    backoff_multiplier: int = 2
    backoff_cap: int = 100
    quorum: int = 0
    reward: int = 0
    compensation: int = NO_STEP
    decision: bool = False

    def need(self) -> int:
        return self.join if self.join else bin(self.deps).count("1")

    def backoff(self, attempt: int) -> int:
        delay = self.backoff_initial
        if self.backoff_multiplier > 1:
            k = 1
            while k < attempt and delay < self.backoff_cap:
                delay *= self.backoff_multiplier
                k += 1
        return min(delay, self.backoff_cap)


@dataclass(frozen=True)
class Definition:
    steps: tuple[Step, ...]

    @property
    def n(self) -> int:
        return len(self.steps)

    @property
    def comp_mask(self) -> int:
        return sum(1 << s.compensation for s in self.steps if s.compensation != NO_STEP)

    def dependents(self, i: int) -> int:
        return sum(1 << j for j, s in enumerate(self.steps) if s.deps >> i & 1)

    @property
    def sink_mask(self) -> int:
        return sum(1 << i for i in range(self.n)
                   if not self.comp_mask >> i & 1 and self.dependents(i) == 0)

    @property
    def total_reward(self) -> int:
        return sum(s.reward for s in self.steps)


@dataclass
class StepRun:
    status: str = "idle"  # idle, claimed, submitted, backoff, done, failed
    attempt: int = 0
    operator: str = ""
    agent: int = 0
    lease_end: int = 0
    lease_cap: int = 0
    retry_at: int = 0
    approvals: int = 0
    rejections: int = 0
    voters: set[int] = field(default_factory=set)
    branches: int = 0
    done_seq: int = 0


@dataclass
class Run:
    definition: Definition
    creator: str
    escrow: int
    state: RunState = RunState.RUNNING
    done: int = 0
    skipped: int = 0
    comp_pending: int = 0
    comp_open: int = 0
    steps: list[StepRun] = field(default_factory=list)


class Coordinator:
    """The model: runs, credits, and the derived step states."""

    def __init__(self) -> None:
        self.runs: dict[int, Run] = {}
        self.owed: dict[str, int] = {}
        self.escrowed = 0

    # -------------------------------------------------------------- helpers
    def _credit(self, who: str, amount: int) -> None:
        if amount:
            self.owed[who] = self.owed.get(who, 0) + amount

    def _refund(self, run: Run, amount: int) -> None:
        run.escrow -= amount
        self.escrowed -= amount
        self._credit(run.creator, amount)

    def _run(self, run_id: int) -> Run:
        if run_id not in self.runs:
            raise ModelRevert("CoordinatorUnknownRun")
        return self.runs[run_id]

    def state(self, run_id: int, i: int, now: int) -> StepState:
        run = self._run(run_id)
        d, sr = run.definition, run.steps[i]
        st = d.steps[i]
        if sr.status == "done":
            return StepState.DONE
        if sr.status == "failed":
            return StepState.FAILED
        if d.comp_mask >> i & 1:
            if not run.comp_open >> i & 1:
                return StepState.BLOCKED
            if run.state == RunState.CANCELLED:
                return StepState.CANCELLED
        else:
            if run.skipped >> i & 1:
                return StepState.SKIPPED
            if run.state >= RunState.COMPLETED:
                return StepState.CANCELLED
        if sr.status == "claimed":
            if now < sr.lease_end:
                return StepState.CLAIMED
            return StepState.FAILED if sr.attempt + 1 >= st.attempts else StepState.READY
        if sr.status == "submitted":
            return StepState.SUBMITTED
        if sr.status == "backoff":
            return StepState.READY if now >= sr.retry_at else StepState.BACKOFF
        if st.deps == 0:
            return StepState.READY
        return (StepState.READY if bin(st.deps & run.done).count("1") >= st.need()
                else StepState.BLOCKED)

    def derived_attempt(self, run_id: int, i: int, now: int) -> int:
        sr = self.runs[run_id].steps[i]
        s = self.state(run_id, i, now)
        lapsed = sr.status == "claimed" and now >= sr.lease_end
        return sr.attempt + (1 if lapsed and s in (StepState.READY, StepState.FAILED) else 0)

    # -------------------------------------------------------------- runs
    def start(self, run_id: int, d: Definition, creator: str, value: int) -> None:
        if value < d.total_reward:
            raise ModelRevert("CoordinatorInsufficientBudget")
        self.runs[run_id] = Run(definition=d, creator=creator, escrow=value,
                                steps=[StepRun() for _ in d.steps])
        self.escrowed += value

    def pause(self, run_id: int, sender: str) -> None:
        run = self._creator_run(run_id, sender)
        if run.state != RunState.RUNNING:
            raise ModelRevert("CoordinatorRunNotRunning")
        run.state = RunState.PAUSED

    def resume(self, run_id: int, sender: str) -> None:
        run = self._creator_run(run_id, sender)
        if run.state != RunState.PAUSED:
            raise ModelRevert("CoordinatorRunNotPaused")
        run.state = RunState.RUNNING

    def cancel(self, run_id: int, sender: str) -> None:
        run = self._creator_run(run_id, sender)
        compensating = run.state == RunState.FAILED and run.comp_open != 0
        if run.state not in (RunState.RUNNING, RunState.PAUSED) and not compensating:
            raise ModelRevert("CoordinatorRunNotCancellable")
        run.state = RunState.CANCELLED
        self._refund(run, run.escrow)

    def _creator_run(self, run_id: int, sender: str) -> Run:
        run = self._run(run_id)
        if run.creator != sender:
            raise ModelRevert("CoordinatorNotCreator")
        return run

    # -------------------------------------------------------------- steps
    def claim(self, run_id: int, i: int, agent: int, operator: str, eligible: bool,
              now: int) -> None:
        run = self._run(run_id)
        d = run.definition
        if i >= d.n:
            raise ModelRevert("CoordinatorInvalidStep")
        is_comp = bool(d.comp_mask >> i & 1)
        if (run.state != RunState.FAILED) if is_comp else (run.state != RunState.RUNNING):
            raise ModelRevert("CoordinatorRunNotRunning")
        if self.state(run_id, i, now) != StepState.READY:
            raise ModelRevert("CoordinatorStepNotReady")
        if not eligible:
            raise ModelRevert("CoordinatorNotEligible")
        sr = run.steps[i]
        if sr.status == "claimed":
            sr.attempt += 1
        lease = d.steps[i].lease
        sr.status, sr.operator, sr.agent = "claimed", operator, agent
        sr.lease_end, sr.lease_cap = now + lease, now + LEASE_CAP_FACTOR * lease
        sr.approvals = sr.rejections = 0
        sr.voters = set()

    def _claimed_by(self, run_id: int, i: int, sender: str, now: int) -> StepRun:
        run = self._run(run_id)
        if i >= run.definition.n:
            raise ModelRevert("CoordinatorInvalidStep")
        if self.state(run_id, i, now) != StepState.CLAIMED:
            raise ModelRevert("CoordinatorStepNotClaimed")
        sr = run.steps[i]
        if sr.operator != sender:
            raise ModelRevert("CoordinatorNotLeaseHolder")
        return sr

    def heartbeat(self, run_id: int, i: int, sender: str, now: int) -> None:
        sr = self._claimed_by(run_id, i, sender, now)
        end = min(now + self.runs[run_id].definition.steps[i].lease, sr.lease_cap)
        if end <= sr.lease_end:
            raise ModelRevert("CoordinatorLeaseCapReached")
        sr.lease_end = end

    def submit(self, run_id: int, i: int, sender: str, branches: int, now: int) -> None:
        sr = self._claimed_by(run_id, i, sender, now)
        run = self.runs[run_id]
        st = run.definition.steps[i]
        allowed = run.definition.dependents(i) if st.decision else 0
        if branches & ~allowed:
            raise ModelRevert("CoordinatorInvalidBranches")
        sr.status, sr.branches = "submitted", branches
        if st.quorum == 0:
            self._done(run, i)

    def respond(self, run_id: int, i: int, agent: int, eligible: bool, response: int,
                now: int) -> None:
        if response > 100:
            raise ModelRevert("CoordinatorInvalidResponse")
        run = self._run(run_id)
        if i >= run.definition.n:
            raise ModelRevert("CoordinatorInvalidStep")
        if self.state(run_id, i, now) != StepState.SUBMITTED:
            raise ModelRevert("CoordinatorStepNotSubmitted")
        sr = run.steps[i]
        if agent == sr.agent:
            raise ModelRevert("CoordinatorExecutorCannotValidate")
        if not eligible:
            raise ModelRevert("CoordinatorNotEligible")
        if agent in sr.voters:
            raise ModelRevert("CoordinatorAlreadyVoted")
        sr.voters.add(agent)
        if response >= APPROVAL_THRESHOLD:
            sr.approvals += 1
        else:
            sr.rejections += 1
        quorum = run.definition.steps[i].quorum
        if sr.approvals == quorum:
            self._done(run, i)
        elif sr.rejections == quorum:
            self._reject(run, i, now)

    def expire(self, run_id: int, i: int, now: int) -> None:
        run = self._run(run_id)
        if i >= run.definition.n:
            raise ModelRevert("CoordinatorInvalidStep")
        s = self.state(run_id, i, now)
        sr = run.steps[i]
        if sr.status != "claimed" or s not in (StepState.READY, StepState.FAILED):
            raise ModelRevert("CoordinatorLeaseNotExpired")
        sr.attempt += 1
        if s == StepState.FAILED:
            self._fail_step(run, i)
        else:
            sr.status = "idle"

    def withdraw(self, sender: str) -> int:
        amount = self.owed.get(sender, 0)
        if amount == 0:
            raise ModelRevert("CoordinatorNothingToWithdraw")
        self.owed[sender] = 0
        return amount

    # -------------------------------------------------------------- transitions
    def _done(self, run: Run, i: int) -> None:
        d, sr = run.definition, run.steps[i]
        sr.status = "done"
        sr.done_seq = bin(run.done).count("1")
        run.done |= 1 << i
        reward = d.steps[i].reward
        run.escrow -= reward
        self.escrowed -= reward
        self._credit(sr.operator, reward)
        if d.comp_mask >> i & 1:
            self._comp_finished(run, i, failed=False)
            return
        if d.steps[i].decision:
            unselected = d.dependents(i) & ~sr.branches & ~run.skipped
            affected = 0
            for j in range(d.n):
                if unselected >> j & 1 and run.steps[j].status == "idle":
                    run.skipped |= 1 << j
                    affected |= d.dependents(j)
            for j in range(d.n):
                if not affected >> j & 1 or (run.skipped | run.done) >> j & 1:
                    continue
                st = d.steps[j]
                if bin(st.deps & ~run.skipped).count("1") < st.need():
                    run.skipped |= 1 << j
                    affected |= d.dependents(j)
        if (run.done | run.skipped) & d.sink_mask == d.sink_mask:
            run.state = RunState.COMPLETED
            self._refund(run, run.escrow)

    def _reject(self, run: Run, i: int, now: int) -> None:
        sr, st = run.steps[i], run.definition.steps[i]
        sr.attempt += 1
        if sr.attempt >= st.attempts:
            self._fail_step(run, i)
        else:
            sr.status, sr.retry_at = "backoff", now + st.backoff(sr.attempt)

    def _fail_step(self, run: Run, i: int) -> None:
        d = run.definition
        run.steps[i].status = "failed"
        if d.comp_mask >> i & 1:
            self._comp_finished(run, i, failed=True)
            return
        run.state = RunState.FAILED
        pending, reserved = 0, 0
        for j in range(d.n):
            c = d.steps[j].compensation
            if run.done >> j & 1 and c != NO_STEP:
                pending |= 1 << j
                reserved += d.steps[c].reward
        run.comp_pending = pending
        self._refund(run, run.escrow - reserved)
        self._open_next(run)

    def _comp_finished(self, run: Run, i: int, failed: bool) -> None:
        run.comp_open = 0
        if failed:
            self._refund(run, run.definition.steps[i].reward)
        self._open_next(run)

    def _open_next(self, run: Run) -> None:
        if run.comp_pending == 0:
            return
        candidates = [j for j in range(run.definition.n) if run.comp_pending >> j & 1]
        newest = max(candidates, key=lambda j: run.steps[j].done_seq)
        run.comp_pending &= ~(1 << newest)
        run.comp_open = 1 << run.definition.steps[newest].compensation
