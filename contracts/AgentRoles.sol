// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IAgentRoles} from "../interfaces/IAgentRoles.sol";
import {IIdentityAuthorizer} from "../interfaces/IIdentityAuthorizer.sol";

/// @title AgentRoles
/// @notice Stake-bonded roles per ERC-8004 agentId (see {IAgentRoles}). Any ERC-8004 Identity
/// Registry works: owner/operator checks are `isAuthorizedOrOwner` calls.
/// @dev Rules another engineer must know:
/// - One unbonding bucket per (agent, role): every `requestUnbond` adds to it and restarts its
///   delay (`readyAt = now + unbondingDelay`); `withdraw` pays the whole matured bucket.
/// - `slash` takes from the active bond first, then from the unbonding bucket; the value stays
///   in this contract as treasury until the admin pulls it with `withdrawTreasury`.
/// - An agent is live while `block.timestamp < liveUntil`.
/// - Amounts are stored as uint96 (7.9e28 wei, far above any chain's supply); a bond beyond
///   that reverts with SafeCastOverflowedUintDowncast.
/// - Value leaves only through `withdraw` and `withdrawTreasury`: checks, effects, event,
///   then the call, under ReentrancyGuardTransient.
contract AgentRoles is IAgentRoles, AccessControl, ReentrancyGuardTransient {
    /// @notice Holders may slash bonds (granted to the workflow coordinator).
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    /// @dev One slot per (agent, role).
    struct Bond {
        uint96 active;
        uint96 unbonding;
        uint64 unbondReadyAt;
    }

    /// @dev One slot per role.
    struct RoleConfig {
        uint96 minBond;
        bool configured;
    }

    IIdentityAuthorizer private immutable _identity;

    uint64 private _unbondingDelay;
    uint64 private _heartbeatExpiry;
    uint256 private _treasury;
    mapping(bytes32 role => RoleConfig) private _roles;
    mapping(uint256 agentId => mapping(bytes32 role => Bond)) private _bonds;
    mapping(uint256 agentId => uint64 expiresAt) private _liveUntil;

    /// @param identityRegistry_ Any ERC-8004 Identity Registry.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (roles, timings, treasury, granting SLASHER_ROLE).
    /// @param unbondingDelay_ Seconds an unbonding stays slashable before it can be withdrawn.
    /// @param heartbeatExpiry_ Seconds a heartbeat keeps an agent live.
    constructor(address identityRegistry_, address admin, uint64 unbondingDelay_, uint64 heartbeatExpiry_) {
        if (identityRegistry_ == address(0) || admin == address(0) || unbondingDelay_ == 0 || heartbeatExpiry_ == 0)
        {
            revert AgentRolesInvalidArgument();
        }
        _identity = IIdentityAuthorizer(identityRegistry_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _unbondingDelay = unbondingDelay_;
        emit UnbondingDelaySet(unbondingDelay_);
        _heartbeatExpiry = heartbeatExpiry_;
        emit HeartbeatExpirySet(heartbeatExpiry_);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IAgentRoles
    function configureRole(bytes32 role, uint256 minBond) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _roles[role] = RoleConfig({minBond: SafeCast.toUint96(minBond), configured: true});
        emit RoleConfigured(role, minBond);
    }

    /// @inheritdoc IAgentRoles
    function setHeartbeatExpiry(uint64 expirySeconds) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (expirySeconds == 0) revert AgentRolesInvalidArgument();
        _heartbeatExpiry = expirySeconds;
        emit HeartbeatExpirySet(expirySeconds);
    }

    /// @inheritdoc IAgentRoles
    function setUnbondingDelay(uint64 delaySeconds) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (delaySeconds == 0) revert AgentRolesInvalidArgument();
        _unbondingDelay = delaySeconds;
        emit UnbondingDelaySet(delaySeconds);
    }

    /// @inheritdoc IAgentRoles
    function withdrawTreasury(address payable to) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        // CHECKS
        if (to == address(0)) revert AgentRolesInvalidArgument();
        uint256 amount = _treasury;
        if (amount == 0) revert AgentRolesTreasuryEmpty();
        // EFFECTS
        _treasury = 0;
        emit TreasuryWithdrawn(to, amount);
        // INTERACTIONS
        _send(to, amount);
    }

    // ------------------------------------------------------------------ agents

    /// @inheritdoc IAgentRoles
    function bond(uint256 agentId, bytes32 role) external payable {
        if (msg.value == 0) revert AgentRolesInvalidArgument();
        RoleConfig memory cfg = _roles[role];
        if (!cfg.configured) revert AgentRolesUnknownRole(role);
        _requireAuthorized(agentId);
        Bond storage b = _bonds[agentId][role];
        uint256 total = uint256(b.active) + msg.value;
        if (total < cfg.minBond) revert AgentRolesBondBelowMinimum(role, total, cfg.minBond);
        b.active = SafeCast.toUint96(total);
        emit Bonded(agentId, role, msg.sender, msg.value, total);
    }

    /// @inheritdoc IAgentRoles
    function requestUnbond(uint256 agentId, bytes32 role, uint256 amount) external {
        _requireAuthorized(agentId);
        if (amount == 0) revert AgentRolesInvalidArgument();
        Bond storage b = _bonds[agentId][role];
        uint96 active = b.active;
        if (amount > active) revert AgentRolesInsufficientBond(agentId, role, active, amount);
        uint64 readyAt = uint64(block.timestamp) + _unbondingDelay;
        // amount <= active (checked above), so the subtraction cannot underflow.
        unchecked {
            b.active = active - uint96(amount);
        }
        b.unbonding = SafeCast.toUint96(uint256(b.unbonding) + amount);
        b.unbondReadyAt = readyAt;
        emit UnbondRequested(agentId, role, amount, readyAt);
    }

    /// @inheritdoc IAgentRoles
    function withdraw(uint256 agentId, bytes32 role, address payable to) external nonReentrant {
        // CHECKS
        _requireAuthorized(agentId);
        if (to == address(0)) revert AgentRolesInvalidArgument();
        Bond storage b = _bonds[agentId][role];
        uint256 amount = b.unbonding;
        if (amount == 0) revert AgentRolesNothingToWithdraw(agentId, role);
        uint64 readyAt = b.unbondReadyAt;
        if (block.timestamp < readyAt) revert AgentRolesUnbondingNotReady(agentId, role, readyAt);
        // EFFECTS
        b.unbonding = 0;
        b.unbondReadyAt = 0;
        emit Withdrawn(agentId, role, to, amount);
        // INTERACTIONS
        _send(to, amount);
    }

    /// @inheritdoc IAgentRoles
    function heartbeat(uint256 agentId) external {
        _requireAuthorized(agentId);
        uint64 expiresAt = uint64(block.timestamp) + _heartbeatExpiry;
        _liveUntil[agentId] = expiresAt;
        emit HeartbeatRecorded(agentId, expiresAt);
    }

    // ------------------------------------------------------------------ slashers

    /// @inheritdoc IAgentRoles
    function slash(uint256 agentId, bytes32 role, uint256 amount, bytes32 reason) external onlyRole(SLASHER_ROLE) {
        if (amount == 0) revert AgentRolesInvalidArgument();
        Bond storage b = _bonds[agentId][role];
        uint96 active = b.active;
        uint96 unbonding = b.unbonding;
        uint256 available = uint256(active) + unbonding;
        if (amount > available) revert AgentRolesInsufficientBond(agentId, role, available, amount);
        // amount <= active + unbonding (checked above), so fromActive <= active and
        // fromUnbonding <= unbonding: every subtraction and narrowing below is exact.
        unchecked {
            uint256 fromActive = amount > active ? active : amount;
            b.active = active - uint96(fromActive);
            uint96 fromUnbonding = uint96(amount - fromActive);
            if (fromUnbonding != 0) {
                b.unbonding = unbonding - fromUnbonding;
                if (unbonding == fromUnbonding) b.unbondReadyAt = 0;
            }
        }
        _treasury += amount;
        emit Slashed(agentId, role, msg.sender, amount, reason);
    }

    // ------------------------------------------------------------------ views (all O(1))

    /// @inheritdoc IAgentRoles
    function isEligible(uint256 agentId, address operator, bytes32 role) external view returns (bool) {
        RoleConfig memory cfg = _roles[role];
        if (!cfg.configured) return false;
        if (_bonds[agentId][role].active < cfg.minBond) return false;
        if (block.timestamp >= _liveUntil[agentId]) return false;
        // Unknown agents make the reference registry revert: not eligible.
        try _identity.isAuthorizedOrOwner(operator, agentId) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    /// @inheritdoc IAgentRoles
    function identityRegistry() external view returns (address) {
        return address(_identity);
    }

    /// @inheritdoc IAgentRoles
    function roleMinBond(bytes32 role) external view returns (uint256 minBond, bool configured) {
        RoleConfig memory cfg = _roles[role];
        return (cfg.minBond, cfg.configured);
    }

    /// @inheritdoc IAgentRoles
    function bondOf(uint256 agentId, bytes32 role)
        external
        view
        returns (uint256 active, uint256 unbonding, uint64 unbondReadyAt)
    {
        Bond memory b = _bonds[agentId][role];
        return (b.active, b.unbonding, b.unbondReadyAt);
    }

    /// @inheritdoc IAgentRoles
    function liveUntil(uint256 agentId) external view returns (uint64) {
        return _liveUntil[agentId];
    }

    /// @inheritdoc IAgentRoles
    function treasuryBalance() external view returns (uint256) {
        return _treasury;
    }

    /// @inheritdoc IAgentRoles
    function timing() external view returns (uint64 unbondingDelaySeconds, uint64 heartbeatExpirySeconds) {
        return (_unbondingDelay, _heartbeatExpiry);
    }

    // ------------------------------------------------------------------ internals

    function _requireAuthorized(uint256 agentId) private view {
        if (!_identity.isAuthorizedOrOwner(msg.sender, agentId)) revert AgentRolesNotAuthorized(agentId, msg.sender);
    }

    function _send(address payable to, uint256 amount) private {
        // `to` is chosen by the agent's owner/operator (withdraw) or the admin (treasury);
        // state is settled before the call and callers are nonReentrant.
        // slither-disable-next-line arbitrary-send-eth
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert AgentRolesTransferFailed(to, amount);
    }
}
