// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title ReentrantRecipient
/// @notice Malicious ERC-7786 recipient: on receipt it replays stored calldata against the
/// gateway (e.g. `deliver` or `retry`) and bubbles up any revert.
contract ReentrantRecipient is IERC7786Recipient {
    bytes private _attack;

    /// @notice Sets the calldata sent back to the gateway on the next receipt.
    function setAttack(bytes calldata data) external {
        _attack = data;
    }

    /// @notice Re-enters the calling gateway with the stored calldata.
    function receiveMessage(bytes32, bytes calldata, bytes calldata) external payable returns (bytes4) {
        (bool ok, bytes memory ret) = msg.sender.call(_attack);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return IERC7786Recipient.receiveMessage.selector;
    }
}
