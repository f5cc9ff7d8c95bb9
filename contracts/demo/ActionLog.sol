// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ActionLog
/// @notice The contract the demo's chainb step acts on: agents record what they did, keyed by
/// the workflow's input, so the action is visible on-chain where it happened.
contract ActionLog {
    mapping(bytes32 key => uint256) private _count;
    uint256 private _total;

    /// @notice `actor` recorded an action for `key` with `note`.
    event ActionRecorded(bytes32 indexed key, address indexed actor, string note, uint256 total);

    /// @notice Record an action for `key`.
    function record(bytes32 key, string calldata note) external {
        _count[key] += 1;
        _total += 1;
        emit ActionRecorded(key, msg.sender, note, _total);
    }

    /// @notice Actions recorded for `key`.
    function count(bytes32 key) external view returns (uint256) {
        return _count[key];
    }

    /// @notice Actions recorded in total.
    function total() external view returns (uint256) {
        return _total;
    }
}
