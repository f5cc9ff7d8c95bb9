// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title IRemoteStepRouter
/// @notice Carries workflow steps that run on another chain, over an ERC-7786 gateway. One
/// router per chain, next to that chain's WorkflowCoordinator; it plays both parts.
///
/// Home side (the chain of the run): the coordinator calls `sendTask` when a remote step is
/// dispatched; the router sends a TASK message to the trusted router of the step's chain.
/// A RESULT message from that router becomes `coordinator.completeRemote`.
///
/// Remote side: a TASK opens a one-step run of the local coordinator (its definition is
/// registered on the fly; definitions are content-addressed so one shape is stored once),
/// paid from the deposit of the home run's creator (`deposit`), never from anyone else's.
/// A message never creates value: when that deposit is short the request is Unfunded and
/// anyone may `open` it once the creator's deposit covers the reward. Agents claim, submit
/// and validate that run as any other. When it is over (terminal, nothing left in escrow)
/// anyone calls `report`, which credits what the run did not pay out back to the creator's
/// deposit and sends the RESULT home; a run still unfinished at the task's deadline is
/// cancelled first and reported as a failure once its escrow has settled.
///
/// Ledger (remote side; the router is the creator of every run it opens, so the coordinator
/// credits those runs' refunds to the router):
///   balance + coordinator.owed(router) + sum(escrow of Open requests' runs)
///     == totalDeposits() + sum(reward - paid over Open requests)
/// where `paid` is the reward if the request's step is Done, else 0. Hence
/// balance + coordinator.owed(router) >= totalDeposits(): every deposit is always covered.
/// (Value forced in by selfdestruct only makes the left side larger.)
///
/// Messages (ERC-7786 payloads), each `abi.encode(uint8 kind, <struct>)`:
/// - kind 1 TASK, home -> remote: `Task`
/// - kind 2 RESULT, remote -> home: `Result`
/// Senders are checked on receipt: only from this router's gateway, only from the trusted
/// router (ERC-7930 address) of the origin chain.
///
/// requestId (remote side) = keccak256(abi.encode(homeChainId, homeCoordinator, runId, step, attempt)).
interface IRemoteStepRouter is IERC7786Recipient {
    // ---------------------------------------------------------------- types
    /// @notice What the home chain asks the remote chain to run.
    /// @param deadline Home-chain time after which the home step no longer accepts a result.
    /// @param inputHash Result hash of the step's lowest-index Done dependency (0 for a root).
    /// @param inputURI Result URI of that dependency ("" for a root).
    /// @param creator The home run's creator: its deposit on the remote router pays the task.
    struct Task {
        uint256 homeChainId;
        address homeCoordinator;
        uint256 runId;
        uint8 step;
        uint8 attempt;
        bytes32 role;
        uint8 quorum;
        uint32 leaseSeconds;
        uint8 maxAttempts;
        uint96 reward;
        uint64 deadline;
        bytes32 inputHash;
        string inputURI;
        address creator;
    }

    /// @notice What the remote chain reports back for one attempt of a step.
    struct Result {
        uint256 runId;
        uint8 step;
        uint8 attempt;
        bytes32 resultHash;
        string resultURI;
        bool success;
    }

    /// @notice Remote side: where a request stands.
    enum RequestState {
        None,
        Unfunded,
        Open,
        Reported
    }

    /// @notice Remote side: a received task and the local run that executes it.
    /// @param creator The home run's creator, whose deposit pays (and gets refunds of) it.
    struct Request {
        RequestState state;
        uint8 step;
        uint8 attempt;
        uint64 deadline;
        uint96 reward;
        uint256 homeChainId;
        uint256 homeRunId;
        uint256 remoteRunId;
        bytes32 definitionId;
        bytes32 inputHash;
        string inputURI;
        address creator;
    }

