// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786GatewaySource} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title MockBulkSender
/// @notice Test helper: sends many ERC-7786 messages through a gateway in one transaction.
contract MockBulkSender {
    /// @notice Sends `count` messages to `recipient` (ERC-7930) with payload `abi.encode(tag, i)`.
    function sendMany(IERC7786GatewaySource gateway, bytes calldata recipient, uint256 tag, uint256 count)
        external
        returns (bytes32 lastId)
    {
        bytes[] memory attributes = new bytes[](0);
        for (uint256 i = 0; i < count; ++i) {
            lastId = gateway.sendMessage(recipient, abi.encode(tag, i), attributes);
        }
    }
}
