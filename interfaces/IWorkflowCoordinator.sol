// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IWorkflowCoordinatorTypes} from "./IWorkflowCoordinatorTypes.sol";

/// @title IWorkflowCoordinator
/// @notice DAG workflows of role-gated steps: immutable content-addressed definitions, runs
/// with an escrowed budget, claims with leases, retries with backoff, validation quorum
/// recorded in the ERC-8004 Validation Registry, outcomes written to the ERC-8004 Reputation
/// Registry, rewards paid by pull, compensation (saga) steps when a run fails.
///
/// Bounds: a definition has 1..64 steps (`MAX_STEPS`), indexed by uint8; dependencies are
/// a uint64 bitmask of EARLIER steps only, so every definition is acyclic by construction.
/// Every transition costs O(steps) at most (skip propagation visits each step once).
///
/// Time-based transitions are derived: `stepState` reports a lapsed lease as Ready (or Failed
/// when it was the last attempt) and an elapsed backoff as Ready without any transaction.
/// The transaction that acts on such a step (a claim, or `expireLease`) materialises the
/// transition and emits its event (`LeaseExpired`, `StepBackoffElapsed`) first.
///
/// Remote steps (`StepSpec.chainId != block.chainid`) run on another chain through the
/// coordinator's `router` (an IRemoteStepRouter, set by the owner). A remote step is never
/// claimed here: once Ready, anyone calls `dispatch` and it becomes Dispatched with a deadline
/// of `REMOTE_DEADLINE_FACTOR` x leaseSeconds; the router carries it to the remote chain, where
/// it runs (and is validated) as a one-step run of the remote coordinator. The result comes
/// back through the router (`completeRemote`): the step is Done (its home reward is credited
/// to the run's creator: the remote executor is paid on the remote chain). A deadline that
/// passes, or a failure reported by the remote chain, uses an attempt like a lapsed lease:
/// Ready again (dispatch again) or Failed.
///
/// Trust rules (see docs/threat-model.md):
/// - A vote counts only from a validator whose owner and operator are neither the executor
///   agent's owner nor one of its operators, and once per validator owner per attempt (not per
///   agentId). Each vote that does not decide locks the definition's `stake` of the
///   validator's bond in AgentRoles until the verdict of that attempt is final
///   (`releaseVoteStake`, anyone, afterwards); the deciding vote needs the stake free but
///   locks nothing (it would be free again in the same transaction).
/// - A claim locks `stake` of the executor's bond: released when the attempt settles, slashed
///   when the lease lapses.
/// - Every Submitted attempt has a validation deadline (`validationSeconds` after the submit,
///   default LEASE_CAP_FACTOR x leaseSeconds); after it anyone calls `expireValidation` and the
///   definition's `onValidationTimeout` decides: Retry (a new attempt), Accept (Done) or Fail.
/// - No transition calls the ERC-8004 Reputation or Validation registries: outcomes are
///   events, mirrored into ERC-8004 later by anyone (`publishOutcomes`, `publishValidation`),
///   where a refusal is an event, never a revert. An agent whose registry refuses its record
///   (it made the coordinator its operator) cannot claim or vote until a publish succeeds.
/// - Cancelling a run never takes back the reward of work in flight: a Submitted step is still
///   judged, and a Claimed step's holder may still submit until its lease ends (the verdict
///   decides); their rewards stay in escrow until then, the rest is refunded at once.
interface IWorkflowCoordinator is IWorkflowCoordinatorTypes {
    // ---------------------------------------------------------------- definitions
    /// @notice Register an immutable definition; returns its id (keccak256 of the ABI
    /// encoding). Registering an existing one returns the same id without an event.
    function registerDefinition(WorkflowDefinition calldata definition) external returns (bytes32 definitionId);

    // ---------------------------------------------------------------- runs
    /// @notice Start a run; `msg.value` must cover the sum of the step rewards, the excess
    /// is budget refunded (by credit) when the run ends.
    function startRun(bytes32 definitionId, bytes32 inputHash, string calldata inputURI)
        external
        payable
        returns (uint256 runId);

    /// @notice Pause a Running run (creator only): no new claims; leases keep running.
    function pauseRun(uint256 runId) external;

    /// @notice Resume a Paused run (creator only).
    function resumeRun(uint256 runId) external;

    /// @notice Cancel a run (creator only). Steps in flight keep going: a Submitted step is
    /// still judged, and the holder of a Claimed step may still submit until its lease ends
    /// (no new claims); Done pays the executor, anything else refunds the creator. Their
    /// rewards stay in escrow until then; the rest of the budget is credited back at once and
    /// every other unfinished step becomes Cancelled.
    function cancelRun(uint256 runId) external;

