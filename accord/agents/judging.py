"""Judging submitted steps: each of this host's validators that holds the step's validator
role (and is not its executor) checks the result with its own handler. Their votes are signed
(EIP-712, ``accord.agents.ballots``) for the attempt read before judging, so a verdict never
counts on a later attempt's result, and go out together in one ``respondSigned`` transaction:
one transaction instead of one per judge, and a verdict reached in it locks no judge's stake.
A batch the coordinator refuses for one judge's reason (not independent, not eligible) goes
out again one vote at a time, so one judge's problem never costs the others their vote.

A vote that does not decide locks the definition's stake of the judge's bond until the verdict
is final: the judges free it (``releaseVoteStake``) as soon as an event shows the verdict, and
retry on every rescan until it is free, so a bond is never tied up for good. The pending votes
are saved with the host's cursor, so a restart frees them too."""

from __future__ import annotations

import asyncio
from typing import Any

from accord.agents.ballots import Vote, sign_vote
from accord.agents.execution import call_handler
from accord.agents.handlers import ValidationInput, to_response
from accord.agents.inputs import InputLoader
from accord.agents.state import (
    BOND_HINTS,
    GAS,
    GAS_PER_SIGNED_VOTE,
    RACE_ERRORS,
    Agent,
    CoordinatorLink,
    RunView,
    log,
)
from accord.chain.events import EventDecoder
from accord.chain.results import commitment, find_result_async
from accord.chain.types import StepState
from accord.errors import AccordError, ChainError, ContractRevert
from accord.settings import role_id
from accord.workflows.result_store import ResultIntegrityError, ResultNotFoundError

# Reverts that mean "this validator may not judge this step" (it shares an owner or operator
# with the executor): expected, never retried.
NOT_MINE_ERRORS = frozenset({"CoordinatorValidatorNotIndependent"})
# Reverts that mean the attempt the votes were signed for is over: nothing to vote on.
STALE_ERRORS = frozenset({"CoordinatorInvalidVoteSignature"})
# Events after which the verdict on a step's earlier attempts is final.
VERDICT_EVENTS = frozenset({"StepDone", "StepRejected", "StepFailed", "ValidationExpired",
                            "InflightRefunded", "StepCancelled", "StepClaimed"})
#: A judge's verdict when the result cannot be fetched now (asked again later).
UNAVAILABLE = -1


