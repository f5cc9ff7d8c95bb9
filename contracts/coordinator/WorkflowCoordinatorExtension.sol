// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentRoles} from "../../interfaces/IAgentRoles.sol";
import {IIdentityAuthorizer} from "../../interfaces/IIdentityAuthorizer.sol";
import {IReputationRegistry} from "../../interfaces/IReputationRegistry.sol";
import {IValidationRegistry} from "../../interfaces/IValidationRegistry.sol";
import {IRemoteStepRouter} from "../../interfaces/IRemoteStepRouter.sol";
import {CoordinatorBase} from "./CoordinatorBase.sol";
import {Bitmask64} from "../libraries/Bitmask64.sol";
import {ResultCommitments} from "../libraries/ResultCommitments.sol";
import {WorkflowDefinitions} from "../libraries/WorkflowDefinitions.sol";

/// @title WorkflowCoordinatorExtension
/// @notice The colder part of WorkflowCoordinator: run starts, definitions, lease heartbeats
/// and expiry, withdrawals, pause/resume/cancel, validation timeouts, vote-stake release and
/// remote steps. Deployed by the coordinator's constructor and only ever run by DELEGATECALL
/// from it, on its storage (the functions are documented in IWorkflowCoordinator).
/// @dev Called directly it refuses every function (`CoordinatorNotDelegated`): its own storage
/// is empty and must stay so.
contract WorkflowCoordinatorExtension is CoordinatorBase {
    using Bitmask64 for uint64;
    using WorkflowDefinitions for WorkflowDefinitions.Definition;
    using WorkflowDefinitions for WorkflowDefinitions.Step;

    /// @notice Called by the WorkflowCoordinator constructor with its own wiring.
    constructor(
        IIdentityAuthorizer identityRegistry,
        IAgentRoles agentRoles,
        IReputationRegistry reputationRegistry,
        IValidationRegistry validationRegistry,
        bytes32 validatorRole,
        address admin
    ) CoordinatorBase(identityRegistry, agentRoles, reputationRegistry, validationRegistry, validatorRole, admin) {}

    // ---------------------------------------------------------------- definitions
    /// @dev See IWorkflowCoordinator.
    function registerDefinition(WorkflowDefinition calldata definition) external onlyDelegated returns (bytes32 definitionId) {
        definitionId = keccak256(abi.encode(definition));
        if (_defIndex[definitionId] != 0) return definitionId;
        uint256 index = ++_defCount;
        _defIndex[definitionId] = index;
        WorkflowDefinitions.Definition storage d = _defs[index];
        d.store(definition, _router);
        d.id = definitionId;
        emit DefinitionRegistered(definitionId, msg.sender, d.header.stepCount);
    }

    // ---------------------------------------------------------------- runs
    /// @dev See IWorkflowCoordinator.
    function startRun(bytes32 definitionId, bytes32 inputHash, string calldata inputURI)
        external
        payable
        onlyDelegated
        returns (uint256 runId)
    {
        uint256 index = _defIndex[definitionId];
        WorkflowDefinitions.Definition storage d = _defs[index];
        WorkflowDefinitions.Header memory h = d.header;
        if (h.stepCount == 0) revert CoordinatorUnknownDefinition(definitionId);
        if (msg.value < h.totalReward) revert CoordinatorInsufficientBudget(msg.value, h.totalReward);
        if (msg.value > type(uint88).max) revert CoordinatorBudgetTooLarge(msg.value);
        runId = ++_runCount;
        Run storage r = _runs[runId];
        r.definition = uint56(index); // < 2**56: each registration costs > 300,000 gas
        r.creator = msg.sender;
        r.state = RunState.Running;
        r.escrow = uint88(msg.value);
        _totals.escrowed += uint128(msg.value);
        emit RunStarted(runId, definitionId, msg.sender, inputHash, inputURI, msg.value);
        for (uint64 roots = d.extra.rootMask; roots != 0; roots &= roots - 1) {
            emit StepReady(runId, roots.lowest());
        }
    }

    /// @dev See IWorkflowCoordinator.
    function pauseRun(uint256 runId) external onlyDelegated {
        Run storage r = _creatorRun(runId);
        if (r.state != RunState.Running) revert CoordinatorRunNotRunning(runId, r.state);
        r.state = RunState.Paused;
        emit RunPaused(runId);
    }

    /// @dev See IWorkflowCoordinator.
    function resumeRun(uint256 runId) external onlyDelegated {
        Run storage r = _creatorRun(runId);
        if (r.state != RunState.Paused) revert CoordinatorRunNotPaused(runId, r.state);
        r.state = RunState.Running;
        emit RunResumed(runId);
    }

    /// @dev See IWorkflowCoordinator.
    function cancelRun(uint256 runId) external onlyDelegated {
        Run storage r = _creatorRun(runId);
        RunState s = r.state;
        uint64 open = r.compOpen;
        bool compensating = s == RunState.Failed && open != 0;
        if (s != RunState.Running && s != RunState.Paused && !compensating) {
            revert CoordinatorRunNotCancellable(runId, s);
        }
        WorkflowDefinitions.Definition storage d = _defs[r.definition];
        r.state = RunState.Cancelled;
        uint64 unfinished = compensating ? open : _forwardUnfinished(r, d.header);
        uint64 flying;
        uint256 reserved;
        for (; unfinished != 0; unfinished &= unfinished - 1) {
            uint8 j = unfinished.lowest();
            StepRun storage sr = _steps[runId][j];
            uint8 st = sr.status;
            if (st == SUBMITTED || (st == CLAIMED && block.timestamp < _leaseEnd(sr))) {
                flying |= Bitmask64.bit(j); // work delivered or under way: the verdict decides
                reserved += d.steps[j].reward;
            } else {
                _cancelStep(runId, j);
            }
        }
        r.inflight = flying;
        uint256 refund = _refundEscrow(r, r.escrow - reserved);
        emit RunCancelled(runId, refund);
    }

    /// @dev See IWorkflowCoordinator.
    function heartbeatLease(uint256 runId, uint8 step) external onlyDelegated {
        (, , WorkflowDefinitions.Step storage cfg, StepRun storage sr) = _claimedByCaller(runId, step);
        // `until` is the claim's lease end (claim time + leaseSeconds)
        uint256 leaseSeconds = cfg.leaseSeconds;
        uint256 cap = _time(uint256(sr.until) + (LEASE_CAP_FACTOR - 1) * leaseSeconds);
        uint256 end = _time(block.timestamp + leaseSeconds);
        if (end > cap) end = cap;
        if (end <= _leaseEnd(sr)) revert CoordinatorLeaseCapReached(runId, step, uint64(cap));
        sr.beatEnd = uint32(end);
        emit LeaseExtended(runId, step, sr.agentId, uint64(end));
    }

    /// @dev See IWorkflowCoordinator.
    function withdraw() external onlyDelegated nonReentrant {
        uint256 amount = _owed[msg.sender];
        if (amount == 0) revert CoordinatorNothingToWithdraw(msg.sender);
        _owed[msg.sender] = 0;
        _totals.owed -= uint128(amount);
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert CoordinatorTransferFailed(msg.sender, amount);
    }

    /// @dev See IWorkflowCoordinator.
    function expireLease(uint256 runId, uint8 step) external onlyDelegated {
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        uint8 status = sr.status;
        bool lapsed = status == CLAIMED && block.timestamp >= _leaseEnd(sr);
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

    /// @dev See IWorkflowCoordinator.
    function expireValidation(uint256 runId, uint8 step) external onlyDelegated {
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        uint64 deadline = sr.until;
        if (s != StepState.Submitted || block.timestamp < deadline) {
            revert CoordinatorValidationNotExpired(runId, step, s, deadline);
        }
        ValidationTimeout policy = d.extra.onValidationTimeout;
        emit ValidationExpired(runId, step, sr.attempt, policy);
        if (policy == ValidationTimeout.Accept) {
            uint8 approvals = sr.approvals; // recorded votes: the mean of any approvals
            _markDone(runId, step, r, d, cfg, sr, sr.operator, approvals == 0 ? 0 : uint8(sr.approvalSum / approvals));
        } else {
            // silent or split judges are not the executor's fault: no failure on its record
            _attemptFailed(runId, step, r, d, cfg, sr, false, policy == ValidationTimeout.Fail, false);
        }
        _releaseExecutor(d, cfg, sr, false); // INTERACTIONS last
    }

    // The AgentRoles calls below return what they slashed (reported by its Slashed event)
    // or the agent's owner (read before the vote with ownerOf): not needed here.
    // slither-disable-start unused-return
    /// @dev See IWorkflowCoordinator.
    function releaseVoteStake(uint256 runId, uint8 step, uint8 attempt, address owner_) external onlyDelegated {
        (, WorkflowDefinitions.Definition storage d, , StepRun storage sr, StepState s) = _locate(runId, step);
        bytes32 key = _voteKey(runId, step, attempt, owner_);
        uint256 v = _votes[key];
        if (v == 0 || v == RELEASED) revert CoordinatorNoVoteStake(runId, step, attempt, owner_);
        if (attempt == sr.attempt && s == StepState.Submitted) revert CoordinatorVerdictPending(runId, step, attempt);
        _votes[key] = RELEASED;
        uint256 agentId = v - 1;
        emit VoteStakeReleased(runId, step, agentId, attempt, owner_);
        uint256 stake = d.extra.slashAmount;
        if (stake != 0) _roles.releaseStake(agentId, _judgeRole(d), stake, 0, bytes32(0));
    }
    // slither-disable-end unused-return

    // ---------------------------------------------------------------- remote steps
    /// @dev See IWorkflowCoordinator.
    function setRouter(address router_) external onlyDelegated onlyOwner {
        _router = router_;
        emit RouterSet(router_);
    }

    /// @dev See IWorkflowCoordinator.
    function dispatch(uint256 runId, uint8 step, bytes32 inputHash, string calldata inputURI)
        external
        onlyDelegated
    {
        (StepRun storage sr, WorkflowDefinitions.Step storage cfg, address router_) =
            _checkDispatch(runId, step, inputHash, inputURI);
        // EFFECTS (a remote step is never in Backoff: a failed attempt makes it Ready at once)
        uint8 attempt = sr.attempt;
        if (sr.status == DISPATCHED) {
            ++attempt; // < maxAttempts <= 255, else the derived state would be Failed
            emit RemoteStepExpired(runId, step, attempt);
        }
        uint32 deadline = _time(block.timestamp + REMOTE_DEADLINE_FACTOR * cfg.leaseSeconds);
        uint64 chainId = cfg.chainId;
        sr.until = deadline;
        sr.status = DISPATCHED;
        sr.attempt = attempt;
        emit StepDispatched(runId, step, chainId, attempt, deadline);
        // INTERACTIONS
        IRemoteStepRouter(router_).sendTask(runId, step, chainId, attempt, deadline, inputHash, inputURI);
    }

    /// @dev The checks of `dispatch`; returns the step, its config and the router.
    function _checkDispatch(uint256 runId, uint8 step, bytes32 inputHash, string calldata inputURI)
        private
        view
        returns (StepRun storage sr, WorkflowDefinitions.Step storage cfg, address router_)
    {
        Run storage r;
        StepState s;
        (r, , cfg, sr, s) = _locate(runId, step);
        if (r.state != RunState.Running) revert CoordinatorRunNotRunning(runId, r.state);
        if (!cfg.remote) revert CoordinatorStepNotRemote(runId, step);
        if (s != StepState.Ready) revert CoordinatorStepNotReady(runId, step, s);
        router_ = _router;
        if (router_ == address(0)) revert CoordinatorNoRouter();
        _checkInput(runId, r, cfg, inputHash, inputURI);
    }

    /// @dev A remote step's input must be the result of its lowest-index Done dependency
    /// (none, both empty, for a step without one).
    function _checkInput(
        uint256 runId,
        Run storage r,
        WorkflowDefinitions.Step storage cfg,
        bytes32 inputHash,
        string calldata inputURI
    ) private view {
        uint64 inputs = cfg.deps & r.done;
        if (inputs == 0) {
            if (inputHash != bytes32(0) || bytes(inputURI).length != 0) revert CoordinatorResultMismatch(runId, 255);
            return;
        }
        uint8 j = inputs.lowest();
        if (ResultCommitments.commit(inputHash, inputURI) != _steps[runId][j].result) {
            revert CoordinatorResultMismatch(runId, j);
        }
    }

    /// @dev See IWorkflowCoordinator.
    function expireRemote(uint256 runId, uint8 step) external onlyDelegated {
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

    /// @dev See IWorkflowCoordinator.
    function completeRemote(
        uint256 runId,
        uint8 step,
        uint8 attempt,
        uint64 chainId,
        bytes32 resultHash,
        string calldata resultURI,
        bool success
    ) external onlyDelegated {
        if (msg.sender != _router) revert CoordinatorNotRouter(msg.sender);
        (Run storage r, WorkflowDefinitions.Definition storage d, WorkflowDefinitions.Step storage cfg,
            StepRun storage sr, StepState s) = _locate(runId, step);
        if (s != StepState.Dispatched || sr.attempt != attempt || cfg.chainId != chainId) {
            emit RemoteResultIgnored(runId, step, attempt, s);
            return;
        }
        if (success) sr.result = ResultCommitments.commit(resultHash, resultURI);
        emit RemoteResultReceived(runId, step, attempt, resultHash, resultURI, success);
        _remoteOutcome(runId, step, r, d, cfg, sr, success);
    }
}
