// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

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
interface IWorkflowCoordinator {
    // ---------------------------------------------------------------- types
    /// @notice Lifecycle of a run.
    enum RunState {
        None,
        Running,
        Paused,
        Completed,
        Failed,
        Cancelled
    }

    /// @notice Effective (derived) state of a step in a run.
    /// @dev Backoff: rejected, waiting until its retry time, then Ready.
    enum StepState {
        Blocked,
        Ready,
        Claimed,
        Submitted,
        Backoff,
        Done,
        Failed,
        Skipped,
        Cancelled,
        Dispatched
    }

    /// @notice One step of a workflow definition.
    /// @param role AgentRoles role an executor must be eligible for.
    /// @param deps Bitmask of earlier steps this step depends on (bit i = step i).
    /// @param join How many deps must be Done (0 = all of them). Ignored when deps == 0.
    /// @param leaseSeconds Lease length of a claim; a heartbeat extends it, up to
    /// `LEASE_CAP_FACTOR` x leaseSeconds after the claim.
    /// @param maxAttempts Attempts allowed (lapsed leases and rejections each use one).
    /// @param backoffInitial Delay after the first rejection before the step is Ready again.
    /// @param backoffMultiplier Each further rejection multiplies the delay (>= 1).
    /// @param backoffCap Upper bound of the delay (>= backoffInitial).
    /// @param quorum Validator approvals needed (0 = Done on submit). The same number of
    /// rejections rejects the attempt.
    /// @param reward Wei credited to the executor's operator when the step is Done.
    /// @param compensation Index of this step's compensation step, or `NO_STEP`.
    /// @param decision When true the submitted result selects which direct dependents run.
    /// @param chainId Chain the step runs on: block.chainid, or a chain the coordinator's
    /// router knows (a remote step; it may not be a decision or a compensation step).
    struct StepSpec {
        bytes32 role;
        uint64 deps;
        uint8 join;
        uint32 leaseSeconds;
        uint8 maxAttempts;
        uint32 backoffInitial;
        uint8 backoffMultiplier;
        uint32 backoffCap;
        uint8 quorum;
        uint96 reward;
        uint8 compensation;
        bool decision;
        uint64 chainId;
    }

    /// @notice A workflow definition; its id is keccak256(abi.encode(definition)).
    /// @param validatorRole Role validators must hold (0 = the coordinator's global role).
    /// @param slashAmount Bond slashed from an executor whose lease lapses (0 = none).
    struct WorkflowDefinition {
        bytes32 validatorRole;
        uint128 slashAmount;
        StepSpec[] steps;
    }

    /// @notice Stored facts of a run (see `runState`/`stepState` for the lifecycle).
    struct RunInfo {
        bytes32 definitionId;
        address creator;
        RunState state;
        uint256 escrow;
        uint64 doneMask;
        uint64 skippedMask;
        uint64 compensationPending;
        uint64 compensationOpen;
    }

