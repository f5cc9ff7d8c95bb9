// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRemoteStepRouter} from "../../interfaces/IRemoteStepRouter.sol";

/// @title MockReentrantDepositor
/// @notice Test-only creator whose `receive` re-enters `RemoteStepRouter.withdrawDeposit`
/// once (when armed) and records how the re-entry ended.
contract MockReentrantDepositor {
    IRemoteStepRouter private immutable _router;
    bool public armed;
    bool public reentered;
    bytes public reentryError;
    uint256 public received;

    constructor(IRemoteStepRouter router) {
        _router = router;
    }

    /// @notice Deposit `msg.value` for this contract.
    function depositSelf() external payable {
        _router.deposit{value: msg.value}(address(this));
    }

    /// @notice Withdraw `amount` of this contract's deposit to itself.
    function withdraw(uint256 amount) external {
        _router.withdrawDeposit(amount, payable(address(this)));
    }

    /// @notice Whether `receive` re-enters.
    function arm(bool on) external {
        armed = on;
    }

    receive() external payable {
        received += msg.value;
        if (!armed || reentered) return;
        reentered = true;
        try _router.withdrawDeposit(msg.value, payable(address(this))) {} catch (bytes memory err) {
            reentryError = err;
        }
    }
}
