// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IWorkflowCoordinatorTypes
/// @notice The types, errors and events of the workflow coordinator (IWorkflowCoordinator has
/// its functions). Split out so that the coordinator's extension (the contract it delegates its
/// colder functions to) shares them without declaring every function.
interface IWorkflowCoordinatorTypes {
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

    /// @notice What happens to a Submitted attempt nobody decided by its validation deadline.
    enum ValidationTimeout {
        Retry,
        Accept,
        Fail
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
    /// @param slashAmount The stake: locked from each claim (executor role) and each vote
    /// (validator role) until that attempt settles; slashed from an executor whose lease lapses.
    /// @param validationSeconds Time validators have after a submit (0 = LEASE_CAP_FACTOR x the
    /// step's leaseSeconds).
    /// @param onValidationTimeout What an undecided attempt becomes at its validation deadline.
    struct WorkflowDefinition {
        bytes32 validatorRole;
        uint128 slashAmount;
        uint32 validationSeconds;
        ValidationTimeout onValidationTimeout;
        StepSpec[] steps;
    }

    /// @notice A judge's vote signed off-chain, so that anyone can bring several judges' votes
    /// in one transaction (`respondSigned`). `signer` is the validator agent's owner or one
    /// of its operators (an EOA, or a contract that answers ERC-1271); `signature` is over the
    /// EIP-712 `Vote(uint256 runId,uint8 step,uint8 attempt,uint256 agentId,uint8 response)`
    /// in the domain `("Accord WorkflowCoordinator", "1", chainid, coordinator)`.
    struct SignedVote {
        uint256 agentId;
        uint8 response;
        address signer;
        bytes signature;
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
    /// @notice agentIds above 2**40 - 1 (1.1e12) are not supported: an agentId shares the one
    /// storage word a claim writes with the operator, its deadline and its state.
    error CoordinatorAgentIdTooLarge(uint256 agentId);
    /// @notice Validator `agentId` is not independent of the executor of `step`: its owner or
    /// its operator is the executor agent's owner or one of its operators.
    error CoordinatorValidatorNotIndependent(uint256 runId, uint8 step, uint256 agentId);
    /// @notice An agent of `owner` already voted on this attempt of `step`.
    error CoordinatorAlreadyVoted(uint256 runId, uint8 step, address owner);
    /// @notice The signature of `signer` on the vote of `agentId` for the current attempt of
    /// `step` does not verify (wrong signer, another step, run, attempt, response, chain or
    /// coordinator, or malformed).
    error CoordinatorInvalidVoteSignature(uint256 runId, uint8 step, uint256 agentId, address signer);
    /// @notice `respondSigned` was given no votes.
    error CoordinatorNoVotes(uint256 runId, uint8 step);
    /// @notice `expireValidation` needs a Submitted step past its deadline `deadline`.
    error CoordinatorValidationNotExpired(uint256 runId, uint8 step, StepState state, uint64 deadline);
    /// @notice The verdict on `attempt` of `step` is not final yet.
    error CoordinatorVerdictPending(uint256 runId, uint8 step, uint8 attempt);
    /// @notice No unreleased vote of `owner` on `attempt` of `step`.
    error CoordinatorNoVoteStake(uint256 runId, uint8 step, uint8 attempt, address owner);
    /// @notice The registry refused the outcome record of `agentId` (it made this coordinator
    /// its operator); revoke that and `publishOutcomes` again before claiming or voting.
    error CoordinatorRecordBlocked(uint256 agentId);
    /// @notice Publishing needs an ended run with nothing in flight; `runId` is `state`.
    error CoordinatorRunNotSettled(uint256 runId, RunState state);
    /// @notice The outcomes of `agentId` in `runId` were published already.
    error CoordinatorAlreadyPublished(uint256 runId, uint256 agentId);
    /// @notice `agentId` has no outcome in `runId` to publish.
    error CoordinatorNothingToPublish(uint256 runId, uint256 agentId);
    /// @notice `publishValidation` needs a Done step decided by a quorum, not yet published.
    error CoordinatorNoVerdictToPublish(uint256 runId, uint8 step);
    /// @notice The result hash and URI given are not the ones `step` submitted (its
    /// `resultCommitment`); read them from its StepSubmitted or RemoteResultReceived event.
    error CoordinatorResultMismatch(uint256 runId, uint8 step);
    /// @notice Validation responses are 0..100; got `response`.
    error CoordinatorInvalidResponse(uint8 response);
    /// @notice `branches` is not a subset of `allowed` (the decision's direct dependents;
    /// 0 for a step that is not a decision).
    error CoordinatorInvalidBranches(uint256 runId, uint8 step, uint64 branches, uint64 allowed);
    /// @notice A result URI of `length` bytes is longer than MAX_URI_BYTES (2,048): publish the
    /// result where a shorter URI reaches it.
    error CoordinatorResultURITooLong(uint256 length);
    /// @notice The coordinator's extension runs only by DELEGATECALL from its coordinator.
    error CoordinatorNotDelegated();
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
        /// @notice Validator `agentId` (of `owner`) answered `response` on `attempt` of `step`;
    /// tallies after the vote. Its stake stays locked until that verdict is final.
    event StepValidated(
        uint256 indexed runId,
        uint8 indexed step,
        uint256 indexed agentId,
        uint8 response,
        uint8 approvals,
        uint8 rejections,
        uint8 attempt,
        address owner
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
    /// @notice Nobody decided `attempt` of `step` by its validation deadline; `policy` applied.
    event ValidationExpired(uint256 indexed runId, uint8 indexed step, uint8 attempt, ValidationTimeout policy);
    /// @notice A step that was in flight when its run was cancelled ended without a Done:
    /// `refund` went back to the creator.
    event InflightRefunded(uint256 indexed runId, uint8 indexed step, uint256 refund);
    /// @notice The stake `owner`'s validator `agentId` locked for `attempt` of `step` was freed.
    event VoteStakeReleased(
        uint256 indexed runId, uint8 indexed step, uint256 indexed agentId, uint8 attempt, address owner
    );
    /// @notice The outcomes of `agentId` in `runId` (`done` steps, `failed` attempts) were
    /// recorded in the ERC-8004 Reputation Registry as `value` (percent of attempts Done).
    event OutcomesPublished(uint256 indexed runId, uint256 indexed agentId, uint8 done, uint8 failed, int128 value);
    /// @notice The Reputation Registry refused the record of `agentId` in `runId`; the agent
    /// cannot claim or vote until a later publish succeeds.
    event OutcomesRefused(uint256 indexed runId, uint256 indexed agentId);
    /// @notice The verdict on `step` was recorded in the ERC-8004 Validation Registry.
    event ValidationPublished(uint256 indexed runId, uint8 indexed step, bytes32 requestHash, uint8 response);
    /// @notice The Validation Registry refused `requestHash` (e.g. squatted); publish again
    /// (a new hash is used each time).
    event ValidationRefused(uint256 indexed runId, uint8 indexed step, bytes32 requestHash);
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
}
