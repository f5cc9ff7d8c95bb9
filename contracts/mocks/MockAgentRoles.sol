// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentRoles} from "../../interfaces/IAgentRoles.sol";

/// @title MockAgentRoles
/// @notice Test-only IAgentRoles: eligibility set directly per (agentId, operator, role);
/// slashes are recorded (or refused when `setSlashReverts(true)`).
contract MockAgentRoles is IAgentRoles {
    struct SlashRecord {
        uint256 agentId;
        bytes32 role;
        uint256 amount;
        bytes32 reason;
        address slasher;
    }

    /// @notice The mock refuses to slash.
    error MockSlashRefused();

    mapping(bytes32 => bool) private _eligible;
    SlashRecord[] private _slashes;
    bool private _slashReverts;

    /// @notice Make `operator` eligible (or not) to act for `agentId` in `role`.
    function setEligible(uint256 agentId, address operator, bytes32 role, bool eligible) external {
        _eligible[keccak256(abi.encode(agentId, operator, role))] = eligible;
    }

    /// @notice Make every `slash` revert (to prove slashing never blocks progress).
    function setSlashReverts(bool reverts) external {
        _slashReverts = reverts;
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
        if (_slashReverts) revert MockSlashRefused();
        _slashes.push(SlashRecord(agentId, role, amount, reason, msg.sender));
        emit Slashed(agentId, role, msg.sender, amount, reason);
        return amount;
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

    // Stubs for the IAgentRoles v2 surface (compile-only; the coordinator v2 branch owns this
    // mock and replaces them).

    /// @inheritdoc IAgentRoles
    function announceSlasher(address) external {}

    /// @inheritdoc IAgentRoles
    function cancelSlasher(address) external {}

    /// @inheritdoc IAgentRoles
    function activateSlasher(address) external {}

    /// @inheritdoc IAgentRoles
    function removeSlasher(address) external {}

    /// @inheritdoc IAgentRoles
    function lockStake(uint256, address, bytes32, uint256) external pure returns (address) {
        return address(0);
    }

    /// @inheritdoc IAgentRoles
    function releaseStake(uint256, bytes32, uint256, uint256, bytes32) external pure returns (uint256) {
        return 0;
    }

    /// @inheritdoc IAgentRoles
    function releaseOrphaned(address, uint256, bytes32) external {}

    /// @inheritdoc IAgentRoles
    function lockedOf(uint256, bytes32) external pure returns (uint256) {
        return 0;
    }

    /// @inheritdoc IAgentRoles
    function lockedBy(address, uint256, bytes32) external pure returns (uint256) {
        return 0;
    }

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
        return 1;
    }
}
