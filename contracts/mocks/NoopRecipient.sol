// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title NoopRecipient
/// @notice Test/benchmark ERC-7786 recipient that accepts every message and does nothing.
contract NoopRecipient is IERC7786Recipient {
    /// @notice Accepts the message.
    function receiveMessage(bytes32, bytes calldata, bytes calldata) external payable returns (bytes4) {
        return IERC7786Recipient.receiveMessage.selector;
    }
}
