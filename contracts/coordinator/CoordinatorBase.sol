// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAgentRoles} from "../../interfaces/IAgentRoles.sol";
import {IIdentityAuthorizer} from "../../interfaces/IIdentityAuthorizer.sol";
import {IReputationRegistry} from "../../interfaces/IReputationRegistry.sol";
import {IValidationRegistry} from "../../interfaces/IValidationRegistry.sol";
import {IWorkflowCoordinatorTypes} from "../../interfaces/IWorkflowCoordinatorTypes.sol";
import {Bitmask64} from "../libraries/Bitmask64.sol";
import {WorkflowDefinitions} from "../libraries/WorkflowDefinitions.sol";

/// @title CoordinatorBase
/// @notice Storage, the derived step state and the transitions shared by WorkflowCoordinator and
/// the extension it delegates its colder functions to (WorkflowCoordinatorExtension). Both
/// inherit this contract first, so their storage layouts are the same by construction.
/// @dev Conventions:
/// - `attempt` counts the failed attempts of a step so far (0 on the first claim); a step
///   fails when a lapse, rejection or validation timeout makes it reach `maxAttempts`.
/// - Leases: valid while block.timestamp < leaseEnd (`_leaseEnd`: `until`, or the later
///   `beatEnd` a heartbeat set to now + leaseSeconds, never beyond claim time +
///   LEASE_CAP_FACTOR * leaseSeconds). While a step is Submitted `until` is its validation
///   deadline, while Dispatched its remote deadline. Times are uint32 (saturating, `_time`).
/// - Payee: the operator that claimed (msg.sender of `claim`, authorised by the agent's owner
///   through AgentRoles.lockStake). Rewards and refunds are credits paid by `withdraw`.
/// - Compensation steps (steps named in another step's `compensation`) never run forward:
///   they stay Blocked unless the run fails. Then, newest Done step first, one compensation
///   step at a time is opened (Ready); the next opens when it is Done or Failed. Their rewards
///   stay escrowed for this; the rest of the budget is refunded when the run fails.
/// - The run Completes when every sink step (forward step without dependents) is Done or
///   Skipped; steps still unfinished then (e.g. surplus inputs of a k-of-n join) are Cancelled
///   (`expireLease` frees their executors' stakes).
/// - Cancel: Claimed (live lease) and Submitted steps stay in flight (`Run.inflight`), their
///   rewards escrowed until they settle.
/// - Remote steps: `until` holds the dispatch deadline, `attempt` the attempt the router
///   carries; the home reward is credited to the run's creator when the result arrives.
/// - Invariant: address(this).balance == totalOwed() + totalEscrowed().
abstract contract CoordinatorBase is IWorkflowCoordinatorTypes, Ownable, ReentrancyGuardTransient {
    using Bitmask64 for uint64;
    using WorkflowDefinitions for WorkflowDefinitions.Definition;
    using WorkflowDefinitions for WorkflowDefinitions.Step;

    // ---------------------------------------------------------------- constants
    /// @notice Validation responses at or above this approve (ERC-8004 responses are 0..100).
    uint8 public constant APPROVAL_THRESHOLD = 50;
    /// @notice Heartbeats extend a lease up to this many lease lengths after the claim.
    uint256 public constant LEASE_CAP_FACTOR = 4;
    /// @notice A dispatched remote step must report back within this many lease lengths: the
    /// remote lease with all its heartbeats (LEASE_CAP_FACTOR) plus as long again for relaying
    /// both ways and the remote validation.
    uint256 public constant REMOTE_DEADLINE_FACTOR = 8;
    /// @dev Longest result URI `submit` takes, in bytes: results are stored as a commitment,
    /// so without a bound a long URI would cost its submitter little and every reader (and the
    /// remote chain that stores a remote step's input) much.
    uint256 internal constant MAX_URI_BYTES = 2048;

    uint8 internal constant IDLE = 0; // Blocked/Ready/Skipped/Cancelled are derived from masks
    uint8 internal constant CLAIMED = 1;
    uint8 internal constant SUBMITTED = 2;
    uint8 internal constant BACKOFF = 3;
    uint8 internal constant DONE = 4;
    uint8 internal constant FAILED = 5;
    uint8 internal constant DISPATCHED = 6;
    uint8 internal constant SETTLED = 7; // a claim its ended run made moot, stake freed (Cancelled)
    uint8 internal constant ABANDONED = 8; // lapsed before its run ended: stake still to slash

    /// @dev `_votes` value of a vote whose stake was released.
    uint256 internal constant RELEASED = type(uint256).max;
    bytes32 internal constant LAPSED = "accord.lease-lapsed";

    // ---------------------------------------------------------------- storage
    /// @dev Three slots: definition, state, done, skipped, pending compensations | creator,
    /// escrow | open compensation, in flight. Claims and submits read only the first; the
    /// first verdict of a run writes `done` into a word startRun already wrote.
    struct Run {
        uint56 definition; // index of the definition in `_defs` (from 1)
        RunState state;
        uint64 done;
        uint64 skipped;
        uint64 compPending; // Done steps whose compensation has not opened yet
        address creator;
        uint88 escrow; // < 3e26 wei, far above the ether supply (checked in startRun)
        uint64 compOpen; // the open, unfinished compensation step (at most one bit)
        uint64 inflight; // after a cancel: Claimed/Submitted steps whose reward stays escrowed
    }

    /// @dev Per (run, step), four slots, each written only when its phase needs it, so that a
    /// step's first claim writes one new slot and its submit one more:
    /// - slot 0 (every claim, submit and verdict): lease holder | agentId | `until` | status |
    ///   attempt | doneSeq. `until` is the end of the current phase: Claimed, the lease end
    ///   as claimed (a heartbeat may push it to `beatEnd`); Submitted, the validation
    ///   deadline; Dispatched, the remote deadline; Backoff, the retry time; Done, the
    ///   verdict's mean approval (0: none to publish).
    /// - slot 1 (heartbeats, recorded votes, decisions): `beatEnd`, the tallies of recorded
    ///   votes, the decision's branches. Cleared (but `beatEnd`) when an attempt ends without
    ///   Done. A stale `beatEnd` never exceeds a later claim's `until` (leases end at the
    ///   larger), so it is never cleared.
    /// - slot 2 (claims by a delegated operator only): the executor agent's owner at the
    ///   claim; 0 when the operator is the owner, and cleared when the attempt ends.
    /// - slot 3 (submit): the result commitment (`ResultCommitments.commit`); the result's hash
    ///   and URI themselves are in the StepSubmitted or RemoteResultReceived event.
    struct StepRun {
        address operator;
        uint40 agentId;
        uint32 until;
        uint8 status;
        uint8 attempt;
        uint8 doneSeq;
        uint32 beatEnd;
        uint8 approvals;
        uint8 rejections;
        uint16 approvalSum;
        uint16 rejectionSum;
        uint64 branches;
        address owner;
        bytes32 result;
    }

    /// @dev Both money totals in one slot (each < 2**128: bounded by the ether supply).
    struct Totals {
        uint128 owed;
        uint128 escrowed;
    }

    address private immutable _self = address(this);
    IIdentityAuthorizer internal immutable _identity;
    IAgentRoles internal immutable _roles;
    IReputationRegistry internal immutable _reputation;
    IValidationRegistry internal immutable _validation;
    bytes32 internal immutable _validatorRole;
    // Written by the other half of the coordinator (its constructor or its DELEGATECALLed
    // extension; both share this storage), so slither sees each half never write them.
    // slither-disable-start uninitialized-state
    uint256 internal _agentId; // set once by the coordinator's constructor

    mapping(uint256 index => WorkflowDefinitions.Definition) internal _defs; // from 1
    mapping(bytes32 definitionId => uint256 index) internal _defIndex;
    uint256 internal _defCount;
    mapping(uint256 runId => Run) internal _runs;
    mapping(uint256 runId => mapping(uint256 step => StepRun)) internal _steps;
    mapping(bytes32 voteKey => uint256 agentIdPlusOne) internal _votes; // key: run, step, attempt, owner
    mapping(uint256 runId => mapping(uint256 agentId => uint256)) internal _failures;
    mapping(bytes32 runAgentOrStep => bool) internal _published;
    mapping(uint256 agentId => bool) internal _blocked;
    uint256 internal _publishNonce;
    mapping(address account => uint256) internal _owed;
    Totals internal _totals;
    uint256 internal _runCount;
    address internal _router;
    // slither-disable-end uninitialized-state

    /// @dev The coordinator's extensions run only by DELEGATECALL from it: called directly, their
    /// own storage would be used, which must stay empty.
    modifier onlyDelegated() {
        if (address(this) == _self) revert CoordinatorNotDelegated();
        _;
    }

    // ---------------------------------------------------------------- internal: lookups
    function _locate(uint256 runId, uint8 step)
        internal
        view
        returns (
            Run storage r,
            WorkflowDefinitions.Definition storage d,
            WorkflowDefinitions.Step storage cfg,
            StepRun storage sr,
            StepState s
        )
    {
        r = _run(runId);
        d = _defs[r.definition];
        cfg = _stepCfg(runId, d, step);
        sr = _steps[runId][step];
        s = _stepState(r, d, cfg, sr, step);
    }

    function _run(uint256 runId) internal view returns (Run storage r) {
        r = _runs[runId];
        if (r.state == RunState.None) revert CoordinatorUnknownRun(runId);
    }

    function _creatorRun(uint256 runId) internal view returns (Run storage r) {
        r = _run(runId);
        if (r.creator != msg.sender) revert CoordinatorNotCreator(runId, msg.sender);
    }

    function _stepCfg(uint256 runId, WorkflowDefinitions.Definition storage d, uint8 step)
        internal
        view
        returns (WorkflowDefinitions.Step storage)
    {
        if (step >= d.header.stepCount) revert CoordinatorInvalidStep(runId, step);
        return d.steps[step];
    }

    /// @dev Checks of `claim`: run accepts claims for this step, step Ready, agent not blocked
    /// (eligibility and free stake are checked by AgentRoles.lockStake).
    function _checkClaim(uint256 runId, uint8 step, uint256 agentId)
        internal
        view
        returns (StepRun storage sr, bytes32 role, uint256 leaseSeconds, uint256 stake)
    {
        Run storage r = _run(runId);
        WorkflowDefinitions.Definition storage d = _defs[r.definition];
        WorkflowDefinitions.Step storage cfg = _stepCfg(runId, d, step);
        RunState rs = r.state;
        if (d.header.compensationMask.has(step) ? rs != RunState.Failed : rs != RunState.Running) {
            revert CoordinatorRunNotRunning(runId, rs);
        }
        sr = _steps[runId][step];
        StepState s = _stepState(r, d, cfg, sr, step);
        if (s != StepState.Ready) revert CoordinatorStepNotReady(runId, step, s);
        if (cfg.remote) revert CoordinatorStepIsRemote(runId, step, cfg.chainId);
        if (agentId > type(uint40).max) revert CoordinatorAgentIdTooLarge(agentId);
        if (_blocked[agentId]) revert CoordinatorRecordBlocked(agentId);
        role = cfg.role;
        leaseSeconds = cfg.leaseSeconds;
        stake = d.extra.slashAmount;
    }

    /// @dev Effects of `claim`: materialise a lapse or an elapsed backoff, then the new lease.
    function _takeLease(uint256 runId, uint8 step, uint256 agentId, StepRun storage sr, uint256 leaseSeconds)
        internal
    {
        uint8 status = sr.status;
        uint8 attempt = sr.attempt;
        if (status == CLAIMED) {
            ++attempt; // < maxAttempts <= 255, else the derived state would be Failed
            emit LeaseExpired(runId, step, sr.agentId, attempt);
        } else if (status == BACKOFF) {
            emit StepBackoffElapsed(runId, step, attempt);
        }
        uint32 leaseEnd = _time(block.timestamp + leaseSeconds);
        // slot 0 only (the optimizer joins these into one write); tallies and branches were
        // cleared when the last attempt ended, and a stale beatEnd is below this lease's end
        sr.operator = msg.sender;
        sr.agentId = uint40(agentId);
        sr.until = leaseEnd;
        sr.status = CLAIMED;
        sr.attempt = attempt;
        emit StepClaimed(runId, step, agentId, msg.sender, leaseEnd, attempt);
    }

    /// @dev Checks for submit/heartbeat: the step is Claimed (live lease) by the caller.
    function _claimedByCaller(uint256 runId, uint8 step)
        internal
        view
        returns (
            Run storage r,
            WorkflowDefinitions.Definition storage d,
            WorkflowDefinitions.Step storage cfg,
            StepRun storage sr
        )
    {
        StepState s;
        (r, d, cfg, sr, s) = _locate(runId, step);
        if (s != StepState.Claimed) revert CoordinatorStepNotClaimed(runId, step, s);
        if (sr.operator != msg.sender) revert CoordinatorNotLeaseHolder(runId, step, msg.sender);
    }

    /// @dev The effective state: stored status + run masks + block time. O(1).
    function _stepState(
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr,
        uint8 i
    ) internal view returns (StepState) {
        uint8 status = sr.status;
        if (status == DONE) return StepState.Done;
        if (status == FAILED) return StepState.Failed;
        RunState rs = r.state;
        if (status >= SETTLED) return StepState.Cancelled;
        if (rs == RunState.Cancelled && r.inflight.has(i)) {
            // in flight at the cancel: Submitted until judged, Claimed until the lease ends
            if (status == SUBMITTED) return StepState.Submitted;
            return block.timestamp < _leaseEnd(sr) ? StepState.Claimed : StepState.Cancelled;
        }
        if (d.header.compensationMask.has(i)) {
            if (!r.compOpen.has(i)) return StepState.Blocked;
            if (rs == RunState.Cancelled) return StepState.Cancelled;
        } else {
            if (r.skipped.has(i)) return StepState.Skipped;
            if (rs >= RunState.Completed) return StepState.Cancelled;
        }
        if (status == CLAIMED || status == DISPATCHED) {
            if (block.timestamp < _leaseEnd(sr)) return status == CLAIMED ? StepState.Claimed : StepState.Dispatched;
            return uint256(sr.attempt) + 1 >= cfg.maxAttempts ? StepState.Failed : StepState.Ready;
        }
        if (status == SUBMITTED) return StepState.Submitted;
        if (status == BACKOFF) return block.timestamp >= sr.until ? StepState.Ready : StepState.Backoff;
        uint64 deps = cfg.deps;
        if (deps == 0) return StepState.Ready; // roots and opened compensation steps
        return (deps & r.done).count() >= WorkflowDefinitions.need(cfg.join, deps) ? StepState.Ready : StepState.Blocked;
    }

    /// @dev When the lease of a Claimed or Dispatched step ends: `until`, or the later end a
    /// heartbeat set. `beatEnd` (slot 1) is read only once `until` has passed.
    function _leaseEnd(StepRun storage sr) internal view returns (uint256 end) {
        end = sr.until;
        if (block.timestamp >= end) {
            uint256 beat = sr.beatEnd;
            if (beat > end) end = beat;
        }
    }

    /// @dev A time for a uint32 field: saturates at 2106-02-07, which any lease, deadline or
    /// backoff that long means anyway ("never"), so no configured duration can wrap.
    function _time(uint256 t) internal pure returns (uint32) {
        return t > type(uint32).max ? type(uint32).max : uint32(t);
    }

    function _forwardUnfinished(Run storage r, WorkflowDefinitions.Header memory h) internal view returns (uint64) {
        uint64 all = h.stepCount == 64 ? type(uint64).max : (uint64(1) << h.stepCount) - 1;
        return all & ~h.compensationMask & ~(r.done | r.skipped);
    }

    // ---------------------------------------------------------------- internal: transitions
    /// @dev Submitted (or Claimed with quorum 0) -> Done; pays, advances the run, then frees
    /// the executor's stake. The ERC-8004 records are published later (`publishOutcomes`).
    function _done(
        uint256 runId,
        uint8 step,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr
    ) internal {
        _markDone(runId, step, r, d, cfg, sr, sr.operator, 0);
        _releaseExecutor(d, cfg, sr, false);
    }

    /// @dev The effects of Done: pays `payee`, keeps the verdict's mean approval `verdict`
    /// (0: none) for `publishValidation`, advances the run. No outside calls.
    function _markDone(
        uint256 runId,
        uint8 step,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr,
        address payee,
        uint8 verdict
    ) internal {
        uint64 done = r.done;
        sr.status = DONE;
        sr.until = verdict;
        sr.doneSeq = uint8(done.count()); // < 64
        done |= Bitmask64.bit(step);
        r.done = done;
        uint256 reward = cfg.reward;
        uint256 agentId = sr.agentId;
        if (reward != 0) {
            r.escrow -= uint88(reward);
            _owed[payee] += reward;
            Totals memory t = _totals;
            _totals = Totals({owed: t.owed + uint128(reward), escrowed: t.escrowed - uint128(reward)});
        }
        emit StepDone(runId, step, agentId, payee, reward);
        if (r.state == RunState.Cancelled) {
            r.inflight &= ~Bitmask64.bit(step); // finished after the cancel: paid, nothing opens
        } else if (d.header.compensationMask.has(step)) {
            _compensationFinished(runId, r, d, step, false);
        } else {
            _advance(runId, step, r, d, cfg, done, sr.branches);
        }
    }

    /// @dev A remote verdict for the current attempt: Done (reward to the run's creator: the
    /// remote executor was paid on its chain), or a failed attempt (Ready again, or Failed).
    function _remoteOutcome(
        uint256 runId,
        uint8 step,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr,
        bool success
    ) internal {
        if (success) {
            _markDone(runId, step, r, d, cfg, sr, r.creator, 0);
            return;
        }
        uint8 attempt = sr.attempt + 1; // < 256: attempt < maxAttempts <= 255 while Dispatched
        sr.attempt = attempt;
        if (attempt >= cfg.maxAttempts) {
            _failStep(runId, step, r, d, sr);
        } else {
            sr.status = IDLE;
        }
    }

    /// @dev An attempt of a local step ended without Done (lapse, rejection, validation
    /// timeout): attempt+1, then Backoff (`backoff`), Ready, or Failed when attempts are
    /// exhausted or `fail`. After a cancel the step settles instead: its reward is refunded.
    function _attemptFailed(
        uint256 runId,
        uint8 step,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr,
        bool backoff,
        bool fail,
        bool executorsFault
    ) internal {
        uint8 attempt = sr.attempt + 1; // <= maxAttempts <= 255
        uint256 agentId = sr.agentId;
        sr.attempt = attempt;
        _clearAttempt(sr);
        if (executorsFault) ++_failures[runId][agentId];
        if (r.state == RunState.Cancelled) {
            r.inflight &= ~Bitmask64.bit(step);
            sr.status = SETTLED;
            emit InflightRefunded(runId, step, _refundEscrow(r, cfg.reward));
        } else if (fail || attempt >= cfg.maxAttempts) {
            _failStep(runId, step, r, d, sr);
        } else if (backoff) {
            uint32 retryAt = _time(block.timestamp + cfg.backoff(attempt));
            sr.status = BACKOFF;
            sr.until = retryAt;
            emit StepRejected(runId, step, agentId, attempt, retryAt);
        } else {
            sr.status = IDLE;
        }
    }

    /// @dev What an attempt leaves behind that the next one must not see: the recorded tallies,
    /// the decision's branches (slot 1, beatEnd kept) and a delegated claim's owner.
    function _clearAttempt(StepRun storage sr) internal {
        if (sr.approvals | sr.rejections != 0 || sr.branches != 0) {
            sr.approvals = 0;
            sr.rejections = 0;
            sr.approvalSum = 0;
            sr.rejectionSum = 0;
            sr.branches = 0;
        }
        if (sr.owner != address(0)) sr.owner = address(0);
    }

    /// @dev A step used its last attempt: Failed; the run fails (or, for a compensation
    /// step, the next compensation opens).
    function _failStep(uint256 runId, uint8 step, Run storage r, WorkflowDefinitions.Definition storage d, StepRun storage sr)
        internal
    {
        sr.status = FAILED;
        emit StepFailed(runId, step, sr.agentId, sr.attempt);
        if (d.header.compensationMask.has(step)) {
            _compensationFinished(runId, r, d, step, true);
        } else {
            _failRun(runId, step, r, d);
        }
    }

    /// @dev After a forward step is Done: decision skips, skip propagation, StepReady events
    /// for dependents whose inputs just became sufficient, completion. O(steps).
    function _advance(
        uint256 runId,
        uint8 step,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        uint64 done,
        uint64 branches
    ) internal {
        uint64 dependents = cfg.dependents;
        uint64 skipped = r.skipped;
        if (cfg.decision) {
            uint64 unselected = dependents & ~branches & ~skipped;
            if (unselected != 0) skipped = _propagateSkips(runId, r, d, unselected, skipped, done);
            dependents &= branches;
        }
        for (dependents &= ~skipped; dependents != 0; dependents &= dependents - 1) {
            uint8 j = dependents.lowest();
            WorkflowDefinitions.Step storage dep = d.steps[j];
            uint64 deps = dep.deps;
            // exactly equal: the count grows by one per Done, so this fires once per step
            if ((deps & done).count() == WorkflowDefinitions.need(dep.join, deps)) emit StepReady(runId, j);
        }
        WorkflowDefinitions.Header memory h = d.header;
        if ((done | skipped) & h.sinkMask == h.sinkMask) _completeRun(runId, r, h);
    }

    /// @dev Skips the decision's unselected direct dependents that have not started, then
    /// every later step whose remaining (not skipped) inputs cannot reach its join. Each step
    /// is examined at most once (ascending; dependents are always later): O(steps).
    function _propagateSkips(
        uint256 runId,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        uint64 unselected,
        uint64 skipped,
        uint64 done
    ) internal returns (uint64) {
        uint64 affected;
        for (; unselected != 0; unselected &= unselected - 1) {
            uint8 j = unselected.lowest();
            if (_steps[runId][j].status != IDLE) continue; // already started through other inputs
            skipped |= Bitmask64.bit(j);
            affected |= d.steps[j].dependents;
            emit StepSkipped(runId, j);
        }
        while (affected != 0) {
            uint8 j = affected.lowest();
            affected &= affected - 1;
            if ((skipped | done).has(j)) continue;
            WorkflowDefinitions.Step storage st = d.steps[j];
            uint64 deps = st.deps;
            if ((deps & ~skipped).count() < WorkflowDefinitions.need(st.join, deps)) {
                skipped |= Bitmask64.bit(j);
                affected |= st.dependents; // all > j: the ascending scan reaches them
                emit StepSkipped(runId, j);
            }
        }
        r.skipped = skipped;
        return skipped;
    }

    function _completeRun(uint256 runId, Run storage r, WorkflowDefinitions.Header memory h) internal {
        r.state = RunState.Completed;
        for (uint64 left = _forwardUnfinished(r, h); left != 0; left &= left - 1) {
            _cancelStep(runId, left.lowest());
        }
        uint256 refund = _refundEscrow(r, r.escrow);
        emit RunCompleted(runId, refund);
    }

    /// @dev An unfinished step of a run that just ended: Cancelled. A claim whose lease had
    /// already lapsed is marked ABANDONED, so `expireLease` still slashes it: the run ending
    /// after the lapse does not excuse the executor.
    function _cancelStep(uint256 runId, uint8 step) internal {
        StepRun storage sr = _steps[runId][step];
        if (sr.status == CLAIMED && block.timestamp >= _leaseEnd(sr)) sr.status = ABANDONED;
        emit StepCancelled(runId, step);
    }

    /// @dev Run Failed: unfinished forward steps Cancelled, compensation rewards kept in
    /// escrow, the rest refunded, the newest compensation opened. O(steps).
    function _failRun(uint256 runId, uint8 failed, Run storage r, WorkflowDefinitions.Definition storage d) internal {
        WorkflowDefinitions.Header memory h = d.header;
        r.state = RunState.Failed;
        for (uint64 left = _forwardUnfinished(r, h) & ~Bitmask64.bit(failed); left != 0; left &= left - 1) {
            _cancelStep(runId, left.lowest());
        }
        uint64 pending;
        uint256 reserved;
        for (uint64 done = r.done; done != 0; done &= done - 1) {
            uint8 j = done.lowest();
            uint8 c = d.steps[j].compensation;
            if (c != WorkflowDefinitions.NO_STEP) {
                pending |= Bitmask64.bit(j);
                reserved += d.steps[c].reward;
            }
        }
        r.compPending = pending;
        uint256 refund = _refundEscrow(r, r.escrow - reserved);
        emit RunFailed(runId, failed, refund);
        _openNextCompensation(runId, r, d, false);
    }

    /// @dev A compensation step finished; a failed one returns its reward to the creator.
    function _compensationFinished(
        uint256 runId,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        uint8 step,
        bool failed
    ) internal {
        r.compOpen = 0;
        if (failed) _refundEscrow(r, d.steps[step].reward);
        _openNextCompensation(runId, r, d, true);
    }

    /// @dev Opens the compensation of the most recently Done pending step. O(steps).
    function _openNextCompensation(uint256 runId, Run storage r, WorkflowDefinitions.Definition storage d, bool finishing)
        internal
    {
        uint64 pending = r.compPending;
        if (pending == 0) {
            if (finishing) emit RunCompensated(runId);
            return;
        }
        uint8 newest;
        uint256 newestSeq;
        for (uint64 left = pending; left != 0; left &= left - 1) {
            uint8 j = left.lowest();
            uint256 seq = uint256(_steps[runId][j].doneSeq) + 1; // +1: seq 0 beats "none"
            if (seq > newestSeq) (newest, newestSeq) = (j, seq);
        }
        uint8 c = d.steps[newest].compensation;
        r.compPending = pending & ~Bitmask64.bit(newest);
        r.compOpen = Bitmask64.bit(c);
        emit CompensationOpened(runId, c, newest);
        emit StepReady(runId, c);
    }

    /// @dev Moves `amount` of the run's escrow to the creator's credit.
    function _refundEscrow(Run storage r, uint256 amount) internal returns (uint256) {
        if (amount == 0) return 0;
        r.escrow -= uint88(amount);
        _owed[r.creator] += amount;
        Totals memory t = _totals;
        _totals = Totals({owed: t.owed + uint128(amount), escrowed: t.escrowed - uint128(amount)});
        return amount;
    }

    // ---------------------------------------------------------------- internal: trust
    /// @dev A validator owned by `owner_`, voting through `voter` (msg.sender, or the signer of
    /// a signed vote), is independent of the attempt it judges when neither its owner nor its
    /// voter is the executor agent's owner at the claim, the operator that claimed, or the
    /// run's creator. Fixed at the claim on purpose: what the executor does to its identity
    /// later (a transfer, new ERC-721 approvals) can neither qualify its own judges nor
    /// disqualify honest ones.
    function _independent(address owner_, address voter, StepRun storage sr, address creator)
        internal
        view
        returns (bool)
    {
        address execOperator = sr.operator;
        address execOwner = sr.owner;
        if (execOwner == address(0)) execOwner = execOperator; // the operator owns the agent
        return owner_ != execOwner && owner_ != execOperator && owner_ != creator && voter != execOwner
            && voter != execOperator && voter != creator;
    }

    function _voteKey(uint256 runId, uint8 step, uint8 attempt, address owner_) internal pure returns (bytes32) {
        return keccak256(abi.encode(runId, step, attempt, owner_));
    }

    function _judgeRole(WorkflowDefinitions.Definition storage d) internal view returns (bytes32 role) {
        role = d.validatorRole;
        if (role == bytes32(0)) role = _validatorRole;
    }

    // slither-disable-start unused-return
    /// @dev Frees the executor's claim stake; `slash` takes it (a lapsed lease). AgentRoles is
    /// fixed at deployment and `releaseStake` never reverts, so settling cannot be blocked.
    function _releaseExecutor(
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr,
        bool slash
    ) internal {
        uint256 stake = d.extra.slashAmount;
        if (stake != 0) _roles.releaseStake(sr.agentId, cfg.role, stake, slash ? stake : 0, slash ? LAPSED : bytes32(0));
    }
    // slither-disable-end unused-return

    /// @param admin Owner (sets the remote-step router).
    constructor(
        IIdentityAuthorizer identityRegistry,
        IAgentRoles agentRoles,
        IReputationRegistry reputationRegistry,
        IValidationRegistry validationRegistry,
        bytes32 validatorRole,
        address admin
    ) Ownable(admin) {
        _identity = identityRegistry;
        _roles = agentRoles;
        _reputation = reputationRegistry;
        _validation = validationRegistry;
        _validatorRole = validatorRole;
    }
}
