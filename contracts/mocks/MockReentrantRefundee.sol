// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccordGasPaymaster} from "../../interfaces/IAccordGasPaymaster.sol";

/// @title MockReentrantRefundee
/// @notice Test-only malicious payer: pays for gas with itself as the refund address and, from
/// the refund, re-enters the paymaster (pays again with the refund, claims). `strict` makes a
/// failed re-entry revert the refund; otherwise it swallows the failure and records it.
contract MockReentrantRefundee {
    IAccordGasPaymaster private immutable _paymaster;
    bool private _strict;
    bytes32 private _id;
    uint256 private _destination;
    uint256 private _gasLimit;
    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;
    /// @notice Selector of the last error a re-entry got.
    bytes4 public lastError;

    constructor(IAccordGasPaymaster paymaster) {
        _paymaster = paymaster;
    }

    /// @notice Whether a failed re-entry reverts the refund.
    function setStrict(bool strict) external {
        _strict = strict;
    }

    /// @notice Pay `msg.value` for `id`, refunds to this contract.
    function pay(bytes32 id, uint256 destination, uint256 gasLimit) external payable {
        (_id, _destination, _gasLimit) = (id, destination, gasLimit);
        _paymaster.payForGas{value: msg.value}(id, destination, gasLimit, address(this));
    }

    receive() external payable {
        ++reentryAttempts;
        if (_strict) {
            _paymaster.claim();
            ++reentrySuccesses;
            return;
        }
        try _paymaster.payForGas{value: msg.value}(_id, _destination, _gasLimit, address(this)) {
            ++reentrySuccesses;
        } catch (bytes memory reason) {
            lastError = bytes4(reason);
        }
        try _paymaster.claim() {
            ++reentrySuccesses;
        } catch (bytes memory reason) {
            lastError = bytes4(reason);
        }
    }
}
