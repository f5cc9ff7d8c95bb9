// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAccordExpiryHook
/// @notice Optional hook for senders of expiring messages: the origin AccordGateway calls it
/// when the destination proved that message `id` expired undelivered. Reverts are ignored.
interface IAccordExpiryHook {
    /// @notice Message `id` sent by this contract expired on `destinationChainId` undelivered.
    function onAccordMessageExpired(bytes32 id, uint256 destinationChainId) external;
}
