// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Probe
/// @notice A minimal deployable used by the foundation tests and the quick-start job.
contract Probe is Ownable {
    uint256 private _value;

    /// @notice Emitted after the stored value changed.
    event ValueSet(uint256 value);

    constructor() Ownable(msg.sender) {}

    /// @notice Stores a value (owner only).
    function set(uint256 newValue) external onlyOwner {
        _value = newValue;
        emit ValueSet(newValue);
    }

    /// @notice The stored value.
    function value() external view returns (uint256) {
        return _value;
    }
}
