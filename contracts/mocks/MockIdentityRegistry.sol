// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IIdentityAuthorizer} from "../../interfaces/IIdentityAuthorizer.sol";

/// @title MockIdentityRegistry
/// @notice Test-only ERC-8004 identity stand-in: ERC-721, ids from 0, isAuthorizedOrOwner.
contract MockIdentityRegistry is ERC721, IIdentityAuthorizer {
    uint256 private _next;

    constructor() ERC721("AgentIdentity", "AGENT") {}

    /// @notice Mint the next agent id to the caller.
    function register() external returns (uint256 agentId) {
        agentId = _next++;
        _mint(msg.sender, agentId);
    }

    /// @notice True when `spender` is the owner or an approved operator of `agentId`.
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool) {
        return _isAuthorized(_requireOwned(agentId), spender, agentId);
    }

    /// @notice Owner of `agentId`.
    function ownerOf(uint256 agentId) public view override(ERC721, IIdentityAuthorizer) returns (address) {
        return super.ownerOf(agentId);
    }
}