class Judges:
    """This host's validators: they judge submitted steps and free their vote stakes."""

    RETRY_FIRST_S = 2.0
    RETRY_MAX_S = 30.0
    RETRY_ROUNDS = 6  # 2+4+8+16+30+30 s: then the step's validation deadline decides

    def __init__(self, link: CoordinatorLink, agents: list[Agent], inputs: InputLoader) -> None:
        self.link = link
        self.inputs = inputs
        self.judges = [a for a in agents if a.validator is not None]
        self.global_role = b""  # the coordinator's validator role (read when the host starts)
        self.owners: dict[int, str] = {}  # judge's agent id -> its identity's owner
        # votes whose stake is still locked: (run, step) -> [(attempt, agent)]
        self.votes: dict[tuple[int, int], list[tuple[int, Agent]]] = {}
        self._decoder = EventDecoder("WorkflowCoordinator")

    # ------------------------------------------------------------------ judging
    def serves(self, run: RunView) -> bool:
        """Whether a judge of this host may vote on the run's steps (holds its validator role
        and the run has steps with a quorum)."""
        if not any(s.quorum for s in run.definition.steps):
            return False
        role = self._role(run)
        return any(self._judge_role(a) == role for a in self.judges)

    def _role(self, run: RunView) -> bytes:
        return run.definition.validator_role if any(
            run.definition.validator_role) else self.global_role

    def _judge_role(self, agent: Agent) -> bytes:
        return role_id(agent.validator_role) if agent.validator_role else self.global_role

    def start(self, run: RunView, step: int, executor: int, digest: bytes, uri: str) -> None:
        """Judge a submitted attempt with every eligible validator of this host."""
        role = self._role(run)
        judges = [a for a in self.judges
                  if a.agent_id != executor and self._judge_role(a) == role]
        if judges:
            self.link.spawn(self._judge(judges, run, step, executor, digest, uri))

    async def resume(self, run: RunView) -> None:
        """Judge the Submitted steps of a recovered run (their StepSubmitted may lie before
        the cursor). A vote already cast is skipped by the coordinator."""
        if not self.judges:
            return
        for step, info in enumerate(run.definition.steps):
            if info.quorum == 0:
                continue
            (state,) = await self.link.view("stepState", run.run_id, step)
            if state != StepState.SUBMITTED:
                continue
            executor = (await self.link.view("lease", run.run_id, step))[0]
            found = await find_result_async(self.link.chain, self.link.coordinator, run.run_id,
                                            step)
            if found is None:
                continue
            digest, uri = found
            run.results[step] = (bytes(digest), uri)
            self.start(run, step, int(executor), bytes(digest), uri)

    async def _judge(self, judges: list[Agent], run: RunView, step: int, executor: int,
                     digest: bytes, uri: str) -> None:
        """The judges' verdicts on the attempt that submitted ``digest``, signed for that
        attempt (read before judging, so a verdict can never count on a later attempt's
        result) and sent together. A judge that could not fetch the result or its inputs (a
        server down or slow) asks again after a pause doubling from RETRY_FIRST_S to
        RETRY_MAX_S, at most RETRY_ROUNDS times (a result that never resolves costs a bounded
        number of fetches) and only while that same attempt is the step's Submitted one."""
        name = run.name(step)
        pause = self.RETRY_FIRST_S
        first: int | None = None
        for rounds_left in range(self.RETRY_ROUNDS, -1, -1):
            try:
                attempt = await self._attempt_of(run, step, digest, uri)
                if attempt is None or (first is not None and attempt != first):
                    log.debug("run %s step %s: no longer the submission of %s", run.run_id,
                              name, digest.hex())
                    return
                first = attempt
                verdicts = await asyncio.gather(*(
                    self._verdict(a, run, step, executor, digest, uri) for a in judges))
            except (ChainError, AccordError) as exc:
                log.warning("validating run %s step %s: %s", run.run_id, name, exc)
                return
            votes = [(a, r) for a, r in zip(judges, verdicts, strict=True)
                     if r is not None and r != UNAVAILABLE]
            if votes:
                await self._send(votes, run, step, attempt)
            judges = [a for a, r in zip(judges, verdicts, strict=True) if r == UNAVAILABLE]
            if not judges:
                return
            if not rounds_left:
                break
            log.info("run %s step %s: its result is not reachable yet; %d judge(s) ask "
                     "again in %.0f s", run.run_id, name, len(judges), pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.RETRY_MAX_S)
        log.warning("run %s step %s: its result stayed unreachable; %d judge(s) abstain",
                    run.run_id, name, len(judges))

    async def _attempt_of(self, run: RunView, step: int, digest: bytes, uri: str) -> int | None:
        """The attempt whose Submitted result is ``digest``; None when the step is no longer
        Submitted with that result. The state and the result are read between two reads of the
        attempt: equal, the step was Submitted within that attempt and the result read after is
        its one submission (the result outlives its attempt, so a state read outside the
        bracket could pair attempt N's result with attempt N + 1)."""
        before = int((await self.link.view("lease", run.run_id, step))[3])
        (state,) = await self.link.view("stepState", run.run_id, step)
        if state != StepState.SUBMITTED:
            return None
        (current,) = await self.link.view("resultCommitment", run.run_id, step)
        after = int((await self.link.view("lease", run.run_id, step))[3])
        return before if before == after and bytes(current) == commitment(digest, uri) else None

    async def _send(self, votes: list[tuple[Agent, int]], run: RunView, step: int,
                    attempt: int) -> None:
        """One ``respondSigned`` with ``votes`` (signed for ``attempt``), sent by the first
        judge's operator; refused for one judge's reason, each judge's vote goes alone."""
        name = run.name(step)
        chain_id = self.link.chain.chain_id
        signed = [sign_vote(a.operator, chain_id, self.link.coordinator,
                            Vote(run.run_id, step, attempt, a.agent_id, r)) for a, r in votes]
        gas = GAS["respondSigned"] + GAS_PER_SIGNED_VOTE * len(votes)
        try:
            rcpt = await self.link.transact(votes[0][0], "respondSigned", run.run_id, step,
                                            signed, precheck=True, gas=gas)
        except ContractRevert as exc:
            if exc.name in RACE_ERRORS or exc.name in STALE_ERRORS:
                log.debug("votes on %s/%s not needed (%s)", run.run_id, name, exc.name)
            elif len(votes) > 1:
                log.info("votes on run %s step %s refused together (%s): each judge votes "
                         "alone", run.run_id, name, exc.name or exc)
                for vote in votes:
                    await self._send([vote], run, step, attempt)
            elif exc.name in NOT_MINE_ERRORS:
                log.debug("%s: may not judge run %s step %s (%s)", votes[0][0].name,
                          run.run_id, name, exc.name)
            else:
                hint = BOND_HINTS.get(exc.name or "")
                log.warning("%s cannot validate run %s step %s: %s%s", votes[0][0].name,
                            run.run_id, name, exc, f"; {hint}" if hint else "")
            return
        except (ChainError, AccordError) as exc:
            log.warning("validating run %s step %s: %s", run.run_id, name, exc)
            return
        if len(votes) > 1:
            self.link.stats["signed_vote_batches"] += 1
        self._counted(rcpt, run, step, [a for a, _ in votes])

    def _counted(self, rcpt: dict[str, Any], run: RunView, step: int,
                 agents: list[Agent]) -> None:
        """After a mined vote: each of ``agents`` whose StepValidated is in the receipt is
        counted, and its stake remembered for release unless the receipt holds a verdict."""
        quorum = run.definition.steps[step].quorum
        validated = self._validated(rcpt)
        verdict = any(quorum in (ev["approvals"], ev["rejections"]) for ev in validated)
        by_id = {a.agent_id: a for a in agents}
        for ev in validated:
            agent = by_id.get(int(ev["agentId"]))
            if agent is None:
                continue
            if not verdict:
                self.remember(run.run_id, step, int(ev["attempt"]), agent)
            self.link.count(agent, "validated")
            log.info("%s answered %d on run %s step %s", agent.name, ev["response"],
                     run.run_id, run.name(step))

    async def _verdict(self, agent: Agent, run: RunView, step: int, executor: int,
                       digest: bytes, uri: str) -> int | None:
        """The agent's response to the attempt (0 for a result that does not match its
        hash); UNAVAILABLE when the result cannot be fetched now; None when it cannot judge
        (its handler failed)."""
        name = run.name(step)
        assert agent.validator is not None
        try:
            result = await self.inputs.result(uri, digest)
        except ResultIntegrityError as exc:
            log.warning("%s rejects run %s step %s: %s", agent.name, run.run_id, name, exc)
            return 0
        except ResultNotFoundError as exc:
            log.warning("%s cannot judge run %s step %s yet: %s", agent.name, run.run_id, name,
                        exc)
            return UNAVAILABLE
        try:
            inp = await self.inputs.step_input(run, step, "validator", 0, executor)
        except ResultNotFoundError as exc:  # the run's input or a dependency's result
            log.warning("%s cannot judge run %s step %s yet: %s", agent.name, run.run_id, name,
                        exc)
            return UNAVAILABLE
        try:
            verdict = await asyncio.wait_for(
                call_handler(agent.validator, ValidationInput(inp, result, executor)),
                agent.timeout_s or run.definition.steps[step].lease * 4)
            return to_response(verdict)
        except Exception as exc:  # user code
            agent.stats["handler_failed"] += 1
            log.warning("%s: validator handler failed on run %s step %s: %r", agent.name,
                        run.run_id, name, exc)
            return None

    def _validated(self, rcpt: dict[str, Any]) -> list[dict[str, Any]]:
        """The StepValidated events of a receipt, in order."""
        out = []
        for raw in rcpt.get("logs", []):
            ev = self._decoder.decode(raw)
            if ev is not None and ev.name == "StepValidated":
                out.append(ev.args)
        return out

    # ------------------------------------------------------------------ vote stakes
    def remember(self, run_id: int, step: int, attempt: int, agent: Agent) -> None:
        """A vote of ``agent`` whose stake stays locked until the verdict is final."""
        pending = self.votes.setdefault((run_id, step), [])
        if all(a != attempt or x is not agent for a, x in pending):
            pending.append((attempt, agent))

    def on_validated(self, args: dict[str, Any], run: RunView | None) -> None:
        """A StepValidated event (ours, replayed after a restart): its stake to free, unless
        it was the deciding vote (which locked nothing)."""
        judge = next((x for x in self.judges if x.agent_id == args["agentId"]), None)
        deciding = run is not None and run.definition.steps[args["step"]].quorum in (
            args["approvals"], args["rejections"])
        if judge is not None and not deciding:
            self.remember(args["runId"], args["step"], args["attempt"], judge)

    def on_verdict(self, run_id: int, step: int) -> None:
        """An event that may make the verdict on ``step`` final: free its stakes."""
        if (run_id, step) in self.votes:
            self.link.spawn(self.release(run_id, step))

    def on_run_ended(self, run_id: int) -> None:
        for key in [k for k in self.votes if k[0] == run_id]:
            self.link.spawn(self.release(*key))

    def saved(self) -> list[list[int]]:
        """The pending votes, for the cursor file."""
        return [[run_id, step, attempt, agent.agent_id]
                for (run_id, step), pending in self.votes.items()
                for attempt, agent in pending]

    def restore(self, saved: Any) -> None:
        """The saved votes with locked stakes, for this host's validators; freed by the
        first rescan (or when their run's verdict event arrives)."""
        judges = {a.agent_id: a for a in self.judges}
        for item in saved if isinstance(saved, list) else []:
            try:
                run_id, step, attempt, agent_id = (int(x) for x in item)
            except (TypeError, ValueError):
                continue
            if agent_id in judges:
                self.remember(run_id, step, attempt, judges[agent_id])

    async def release_all(self) -> None:
        """Try to free every pending vote stake (the rescan's retry)."""
        for key in list(self.votes):
            await self.release(*key)

    async def release(self, run_id: int, step: int) -> None:
        """Free the stakes this host's validators locked on `step`, where the verdict is final.
        A vote whose verdict is still pending stays listed (the rescan retries it)."""
        pending = self.votes.get((run_id, step), [])
        if not pending:
            return
        keep: list[tuple[int, Agent]] = []
        for voted_on, agent in pending:
            owner = self.owners.get(agent.agent_id, agent.operator.address)
            try:
                await self.link.transact(agent, "releaseVoteStake", run_id, step, voted_on,
                                         owner, precheck=True)
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