    // ---------------------------------------------------------------- errors
    /// @notice Only the coordinator may send tasks; `caller` is not it.
    error RouterNotCoordinator(address caller);
    /// @notice No trusted router is set for `chainId`.
    error RouterUnknownChain(uint256 chainId);
    /// @notice `receiveMessage` was called by `caller`, not this router's gateway.
    error RouterUnauthorizedGateway(address caller);
    /// @notice `sender` is not the trusted router of its chain (or not an EVM ERC-7930 address).
    error RouterUntrustedSender(bytes sender);
    /// @notice The payload's kind `kind` is not TASK (1) or RESULT (2).
    error RouterUnknownMessageKind(uint256 kind);
    /// @notice A TASK names coordinator `homeCoordinator`/chain `homeChainId` that does not
    /// match the sender's chain.
    error RouterTaskChainMismatch(uint256 homeChainId, uint256 senderChainId);
    /// @notice `requestId` was received already.
    error RouterDuplicateRequest(bytes32 requestId);
    /// @notice No request `requestId`.
    error RouterUnknownRequest(bytes32 requestId);
    /// @notice `open` needs an Unfunded request; `requestId` is `state`.
    error RouterRequestNotUnfunded(bytes32 requestId, RequestState state);
    /// @notice The deposit of `creator` is `balance`, the request needs `needed`; `deposit`
    /// for the creator first.
    error RouterUnfunded(bytes32 requestId, address creator, uint256 balance, uint256 needed);
    /// @notice The task's deadline `deadline` has passed; it can no longer be opened.
    error RouterRequestExpired(bytes32 requestId, uint64 deadline);
    /// @notice `report` needs an Open request; `requestId` was reported already.
    error RouterAlreadyReported(bytes32 requestId);
    /// @notice `report` needs an Open request; `requestId` is `state`.
    error RouterRequestNotOpen(bytes32 requestId, RequestState state);
    /// @notice The remote run of `requestId` is not over: it is `runState` (Running or Paused
    /// before the deadline), or it ended but `escrow` is still held for a step in flight.
    error RouterRunNotFinished(bytes32 requestId, uint8 runState, uint256 escrow);
    /// @notice `deposit` without value, or `withdrawDeposit` of zero.
    error RouterZeroAmount();
    /// @notice The result given to `report` is not the one the remote step submitted: read it
    /// from the remote coordinator's StepSubmitted event.
    error RouterResultMismatch(bytes32 requestId);
    /// @notice `deposit` for the zero address.
    error RouterInvalidCreator(address creator);
    /// @notice `withdrawDeposit` to the zero address.
    error RouterInvalidRecipient(address to);
    /// @notice `creator` has a deposit of `balance`, less than the `needed` it asked for.
    error RouterInsufficientDeposit(address creator, uint256 balance, uint256 needed);
    /// @notice Sending `amount` to `to` failed.
    error RouterTransferFailed(address to, uint256 amount);
    /// @notice Only the coordinator pays the router through `receive`; `caller` is not it.
    error RouterUnexpectedValue(address caller);

    // ---------------------------------------------------------------- events
    /// @notice The router of `chainId` is now `router` (zero: none).
    event RemoteRouterSet(uint256 indexed chainId, address router);
    /// @notice Home side: `step` of `runId` (attempt `attempt`) was sent to `chainId` as `messageId`.
    event TaskSent(uint256 indexed runId, uint8 indexed step, uint256 indexed chainId, uint8 attempt, bytes32 messageId);
    /// @notice Home side: a result for `step` of `runId` arrived from `chainId` and went to the coordinator.
    event ResultReceived(uint256 indexed runId, uint8 indexed step, uint256 indexed chainId, uint8 attempt, bool success);
    /// @notice Remote side: task `requestId` (home `homeChainId`/`runId`/`step`) arrived.
    event TaskReceived(
        bytes32 indexed requestId,
        uint256 indexed runId,
        uint8 indexed step,
        uint256 homeChainId,
        uint8 attempt,
        uint64 deadline
    );
    /// @notice Remote side: `requestId` arrived after its `deadline`; it will not be opened.
    event TaskExpired(bytes32 indexed requestId, uint256 indexed runId, uint8 indexed step, uint64 deadline);
    /// @notice Remote side: `requestId` waits until the deposit of `creator` (`balance`)
    /// covers its reward (`needed`).
    event TaskUnfunded(
        bytes32 indexed requestId,
        uint256 indexed runId,
        uint8 indexed step,
        address creator,
        uint256 balance,
        uint256 needed
    );
    /// @notice Remote side: `requestId` runs as `remoteRunId` of the local coordinator.
    event TaskOpened(bytes32 indexed requestId, uint256 indexed runId, uint8 indexed step, uint256 remoteRunId);
    /// @notice Remote side: the outcome of `requestId` was sent home as `messageId`.
    event ResultSent(bytes32 indexed requestId, uint256 indexed runId, uint8 indexed step, bool success, bytes32 messageId);
    /// @notice Remote side: past its deadline the run of `requestId` was cancelled, but
    /// `escrow` is still held for a step in flight; `report` again once it settled.
    event RemoteRunStopped(bytes32 indexed requestId, uint256 indexed remoteRunId, uint256 escrow);
    /// @notice `payer` added `amount` to the deposit of `creator`, now `balance`.
    event Deposited(address indexed creator, address indexed payer, uint256 amount, uint256 balance);
    /// @notice `creator` withdrew `amount` of its deposit to `to`; `balance` is left.
    event DepositWithdrawn(address indexed creator, address indexed to, uint256 amount, uint256 balance);
    /// @notice Opening `requestId` took its reward `amount` from the deposit of `creator`
    /// (`balance` left).
    event DepositCharged(address indexed creator, bytes32 indexed requestId, uint256 amount, uint256 balance);
    /// @notice Reporting `requestId` gave back `amount` its run did not pay out to the
    /// deposit of `creator` (now `balance`).
    event DepositRefunded(address indexed creator, bytes32 indexed requestId, uint256 amount, uint256 balance);
    /// @notice The router pulled `amount` of refunds from the coordinator.
    event Reclaimed(uint256 amount);

