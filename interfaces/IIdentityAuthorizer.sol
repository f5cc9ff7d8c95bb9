// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IIdentityAuthorizer
/// @notice The two reads every Accord contract needs from an ERC-8004 Identity Registry. Any
/// ERC-8004 registry (the canonical deployment, or Accord's `IdentityRegistry`) satisfies it.
interface IIdentityAuthorizer {
    /// @notice True when `spender` is the owner of `agentId`, approved for it, or an operator of
    /// its owner. Reverts (ERC721NonexistentToken on the reference registry) for unknown agents.
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool);

    /// @notice The ERC-721 owner of `agentId`; reverts for unknown agents.
    function ownerOf(uint256 agentId) external view returns (address);
}
