// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC7786GatewaySource} from "@openzeppelin/contracts/interfaces/draft-IERC7786.sol";
import {IAccordExpiryHook} from "../../interfaces/IAccordExpiryHook.sol";

/// @title MockExpirySender
/// @notice Sends messages through a gateway and records expiry notices from it.
contract MockExpirySender is IAccordExpiryHook {
    /// @notice Emitted when the gateway reported `id` expired on `destinationChainId`.
    event ExpiryObserved(bytes32 indexed id, uint256 destinationChainId);

    /// @notice Only the gateway may report expiries.
    error MockExpirySenderNotGateway(address caller);
    /// @notice The hook refuses (set with `setHook`).
    error MockExpirySenderRefused(bytes32 id);

    uint256 private _hookMinGas;
    bool private _hookReverts;

    address private immutable _gateway;
    mapping(bytes32 => bool) private _expired;

    constructor(address gateway) {
        _gateway = gateway;
    }

    /// @notice Sends `payload` to `recipient` through the gateway with `attributes`.
    function send(bytes calldata recipient, bytes calldata payload, bytes[] calldata attributes)
        external
        returns (bytes32)
    {
        return IERC7786GatewaySource(_gateway).sendMessage(recipient, payload, attributes);
    }

    /// @notice The hook reverts when it gets less than `minGas` gas (a hook whose bookkeeping
    /// needs that much) or, with `reverts`, always.
    function setHook(uint256 minGas, bool reverts) external {
        _hookMinGas = minGas;
        _hookReverts = reverts;
    }

    /// @inheritdoc IAccordExpiryHook
    function onAccordMessageExpired(bytes32 id, uint256 destinationChainId) external {
        if (msg.sender != _gateway) revert MockExpirySenderNotGateway(msg.sender);
        if (_hookReverts || gasleft() < _hookMinGas) revert MockExpirySenderRefused(id);
        _expired[id] = true;
        emit ExpiryObserved(id, destinationChainId);
    }

    /// @notice Whether the gateway reported `id` expired.
    function expired(bytes32 id) external view returns (bool) {
        return _expired[id];
    }
}