    // ---------------------------------------------------------------- admin
    /// @notice Trust `router` as the router of `chainId` (owner only; zero forgets the chain).
    function setRemoteRouter(uint256 chainId, address router) external;

    // ---------------------------------------------------------------- home side
    /// @notice Send `step` of `runId` to `chainId` (coordinator only) with its input, which
    /// the coordinator checked against its dependency's result commitment.
    function sendTask(
        uint256 runId,
        uint8 step,
        uint256 chainId,
        uint8 attempt,
        uint64 deadline,
        bytes32 inputHash,
        string calldata inputURI
    ) external;

    // ---------------------------------------------------------------- remote side
    /// @notice Add `msg.value` to the deposit of `creator` (anyone may top it up); it only
    /// ever pays tasks of runs `creator` started, and only `creator` withdraws it.
    function deposit(address creator) external payable;

    /// @notice Withdraw `amount` of the caller's own deposit to `to`.
    function withdrawDeposit(uint256 amount, address payable to) external;

    /// @notice Open an Unfunded request once its creator's deposit covers its reward (anyone).
    function open(bytes32 requestId) external;

    /// @notice Send the outcome of an Open request home (anyone) once its run is over: ended
    /// (Completed, Failed or Cancelled) with no escrow left. Success iff the step is Done (the
    /// executor was paid); otherwise the reward goes back to the creator's deposit. Past the
    /// deadline a Running or Paused run is cancelled first; if a step in flight still holds
    /// escrow after that, the request stays Open (`RemoteRunStopped`) until it settles.
    /// `resultHash` and `resultURI` are the step's result as the remote StepSubmitted event
    /// gave it, checked against the remote coordinator's `resultCommitment` when the step is
    /// Done (else RouterResultMismatch); ignored otherwise.
    function report(bytes32 requestId, bytes32 resultHash, string calldata resultURI) external;

    /// @notice Pull the router's refunds (failed or cancelled remote runs) from the coordinator
    /// into its balance (anyone). They already belong to creators' deposits (credited at
    /// `report`); withdrawals and openings also pull them when the balance alone is short.
    function reclaim() external;

    // ---------------------------------------------------------------- views
    /// @notice Whether a trusted router is set for `chainId`.
    function knowsChain(uint256 chainId) external view returns (bool);

    /// @notice The trusted router of `chainId` (zero when none).
    function remoteRouter(uint256 chainId) external view returns (address);

    /// @notice A received request.
    function request(bytes32 requestId) external view returns (Request memory);

    /// @notice The deposit of `creator`: what its tasks can still be paid from.
    function depositOf(address creator) external view returns (uint256);

    /// @notice The sum of all deposits.
    function totalDeposits() external view returns (uint256);

    /// @notice The id a request gets on the remote chain.
    function requestIdOf(uint256 homeChainId, address homeCoordinator, uint256 runId, uint8 step, uint8 attempt)
        external
        pure
        returns (bytes32);

    /// @notice The wiring fixed at deployment.
    function wiring() external view returns (address coordinator, address gateway);
}
