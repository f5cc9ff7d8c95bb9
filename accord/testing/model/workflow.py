"""Pure-Python reference model of the WorkflowCoordinator's definitions and step state
machine (contracts/WorkflowCoordinator.sol, contracts/coordinator/CoordinatorBase.sol and
WorkflowCoordinatorExtension.sol) and of the stake locks it takes in AgentRoles (as
contracts/mocks/MockAgentRoles.sol keeps them: per (agentId, role), against an optional bond
cap). Used by the property tests to compare every observable state, balance and lock with the
contracts after each operation.

Time-based states are derived exactly as the contract derives them: a lease is valid while
``now < lease_end``; a backoff elapses at ``now >= retry_at``; a validation deadline passes at
``now >= lease_end`` (while Submitted, ``lease_end`` is the deadline).

Remote steps (``dispatch``) and the ERC-8004 publishing (``publish*``) are out of scope; failures
per (run, agent) are counted as the contract counts them for ``publishOutcomes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accord.chain.types import RunState, StepState, ValidationTimeout

NO_STEP = 255
LEASE_CAP_FACTOR = 4
APPROVAL_THRESHOLD = 50
ZERO_ROLE = b"\x00" * 32
LAPSED = b"accord.lease-lapsed".ljust(32, b"\x00")
RELEASED = -1  # a vote whose stake was released


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
    role: bytes = ZERO_ROLE

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
    slash: int = 0  # slashAmount: the stake each claim and each vote locks
    validation_seconds: int = 0  # 0 = LEASE_CAP_FACTOR x the step's lease
    on_timeout: ValidationTimeout = ValidationTimeout.RETRY
    validator_role: bytes = ZERO_ROLE  # zero = the coordinator's global validator role

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

    def validation_window(self, i: int) -> int:
        return self.validation_seconds or LEASE_CAP_FACTOR * self.steps[i].lease

    @property
    def forward_mask(self) -> int:
        return ((1 << self.n) - 1) & ~self.comp_mask


@dataclass
class StepRun:
    status: str = "idle"  # idle, claimed, submitted, backoff, done, failed, settled, abandoned
    attempt: int = 0
    operator: str = ""
    owner: str = ""  # the executor agent's owner at the claim
    agent: int = 0
    lease_end: int = 0  # while submitted: the validation deadline
    lease_cap: int = 0
    retry_at: int = 0
    approvals: int = 0
    rejections: int = 0
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
    inflight: int = 0  # after a cancel: Claimed (live) / Submitted steps, rewards escrowed
    steps: list[StepRun] = field(default_factory=list)
    votes: dict[tuple[int, int, str], int] = field(default_factory=dict)  # (step, attempt, owner)
    failures: dict[int, int] = field(default_factory=dict)  # agent -> failed attempts


class Roles:
    """AgentRoles as MockAgentRoles keeps it: eligibility per (agent, operator, role), locks
    per (agent, role) against an optional bond cap, slashes recorded (never taken)."""

    def __init__(self) -> None:
        self.eligible: set[tuple[int, str, bytes]] = set()
        self.caps: dict[tuple[int, bytes], int] = {}
        self.locked: dict[tuple[int, bytes], int] = {}
        self.slashes: list[tuple[int, bytes, int, bytes]] = []

    def check_lock(self, agent: int, operator: str, role: bytes, amount: int) -> None:
        if (agent, operator, role) not in self.eligible:
            raise ModelRevert("AgentRolesNotEligible")
        cap = self.caps.get((agent, role))
        if cap is not None and self.locked.get((agent, role), 0) + amount > cap:
            raise ModelRevert("AgentRolesInsufficientFreeBond")

    def lock(self, agent: int, operator: str, role: bytes, amount: int) -> None:
        self.check_lock(agent, operator, role, amount)
        if amount:
            self.locked[(agent, role)] = self.locked.get((agent, role), 0) + amount

    def release(self, agent: int, role: bytes, amount: int, slash: int = 0,
                reason: bytes = ZERO_ROLE) -> None:
        locked = self.locked.get((agent, role), 0)
        self.locked[(agent, role)] = locked - min(amount, locked)
        if slash:
            self.slashes.append((agent, role, slash, reason))


class Coordinator:
    """The model: runs, credits, stake locks (``roles``) and the derived step states.
    ``owners`` maps agentIds to their identity owner (validator independence)."""

    def __init__(self, roles: Roles | None = None, owners: dict[int, str] | None = None,
                 validator_role: bytes = ZERO_ROLE) -> None:
        self.runs: dict[int, Run] = {}
        self.owed: dict[str, int] = {}
        self.escrowed = 0
        self.roles = roles if roles is not None else Roles()
        self.owners = owners if owners is not None else {}
        self.validator_role = validator_role
        self.trace: list[str] = []  # names of the contract events of note, in order
        self.clock = 0  # time of the operation being applied (runs that end mark abandoned claims)

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

    def _located(self, run_id: int, i: int) -> Run:
        run = self._run(run_id)
        if i >= run.definition.n:
            raise ModelRevert("CoordinatorInvalidStep")
        return run

    def judge_role(self, d: Definition) -> bytes:
        return d.validator_role if d.validator_role != ZERO_ROLE else self.validator_role

    def state(self, run_id: int, i: int, now: int) -> StepState:
        run = self._run(run_id)
        d, sr = run.definition, run.steps[i]
        st = d.steps[i]
        if sr.status == "done":
            return StepState.DONE
        if sr.status == "failed":
            return StepState.FAILED
        if sr.status in ("settled", "abandoned"):
            return StepState.CANCELLED
        if run.state == RunState.CANCELLED and run.inflight >> i & 1:
            if sr.status == "submitted":
                return StepState.SUBMITTED
            return StepState.CLAIMED if now < sr.lease_end else StepState.CANCELLED
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

    def cancel(self, run_id: int, sender: str, now: int) -> None:
        """Claimed (live lease) and Submitted steps stay in flight with their rewards in
        escrow; every other unfinished step is Cancelled and the rest refunded at once."""
        run = self._creator_run(run_id, sender)
        compensating = run.state == RunState.FAILED and run.comp_open != 0
        if run.state not in (RunState.RUNNING, RunState.PAUSED) and not compensating:
            raise ModelRevert("CoordinatorRunNotCancellable")
        d = run.definition
        run.state = RunState.CANCELLED
        unfinished = run.comp_open if compensating else d.forward_mask & ~(run.done | run.skipped)
        flying, reserved = 0, 0
        for j in range(d.n):
            sr = run.steps[j]
            if not unfinished >> j & 1:
                continue
            if sr.status == "submitted" or (sr.status == "claimed" and now < sr.lease_end):
                flying |= 1 << j
                reserved += d.steps[j].reward
            else:
                self._cancel_step(run, j, now)
        run.inflight = flying
        self._refund(run, run.escrow - reserved)

    @staticmethod
    def _cancel_step(run: Run, j: int, now: int) -> None:
        """A step its run's end cancels: a claim that had already lapsed is abandoned (its
        stake is still slashed by ``expire``)."""
        sr = run.steps[j]
        if sr.status == "claimed" and now >= sr.lease_end:
            sr.status = "abandoned"

    def _creator_run(self, run_id: int, sender: str) -> Run:
        run = self._run(run_id)
        if run.creator != sender:
            raise ModelRevert("CoordinatorNotCreator")
        return run

    # -------------------------------------------------------------- steps
    def claim(self, run_id: int, i: int, agent: int, operator: str, now: int) -> None:
        """Materialises a lapse (attempt + 1, the lapsed executor's stake released and
        slashed), then locks the stake of ``agent`` (eligibility, free bond)."""
        run = self._located(run_id, i)
        d = run.definition
        is_comp = bool(d.comp_mask >> i & 1)
        if (run.state != RunState.FAILED) if is_comp else (run.state != RunState.RUNNING):
            raise ModelRevert("CoordinatorRunNotRunning")
        if self.state(run_id, i, now) != StepState.READY:
            raise ModelRevert("CoordinatorStepNotReady")
        sr, st = run.steps[i], d.steps[i]
        lapsed = sr.status == "claimed"
        # the lapsed stake is released before the new lock (the same agent may claim again)
        saved = dict(self.roles.locked), len(self.roles.slashes)
        if lapsed and d.slash:
            self.roles.release(sr.agent, st.role, d.slash, d.slash, LAPSED)
        try:
            self.roles.check_lock(agent, operator, st.role, d.slash)
        except ModelRevert:
            self.roles.locked = saved[0]
            del self.roles.slashes[saved[1]:]
            raise
        if lapsed:
            run.failures[sr.agent] = run.failures.get(sr.agent, 0) + 1
            sr.attempt += 1
        sr.status, sr.operator, sr.agent = "claimed", operator, agent
        sr.owner = self.owners.get(agent, "")
        sr.lease_end, sr.lease_cap = now + st.lease, now + LEASE_CAP_FACTOR * st.lease
        sr.approvals = sr.rejections = 0
        self.roles.lock(agent, operator, st.role, d.slash)

    def _claimed_by(self, run_id: int, i: int, sender: str, now: int) -> StepRun:
        run = self._located(run_id, i)
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
        """Quorum 0: Done at once. Otherwise Submitted until the validation deadline."""
        self.clock = now
        sr = self._claimed_by(run_id, i, sender, now)
        run = self.runs[run_id]
        d = run.definition
        st = d.steps[i]
        allowed = d.dependents(i) if st.decision else 0
        if branches & ~allowed:
            raise ModelRevert("CoordinatorInvalidBranches")
        sr.status, sr.branches = "submitted", branches
        if st.quorum == 0:
            self._done(run, i)
        else:
            sr.lease_end = now + d.validation_window(i)

    @staticmethod
    def independent(owner: str, sender: str, sr: StepRun, creator: str) -> bool:
        """Neither the validator's owner nor its operator (``sender``) is the executor's owner
        at the claim, the operator that claimed, or the run's creator."""
        barred = {sr.owner, sr.operator, creator}
        return owner not in barred and sender not in barred

    def respond(self, run_id: int, i: int, agent: int, sender: str, response: int,
                now: int) -> None:
        """A vote of an independent validator, once per owner per attempt; locks the stake
        of the validator role until ``release_vote``."""
        self.clock = now
        if response > 100:
            raise ModelRevert("CoordinatorInvalidResponse")
        self.judge(run_id, i, [(agent, sender, response)], now, strict=True)

    def respond_signed(self, run_id: int, i: int, ballots: list[tuple[int, str, int]],
                       now: int) -> None:
        """``respondSigned`` with well-formed signatures: ``ballots`` are (agent, signer,
        response); a vote whose owner already has one recorded is skipped."""
        self.clock = now
        if not ballots:
            raise ModelRevert("CoordinatorNoVotes")
        self.judge(run_id, i, ballots, now, strict=False)

    def judge(self, run_id: int, i: int, ballots: list[tuple[int, str, int]], now: int, *,
              strict: bool) -> None:
        """The coordinator's ``_judge``: every ballot checked first (response, eligibility and
        free stake, independence, one per owner), then tallied in order until a verdict; a
        verdict locks nothing, no verdict records and locks every counted vote."""
        run = self._located(run_id, i)
        if self.state(run_id, i, now) != StepState.SUBMITTED:
            raise ModelRevert("CoordinatorStepNotSubmitted")
        d, sr = run.definition, run.steps[i]
        role = self.judge_role(d)
        counted: list[tuple[int, str, int, str]] = []
        seen: set[str] = set()
        for agent, voter, response in ballots:
            if response > 100:
                raise ModelRevert("CoordinatorInvalidResponse")
            owner = self.owners[agent]
            self.roles.check_lock(agent, voter, role, d.slash)  # eligible, stake free
            if not self.independent(owner, voter, sr, run.creator):
                raise ModelRevert("CoordinatorValidatorNotIndependent")
            if owner in seen:
                raise ModelRevert("CoordinatorAlreadyVoted")
            seen.add(owner)
            if (i, sr.attempt, owner) in run.votes:
                if strict:
                    raise ModelRevert("CoordinatorAlreadyVoted")
                continue  # counted when it was sent ahead of this batch
            counted.append((agent, voter, response, owner))
        quorum = d.steps[i].quorum
        for _agent, _voter, response, _owner in counted:
            if response >= APPROVAL_THRESHOLD:
                sr.approvals += 1
            else:
                sr.rejections += 1
            if quorum in (sr.approvals, sr.rejections):
                break  # the verdict: later ballots are ignored
        if sr.approvals == quorum:
            self._done(run, i)
        elif sr.rejections == quorum:
            self._release_executor(run, i, slash=False)
            self._attempt_failed(run, i, now, backoff=True, fail=False)
        else:
            # no verdict yet: every counted vote holds its stake until the verdict
            for agent, voter, _response, owner in counted:
                run.votes[(i, sr.attempt, owner)] = agent
                self.roles.lock(agent, voter, role, d.slash)

    def expire(self, run_id: int, i: int, now: int) -> None:
        """``expireLease``: a lapse (slash, attempt + 1), or the no-fault release of a claim
        its ended run made moot (shows Cancelled, not in flight)."""
        self.clock = now
        run = self._located(run_id, i)
        s = self.state(run_id, i, now)
        sr = run.steps[i]
        lapsed = sr.status == "claimed" and now >= sr.lease_end
        if s == StepState.CANCELLED and sr.status in ("claimed", "submitted", "abandoned"):
            if not run.inflight >> i & 1:
                abandoned = sr.status == "abandoned"
                sr.status = "settled"
                if abandoned:
                    run.failures[sr.agent] = run.failures.get(sr.agent, 0) + 1
                self._release_executor(run, i, slash=abandoned)
                self.trace.append("AbandonedClaimSlashed" if abandoned else "MootClaimReleased")
                return
        elif not lapsed or s not in (StepState.READY, StepState.FAILED):
            raise ModelRevert("CoordinatorLeaseNotExpired")
        self._release_executor(run, i, slash=True)
        self._attempt_failed(run, i, now, backoff=False, fail=False)

    def expire_validation(self, run_id: int, i: int, now: int) -> None:
        """The definition's ``on_timeout`` for a Submitted step past its deadline."""
        self.clock = now
        run = self._located(run_id, i)
        sr = run.steps[i]
        if self.state(run_id, i, now) != StepState.SUBMITTED or now < sr.lease_end:
            raise ModelRevert("CoordinatorValidationNotExpired")
        policy = run.definition.on_timeout
        self.trace.append(f"ValidationExpired.{policy.name}")
        if policy == ValidationTimeout.ACCEPT:
            self._done(run, i)
        else:
            self._release_executor(run, i, slash=False)
            self._attempt_failed(run, i, now, backoff=False,
                                 fail=policy == ValidationTimeout.FAIL, executors_fault=False)

    def release_vote(self, run_id: int, i: int, attempt: int, owner: str, now: int) -> None:
        """Frees the stake of ``owner``'s vote on ``attempt`` once that verdict is final."""
        run = self._located(run_id, i)
        s = self.state(run_id, i, now)
        key = (i, attempt, owner)
        agent = run.votes.get(key, RELEASED)
        if agent == RELEASED:
            raise ModelRevert("CoordinatorNoVoteStake")
        if attempt == run.steps[i].attempt and s == StepState.SUBMITTED:
            raise ModelRevert("CoordinatorVerdictPending")
        run.votes[key] = RELEASED
        d = run.definition
        if d.slash:
            self.roles.release(agent, self.judge_role(d), d.slash)

    def withdraw(self, sender: str) -> int:
        amount = self.owed.get(sender, 0)
        if amount == 0:
            raise ModelRevert("CoordinatorNothingToWithdraw")
        self.owed[sender] = 0
        return amount

    # -------------------------------------------------------------- transitions
    def _release_executor(self, run: Run, i: int, slash: bool) -> None:
        d, sr = run.definition, run.steps[i]
        if d.slash:
            self.roles.release(sr.agent, d.steps[i].role, d.slash, d.slash if slash else 0,
                               LAPSED if slash else ZERO_ROLE)

    def _done(self, run: Run, i: int) -> None:
        """Done: the executor's operator is paid, the run advances, the stake is freed."""
        self._mark_done(run, i)
        self._release_executor(run, i, slash=False)

    def _mark_done(self, run: Run, i: int) -> None:
        d, sr = run.definition, run.steps[i]
        sr.status = "done"
        sr.done_seq = bin(run.done).count("1")
        run.done |= 1 << i
        reward = d.steps[i].reward
        run.escrow -= reward
        self.escrowed -= reward
        self._credit(sr.operator, reward)
        if run.state == RunState.CANCELLED:
            run.inflight &= ~(1 << i)  # finished after the cancel: paid, nothing opens
            self.trace.append("InflightDone")
            return
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
            for j in range(d.n):
                if (d.forward_mask & ~(run.done | run.skipped)) >> j & 1:
                    self._cancel_step(run, j, self.clock)
            self._refund(run, run.escrow)

    def _attempt_failed(self, run: Run, i: int, now: int, backoff: bool, fail: bool,
                        executors_fault: bool = True) -> None:
        """A lapse, rejection or validation timeout: attempt + 1, counted against the agent
        unless the judges were silent; after a cancel the step settles and its reward goes
        back to the creator."""
        sr, st = run.steps[i], run.definition.steps[i]
        sr.attempt += 1
        if executors_fault:
            run.failures[sr.agent] = run.failures.get(sr.agent, 0) + 1
        if run.state == RunState.CANCELLED:
            run.inflight &= ~(1 << i)
            sr.status = "settled"
            self._refund(run, st.reward)
            self.trace.append("InflightRefunded")
        elif fail or sr.attempt >= st.attempts:
            self._fail_step(run, i)
        elif backoff:
            sr.status, sr.retry_at = "backoff", now + st.backoff(sr.attempt)
        else:
            sr.status = "idle"

    def _fail_step(self, run: Run, i: int) -> None:
        d = run.definition
        run.steps[i].status = "failed"
        if d.comp_mask >> i & 1:
            self._comp_finished(run, i, failed=True)
            return
        run.state = RunState.FAILED
        for j in range(d.n):
            if j != i and (d.forward_mask & ~(run.done | run.skipped)) >> j & 1:
                self._cancel_step(run, j, self.clock)
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
