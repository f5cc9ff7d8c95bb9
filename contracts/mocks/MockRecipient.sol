// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786Recipient} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";

/// @title MockRecipient
/// @notice Test ERC-7786 recipient: records what it got, or reverts / returns a wrong selector.
contract MockRecipient is IERC7786Recipient {
    /// @notice Reverted with in `Revert` mode.
    error MockRecipientRefused(bytes32 receiveId);
    /// @notice Reverted with when called with less than `setMinGas`'s amount.
    error MockRecipientStarved(uint256 gasLeft, uint256 needed);

    /// @notice How the next messages are handled.
    enum Mode {
        Accept,
        Revert,
        WrongSelector
    }

    Mode private _mode;
    uint256 private _minGas;
    uint256 private _received;
    bytes32 private _lastId;
    bytes private _lastSender;
    bytes private _lastPayload;
    address private _lastGateway;

    /// @notice Emitted for every accepted message.
    event Received(bytes32 indexed receiveId, bytes sender, bytes payload);

    /// @notice Sets how messages are handled.
    function setMode(Mode mode) external {
        _mode = mode;
    }

    /// @notice Messages arriving with less than `minGas` gas left are refused (a recipient whose
    /// work needs that much).
    function setMinGas(uint256 minGas) external {
        _minGas = minGas;
    }

    /// @notice Handles a message according to the mode.
    function receiveMessage(
        bytes32 receiveId,
        bytes calldata sender,
        bytes calldata payload
    ) external payable returns (bytes4) {
        if (gasleft() < _minGas) revert MockRecipientStarved(gasleft(), _minGas);
        Mode mode = _mode;
        if (mode == Mode.Revert) revert MockRecipientRefused(receiveId);
        if (mode == Mode.WrongSelector) return bytes4(0xdeadbeef);
        ++_received;
        _lastId = receiveId;
        _lastSender = sender;
        _lastPayload = payload;
        _lastGateway = msg.sender;
        emit Received(receiveId, sender, payload);
        return IERC7786Recipient.receiveMessage.selector;
    }

    /// @notice Number of accepted messages.
    function received() external view returns (uint256) {
        return _received;
    }

    /// @notice The last accepted message: gateway, id, sender, payload.
    function last() external view returns (address, bytes32, bytes memory, bytes memory) {
        return (_lastGateway, _lastId, _lastSender, _lastPayload);
    }
}