    // ---------------------------------------------------------------- errors
    /// @notice No definition with `definitionId` was registered.
    error CoordinatorUnknownDefinition(bytes32 definitionId);
    /// @notice A definition must have 1..64 steps; it had `count`.
    error CoordinatorInvalidStepCount(uint256 count);
    /// @notice `step` depends on itself or a later step (`deps`).
    error CoordinatorDependencyNotEarlier(uint8 step, uint64 deps);
    /// @notice `step` asks for `join` done inputs but has only `depCount` deps.
    error CoordinatorInvalidJoin(uint8 step, uint8 join, uint256 depCount);
    /// @notice `step` has a zero lease.
    error CoordinatorZeroLease(uint8 step);
    /// @notice `step` allows zero attempts.
    error CoordinatorZeroAttempts(uint8 step);
    /// @notice `step` has a zero backoff multiplier or a cap below the initial delay.
    error CoordinatorInvalidBackoff(uint8 step);
    /// @notice `step` runs on `chainId`, which the router does not know (or no router is set),
    /// or the remote step is a decision or a compensation step.
    error CoordinatorRemoteStepUnsupported(uint8 step, uint64 chainId);
    /// @notice `step` runs on `chainId`: it is dispatched, never claimed, on this chain.
    error CoordinatorStepIsRemote(uint256 runId, uint8 step, uint64 chainId);
    /// @notice `dispatch` needs a Ready remote step; `step` runs on this chain.
    error CoordinatorStepNotRemote(uint256 runId, uint8 step);
    /// @notice A remote step cannot be dispatched: no router is set.
    error CoordinatorNoRouter();
    /// @notice Only the router may report remote results; `caller` is not it.
    error CoordinatorNotRouter(address caller);
    /// @notice `expireRemote` needs a Dispatched step past its deadline; `step` is `state`.
    error CoordinatorRemoteNotExpired(uint256 runId, uint8 step, StepState state);
    /// @notice `compensation` cannot compensate `step` (out of range, itself, has deps or
    /// dependents, is a decision, compensates another step, or `step` is a compensation).
    error CoordinatorInvalidCompensation(uint8 step, uint8 compensation);
    /// @notice No run with `runId`.
    error CoordinatorUnknownRun(uint256 runId);
    /// @notice `sent` does not cover the definition's rewards `required`.
    error CoordinatorInsufficientBudget(uint256 sent, uint256 required);
    /// @notice The budget does not fit the escrow's uint88.
    error CoordinatorBudgetTooLarge(uint256 sent);
    /// @notice `caller` is not the creator of `runId`.
    error CoordinatorNotCreator(uint256 runId, address caller);
    /// @notice The action needs a Running run; `runId` is `state`.
    error CoordinatorRunNotRunning(uint256 runId, RunState state);
    /// @notice Resume needs a Paused run; `runId` is `state`.
    error CoordinatorRunNotPaused(uint256 runId, RunState state);
    /// @notice Cancel needs a Running or Paused run, or a Failed run still compensating.
    error CoordinatorRunNotCancellable(uint256 runId, RunState state);
    /// @notice `step` is not a step of the run's definition.
    error CoordinatorInvalidStep(uint256 runId, uint8 step);
    /// @notice Claim needs a Ready step; `step` is `state`.
    error CoordinatorStepNotReady(uint256 runId, uint8 step, StepState state);
    /// @notice Submit/heartbeat need a Claimed step with a live lease; `step` is `state`.
    error CoordinatorStepNotClaimed(uint256 runId, uint8 step, StepState state);
    /// @notice Validation needs a Submitted step; `step` is `state`.
    error CoordinatorStepNotSubmitted(uint256 runId, uint8 step, StepState state);
    /// @notice `expireLease` needs a Claimed step whose lease has lapsed; `step` is `state`.
    error CoordinatorLeaseNotExpired(uint256 runId, uint8 step, StepState state);
    /// @notice `caller` does not hold the lease of `step`.
    error CoordinatorNotLeaseHolder(uint256 runId, uint8 step, address caller);
    /// @notice The lease of `step` already reaches its cap `leaseCap`.
    error CoordinatorLeaseCapReached(uint256 runId, uint8 step, uint64 leaseCap);
    /// @notice `operator` may not act for `agentId` in `role` (AgentRoles.isEligible false).
    error CoordinatorNotEligible(uint256 agentId, address operator, bytes32 role);
    /// @notice agentIds above 2**96 - 1 are not supported (they share a slot with the operator).
    error CoordinatorAgentIdTooLarge(uint256 agentId);
    /// @notice The executor `agentId` cannot validate its own result.
    error CoordinatorExecutorCannotValidate(uint256 runId, uint8 step, uint256 agentId);
    /// @notice `agentId` already voted on this attempt of `step`.
    error CoordinatorAlreadyVoted(uint256 runId, uint8 step, uint256 agentId);
    /// @notice Validation responses are 0..100; got `response`.
    error CoordinatorInvalidResponse(uint8 response);
    /// @notice `branches` is not a subset of `allowed` (the decision's direct dependents;
    /// 0 for a step that is not a decision).
    error CoordinatorInvalidBranches(uint256 runId, uint8 step, uint64 branches, uint64 allowed);
    /// @notice `account` has nothing to withdraw.
    error CoordinatorNothingToWithdraw(address account);
    /// @notice Sending `amount` to `to` failed.
    error CoordinatorTransferFailed(address to, uint256 amount);

