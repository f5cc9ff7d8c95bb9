// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title PeerHyperlaneRecipientMock
/// @notice Benchmark helper (bench/b_peers.py): a Hyperlane `IMessageRecipient` that accepts
/// every message and does nothing, so a Mailbox.process figure is the protocol's own cost.
/// It has no `interchainSecurityModule()`, so the Mailbox's default ISM verifies for it.
contract PeerHyperlaneRecipientMock {
    /// @notice Hyperlane's recipient hook: accepts and ignores the message.
    function handle(uint32, bytes32, bytes calldata) external payable {}
}
