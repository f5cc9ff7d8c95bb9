// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {IAgentRoles} from "../interfaces/IAgentRoles.sol";
import {IIdentityAuthorizer} from "../interfaces/IIdentityAuthorizer.sol";
import {IIdentityRegistry} from "../interfaces/IIdentityRegistry.sol";
import {IReputationRegistry} from "../interfaces/IReputationRegistry.sol";
import {IValidationRegistry} from "../interfaces/IValidationRegistry.sol";
import {IWorkflowCoordinator} from "../interfaces/IWorkflowCoordinator.sol";
import {CoordinatorBase} from "./coordinator/CoordinatorBase.sol";
import {WorkflowCoordinatorExtension} from "./coordinator/WorkflowCoordinatorExtension.sol";
import {Bitmask64} from "./libraries/Bitmask64.sol";
import {WorkflowDefinitions} from "./libraries/WorkflowDefinitions.sol";

/// @title WorkflowCoordinator
/// @notice Runs DAG workflows of role-gated steps (see IWorkflowCoordinator, DESIGN.md "Step
/// state machine" and docs/threat-model.md).
/// @dev The hot path (start, claim, heartbeat, submit, vote, lease expiry, withdraw) and the
/// views live here; definitions, pause/resume/cancel, validation timeouts, vote-stake release,
/// remote steps and the ERC-8004 records run in WorkflowCoordinatorExtension, which this
/// contract deploys in its constructor and DELEGATECALLs (same storage: both inherit
/// CoordinatorBase), so each stays well under the 24 KB code limit. The extension is fixed.
/// An agent batches its claims and submits (and a validator its votes and stake releases) in
/// one transaction with OpenZeppelin's `multicall` (each call keeps msg.sender; any failure
/// reverts the batch, so callers batch what the views show they can do).
contract WorkflowCoordinator is IWorkflowCoordinator, CoordinatorBase, Multicall {
    using Bitmask64 for uint64;
    using WorkflowDefinitions for WorkflowDefinitions.Definition;
    using WorkflowDefinitions for WorkflowDefinitions.Step;

    address private immutable _extension;


    /// @notice Wires the registries, deploys the extension and registers the coordinator's own
    /// ERC-8004 identity.
    /// @param validatorRole Role validators hold unless a definition names its own.
    /// @param admin Owner (sets the remote-step router).
    constructor(
        IIdentityAuthorizer identityRegistry,
        IAgentRoles agentRoles,
        IReputationRegistry reputationRegistry,
        IValidationRegistry validationRegistry,
        bytes32 validatorRole,
        address admin
    ) CoordinatorBase(identityRegistry, agentRoles, reputationRegistry, validationRegistry, validatorRole, admin) {
        _extension = address(
            new WorkflowCoordinatorExtension(
                identityRegistry, agentRoles, reputationRegistry, validationRegistry, validatorRole, admin
            )
        );
        _agentId = IIdentityRegistry(address(identityRegistry)).register();
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

    // ---------------------------------------------------------------- steps
    // The AgentRoles calls below return what they slashed (reported by its Slashed event)
    // or the agent's owner (read before the vote with ownerOf): not needed here.
    // slither-disable-start unused-return
    /// @inheritdoc IWorkflowCoordinator
    function claim(uint256 runId, uint8 step, uint256 agentId) external {
        // CHECKS
        (StepRun storage sr, bytes32 role, uint256 leaseSeconds, uint256 stake) = _checkClaim(runId, step, agentId);
        address owner_ = _identity.ownerOf(agentId); // fixed for the votes on this attempt
        // EFFECTS
        bool lapsed = sr.status == CLAIMED;
        uint256 lapsedAgent = sr.agentId;
        if (lapsed) ++_failures[runId][lapsedAgent];
        _takeLease(runId, step, agentId, sr, leaseSeconds);
        // The owner is stored only when another operator runs the agent (0: the operator
        // is the owner), so a self-operated agent's claim writes no slot for it.
        address ownerSlot = owner_ == msg.sender ? address(0) : owner_;
        if (sr.owner != ownerSlot) sr.owner = ownerSlot;
        // INTERACTIONS (AgentRoles is fixed at deployment; releaseStake never reverts)
        if (lapsed && stake != 0) _roles.releaseStake(lapsedAgent, role, stake, stake, LAPSED);
        _roles.lockStake(agentId, msg.sender, role, stake); // eligibility, and the stake is free
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
        if (cfg.quorum == 0) {
            _done(runId, step, r, d, cfg, sr);
        } else {
            uint256 window = d.extra.validationSeconds;
            if (window == 0) window = LEASE_CAP_FACTOR * cfg.leaseSeconds;
            sr.leaseEnd = uint40(block.timestamp + window); // the validation deadline
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function respond(uint256 runId, uint8 step, uint256 agentId, uint8 response) external {
        // CHECKS
        if (response > 100) revert CoordinatorInvalidResponse(response);
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        if (s != StepState.Submitted) revert CoordinatorStepNotSubmitted(runId, step, s);
        if (agentId > type(uint96).max) revert CoordinatorAgentIdTooLarge(agentId);
        if (_blocked[agentId]) revert CoordinatorRecordBlocked(agentId);
        address owner_ = _identity.ownerOf(agentId);
        if (!_independent(owner_, sr, r.creator)) {
            revert CoordinatorValidatorNotIndependent(runId, step, agentId);
        }
        bytes32 key = _voteKey(runId, step, sr.attempt, owner_);
        if (_votes[key] != 0) revert CoordinatorAlreadyVoted(runId, step, owner_);
        // EFFECTS
        (uint8 approvals, uint8 rejections) = _tally(runId, step, agentId, response, sr, owner_);
        uint8 quorum = cfg.quorum;
        bool decided = approvals == quorum || rejections == quorum;
        // The deciding vote's stake would be free again in this very transaction: it is
        // checked, not locked, and leaves no record (the verdict ends the attempt, so no
        // second vote on it is possible). Earlier votes stay locked until released.
        if (!decided) _votes[key] = agentId + 1; // < 2**96 + 1: no overflow
        if (approvals == quorum) {
            _markDone(runId, step, r, d, cfg, sr, sr.operator);
        } else if (rejections == quorum) {
            _attemptFailed(runId, step, r, d, cfg, sr, true, false, true);
        }
        // INTERACTIONS: the validator's eligibility and free bond are checked (the vote
        // reverts when it is not eligible or its bond is not free); a vote that does not
        // decide locks its stake; a verdict frees the executor's stake.
        if (decided) {
            _roles.checkStake(agentId, msg.sender, _judgeRole(d), d.extra.slashAmount);
            _releaseExecutor(d, cfg, sr, false);
        } else {
            _roles.lockStake(agentId, msg.sender, _judgeRole(d), d.extra.slashAmount);
        }
    }
    // slither-disable-end unused-return

    /// @dev Counts one vote on the current attempt and emits StepValidated; returns the tallies.
    function _tally(uint256 runId, uint8 step, uint256 agentId, uint8 response, StepRun storage sr, address owner_)
        private
        returns (uint8 approvals, uint8 rejections)
    {
        approvals = sr.approvals;
        rejections = sr.rejections;
        // unchecked-free: tallies stop at quorum (<= 255) because the verdict ends the attempt
        if (response >= APPROVAL_THRESHOLD) {
            sr.approvals = ++approvals;
            sr.approvalSum += response;
        } else {
            sr.rejections = ++rejections;
            sr.rejectionSum += response;
        }
        emit StepValidated(runId, step, agentId, response, approvals, rejections, sr.attempt, owner_);
    }

    /// @inheritdoc IWorkflowCoordinator
    function expireLease(uint256 runId, uint8 step) external {
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        uint8 status = sr.status;
        bool lapsed = status == CLAIMED && block.timestamp >= sr.leaseEnd;
        if (s == StepState.Cancelled && (status == CLAIMED || status == SUBMITTED || status == ABANDONED)) {
            bool flying = r.inflight.has(step); // then Claimed and lapsed: Submitted shows Submitted
            if (!flying) {
                // moot: the run ended around it. Abandoned (lapsed before the run ended) is the
                // executor's fault and is slashed; otherwise its stake is simply freed.
                bool abandoned = status == ABANDONED;
                sr.status = SETTLED;
                if (abandoned) {
                    ++_failures[runId][sr.agentId];
                    emit LeaseExpired(runId, step, sr.agentId, sr.attempt + 1); // < 256 while Claimed
                }
                _releaseExecutor(d, cfg, sr, abandoned);
                return;
            }
        } else if (!lapsed || (s != StepState.Ready && s != StepState.Failed)) {
            revert CoordinatorLeaseNotExpired(runId, step, s);
        }
        emit LeaseExpired(runId, step, sr.agentId, sr.attempt + 1); // < 256 while Claimed
        _attemptFailed(runId, step, r, d, cfg, sr, false, false, true);
        _releaseExecutor(d, cfg, sr, true);
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
        try _identity.ownerOf(agentId) returns (address owner_) {
            return _votes[_voteKey(runId, step, _steps[runId][step].attempt, owner_)] != 0;
        } catch {
            return false;
        }
    }

    /// @inheritdoc IWorkflowCoordinator
    function inflight(uint256 runId) external view returns (uint64) {
        return _runs[runId].inflight;
    }

    /// @inheritdoc IWorkflowCoordinator
    function recordBlocked(uint256 agentId) external view returns (bool) {
        return _blocked[agentId];
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

    // ---------------------------------------------------------------- delegated (extension)
    /// @inheritdoc IWorkflowCoordinator
    function registerDefinition(WorkflowDefinition calldata) external returns (bytes32) {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function pauseRun(uint256) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function resumeRun(uint256) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function cancelRun(uint256) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function expireValidation(uint256, uint8) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function releaseVoteStake(uint256, uint8, uint8, address) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function setRouter(address) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function dispatch(uint256, uint8) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function expireRemote(uint256, uint8) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function completeRemote(uint256, uint8, uint8, uint64, bytes32, string calldata, bool) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function publishOutcomes(uint256, uint256) external {
        _delegate();
    }

    /// @inheritdoc IWorkflowCoordinator
    function publishValidation(uint256, uint8) external {
        _delegate();
    }

    /// @notice The contract this coordinator delegates its colder functions to (deployed by
    /// the constructor; immutable).
    function extension() external view returns (address) {
        return _extension;
    }

    /// @dev Runs the same call in the extension, on this contract's storage, and returns (or
    /// reverts with) exactly what it returned. Never returns to the caller's Solidity code.
    function _delegate() private {
        address ext = _extension;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), ext, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
