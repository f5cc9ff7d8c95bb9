// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title MockCountingRecipient
/// @notice Test helper: counts how often each message id arrives (exactly-once checks) and
/// can be told to fail for a given payload tag.
contract MockCountingRecipient is IERC7786Recipient {
    mapping(bytes32 id => uint256) private _deliveries;
    uint256 private _total;
    uint256 private _failTag = type(uint256).max;

    /// @notice Reverts (with this error) when asked to fail.
    error MockCountingRecipientRefused(bytes32 id);

    /// @notice Emitted for every delivery.
    event Received(bytes32 indexed id, bytes sender, bytes payload);

    /// @notice Payloads `abi.encode(tag, i)` with this tag revert from now on.
    function setFailTag(uint256 tag) external {
        _failTag = tag;
    }

    /// @inheritdoc IERC7786Recipient
    function receiveMessage(bytes32 receiveId, bytes calldata sender, bytes calldata payload)
        external
        payable
        returns (bytes4)
    {
        if (payload.length >= 32 && abi.decode(payload[:32], (uint256)) == _failTag) {
            revert MockCountingRecipientRefused(receiveId);
        }
        _deliveries[receiveId] += 1;
        _total += 1;
        emit Received(receiveId, sender, payload);
        return IERC7786Recipient.receiveMessage.selector;
    }

    /// @notice How often `id` was delivered.
    function deliveries(bytes32 id) external view returns (uint256) {
        return _deliveries[id];
    }

    /// @notice Deliveries in total.
    function total() external view returns (uint256) {
        return _total;
    }
}
