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
/// funded from the router's balance (`fund`). A message never creates value: when the
/// balance is short the request is Unfunded and anyone may `open` it after funding. Agents
/// claim, submit and validate that run as any other. When it ends, anyone calls `report`,
/// which sends the RESULT back (a run still unfinished at the task's deadline is cancelled
/// and reported as a failure).
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
    /// @notice The router holds `balance`, the request needs `needed`; `fund` it first.
    error RouterUnfunded(bytes32 requestId, uint256 balance, uint256 needed);
    /// @notice The task's deadline `deadline` has passed; it can no longer be opened.
    error RouterRequestExpired(bytes32 requestId, uint64 deadline);
    /// @notice `report` needs an Open request; `requestId` was reported already.
    error RouterAlreadyReported(bytes32 requestId);
    /// @notice `report` needs an Open request; `requestId` is `state`.
    error RouterRequestNotOpen(bytes32 requestId, RequestState state);
    /// @notice The remote run of `requestId` is `runState` and its deadline has not passed.
    error RouterRunNotFinished(bytes32 requestId, uint8 runState);
    /// @notice `fund` was called without value.
    error RouterZeroFunding();
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
    /// @notice Remote side: `requestId` waits for funding (`balance` < `needed`).
    event TaskUnfunded(bytes32 indexed requestId, uint256 indexed runId, uint8 indexed step, uint256 balance, uint256 needed);
    /// @notice Remote side: `requestId` runs as `remoteRunId` of the local coordinator.
    event TaskOpened(bytes32 indexed requestId, uint256 indexed runId, uint8 indexed step, uint256 remoteRunId);
    /// @notice Remote side: the outcome of `requestId` was sent home as `messageId`.
    event ResultSent(bytes32 indexed requestId, uint256 indexed runId, uint8 indexed step, bool success, bytes32 messageId);
    /// @notice `from` added `amount`; the router now holds `balance`.
    event Funded(address indexed from, uint256 amount, uint256 balance);
    /// @notice The router pulled `amount` of refunds from the coordinator.
    event Reclaimed(uint256 amount);

    // ---------------------------------------------------------------- admin
    /// @notice Trust `router` as the router of `chainId` (owner only; zero forgets the chain).
    function setRemoteRouter(uint256 chainId, address router) external;

    // ---------------------------------------------------------------- home side
    /// @notice Send `step` of `runId` to `chainId` (coordinator only).
    function sendTask(uint256 runId, uint8 step, uint256 chainId, uint8 attempt, uint64 deadline) external;

    // ---------------------------------------------------------------- remote side
    /// @notice Add `msg.value` to the balance that funds remote tasks (anyone).
    function fund() external payable;

    /// @notice Open an Unfunded request once the balance covers its reward (anyone).
    function open(bytes32 requestId) external;

    /// @notice Send the outcome of an Open request home (anyone): its run Completed (success,
    /// with the run's result), Failed or Cancelled (failure); a run unfinished at the deadline
    /// is cancelled first and reported as a failure.
    function report(bytes32 requestId) external;

    /// @notice Pull the router's refunds (failed or cancelled remote runs) from the coordinator
    /// back into its balance (anyone).
    function reclaim() external;

    // ---------------------------------------------------------------- views
    /// @notice Whether a trusted router is set for `chainId`.
    function knowsChain(uint256 chainId) external view returns (bool);

    /// @notice The trusted router of `chainId` (zero when none).
    function remoteRouter(uint256 chainId) external view returns (address);

    /// @notice A received request.
    function request(bytes32 requestId) external view returns (Request memory);

    /// @notice The id a request gets on the remote chain.
    function requestIdOf(uint256 homeChainId, address homeCoordinator, uint256 runId, uint8 step, uint8 attempt)
        external
        pure
        returns (bytes32);

    /// @notice The wiring fixed at deployment.
    function wiring() external view returns (address coordinator, address gateway);
}