    // ---------------------------------------------------------------- events
    /// @notice A new definition `definitionId` with `stepCount` steps was registered.
    event DefinitionRegistered(bytes32 indexed definitionId, address indexed registrant, uint8 stepCount);
    /// @notice `creator` started `runId` of `definitionId` with `budget` wei escrowed.
    event RunStarted(
        uint256 indexed runId,
        bytes32 indexed definitionId,
        address indexed creator,
        bytes32 inputHash,
        string inputURI,
        uint256 budget
    );
    /// @notice The creator paused `runId` (no new claims).
    event RunPaused(uint256 indexed runId);
    /// @notice The creator resumed `runId`.
    event RunResumed(uint256 indexed runId);
    /// @notice Every sink step is Done or Skipped; `refund` was credited to the creator.
    event RunCompleted(uint256 indexed runId, uint256 refund);
    /// @notice `step` ran out of attempts; `refund` (budget minus compensation rewards) was
    /// credited to the creator.
    event RunFailed(uint256 indexed runId, uint8 indexed step, uint256 refund);
    /// @notice The creator cancelled `runId`; `refund` was credited to the creator.
    event RunCancelled(uint256 indexed runId, uint256 refund);
    /// @notice The last compensation step of a failed run finished (Done or Failed).
    event RunCompensated(uint256 indexed runId);
    /// @notice `step` became Ready (its inputs are done, or it is an opened compensation).
    event StepReady(uint256 indexed runId, uint8 indexed step);
    /// @notice `agentId` (operated by `operator`) claimed `step` until `leaseEnd`.
    event StepClaimed(
        uint256 indexed runId,
        uint8 indexed step,
        uint256 indexed agentId,
        address operator,
        uint64 leaseEnd,
        uint8 attempt
    );
    /// @notice The lease of `agentId` on `step` now ends at `leaseEnd`.
    event LeaseExtended(uint256 indexed runId, uint8 indexed step, uint256 indexed agentId, uint64 leaseEnd);
    /// @notice The lease of `agentId` on `step` lapsed; `attempt` counts failed attempts so
    /// far. Emitted by the transaction that materialises the lapse (the next claim or
    /// `expireLease`).
    event LeaseExpired(uint256 indexed runId, uint8 indexed step, uint256 indexed agentId, uint8 attempt);
    /// @notice `agentId` submitted `resultHash` (and `branches` for a decision) for `step`.
    event StepSubmitted(
        uint256 indexed runId,
        uint8 indexed step,
        uint256 indexed agentId,
        bytes32 resultHash,
        string resultURI,
        uint64 branches
    );
    /// @notice Validator `agentId` answered `response` on `step`; tallies after the vote.
    event StepValidated(
        uint256 indexed runId,
        uint8 indexed step,
        uint256 indexed agentId,
        uint8 response,
        uint8 approvals,
        uint8 rejections
    );
    /// @notice `step` is Done; `reward` was credited to `payee`, the executor's operator.
    event StepDone(uint256 indexed runId, uint8 indexed step, uint256 indexed agentId, address payee, uint256 reward);
    /// @notice Validators rejected the result of `agentId`; `step` is Ready again from
    /// `retryAt`; `attempt` counts failed attempts so far.
    event StepRejected(uint256 indexed runId, uint8 indexed step, uint256 indexed agentId, uint8 attempt, uint64 retryAt);
    /// @notice The backoff of `step` elapsed (materialised by the claim that follows).
    event StepBackoffElapsed(uint256 indexed runId, uint8 indexed step, uint8 attempt);
    /// @notice `step` used its last attempt (last executor `agentId`).
    event StepFailed(uint256 indexed runId, uint8 indexed step, uint256 indexed agentId, uint8 attempts);
    /// @notice `step` will not run: a decision did not select it or its inputs cannot be met.
    event StepSkipped(uint256 indexed runId, uint8 indexed step);
    /// @notice `step` will not run or finish: its run was cancelled, failed or completed.
    event StepCancelled(uint256 indexed runId, uint8 indexed step);
    /// @notice Slashing `amount` from `agentId` after a lapsed lease failed (progress went on).
    event SlashFailed(uint256 indexed runId, uint8 indexed step, uint256 indexed agentId, uint256 amount);
    /// @notice Compensation step `step` opened for the Done step `compensates`.
    event CompensationOpened(uint256 indexed runId, uint8 indexed step, uint8 compensates);
    /// @notice `account` withdrew `amount`.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice The owner set the remote-step router to `router` (zero: none).
    event RouterSet(address indexed router);
    /// @notice Remote `step` was sent to `chainId` (attempt `attempt`); a result must arrive
    /// before `deadline`.
    event StepDispatched(uint256 indexed runId, uint8 indexed step, uint64 chainId, uint8 attempt, uint64 deadline);
    /// @notice The deadline of a dispatched `step` passed; `attempt` counts failed attempts so far.
    /// Emitted by the transaction that materialises it (`expireRemote` or the next `dispatch`).
    event RemoteStepExpired(uint256 indexed runId, uint8 indexed step, uint8 attempt);
    /// @notice The remote chain reported `attempt` of `step`: Done when `success`, otherwise
    /// the attempt failed (Ready again, or Failed when it was the last).
    event RemoteResultReceived(
        uint256 indexed runId,
        uint8 indexed step,
        uint8 attempt,
        bytes32 resultHash,
        string resultURI,
        bool success
    );
    /// @notice A remote result for `attempt` of `step` came too late or for another attempt
    /// (the step is `state`); it changed nothing.
    event RemoteResultIgnored(uint256 indexed runId, uint8 indexed step, uint8 attempt, StepState state);

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

