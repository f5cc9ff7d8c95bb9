// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IWorkflowCoordinator} from "../../interfaces/IWorkflowCoordinator.sol";

/// @title MockReentrantPayee
/// @notice Test-only malicious operator: claims and submits steps itself, then re-enters
/// `withdraw` from its receive hook. `strict` makes a failed re-entry revert the payment;
/// otherwise it swallows the failure and records it.
contract MockReentrantPayee {
    IWorkflowCoordinator private immutable _coordinator;
    bool private _strict;
    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;

    constructor(IWorkflowCoordinator coordinator) {
        _coordinator = coordinator;
    }

    /// @notice Whether a failed re-entry reverts the whole payment.
    function setStrict(bool strict) external {
        _strict = strict;
    }

    /// @notice Claim `step` for `agentId` as operator.
    function claim(uint256 runId, uint8 step, uint256 agentId) external {
        _coordinator.claim(runId, step, agentId);
    }

    /// @notice Submit a result as the lease holder.
    function submit(uint256 runId, uint8 step, bytes32 resultHash) external {
        _coordinator.submit(runId, step, resultHash, "ipfs://attack", 0);
    }

    /// @notice Withdraw the credited rewards.
    function withdraw() external {
        _coordinator.withdraw();
    }

    receive() external payable {
        ++reentryAttempts;
        if (_strict) {
            _coordinator.withdraw();
            ++reentrySuccesses;
        } else {
            try _coordinator.withdraw() {
                ++reentrySuccesses;
            } catch {}
        }
    }
}
