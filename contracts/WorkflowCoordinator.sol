// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAgentRoles} from "../interfaces/IAgentRoles.sol";
import {IRemoteStepRouter} from "../interfaces/IRemoteStepRouter.sol";
import {IIdentityCalls, IReputationCalls, IValidationCalls} from "../interfaces/IERC8004Calls.sol";
import {IWorkflowCoordinator} from "../interfaces/IWorkflowCoordinator.sol";
import {Bitmask64} from "./libraries/Bitmask64.sol";
import {WorkflowDefinitions} from "./libraries/WorkflowDefinitions.sol";

/// @title WorkflowCoordinator
/// @notice Runs DAG workflows of role-gated steps (see IWorkflowCoordinator and DESIGN.md,
/// "Step state machine").
/// @dev Conventions:
/// - `attempt` counts the failed attempts of a step so far (0 on the first claim); a step
///   fails when a lapse or rejection makes it reach `maxAttempts`.
/// - Leases: valid while block.timestamp < leaseEnd; a heartbeat sets leaseEnd to
///   now + leaseSeconds, never beyond claim time + LEASE_CAP_FACTOR * leaseSeconds.
/// - Payee: the operator that claimed (msg.sender of `claim`, authorised by the agent's owner
///   through AgentRoles.isEligible). Rewards and refunds are credits paid by `withdraw`.
/// - Compensation steps (steps named in another step's `compensation`) never run forward:
///   they stay Blocked unless the run fails. Then, newest Done step first, one compensation
///   step at a time is opened (Ready); the next opens when it is Done or Failed. Their rewards
///   stay escrowed for this; the rest of the budget is refunded when the run fails.
/// - The run Completes when every sink step (forward step without dependents) is Done or
///   Skipped; steps still unfinished then (e.g. surplus inputs of a k-of-n join) are Cancelled.
/// - Remote steps: `leaseEnd` holds the dispatch deadline, `attempt` the attempt the router
///   carries; the home reward is credited to the run's creator when the result arrives.
/// - Invariant: address(this).balance == totalOwed() + totalEscrowed().
contract WorkflowCoordinator is IWorkflowCoordinator, Ownable, ReentrancyGuardTransient {
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
    /// @notice Feedback value for a Done step and for a failed attempt (0 decimals).
    int128 private constant FEEDBACK_DONE = 100;
    int128 private constant FEEDBACK_FAILED = 0;

    uint8 private constant IDLE = 0; // Blocked/Ready/Skipped/Cancelled are derived from masks
    uint8 private constant CLAIMED = 1;
    uint8 private constant SUBMITTED = 2;
    uint8 private constant BACKOFF = 3;
    uint8 private constant DONE = 4;
    uint8 private constant FAILED = 5;
    uint8 private constant DISPATCHED = 6;

    // ---------------------------------------------------------------- storage
    /// @dev Three slots: definition | creator, state, escrow | step masks.
    struct Run {
        bytes32 definitionId;
        address creator;
        RunState state;
        uint88 escrow; // < 3e26 wei, far above the ether supply (checked in startRun)
        uint64 done;
        uint64 skipped;
        uint64 compPending; // Done steps whose compensation has not opened yet
        uint64 compOpen; // the open, unfinished compensation step (at most one bit)
    }

    /// @dev Per (run, step): lease holder | progress | result hash | result URI.
    struct StepRun {
        address operator;
        uint96 agentId;
        uint40 leaseEnd;
        uint40 leaseCap;
        uint40 retryAt;
        uint8 status;
        uint8 attempt;
        uint8 approvals;
        uint8 rejections;
        uint8 doneSeq;
        uint16 approvalSum;
        uint16 rejectionSum;
        uint64 branches;
        bytes32 resultHash;
        string resultURI;
    }

    /// @dev Both money totals in one slot (each < 2**128: bounded by the ether supply).
    struct Totals {
        uint128 owed;
        uint128 escrowed;
    }

    IIdentityCalls private immutable _identity;
    IAgentRoles private immutable _roles;
    IReputationCalls private immutable _reputation;
    IValidationCalls private immutable _validation;
    bytes32 private immutable _validatorRole;
    uint256 private immutable _agentId;

    mapping(bytes32 definitionId => WorkflowDefinitions.Definition) private _defs;
    mapping(uint256 runId => Run) private _runs;
    mapping(uint256 runId => mapping(uint256 step => StepRun)) private _steps;
    mapping(bytes32 voteKey => bool) private _voted;
    mapping(address account => uint256) private _owed;
    Totals private _totals;
    uint256 private _runCount;
    address private _router;

    /// @notice Wires the registries and registers the coordinator's own ERC-8004 identity.
    /// @param validatorRole Role validators hold unless a definition names its own.
    /// @param admin Owner (reserved for the cross-chain wiring of a later issue).
    constructor(
        IIdentityCalls identityRegistry,
        IAgentRoles agentRoles,
        IReputationCalls reputationRegistry,
        IValidationCalls validationRegistry,
        bytes32 validatorRole,
        address admin
    ) Ownable(admin) {
        _identity = identityRegistry;
        _roles = agentRoles;
        _reputation = reputationRegistry;
        _validation = validationRegistry;
        _validatorRole = validatorRole;
        _agentId = identityRegistry.register();
    }

    // ---------------------------------------------------------------- definitions
    /// @inheritdoc IWorkflowCoordinator
    function registerDefinition(WorkflowDefinition calldata definition) external returns (bytes32 definitionId) {
        definitionId = keccak256(abi.encode(definition));
        WorkflowDefinitions.Definition storage d = _defs[definitionId];
        if (d.header.stepCount != 0) return definitionId;
        d.store(definition, _router);
        emit DefinitionRegistered(definitionId, msg.sender, d.header.stepCount);
    }

    // ---------------------------------------------------------------- runs
    /// @inheritdoc IWorkflowCoordinator
    function startRun(bytes32 definitionId, bytes32 inputHash, string calldata inputURI)
        external
        payable
        returns (uint256 runId)
    {
        WorkflowDefinitions.Definition storage d = _defs[definitionId];
        WorkflowDefinitions.Header memory h = d.header;
        if (h.stepCount == 0) revert CoordinatorUnknownDefinition(definitionId);
        if (msg.value < h.totalReward) revert CoordinatorInsufficientBudget(msg.value, h.totalReward);
        if (msg.value > type(uint88).max) revert CoordinatorBudgetTooLarge(msg.value);
        runId = ++_runCount;
        Run storage r = _runs[runId];
        r.definitionId = definitionId;
        r.creator = msg.sender;
        r.state = RunState.Running;
        r.escrow = uint88(msg.value);
        _totals.escrowed += uint128(msg.value);
        emit RunStarted(runId, definitionId, msg.sender, inputHash, inputURI, msg.value);
        for (uint64 roots = d.extra.rootMask; roots != 0; roots &= roots - 1) {
            emit StepReady(runId, roots.lowest());
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function pauseRun(uint256 runId) external {
        Run storage r = _creatorRun(runId);
        if (r.state != RunState.Running) revert CoordinatorRunNotRunning(runId, r.state);
        r.state = RunState.Paused;
        emit RunPaused(runId);
    }

    /// @inheritdoc IWorkflowCoordinator
    function resumeRun(uint256 runId) external {
        Run storage r = _creatorRun(runId);
        if (r.state != RunState.Paused) revert CoordinatorRunNotPaused(runId, r.state);
        r.state = RunState.Running;
        emit RunResumed(runId);
    }

    /// @inheritdoc IWorkflowCoordinator
    function cancelRun(uint256 runId) external {
        Run storage r = _creatorRun(runId);
        RunState s = r.state;
        uint64 open = r.compOpen;
        bool compensating = s == RunState.Failed && open != 0;
        if (s != RunState.Running && s != RunState.Paused && !compensating) {
            revert CoordinatorRunNotCancellable(runId, s);
        }
        WorkflowDefinitions.Header memory h = _defs[r.definitionId].header;
        r.state = RunState.Cancelled;
        uint64 unfinished = compensating ? open : _forwardUnfinished(r, h);
        for (; unfinished != 0; unfinished &= unfinished - 1) {
            emit StepCancelled(runId, unfinished.lowest());
        }
        uint256 refund = _refundEscrow(r, r.escrow);
        emit RunCancelled(runId, refund);
    }

    // ---------------------------------------------------------------- steps
    /// @inheritdoc IWorkflowCoordinator
    function claim(uint256 runId, uint8 step, uint256 agentId) external {
        // CHECKS
        (StepRun storage sr, bytes32 role, uint256 leaseSeconds, uint256 slashAmount) =
            _checkClaim(runId, step, agentId);
        // EFFECTS
        uint8 status = sr.status;
        uint256 lapsedAgent = sr.agentId;
        _takeLease(runId, step, agentId, sr, leaseSeconds);
        // INTERACTIONS
        if (status == CLAIMED) _penalise(runId, step, lapsedAgent, role, slashAmount);
    }

    /// @inheritdoc IWorkflowCoordinator
    function heartbeatLease(uint256 runId, uint8 step) external {
        (, , WorkflowDefinitions.Step storage cfg, StepRun storage sr) = _claimedByCaller(runId, step);
        uint256 cap = sr.leaseCap;
        uint256 end = block.timestamp + cfg.leaseSeconds;
        if (end > cap) end = cap;
        if (end <= sr.leaseEnd) revert CoordinatorLeaseCapReached(runId, step, uint64(cap));
        sr.leaseEnd = uint40(end);
        emit LeaseExtended(runId, step, sr.agentId, uint64(end));
    }

    /// @inheritdoc IWorkflowCoordinator
    function submit(uint256 runId, uint8 step, bytes32 resultHash, string calldata resultURI, uint64 branches)
        external
    {
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg, StepRun storage sr)
        = _claimedByCaller(runId, step);
        uint64 allowed = cfg.decision ? cfg.dependents : 0;
        if (branches & ~allowed != 0) revert CoordinatorInvalidBranches(runId, step, branches, allowed);
        sr.status = SUBMITTED;
        sr.branches = branches;
        sr.resultHash = resultHash;
        sr.resultURI = resultURI;
        emit StepSubmitted(runId, step, sr.agentId, resultHash, resultURI, branches);
        if (cfg.quorum == 0) _done(runId, step, r, d, cfg, sr, 0);
    }

    /// @inheritdoc IWorkflowCoordinator
    function respond(uint256 runId, uint8 step, uint256 agentId, uint8 response) external {
        // CHECKS
        if (response > 100) revert CoordinatorInvalidResponse(response);
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        if (s != StepState.Submitted) revert CoordinatorStepNotSubmitted(runId, step, s);
        if (agentId == sr.agentId) revert CoordinatorExecutorCannotValidate(runId, step, agentId);
        bytes32 role = d.validatorRole;
        if (role == bytes32(0)) role = _validatorRole;
        if (!_roles.isEligible(agentId, msg.sender, role)) revert CoordinatorNotEligible(agentId, msg.sender, role);
        bytes32 key = keccak256(abi.encode(runId, step, sr.attempt, agentId));
        if (_voted[key]) revert CoordinatorAlreadyVoted(runId, step, agentId);
        // EFFECTS
        _voted[key] = true;
        uint8 approvals = sr.approvals;
        uint8 rejections = sr.rejections;
        // unchecked-free: tallies stop at quorum (<= 255) because the verdict ends the attempt
        if (response >= APPROVAL_THRESHOLD) {
            sr.approvals = ++approvals;
            sr.approvalSum += response;
        } else {
            sr.rejections = ++rejections;
            sr.rejectionSum += response;
        }
        emit StepValidated(runId, step, agentId, response, approvals, rejections);
        uint8 quorum = cfg.quorum;
        if (approvals == quorum) {
            _done(runId, step, r, d, cfg, sr, uint8(sr.approvalSum / approvals));
        } else if (rejections == quorum) {
            _reject(runId, step, r, d, cfg, sr, uint8(sr.rejectionSum / rejections));
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function expireLease(uint256 runId, uint8 step) external {
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        if (sr.status != CLAIMED || (s != StepState.Ready && s != StepState.Failed)) {
            revert CoordinatorLeaseNotExpired(runId, step, s);
        }
        uint8 attempt = sr.attempt + 1; // < 256: attempt < maxAttempts <= 255 while Claimed
        uint256 agentId = sr.agentId;
        sr.attempt = attempt;
        emit LeaseExpired(runId, step, agentId, attempt);
        if (s == StepState.Failed) {
            _failStep(runId, step, r, d, sr);
        } else {
            sr.status = IDLE;
        }
        _penalise(runId, step, agentId, cfg.role, d.extra.slashAmount);
    }

    // ---------------------------------------------------------------- remote steps
    /// @inheritdoc IWorkflowCoordinator
    function setRouter(address router_) external onlyOwner {
        _router = router_;
        emit RouterSet(router_);
    }

    /// @inheritdoc IWorkflowCoordinator
    function dispatch(uint256 runId, uint8 step) external {
        // CHECKS
        (Run storage r, , WorkflowDefinitions.Step storage cfg, StepRun storage sr, StepState s) =
            _locate(runId, step);
        if (r.state != RunState.Running) revert CoordinatorRunNotRunning(runId, r.state);
        if (!cfg.remote) revert CoordinatorStepNotRemote(runId, step);
        if (s != StepState.Ready) revert CoordinatorStepNotReady(runId, step, s);
        address router_ = _router;
        if (router_ == address(0)) revert CoordinatorNoRouter();
        // EFFECTS (a remote step is never in Backoff: a failed attempt makes it Ready at once)
        uint8 attempt = sr.attempt;
        if (sr.status == DISPATCHED) {
            ++attempt; // < maxAttempts <= 255, else the derived state would be Failed
            emit RemoteStepExpired(runId, step, attempt);
        }
        uint64 deadline = uint64(block.timestamp + REMOTE_DEADLINE_FACTOR * cfg.leaseSeconds);
        uint64 chainId = cfg.chainId;
        sr.leaseEnd = uint40(deadline);
        sr.status = DISPATCHED;
        sr.attempt = attempt;
        emit StepDispatched(runId, step, chainId, attempt, deadline);
        // INTERACTIONS
        IRemoteStepRouter(router_).sendTask(runId, step, chainId, attempt, deadline);
    }

    /// @inheritdoc IWorkflowCoordinator
    function expireRemote(uint256 runId, uint8 step) external {
        (Run storage r, WorkflowDefinitions.Definition storage d, , StepRun storage sr, StepState s) =
            _locate(runId, step);
        if (sr.status != DISPATCHED || (s != StepState.Ready && s != StepState.Failed)) {
            revert CoordinatorRemoteNotExpired(runId, step, s);
        }
        uint8 attempt = sr.attempt + 1; // < 256: attempt < maxAttempts <= 255 while Dispatched
        sr.attempt = attempt;
        emit RemoteStepExpired(runId, step, attempt);
        if (s == StepState.Failed) {
            _failStep(runId, step, r, d, sr);
        } else {
            sr.status = IDLE;
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function completeRemote(
        uint256 runId,
        uint8 step,
        uint8 attempt,
        uint64 chainId,
        bytes32 resultHash,
        string calldata resultURI,
        bool success
    ) external {
        if (msg.sender != _router) revert CoordinatorNotRouter(msg.sender);
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        if (s != StepState.Dispatched || sr.attempt != attempt || cfg.chainId != chainId) {
            emit RemoteResultIgnored(runId, step, attempt, s);
            return;
        }
        if (success) {
            sr.resultHash = resultHash;
            sr.resultURI = resultURI;
        }
        emit RemoteResultReceived(runId, step, attempt, resultHash, resultURI, success);
        _remoteOutcome(runId, step, r, d, cfg, sr, success);
    }

    /// @inheritdoc IWorkflowCoordinator
    function router() external view returns (address) {
        return _router;
    }

    // ---------------------------------------------------------------- money
    /// @inheritdoc IWorkflowCoordinator
    function withdraw() external nonReentrant {
        uint256 amount = _owed[msg.sender];
        if (amount == 0) revert CoordinatorNothingToWithdraw(msg.sender);
        _owed[msg.sender] = 0;
        _totals.owed -= uint128(amount);
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert CoordinatorTransferFailed(msg.sender, amount);
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc IWorkflowCoordinator
    function runState(uint256 runId) external view returns (RunState) {
        return _runs[runId].state;
    }

    /// @inheritdoc IWorkflowCoordinator
    function runInfo(uint256 runId) external view returns (RunInfo memory info) {
        Run storage r = _run(runId);
        info = RunInfo({
            definitionId: r.definitionId,
            creator: r.creator,
            state: r.state,
            escrow: r.escrow,
            doneMask: r.done,
            skippedMask: r.skipped,
            compensationPending: r.compPending,
            compensationOpen: r.compOpen
        });
    }

    /// @inheritdoc IWorkflowCoordinator
    function stepState(uint256 runId, uint8 step) external view returns (StepState s) {
        (, , , , s) = _locate(runId, step);
    }

    /// @inheritdoc IWorkflowCoordinator
    function readySteps(uint256 runId) external view returns (uint64 mask) {
        Run storage r = _run(runId);
        WorkflowDefinitions.Definition storage d = _defs[r.definitionId];
        uint8 n = d.header.stepCount;
        for (uint8 i; i < n; ++i) {
            if (_stepState(r, d, d.steps[i], _steps[runId][i], i) == StepState.Ready) mask |= Bitmask64.bit(i);
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function lease(uint256 runId, uint8 step)
        external
        view
        returns (uint256 agentId, address operator, uint64 leaseEnd, uint8 attempt)
    {
        Run storage r = _run(runId);
        WorkflowDefinitions.Definition storage d = _defs[r.definitionId];
        WorkflowDefinitions.Step storage cfg = _stepCfg(runId, d, step);
        StepRun storage sr = _steps[runId][step];
        attempt = sr.attempt;
        if ((sr.status == CLAIMED || sr.status == DISPATCHED) && block.timestamp >= sr.leaseEnd) {
            StepState s = _stepState(r, d, cfg, sr, step);
            if (s == StepState.Ready || s == StepState.Failed) ++attempt; // lapsed, derived
        }
        return (sr.agentId, sr.operator, sr.leaseEnd, attempt);
    }

    /// @inheritdoc IWorkflowCoordinator
    function result(uint256 runId, uint8 step) external view returns (bytes32, string memory) {
        StepRun storage sr = _steps[runId][step];
        return (sr.resultHash, sr.resultURI);
    }

    /// @inheritdoc IWorkflowCoordinator
    function tallies(uint256 runId, uint8 step) external view returns (uint8 approvals, uint8 rejections) {
        StepRun storage sr = _steps[runId][step];
        return (sr.approvals, sr.rejections);
    }

    /// @inheritdoc IWorkflowCoordinator
    function hasVoted(uint256 runId, uint8 step, uint256 agentId) external view returns (bool) {
        return _voted[keccak256(abi.encode(runId, step, _steps[runId][step].attempt, agentId))];
    }

    /// @inheritdoc IWorkflowCoordinator
    function definitionInfo(bytes32 definitionId)
        external
        view
        returns (
            uint8 stepCount,
            uint64 compensationMask,
            uint64 sinkMask,
            uint256 totalReward,
            bytes32 validatorRole,
            uint256 slashAmount
        )
    {
        WorkflowDefinitions.Definition storage d = _defs[definitionId];
        WorkflowDefinitions.Header memory h = d.header;
        if (h.stepCount == 0) revert CoordinatorUnknownDefinition(definitionId);
        return (h.stepCount, h.compensationMask, h.sinkMask, h.totalReward, d.validatorRole, d.extra.slashAmount);
    }

    /// @inheritdoc IWorkflowCoordinator
    function definitionStep(bytes32 definitionId, uint8 step) external view returns (StepSpec memory) {
        WorkflowDefinitions.Definition storage d = _defs[definitionId];
        if (d.header.stepCount == 0) revert CoordinatorUnknownDefinition(definitionId);
        if (step >= d.header.stepCount) revert CoordinatorInvalidStep(0, step);
        return d.steps[step].spec();
    }

    /// @inheritdoc IWorkflowCoordinator
    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }

    /// @inheritdoc IWorkflowCoordinator
    function totalOwed() external view returns (uint256) {
        return _totals.owed;
    }

    /// @inheritdoc IWorkflowCoordinator
    function totalEscrowed() external view returns (uint256) {
        return _totals.escrowed;
    }

    /// @inheritdoc IWorkflowCoordinator
    function coordinatorAgentId() external view returns (uint256) {
        return _agentId;
    }

    /// @inheritdoc IWorkflowCoordinator
    function registries() external view returns (address, address, address, address, bytes32) {
        return (address(_identity), address(_roles), address(_reputation), address(_validation), _validatorRole);
    }

    // ---------------------------------------------------------------- internal: lookups
    function _locate(uint256 runId, uint8 step)
        private
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
        d = _defs[r.definitionId];
        cfg = _stepCfg(runId, d, step);
        sr = _steps[runId][step];
        s = _stepState(r, d, cfg, sr, step);
    }

    function _run(uint256 runId) private view returns (Run storage r) {
        r = _runs[runId];
        if (r.state == RunState.None) revert CoordinatorUnknownRun(runId);
    }

    function _creatorRun(uint256 runId) private view returns (Run storage r) {
        r = _run(runId);
        if (r.creator != msg.sender) revert CoordinatorNotCreator(runId, msg.sender);
    }

    function _stepCfg(uint256 runId, WorkflowDefinitions.Definition storage d, uint8 step)
        private
        view
        returns (WorkflowDefinitions.Step storage)
    {
        if (step >= d.header.stepCount) revert CoordinatorInvalidStep(runId, step);
        return d.steps[step];
    }

    /// @dev Checks of `claim`: run accepts claims for this step, step Ready, caller eligible.
    function _checkClaim(uint256 runId, uint8 step, uint256 agentId)
        private
        view
        returns (StepRun storage sr, bytes32 role, uint256 leaseSeconds, uint256 slashAmount)
    {
        Run storage r = _run(runId);
        WorkflowDefinitions.Definition storage d = _defs[r.definitionId];
        WorkflowDefinitions.Step storage cfg = _stepCfg(runId, d, step);
        RunState rs = r.state;
        if (d.header.compensationMask.has(step) ? rs != RunState.Failed : rs != RunState.Running) {
            revert CoordinatorRunNotRunning(runId, rs);
        }
        sr = _steps[runId][step];
        StepState s = _stepState(r, d, cfg, sr, step);
        if (s != StepState.Ready) revert CoordinatorStepNotReady(runId, step, s);
        if (cfg.remote) revert CoordinatorStepIsRemote(runId, step, cfg.chainId);
        if (agentId > type(uint96).max) revert CoordinatorAgentIdTooLarge(agentId);
        role = cfg.role;
        if (!_roles.isEligible(agentId, msg.sender, role)) revert CoordinatorNotEligible(agentId, msg.sender, role);
        leaseSeconds = cfg.leaseSeconds;
        slashAmount = sr.status == CLAIMED ? d.extra.slashAmount : 0;
    }

    /// @dev Effects of `claim`: materialise a lapse or an elapsed backoff, then the new lease.
    function _takeLease(uint256 runId, uint8 step, uint256 agentId, StepRun storage sr, uint256 leaseSeconds)
        private
    {
        uint8 status = sr.status;
        uint8 attempt = sr.attempt;
        if (status == CLAIMED) {
            ++attempt; // < maxAttempts <= 255, else the derived state would be Failed
            emit LeaseExpired(runId, step, sr.agentId, attempt);
        } else if (status == BACKOFF) {
            emit StepBackoffElapsed(runId, step, attempt);
        }
        uint40 leaseEnd = uint40(block.timestamp + leaseSeconds);
        sr.operator = msg.sender;
        sr.agentId = uint96(agentId);
        sr.leaseEnd = leaseEnd;
        sr.leaseCap = uint40(block.timestamp + LEASE_CAP_FACTOR * leaseSeconds);
        sr.status = CLAIMED;
        sr.attempt = attempt;
        sr.approvals = 0;
        sr.rejections = 0;
        sr.approvalSum = 0;
        sr.rejectionSum = 0;
        emit StepClaimed(runId, step, agentId, msg.sender, leaseEnd, attempt);
    }

    /// @dev Checks for submit/heartbeat: the step is Claimed (live lease) by the caller.
    function _claimedByCaller(uint256 runId, uint8 step)
        private
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
    ) private view returns (StepState) {
        uint8 status = sr.status;
        if (status == DONE) return StepState.Done;
        if (status == FAILED) return StepState.Failed;
        RunState rs = r.state;
        if (d.header.compensationMask.has(i)) {
            if (!r.compOpen.has(i)) return StepState.Blocked;
            if (rs == RunState.Cancelled) return StepState.Cancelled;
        } else {
            if (r.skipped.has(i)) return StepState.Skipped;
            if (rs >= RunState.Completed) return StepState.Cancelled;
        }
        if (status == CLAIMED || status == DISPATCHED) {
            if (block.timestamp < sr.leaseEnd) return status == CLAIMED ? StepState.Claimed : StepState.Dispatched;
            return uint256(sr.attempt) + 1 >= cfg.maxAttempts ? StepState.Failed : StepState.Ready;
        }
        if (status == SUBMITTED) return StepState.Submitted;
        if (status == BACKOFF) return block.timestamp >= sr.retryAt ? StepState.Ready : StepState.Backoff;
        uint64 deps = cfg.deps;
        if (deps == 0) return StepState.Ready; // roots and opened compensation steps
        return (deps & r.done).count() >= WorkflowDefinitions.need(cfg.join, deps) ? StepState.Ready : StepState.Blocked;
    }

    function _forwardUnfinished(Run storage r, WorkflowDefinitions.Header memory h) private view returns (uint64) {
        uint64 all = h.stepCount == 64 ? type(uint64).max : (uint64(1) << h.stepCount) - 1;
        return all & ~h.compensationMask & ~(r.done | r.skipped);
    }

    // ---------------------------------------------------------------- internal: transitions
    /// @dev Submitted (or Claimed with quorum 0) -> Done; pays, advances the run, then
    /// records reputation (and the validation verdict when a quorum decided).
    function _done(
        uint256 runId,
        uint8 step,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr,
        uint8 aggregated
    ) private {
        uint256 agentId = sr.agentId;
        _markDone(runId, step, r, d, cfg, sr, sr.operator);
        // INTERACTIONS
        bytes32 resultHash = sr.resultHash;
        _feedback(agentId, FEEDBACK_DONE, resultHash);
        if (cfg.quorum != 0) _recordValidation(runId, step, sr.attempt, sr.resultURI, aggregated, resultHash);
    }

    /// @dev The effects of Done: pays `payee`, advances the run. No outside calls.
    function _markDone(
        uint256 runId,
        uint8 step,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr,
        address payee
    ) private {
        uint64 done = r.done;
        sr.status = DONE;
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
        if (d.header.compensationMask.has(step)) {
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
    ) private {
        if (success) {
            _markDone(runId, step, r, d, cfg, sr, r.creator);
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

    /// @dev Quorum rejected: Backoff (attempt+1), or Failed when attempts are exhausted.
    function _reject(
        uint256 runId,
        uint8 step,
        Run storage r,
        WorkflowDefinitions.Definition storage d,
        WorkflowDefinitions.Step storage cfg,
        StepRun storage sr,
        uint8 aggregated
    ) private {
        uint8 previous = sr.attempt;
        uint8 attempt = previous + 1; // <= maxAttempts <= 255
        uint256 agentId = sr.agentId;
        sr.attempt = attempt;
        if (attempt >= cfg.maxAttempts) {
            _failStep(runId, step, r, d, sr);
        } else {
            uint40 retryAt = uint40(block.timestamp + cfg.backoff(attempt));
            sr.status = BACKOFF;
            sr.retryAt = retryAt;
            emit StepRejected(runId, step, agentId, attempt, retryAt);
        }
        bytes32 resultHash = sr.resultHash;
        _feedback(agentId, FEEDBACK_FAILED, resultHash);
        _recordValidation(runId, step, previous, sr.resultURI, aggregated, resultHash);
    }

    /// @dev A step used its last attempt: Failed; the run fails (or, for a compensation
    /// step, the next compensation opens).
    function _failStep(uint256 runId, uint8 step, Run storage r, WorkflowDefinitions.Definition storage d, StepRun storage sr)
        private
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
    ) private {
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
    ) private returns (uint64) {
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

    function _completeRun(uint256 runId, Run storage r, WorkflowDefinitions.Header memory h) private {
        r.state = RunState.Completed;
        for (uint64 left = _forwardUnfinished(r, h); left != 0; left &= left - 1) {
            emit StepCancelled(runId, left.lowest());
        }
        uint256 refund = _refundEscrow(r, r.escrow);
        emit RunCompleted(runId, refund);
    }

    /// @dev Run Failed: unfinished forward steps Cancelled, compensation rewards kept in
    /// escrow, the rest refunded, the newest compensation opened. O(steps).
    function _failRun(uint256 runId, uint8 failed, Run storage r, WorkflowDefinitions.Definition storage d) private {
        WorkflowDefinitions.Header memory h = d.header;
        r.state = RunState.Failed;
        for (uint64 left = _forwardUnfinished(r, h) & ~Bitmask64.bit(failed); left != 0; left &= left - 1) {
            emit StepCancelled(runId, left.lowest());
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
    ) private {
        r.compOpen = 0;
        if (failed) _refundEscrow(r, d.steps[step].reward);
        _openNextCompensation(runId, r, d, true);
    }

    /// @dev Opens the compensation of the most recently Done pending step. O(steps).
    function _openNextCompensation(uint256 runId, Run storage r, WorkflowDefinitions.Definition storage d, bool finishing)
        private
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
    function _refundEscrow(Run storage r, uint256 amount) private returns (uint256) {
        if (amount == 0) return 0;
        r.escrow -= uint88(amount);
        _owed[r.creator] += amount;
        Totals memory t = _totals;
        _totals = Totals({owed: t.owed + uint128(amount), escrowed: t.escrowed - uint128(amount)});
        return amount;
    }

    // ---------------------------------------------------------------- internal: outside calls
    /// @dev Lapsed lease: optional slash (a failing slash never blocks progress) and a
    /// failed-attempt feedback.
    function _penalise(uint256 runId, uint8 step, uint256 agentId, bytes32 role, uint256 amount) private {
        if (amount != 0) {
            try _roles.slash(agentId, role, amount, "accord.lease-lapsed") {}
            catch {
                emit SlashFailed(runId, step, agentId, amount);
            }
        }
        _feedback(agentId, FEEDBACK_FAILED, bytes32(0));
    }

    /// @dev Reputation is trusted config, but the reference registry rejects feedback from an
    /// agent's own owner/operator: an agent could approve the coordinator to make its own
    /// step's completion revert forever. So a refused feedback never blocks progress.
    function _feedback(uint256 agentId, int128 value, bytes32 resultHash) private {
        try _reputation.giveFeedback(agentId, value, 0, "accord", "step", "", "", resultHash) {} catch {}
    }

    /// @dev The verdict of a quorum goes to the ERC-8004 Validation Registry: the coordinator
    /// (owner of `coordinatorAgentId`) requests validation from itself and answers with the
    /// mean response of the deciding side.
    function _recordValidation(
        uint256 runId,
        uint8 step,
        uint8 attempt,
        string storage resultURI,
        uint8 aggregated,
        bytes32 resultHash
    ) private {
        bytes32 requestHash = keccak256(abi.encode(address(this), runId, step, attempt));
        _validation.validationRequest(address(this), _agentId, resultURI, requestHash);
        _validation.validationResponse(requestHash, aggregated, "", resultHash, "accord");
    }
}