    /// @notice Cancel a run (creator only): unearned budget is credited back to the creator,
    /// every unfinished step becomes Cancelled.
    function cancelRun(uint256 runId) external;

    // ---------------------------------------------------------------- steps
    /// @notice Claim a Ready step for `agentId`; the caller must be eligible for the step's
    /// role (AgentRoles.isEligible) and becomes the lease holder and payee.
    function claim(uint256 runId, uint8 step, uint256 agentId) external;

    /// @notice Extend the caller's lease by leaseSeconds, capped at LEASE_CAP_FACTOR x
    /// leaseSeconds from the claim.
    function heartbeatLease(uint256 runId, uint8 step) external;

    /// @notice Submit the result commitment (lease holder, before the lease ends). A decision
    /// step passes the subset of its direct dependents that should run in `branches`.
    function submit(uint256 runId, uint8 step, bytes32 resultHash, string calldata resultURI, uint64 branches)
        external;

    /// @notice Validator `agentId` answers 0..100 on a Submitted step; >= APPROVAL_THRESHOLD
    /// approves. A quorum of approvals makes the step Done, a quorum of rejections retries it.
    function respond(uint256 runId, uint8 step, uint256 agentId, uint8 response) external;

    /// @notice Materialise a lapsed lease (anyone): Ready again, or Failed (and the run Failed)
    /// when it was the last attempt.
    function expireLease(uint256 runId, uint8 step) external;

    // ---------------------------------------------------------------- remote steps
    /// @notice Set the remote-step router (owner only; zero disables remote steps). Results of
    /// steps dispatched through a previous router are ignored from then on.
    function setRouter(address router) external;

    /// @notice Send a Ready remote step to its chain (anyone): Dispatched until a result
    /// arrives or `REMOTE_DEADLINE_FACTOR` x leaseSeconds pass. Materialises a passed deadline
    /// or an elapsed backoff first.
    function dispatch(uint256 runId, uint8 step) external;

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

    /// @notice Last lease of `step` and its current (derived) attempt number.
    function lease(uint256 runId, uint8 step)
        external
        view
        returns (uint256 agentId, address operator, uint64 leaseEnd, uint8 attempt);

    /// @notice Submitted result of `step` (latest attempt).
    function result(uint256 runId, uint8 step) external view returns (bytes32 resultHash, string memory resultURI);

    /// @notice Validation tallies of the current attempt of `step`.
    function tallies(uint256 runId, uint8 step) external view returns (uint8 approvals, uint8 rejections);

    /// @notice Whether validator `agentId` voted on the current attempt of `step`.
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
