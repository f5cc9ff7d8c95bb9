// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786GatewaySource, IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title MockGateway
/// @notice Single-chain stand-in for the ERC-7786 path (as Hyperlane's MockMailbox): `sendMessage`
/// only records and emits; a test then calls `deliver` to hand any payload to a recipient with
/// any sender, which is how router unit tests reach every branch of `receiveMessage`.
contract MockGateway is IERC7786GatewaySource {
    uint256 private _count;

    /// @notice Recorded by `sendMessage`.
    event Sent(bytes32 indexed id, address indexed sender, bytes recipient, bytes payload);

    /// @notice No attributes are supported.
    function supportsAttribute(bytes4) external pure returns (bool) {
        return false;
    }

    /// @notice Records the message; returns a sequential id.
    function sendMessage(bytes calldata recipient, bytes calldata payload, bytes[] calldata)
        external
        payable
        returns (bytes32 id)
    {
        id = bytes32(++_count);
        emit Sent(id, msg.sender, recipient, payload);
    }

    /// @notice Calls `recipient.receiveMessage` as this gateway (reverts bubble up).
    function deliver(address recipient, bytes32 id, bytes calldata sender, bytes calldata payload) external {
        IERC7786Recipient(recipient).receiveMessage(id, sender, payload);
    }
}
