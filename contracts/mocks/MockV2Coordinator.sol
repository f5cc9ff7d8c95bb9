// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IWorkflowCoordinatorTypes} from "../../interfaces/IWorkflowCoordinatorTypes.sol";

/// @title MockV2Coordinator
/// @notice Test-only stand-in for the remote side of a v2 coordinator, just what
/// RemoteStepRouter calls on it: one-step runs whose `cancelRun` leaves a Claimed or
/// Submitted step in flight, its reward still in escrow until the test `settle`s it (Done
/// pays `payee`, anything else refunds the creator).
contract MockV2Coordinator {
    struct Run {
        address creator;
        IWorkflowCoordinatorTypes.RunState state;
        IWorkflowCoordinatorTypes.StepState step;
        uint256 escrow;
    }

    mapping(uint256 runId => Run) private _runs;
    mapping(address account => uint256) private _owed;
    uint256 private _runCount;

    error MockV2NotCreator(address caller);
    error MockV2NothingOwed(address account);
    error MockV2TransferFailed(address to, uint256 amount);

    /// @notice Content-addressed like the real one.
    function registerDefinition(IWorkflowCoordinatorTypes.WorkflowDefinition calldata d) external pure returns (bytes32) {
        return keccak256(abi.encode(d));
    }

    /// @notice A Running run whose one step is Ready, `msg.value` escrowed.
    function startRun(bytes32, bytes32, string calldata) external payable returns (uint256 runId) {
        runId = ++_runCount;
        _runs[runId] = Run(msg.sender, IWorkflowCoordinatorTypes.RunState.Running, IWorkflowCoordinatorTypes.StepState.Ready, msg.value);
    }

    /// @notice The step is claimed (test control).
    function claimStep(uint256 runId) external {
        _runs[runId].step = IWorkflowCoordinatorTypes.StepState.Claimed;
    }

    /// @notice v2 cancel: a Claimed or Submitted step stays in flight with its reward.
    function cancelRun(uint256 runId) external {
        Run storage r = _runs[runId];
        if (msg.sender != r.creator) revert MockV2NotCreator(msg.sender);
        r.state = IWorkflowCoordinatorTypes.RunState.Cancelled;
        IWorkflowCoordinatorTypes.StepState s = r.step;
        if (s == IWorkflowCoordinatorTypes.StepState.Claimed || s == IWorkflowCoordinatorTypes.StepState.Submitted) return;
        r.step = IWorkflowCoordinatorTypes.StepState.Cancelled;
        _owed[r.creator] += r.escrow;
        r.escrow = 0;
    }

    /// @notice The step in flight settles (test control): Done pays `payee`, else a refund.
    function settle(uint256 runId, bool done, address payee) external {
        Run storage r = _runs[runId];
        r.step = done ? IWorkflowCoordinatorTypes.StepState.Done : IWorkflowCoordinatorTypes.StepState.Cancelled;
        _owed[done ? payee : r.creator] += r.escrow;
        r.escrow = 0;
        if (r.state == IWorkflowCoordinatorTypes.RunState.Running) {
            r.state = done ? IWorkflowCoordinatorTypes.RunState.Completed : IWorkflowCoordinatorTypes.RunState.Failed;
        }
    }

    /// @notice Pay the caller its credit.
    function withdraw() external {
        uint256 amount = _owed[msg.sender];
        if (amount == 0) revert MockV2NothingOwed(msg.sender);
        _owed[msg.sender] = 0;
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert MockV2TransferFailed(msg.sender, amount);
    }

    /// @notice Stored facts of a run (only creator, state and escrow are meaningful).
    function runInfo(uint256 runId) external view returns (IWorkflowCoordinatorTypes.RunInfo memory info) {
        Run storage r = _runs[runId];
        info.creator = r.creator;
        info.state = r.state;
        info.escrow = r.escrow;
    }

    /// @notice The state of the run's one step.
    function stepState(uint256 runId, uint8) external view returns (IWorkflowCoordinatorTypes.StepState) {
        return _runs[runId].step;
    }

    /// @notice The commitment of a fixed result: (0x77, "ipfs://v2").
    function resultCommitment(uint256, uint8) external pure returns (bytes32) {
        return keccak256(abi.encode(bytes32(uint256(0x77)), "ipfs://v2"));
    }

    /// @notice Credit of `account`.
    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }
}
