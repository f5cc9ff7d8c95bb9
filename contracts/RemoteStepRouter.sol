// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC7786GatewaySource, IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";
import {InteroperableAddress} from "@openzeppelin/contracts/utils/draft-InteroperableAddress.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRemoteStepRouter} from "../interfaces/IRemoteStepRouter.sol";
import {IWorkflowCoordinator} from "../interfaces/IWorkflowCoordinator.sol";
import {IWorkflowCoordinatorTypes} from "../interfaces/IWorkflowCoordinatorTypes.sol";
import {ResultCommitments} from "./libraries/ResultCommitments.sol";

/// @title RemoteStepRouter
/// @notice Carries remote workflow steps between the coordinators of two chains over an
/// ERC-7786 gateway (see {IRemoteStepRouter} for the roles, the messages and the trust rules).
/// @dev The coordinator and the gateway are trusted (fixed at deployment); trusted remote
/// routers are set by the owner. Remote tasks are paid from per-creator deposits: a task
/// charges only the deposit of its home run's creator, and whatever its remote run did not
/// pay out goes back to that deposit at `report`. The native balance only grows by `deposit`
/// and by refunds pulled from the coordinator, never by a message.
contract RemoteStepRouter is IRemoteStepRouter, Ownable, ReentrancyGuardTransient {
    using InteroperableAddress for bytes;

    // ---------------------------------------------------------------- constants
    /// @notice Payload kind of a task (home -> remote).
    uint256 public constant TASK = 1;
    /// @notice Payload kind of a result (remote -> home).
    uint256 public constant RESULT = 2;
    uint8 private constant NO_STEP = type(uint8).max;
    /// @dev ERC-7985 `minGasLimit(uint256)`: the recipient gas each message fixes for itself,
    /// so no relayer can make it fail by giving less.
    bytes4 private constant _GAS_LIMIT_ATTRIBUTE = bytes4(keccak256("minGasLimit(uint256)"));
    /// @dev A TASK registers a one-step definition and opens a run on the remote coordinator.
    uint256 private constant _TASK_GAS = 1_500_000;
    /// @dev A RESULT completes (or refunds) one step on the home coordinator.
    uint256 private constant _RESULT_GAS = 500_000;

    // ---------------------------------------------------------------- storage
    IWorkflowCoordinator private immutable _coordinator;
    IERC7786GatewaySource private immutable _gateway;
    mapping(uint256 chainId => address router) private _routers;
    mapping(bytes32 requestId => Request) private _requests;
    mapping(address creator => uint256) private _deposits;
    uint256 private _totalDeposits;

    /// @param coordinator_ This chain's WorkflowCoordinator (its `setRouter` must name this router).
    /// @param gateway_ This chain's ERC-7786 gateway (AccordGateway).
    /// @param admin Owner: sets the trusted remote routers.
    constructor(IWorkflowCoordinator coordinator_, IERC7786GatewaySource gateway_, address admin) Ownable(admin) {
        _coordinator = coordinator_;
        _gateway = gateway_;
    }

    /// @notice Accepts refunds from the coordinator only (`reclaim`); creators use `deposit`.
    receive() external payable {
        if (msg.sender != address(_coordinator)) revert RouterUnexpectedValue(msg.sender);
    }

    // ---------------------------------------------------------------- admin
    /// @inheritdoc IRemoteStepRouter
    function setRemoteRouter(uint256 chainId, address router) external onlyOwner {
        _routers[chainId] = router;
        emit RemoteRouterSet(chainId, router);
    }

    // ---------------------------------------------------------------- home side
    /// @inheritdoc IRemoteStepRouter
    function sendTask(
        uint256 runId,
        uint8 step,
        uint256 chainId,
        uint8 attempt,
        uint64 deadline,
        bytes32 inputHash,
        string calldata inputURI
    ) external {
        // CHECKS
        if (msg.sender != address(_coordinator)) revert RouterNotCoordinator(msg.sender);
        address to = _routers[chainId];
        if (to == address(0)) revert RouterUnknownChain(chainId);
        Task memory task = _task(runId, step, attempt, deadline);
        (task.inputHash, task.inputURI) = (inputHash, inputURI);
        // INTERACTIONS (no state of its own to change)
        bytes32 messageId = _gateway.sendMessage(
            InteroperableAddress.formatEvmV1(chainId, to),
            abi.encode(TASK, task),
            _gasAttribute(_TASK_GAS)
        );
        emit TaskSent(runId, step, chainId, attempt, messageId);
    }

    // ---------------------------------------------------------------- both sides
    /// @notice ERC-7786 entry point: only from this router's gateway, only from the trusted
    /// router of the origin chain. A TASK opens a remote run; a RESULT completes a home step.
    function receiveMessage(bytes32, bytes calldata sender, bytes calldata payload)
        external
        payable
        nonReentrant
        returns (bytes4)
    {
        // CHECKS
        if (msg.sender != address(_gateway)) revert RouterUnauthorizedGateway(msg.sender);
        (bool ok, uint256 chainId, address from) = sender.tryParseEvmV1Calldata();
        if (!ok || from == address(0) || _routers[chainId] != from) revert RouterUntrustedSender(sender);
        uint256 kind = payload.length < 32 ? 0 : uint256(bytes32(payload[:32]));
        if (kind == TASK) {
            _receiveTask(chainId, payload);
        } else if (kind == RESULT) {
            _receiveResult(chainId, payload);
        } else {
            revert RouterUnknownMessageKind(kind);
        }
        return IERC7786Recipient.receiveMessage.selector;
    }

    // ---------------------------------------------------------------- remote side
    /// @inheritdoc IRemoteStepRouter
    function deposit(address creator) external payable {
        // CHECKS
        if (msg.value == 0) revert RouterZeroAmount();
        if (creator == address(0)) revert RouterInvalidCreator(creator);
        // EFFECTS
        uint256 balance = _deposits[creator] + msg.value;
        _deposits[creator] = balance;
        _totalDeposits += msg.value;
        emit Deposited(creator, msg.sender, msg.value, balance);
    }

    /// @inheritdoc IRemoteStepRouter
    function withdrawDeposit(uint256 amount, address payable to) external nonReentrant {
        // CHECKS
        if (amount == 0) revert RouterZeroAmount();
        if (to == address(0)) revert RouterInvalidRecipient(to);
        uint256 balance = _deposits[msg.sender];
        if (balance < amount) revert RouterInsufficientDeposit(msg.sender, balance, amount);
        // EFFECTS
        // unchecked: amount <= balance (checked above) and <= _totalDeposits (a sum including it)
        unchecked {
            balance -= amount;
            _totalDeposits -= amount;
        }
        _deposits[msg.sender] = balance;
        emit DepositWithdrawn(msg.sender, to, amount, balance);
        // INTERACTIONS
        _cover(amount);
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert RouterTransferFailed(to, amount);
    }

    /// @inheritdoc IRemoteStepRouter
    function open(bytes32 requestId) external nonReentrant {
        Request storage q = _requests[requestId];
        RequestState st = q.state;
        if (st == RequestState.None) revert RouterUnknownRequest(requestId);
        if (st != RequestState.Unfunded) revert RouterRequestNotUnfunded(requestId, st);
        if (block.timestamp >= q.deadline) revert RouterRequestExpired(requestId, q.deadline);
        uint256 balance = _deposits[q.creator];
        if (balance < q.reward) revert RouterUnfunded(requestId, q.creator, balance, q.reward);
        _open(requestId, q);
    }

    // The refund below depends on the run's state after the cancel; the callee is this chain's
    // immutable, trusted coordinator and `report` is nonReentrant.
    // slither-disable-start reentrancy-no-eth
    /// @inheritdoc IRemoteStepRouter
    function report(bytes32 requestId, bytes32 resultHash, string calldata resultURI) external nonReentrant {
        // CHECKS
        Request storage q = _requests[requestId];
        RequestState st = q.state;
        if (st == RequestState.None) revert RouterUnknownRequest(requestId);
        if (st == RequestState.Reported) revert RouterAlreadyReported(requestId);
        if (st != RequestState.Open) revert RouterRequestNotOpen(requestId, st);
        uint256 homeChainId = q.homeChainId;
        address home = _routers[homeChainId];
        if (home == address(0)) revert RouterUnknownChain(homeChainId);
        uint256 runId = q.remoteRunId;
        IWorkflowCoordinatorTypes.RunInfo memory info = _coordinator.runInfo(runId);
        if (_live(info.state)) {
            if (block.timestamp < q.deadline) revert RouterRunNotFinished(requestId, uint8(info.state), info.escrow);
            // Past the deadline the home chain no longer waits: stop the run.
            _coordinator.cancelRun(runId);
            info = _coordinator.runInfo(runId);
            if (info.escrow != 0) {
                // a step in flight keeps its reward in escrow until it settles: keep the cancel
                // (no new claims) and report once the escrow is 0
                emit RemoteRunStopped(requestId, runId, info.escrow);
                return;
            }
        } else if (info.escrow != 0) {
            revert RouterRunNotFinished(requestId, uint8(info.state), info.escrow);
        }
        // The run is over and its escrow settled: its one step was paid (Done) or its whole
        // budget, the reward, was credited back to this router.
        bool paid = _coordinator.stepState(runId, 0) == IWorkflowCoordinatorTypes.StepState.Done;
        Result memory res = Result({
            runId: q.homeRunId,
            step: q.step,
            attempt: q.attempt,
            resultHash: bytes32(0),
            resultURI: "",
            success: paid
        });
        if (paid) {
            if (ResultCommitments.commit(resultHash, resultURI) != _coordinator.resultCommitment(runId, 0)) {
                revert RouterResultMismatch(requestId);
            }
            (res.resultHash, res.resultURI) = (resultHash, resultURI);
        }
        // EFFECTS
        q.state = RequestState.Reported;
        if (!paid) _refund(requestId, q);
        // INTERACTIONS
        bytes32 messageId = _gateway.sendMessage(
            InteroperableAddress.formatEvmV1(homeChainId, home),
            abi.encode(RESULT, res),
            _gasAttribute(_RESULT_GAS)
        );
        emit ResultSent(requestId, res.runId, res.step, res.success, messageId);
    }
    // slither-disable-end reentrancy-no-eth

    /// @inheritdoc IRemoteStepRouter
    function reclaim() external nonReentrant {
        _reclaim();
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc IRemoteStepRouter
    function knowsChain(uint256 chainId) external view returns (bool) {
        return _routers[chainId] != address(0);
    }

    /// @inheritdoc IRemoteStepRouter
    function remoteRouter(uint256 chainId) external view returns (address) {
        return _routers[chainId];
    }

    /// @inheritdoc IRemoteStepRouter
    function request(bytes32 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @inheritdoc IRemoteStepRouter
    function depositOf(address creator) external view returns (uint256) {
        return _deposits[creator];
    }

    /// @inheritdoc IRemoteStepRouter
    function totalDeposits() external view returns (uint256) {
        return _totalDeposits;
    }

    /// @inheritdoc IRemoteStepRouter
    function requestIdOf(uint256 homeChainId, address homeCoordinator, uint256 runId, uint8 step, uint8 attempt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(homeChainId, homeCoordinator, runId, step, attempt));
    }

    /// @inheritdoc IRemoteStepRouter
    function wiring() external view returns (address coordinator, address gateway) {
        return (address(_coordinator), address(_gateway));
    }

    // ---------------------------------------------------------------- internal
    /// @dev The TASK for `step` of `runId`: its spec (the input is the one the coordinator
    /// checked and passed, the result of the step's lowest-index Done dependency).
    function _task(uint256 runId, uint8 step, uint8 attempt, uint64 deadline) private view returns (Task memory t) {
        IWorkflowCoordinatorTypes.RunInfo memory info = _coordinator.runInfo(runId);
        IWorkflowCoordinatorTypes.StepSpec memory s = _coordinator.definitionStep(info.definitionId, step);
        t.homeChainId = block.chainid;
        t.homeCoordinator = address(_coordinator);
        t.runId = runId;
        t.step = step;
        t.attempt = attempt;
        t.role = s.role;
        t.quorum = s.quorum;
        t.leaseSeconds = s.leaseSeconds;
        t.maxAttempts = s.maxAttempts;
        t.reward = s.reward;
        t.deadline = deadline;
        t.creator = info.creator;
    }

    /// @dev Remote side: record the task, register its one-step definition, open it if the
    /// creator's deposit covers the reward and the deadline has not passed.
    function _receiveTask(uint256 fromChain, bytes calldata payload) private {
        (, Task memory t) = abi.decode(payload, (uint256, Task));
        if (t.homeChainId != fromChain) revert RouterTaskChainMismatch(t.homeChainId, fromChain);
        bytes32 requestId = requestIdOf(t.homeChainId, t.homeCoordinator, t.runId, t.step, t.attempt);
        Request storage q = _requests[requestId];
        if (q.state != RequestState.None) revert RouterDuplicateRequest(requestId);
        // EFFECTS
        q.state = RequestState.Unfunded;
        q.step = t.step;
        q.attempt = t.attempt;
        q.deadline = t.deadline;
        q.reward = t.reward;
        q.homeChainId = t.homeChainId;
        q.homeRunId = t.runId;
        q.inputHash = t.inputHash;
        q.inputURI = t.inputURI;
        q.creator = t.creator;
        emit TaskReceived(requestId, t.runId, t.step, t.homeChainId, t.attempt, t.deadline);
        // INTERACTIONS (the trusted coordinator; content-addressed, so idempotent)
        q.definitionId = _coordinator.registerDefinition(_oneStep(t));
        if (block.timestamp >= t.deadline) {
            emit TaskExpired(requestId, t.runId, t.step, t.deadline);
        } else if (_deposits[t.creator] < t.reward) {
            emit TaskUnfunded(requestId, t.runId, t.step, t.creator, _deposits[t.creator], t.reward);
        } else {
            _open(requestId, q);
        }
    }

    /// @dev Charge the creator's deposit (the caller checked it covers the reward) and start
    /// the remote run with the request's reward as its budget.
    function _open(bytes32 requestId, Request storage q) private {
        address creator = q.creator;
        uint256 reward = q.reward;
        // EFFECTS
        // unchecked: the caller checked reward <= _deposits[creator] <= _totalDeposits
        uint256 left;
        unchecked {
            left = _deposits[creator] - reward;
            _totalDeposits -= reward;
        }
        _deposits[creator] = left;
        q.state = RequestState.Open;
        emit DepositCharged(creator, requestId, reward, left);
        // INTERACTIONS
        // The callee is this chain's immutable, trusted coordinator; every entry point that
        // reaches here is nonReentrant and the request is Open before the call; only the id
        // it returns is written after it.
        _cover(reward);
        // slither-disable-next-line reentrancy-eth
        uint256 remoteRunId = _coordinator.startRun{value: reward}(q.definitionId, q.inputHash, q.inputURI);
        q.remoteRunId = remoteRunId;
        emit TaskOpened(requestId, q.homeRunId, q.step, remoteRunId);
    }

    /// @dev The request's run ended without paying its step: its whole budget (the reward)
    /// was credited to this router by the coordinator; it belongs to the creator's deposit.
    function _refund(bytes32 requestId, Request storage q) private {
        address creator = q.creator;
        uint256 reward = q.reward;
        if (reward == 0) return;
        uint256 balance = _deposits[creator] + reward;
        _deposits[creator] = balance;
        _totalDeposits += reward;
        emit DepositRefunded(creator, requestId, reward, balance);
    }

    /// @dev Make the native balance cover `amount`: refunds credited to deposits at `report`
    /// may still sit with the coordinator (balance + owed >= totalDeposits, see the ledger in
    /// {IRemoteStepRouter}, so pulling them always suffices).
    function _cover(uint256 amount) private {
        if (address(this).balance < amount) _reclaim();
    }

    /// @dev Pull everything the coordinator owes this router.
    function _reclaim() private {
        uint256 before = address(this).balance;
        _coordinator.withdraw();
        emit Reclaimed(address(this).balance - before);
    }

    /// @dev Whether a run may still change (claims, submissions).
    function _live(IWorkflowCoordinatorTypes.RunState s) private pure returns (bool) {
        return s == IWorkflowCoordinatorTypes.RunState.Running || s == IWorkflowCoordinatorTypes.RunState.Paused;
    }

    /// @dev Home side: hand the verdict to the coordinator (it ignores stale attempts).
    function _receiveResult(uint256 fromChain, bytes calldata payload) private {
        (, Result memory res) = abi.decode(payload, (uint256, Result));
        emit ResultReceived(res.runId, res.step, fromChain, res.attempt, res.success);
        _coordinator.completeRemote(
            res.runId,
            res.step,
            res.attempt,
            uint64(fromChain),
            res.resultHash,
            res.resultURI,
            res.success
        );
    }

    /// @dev The one-step definition a task runs as: same role, lease, attempts, quorum and
    /// reward; no backoff, no dependencies; validators hold the coordinator's global role.
    function _oneStep(Task memory t) private view returns (IWorkflowCoordinatorTypes.WorkflowDefinition memory def) {
        IWorkflowCoordinatorTypes.StepSpec[] memory steps = new IWorkflowCoordinatorTypes.StepSpec[](1);
        steps[0] = IWorkflowCoordinatorTypes.StepSpec({
            role: t.role,
            deps: 0,
            join: 0,
            leaseSeconds: t.leaseSeconds,
            maxAttempts: t.maxAttempts,
            backoffInitial: 0,
            backoffMultiplier: 1,
            backoffCap: 0,
            quorum: t.quorum,
            reward: t.reward,
            compensation: NO_STEP,
            decision: false,
            chainId: uint64(block.chainid)
        });
        def.steps = steps;
    }

    /// @dev The attributes of a message whose recipient call needs `gasLimit` gas.
    function _gasAttribute(uint256 gasLimit) private pure returns (bytes[] memory attributes) {
        attributes = new bytes[](1);
        attributes[0] = abi.encodeWithSelector(_GAS_LIMIT_ATTRIBUTE, gasLimit);
    }
}
