// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentRoles} from "../../interfaces/IAgentRoles.sol";
import {IIdentityAuthorizer} from "../../interfaces/IIdentityAuthorizer.sol";

/// @title MockAgentRoles
/// @notice Test-only IAgentRoles: eligibility set directly per (agentId, operator, role);
/// locks are tracked per (agentId, role) against an optional bond cap (`setBond`; unset =
/// unlimited); slashes are recorded. `lockStake`/`checkStake` return the agent's owner from the
/// identity registry given to `setIdentity` (unset: the operator, as if it owned the agent).
contract MockAgentRoles is IAgentRoles {
    struct SlashRecord {
        uint256 agentId;
        bytes32 role;
        uint256 amount;
        bytes32 reason;
        address slasher;
    }

    mapping(bytes32 => bool) private _eligible;
    mapping(bytes32 => uint256) private _locked;
    mapping(bytes32 => uint256) private _bondCap; // cap + 1; 0 = unlimited
    SlashRecord[] private _slashes;
    IIdentityAuthorizer private _identity;

    /// @notice Answer owners from `identity` (as the real AgentRoles does).
    function setIdentity(IIdentityAuthorizer identity) external {
        _identity = identity;
    }

    /// @notice Make `operator` eligible (or not) to act for `agentId` in `role`.
    function setEligible(uint256 agentId, address operator, bytes32 role, bool eligible) external {
        _eligible[keccak256(abi.encode(agentId, operator, role))] = eligible;
    }

    /// @notice Cap the bond of (`agentId`, `role`) at `active` (locks beyond it are refused).
    function setBond(uint256 agentId, bytes32 role, uint256 active) external {
        _bondCap[keccak256(abi.encode(agentId, role))] = active + 1;
    }

    /// @notice Number of recorded slashes.
    function slashCount() external view returns (uint256) {
        return _slashes.length;
    }

    /// @notice The `i`-th recorded slash.
    function slashAt(uint256 i) external view returns (SlashRecord memory) {
        return _slashes[i];
    }

    /// @inheritdoc IAgentRoles
    function slash(uint256 agentId, bytes32 role, uint256 amount, bytes32 reason) external returns (uint256) {
        _slashes.push(SlashRecord(agentId, role, amount, reason, msg.sender));
        emit Slashed(agentId, role, msg.sender, amount, reason);
        return amount;
    }

    /// @inheritdoc IAgentRoles
    function lockStake(uint256 agentId, address operator, bytes32 role, uint256 amount) external returns (address) {
        uint256 locked = _check(agentId, operator, role, amount);
        if (amount != 0) {
            _locked[keccak256(abi.encode(agentId, role))] = locked + amount;
            emit StakeLocked(agentId, role, msg.sender, amount, locked + amount);
        }
        return _owner(agentId, operator);
    }

    /// @inheritdoc IAgentRoles
    function checkStake(uint256 agentId, address operator, bytes32 role, uint256 amount)
        external
        view
        returns (address)
    {
        _check(agentId, operator, role, amount);
        return _owner(agentId, operator);
    }

    function _owner(uint256 agentId, address operator) private view returns (address) {
        return address(_identity) == address(0) ? operator : _identity.ownerOf(agentId);
    }

    function _check(uint256 agentId, address operator, bytes32 role, uint256 amount)
        private
        view
        returns (uint256 locked)
    {
        if (!_eligible[keccak256(abi.encode(agentId, operator, role))]) {
            revert AgentRolesNotEligible(agentId, operator, role);
        }
        bytes32 k = keccak256(abi.encode(agentId, role));
        uint256 cap = _bondCap[k];
        locked = _locked[k];
        if (cap != 0 && locked + amount > cap - 1) {
            revert AgentRolesInsufficientFreeBond(agentId, role, cap - 1 - locked, amount);
        }
    }

    /// @inheritdoc IAgentRoles
    function releaseStake(uint256 agentId, bytes32 role, uint256 amount, uint256 slashAmount, bytes32 reason)
        external
        returns (uint256)
    {
        bytes32 k = keccak256(abi.encode(agentId, role));
        uint256 locked = _locked[k];
        uint256 released = amount > locked ? locked : amount;
        _locked[k] = locked - released;
        emit StakeReleased(agentId, role, msg.sender, released, locked - released);
        if (slashAmount != 0) {
            _slashes.push(SlashRecord(agentId, role, slashAmount, reason, msg.sender));
            emit Slashed(agentId, role, msg.sender, slashAmount, reason);
        }
        return slashAmount;
    }

    /// @inheritdoc IAgentRoles
    function releaseOrphaned(address, uint256, bytes32) external {}

    /// @inheritdoc IAgentRoles
    function lockedOf(uint256 agentId, bytes32 role) external view returns (uint256) {
        return _locked[keccak256(abi.encode(agentId, role))];
    }

    /// @inheritdoc IAgentRoles
    function lockedBy(address, uint256 agentId, bytes32 role) external view returns (uint256) {
        return _locked[keccak256(abi.encode(agentId, role))];
    }

    /// @inheritdoc IAgentRoles
    function announceSlasher(address) external {}

    /// @inheritdoc IAgentRoles
    function cancelSlasher(address) external {}

    /// @inheritdoc IAgentRoles
    function activateSlasher(address) external {}

    /// @inheritdoc IAgentRoles
    function removeSlasher(address) external {}

    /// @inheritdoc IAgentRoles
    function isSlasher(address) external pure returns (bool) {
        return true;
    }

    /// @inheritdoc IAgentRoles
    function slasherActiveAt(address) external pure returns (uint64) {
        return 0;
    }

    /// @inheritdoc IAgentRoles
    function slashers() external pure returns (address[] memory) {
        return new address[](0);
    }

    /// @inheritdoc IAgentRoles
    function slasherDelay() external pure returns (uint64) {
        return 0;
    }

    /// @inheritdoc IAgentRoles
    function isEligible(uint256 agentId, address operator, bytes32 role) external view returns (bool) {
        return _eligible[keccak256(abi.encode(agentId, operator, role))];
    }

    /// @inheritdoc IAgentRoles
    function configureRole(bytes32, uint256) external {}

    /// @inheritdoc IAgentRoles
    function setHeartbeatExpiry(uint64) external {}

    /// @inheritdoc IAgentRoles
    function setUnbondingDelay(uint64) external {}

    /// @inheritdoc IAgentRoles
    function bond(uint256, bytes32) external payable {}

    /// @inheritdoc IAgentRoles
    function requestUnbond(uint256, bytes32, uint256) external {}

    /// @inheritdoc IAgentRoles
    function withdraw(uint256, bytes32, address payable) external {}

    /// @inheritdoc IAgentRoles
    function heartbeat(uint256) external {}

    /// @inheritdoc IAgentRoles
    function identityRegistry() external pure returns (address) {
        return address(0);
    }

    /// @inheritdoc IAgentRoles
    function roleMinBond(bytes32) external pure returns (uint256, bool) {
        return (0, true);
    }

    /// @inheritdoc IAgentRoles
    function bondOf(uint256, bytes32) external pure returns (uint256, uint256, uint64) {
        return (0, 0, 0);
    }

    /// @inheritdoc IAgentRoles
    function liveUntil(uint256) external pure returns (uint64) {
        return type(uint64).max;
    }

    /// @inheritdoc IAgentRoles
    function withdrawTreasury(address payable) external {}

    /// @inheritdoc IAgentRoles
    function treasuryBalance() external pure returns (uint256) {
        return 0;
    }

    /// @inheritdoc IAgentRoles
    function timing() external pure returns (uint64, uint64) {
        return (0, 0);
    }
}