    // ---------------------------------------------------------------- steps
    /// @notice Claim a Ready step for `agentId`; the caller must be eligible for the step's
    /// role (AgentRoles.lockStake, which locks the definition's stake) and becomes the lease
    /// holder and payee.
    function claim(uint256 runId, uint8 step, uint256 agentId) external;

    /// @notice Extend the caller's lease by leaseSeconds, capped at LEASE_CAP_FACTOR x
    /// leaseSeconds from the claim.
    function heartbeatLease(uint256 runId, uint8 step) external;

    /// @notice Submit the result (lease holder, before the lease ends): the coordinator keeps
    /// keccak256(abi.encode(resultHash, resultURI)) (`resultCommitment`), StepSubmitted
    /// carries both; a URI longer than 2,048 bytes reverts CoordinatorResultURITooLong. A
    /// decision step passes the subset of its direct dependents that should run in `branches`.
    function submit(uint256 runId, uint8 step, bytes32 resultHash, string calldata resultURI, uint64 branches)
        external;

    /// @notice Validator `agentId` answers 0..100 on a Submitted step; >= APPROVAL_THRESHOLD
    /// approves. A quorum of approvals makes the step Done, a quorum of rejections retries it.
    /// The validator must be independent of the executor and its owner must not have voted on
    /// this attempt; a vote that does not decide locks the stake until the verdict is final
    /// (the deciding vote only needs it free: `AgentRoles.checkStake`). It counts on the attempt
    /// Submitted when it is mined: a judge that may be late (a retry can bring another result)
    /// votes through `respondSigned`, whose signature binds the attempt it judged.
    function respond(uint256 runId, uint8 step, uint256 agentId, uint8 response) external;

    /// @notice Count judges' signed votes on the current attempt of a Submitted step, in order
    /// (anyone may send them: each vote is the signer's). Every vote is checked as `respond`
    /// checks its caller (the signer stands for msg.sender), and all before any counts. When
    /// they decide the step, none of them locks stake (the verdict is final at once) and votes
    /// after the deciding one are ignored; when they do not, each locks its stake as `respond`
    /// does. A vote whose owner already has a vote recorded on this attempt is skipped, so a
    /// vote sent ahead of the batch (a front-run) cannot make the batch fail; two votes of one
    /// owner in the batch revert CoordinatorAlreadyVoted.
    function respondSigned(uint256 runId, uint8 step, SignedVote[] calldata votes) external;

    /// @notice The EIP-712 digest a judge signs for `respondSigned`.
    function voteDigest(uint256 runId, uint8 step, uint8 attempt, uint256 agentId, uint8 response)
        external
        view
        returns (bytes32);

    /// @notice Materialise a lapsed lease (anyone): Ready again, or Failed (and the run Failed)
    /// when it was the last attempt; the executor's stake is slashed. For a claim its ended run
    /// made moot (the step shows Cancelled), it frees the executor's stake without a slash.
    function expireLease(uint256 runId, uint8 step) external;

    /// @notice Apply the definition's `onValidationTimeout` to a Submitted step past its
    /// validation deadline (anyone).
    function expireValidation(uint256 runId, uint8 step) external;

    /// @notice Free the stake the validator of `owner` locked by voting on `attempt` of `step`,
    /// once that verdict is final (anyone).
    function releaseVoteStake(uint256 runId, uint8 step, uint8 attempt, address owner) external;

    // ---------------------------------------------------------------- ERC-8004 records
    /// @notice Record the outcomes of `agentId` in an ended, settled run as one ERC-8004
    /// feedback (anyone, once per agent per run). A refusal by the registry is an event.
    function publishOutcomes(uint256 runId, uint256 agentId) external;

    /// @notice Record the quorum's verdict on a Done `step` in the ERC-8004 Validation
    /// Registry (anyone, until it succeeds), with the step's result: `resultHash` and
    /// `resultURI` as its StepSubmitted event gave them (checked against `resultCommitment`,
    /// else CoordinatorResultMismatch). A refusal by the registry is an event.
    function publishValidation(uint256 runId, uint8 step, bytes32 resultHash, string calldata resultURI) external;

    // ---------------------------------------------------------------- remote steps
    /// @notice Set the remote-step router (owner only; zero disables remote steps). Results of
    /// steps dispatched through a previous router are ignored from then on.
    function setRouter(address router) external;

