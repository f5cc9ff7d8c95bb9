// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title GasBurnerRecipient
/// @notice Test ERC-7786 recipient that burns gas before it accepts a message: a fixed amount
/// (it runs out of gas when given less), or everything it is given (`type(uint256).max`).
contract GasBurnerRecipient is IERC7786Recipient {
    uint256 private _burn;
    uint256 private _received;

    /// @notice Emitted for every accepted message.
    event Received(bytes32 indexed receiveId);

    /// @notice Starts burning `burn` gas per message.
    constructor(uint256 burn) {
        _burn = burn;
    }

    /// @notice Sets the gas burnt per message (`type(uint256).max`: all of it, never accepts).
    function setBurn(uint256 burn) external {
        _burn = burn;
    }

    /// @notice Burns the configured gas, then accepts the message.
    function receiveMessage(
        bytes32 receiveId,
        bytes calldata,
        bytes calldata
    ) external payable returns (bytes4) {
        uint256 start = gasleft();
        uint256 burn = _burn;
        // an empty loop that only reads gasleft(): it ends after `burn` gas, or out of gas
        while (start - gasleft() < burn) {}
        ++_received;
        emit Received(receiveId);
        return IERC7786Recipient.receiveMessage.selector;
    }

    /// @notice Number of accepted messages.
    function received() external view returns (uint256) {
        return _received;
    }
}