    /// @notice Send a Ready remote step to its chain (anyone): Dispatched until a result
    /// arrives or `REMOTE_DEADLINE_FACTOR` x leaseSeconds pass. Materialises a passed deadline
    /// or an elapsed backoff first. `inputHash` and `inputURI` are the step's input, the
    /// result of its lowest-index Done dependency as its StepSubmitted event gave it (both
    /// empty for a step without one), checked against that step's `resultCommitment` (else
    /// CoordinatorResultMismatch naming that step, or step 255 for a step without input).
    function dispatch(uint256 runId, uint8 step, bytes32 inputHash, string calldata inputURI) external;

    /// @notice Materialise a passed remote deadline (anyone): Ready again, or Failed (and the
    /// run Failed) when it was the last attempt.
    function expireRemote(uint256 runId, uint8 step) external;

    /// @notice The router delivers the remote chain's verdict on `attempt` of `step`, which ran
    /// on `chainId`. Ignored (event `RemoteResultIgnored`) unless the step is Dispatched on that
    /// chain with that attempt.
    function completeRemote(
        uint256 runId,
        uint8 step,
        uint8 attempt,
        uint64 chainId,
        bytes32 resultHash,
        string calldata resultURI,
        bool success
    ) external;

    /// @notice The remote-step router (zero when none).
    function router() external view returns (address);

    // ---------------------------------------------------------------- money
    /// @notice Pay the caller everything credited to it.
    function withdraw() external;

    // ---------------------------------------------------------------- views
    /// @notice Stored run state.
    function runState(uint256 runId) external view returns (RunState);

    /// @notice Stored facts of a run.
    function runInfo(uint256 runId) external view returns (RunInfo memory);

    /// @notice Effective state of `step` at the current block time.
    function stepState(uint256 runId, uint8 step) external view returns (StepState);

    /// @notice Bitmask of the steps whose effective state is Ready (O(steps)).
    function readySteps(uint256 runId) external view returns (uint64 mask);

    /// @notice Last lease of `step` and its current (derived) attempt number. While the step
    /// is Claimed, `leaseEnd` is its lease end (heartbeats included); while Submitted, its
    /// validation deadline; while Dispatched, its remote deadline; otherwise 0 (a lapsed
    /// lease not yet materialised keeps its end).
    function lease(uint256 runId, uint8 step)
        external
        view
        returns (uint256 agentId, address operator, uint64 leaseEnd, uint8 attempt);

    /// @notice Commitment to the latest result of `step` (0: none yet):
    /// keccak256(abi.encode(resultHash, resultURI)). The hash and URI themselves are in the
    /// step's latest StepSubmitted (or, for a remote step, RemoteResultReceived) event; the
    /// one whose values give this commitment is the current result.
    function resultCommitment(uint256 runId, uint8 step) external view returns (bytes32);

    /// @notice Validation tallies recorded on the current attempt of a Submitted `step`
    /// ((0, 0) in any other state). A verdict reached in one transaction records none: read
    /// StepValidated for every counted vote.
    function tallies(uint256 runId, uint8 step) external view returns (uint8 approvals, uint8 rejections);

    /// @notice Whether the owner of validator `agentId` voted on the current attempt of `step`
    /// and its vote holds a record: false for the deciding vote, which leaves none (the
    /// verdict ends the attempt; its stake was only checked). Read `StepValidated` for history.
    function hasVoted(uint256 runId, uint8 step, uint256 agentId) external view returns (bool);

    /// @notice Header of a definition.
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
        );

    /// @notice Steps of `runId` still in flight after a cancel (their rewards stay in escrow).
    function inflight(uint256 runId) external view returns (uint64 mask);

    /// @notice Whether the registry refused the record of `agentId` (it cannot claim or vote).
    function recordBlocked(uint256 agentId) external view returns (bool);

    /// @notice Step `step` of a definition, as registered.
    function definitionStep(bytes32 definitionId, uint8 step) external view returns (StepSpec memory);

    /// @notice Wei credited to `account` and not withdrawn.
    function owed(address account) external view returns (uint256);

    /// @notice Sum of all credits not withdrawn.
    function totalOwed() external view returns (uint256);

    /// @notice Sum of the escrow of all runs. balance == totalOwed() + totalEscrowed().
    function totalEscrowed() external view returns (uint256);

    /// @notice The coordinator's own ERC-8004 agentId (it records validations under it).
    function coordinatorAgentId() external view returns (uint256);

    /// @notice The wiring fixed at deployment.
    function registries()
        external
        view
        returns (
            address identityRegistry,
            address agentRoles,
            address reputationRegistry,
            address validationRegistry,
            bytes32 validatorRole
        );
}
