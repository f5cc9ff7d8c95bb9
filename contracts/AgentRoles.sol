// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IAgentRoles} from "../interfaces/IAgentRoles.sol";
import {IIdentityAuthorizer} from "../interfaces/IIdentityAuthorizer.sol";

/// @title AgentRoles
/// @notice Stake-bonded roles per ERC-8004 agentId (see {IAgentRoles}). Any ERC-8004 Identity
/// Registry works: owner/operator checks are `ownerOf` / `isAuthorizedOrOwner` calls.
/// @dev Rules another engineer must know:
/// - One unbonding bucket per (agent, role): every `requestUnbond` adds to it and restarts its
///   delay (`readyAt = now + unbondingDelay`); `withdraw` pays the whole matured bucket.
/// - Locks: a registered slasher locks part of the active bond while it is at risk (a claim, a
///   vote); locked bond cannot be unbonded. The aggregate `locked` of (agent, role) is kept
///   `<= active`: a slash that drops `active` below `locked` caps `locked` at `active`, so the
///   per-slasher records `lockedBy` may then add up to more than `locked`; a release takes at
///   most what the slasher's record holds and saturates the aggregate at zero.
/// - `slash` takes what is there, at most what was asked: the active bond first, then the
///   unbonding bucket; the value stays here as treasury until the admin pulls it.
/// - Slashers: only addresses in the slasher registry may lock, slash and release-with-slash.
///   The admin announces one; it becomes active after `slasherDelay` (anyone activates it),
///   except before the first bond ever posted (nothing at stake yet), when it is registered at
///   once. The admin holds no role that slashes: AccessControl's DEFAULT_ADMIN_ROLE guards
///   only the admin functions, and no other role id is checked anywhere.
/// - An agent is live while `block.timestamp < liveUntil`.
/// - Amounts are stored as uint96 (7.9e28 wei, far above any chain's supply); a bond beyond
///   that reverts with SafeCastOverflowedUintDowncast.
/// - Value leaves only through `withdraw` and `withdrawTreasury`: checks, effects, event,
///   then the call, under ReentrancyGuardTransient. The only other outside calls are view
///   calls (STATICCALL) to the identity registry.
contract AgentRoles is IAgentRoles, AccessControl, ReentrancyGuardTransient {
    /// @notice At most this many slashers are registered at once (keeps `slashers()` short).
    uint256 public constant MAX_SLASHERS = 8;


    /// @dev Two slots per (agent, role): the first is read and written by every lock, release
    /// and slash; the second only by unbonding, withdrawing and slashing past the active bond.
    struct Bond {
        uint96 active;
        uint96 locked; // <= active, always
        uint64 unbondReadyAt;
        uint96 unbonding;
    }

    /// @dev One slot per role.
    struct RoleConfig {
        uint96 minBond;
        bool configured;
    }

    /// @dev One slot per account: `position` is the 1-based index in `_slasherList` (0 = not
    /// registered); `activeAt` is the pending announcement (0 = none).
    struct Slasher {
        uint8 position;
        uint64 activeAt;
    }

    IIdentityAuthorizer private immutable _identity;
    uint64 private immutable _slasherDelay;

    uint64 private _unbondingDelay;
    uint64 private _heartbeatExpiry;
    bool private _bonded; // set by the first bond ever posted; ends the genesis window
    uint256 private _treasury;
    mapping(bytes32 role => RoleConfig) private _roles;
    mapping(uint256 agentId => mapping(bytes32 role => Bond)) private _bonds;
    mapping(uint256 agentId => uint64 expiresAt) private _liveUntil;
    /// @dev 0 = never written, else 1 + what `slasher` holds locked of the bond (see `_held`).
    mapping(address slasher => mapping(uint256 agentId => mapping(bytes32 role => uint256))) private _lockedBy;
    mapping(address account => Slasher) private _slashers;
    address[] private _slasherList;

    /// @param identityRegistry_ Any ERC-8004 Identity Registry.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (roles, timings, treasury, announcing and
    /// removing slashers; never slashing).
    /// @param unbondingDelay_ Seconds an unbonding stays slashable before it can be withdrawn.
    /// @param heartbeatExpiry_ Seconds a heartbeat keeps an agent live.
    /// @param slasherDelay_ Seconds between `announceSlasher` and `activateSlasher`; choose it
    /// longer than the unbonding delay so agents can leave before a new slasher takes effect.
    constructor(
        address identityRegistry_,
        address admin,
        uint64 unbondingDelay_,
        uint64 heartbeatExpiry_,
        uint64 slasherDelay_
    ) {
        if (
            identityRegistry_ == address(0) || admin == address(0) || unbondingDelay_ == 0 || heartbeatExpiry_ == 0
                || slasherDelay_ == 0
        ) {
            revert AgentRolesInvalidArgument();
        }
        _identity = IIdentityAuthorizer(identityRegistry_);
        _slasherDelay = slasherDelay_;
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

    /// @inheritdoc IAgentRoles
    /// @dev Reverts AgentRolesInvalidArgument for the zero address,
    /// AgentRolesSlasherAlreadyRegistered when `slasher` is registered or already announced,
    /// AgentRolesTooManySlashers when MAX_SLASHERS are registered. Before the first bond ever
    /// posted it registers `slasher` at once (SlasherAnnounced then SlasherActivated).
    function announceSlasher(address slasher) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (slasher == address(0)) revert AgentRolesInvalidArgument();
        Slasher memory s = _slashers[slasher];
        if (s.position != 0 || s.activeAt != 0) revert AgentRolesSlasherAlreadyRegistered(slasher);
        if (_slasherList.length >= MAX_SLASHERS) revert AgentRolesTooManySlashers(MAX_SLASHERS);
        if (!_bonded) {
            // Genesis: nobody has anything at stake yet, so there is nothing to wait for.
            emit SlasherAnnounced(slasher, uint64(block.timestamp));
            _register(slasher);
            return;
        }
        uint64 activeAt = uint64(block.timestamp) + _slasherDelay;
        _slashers[slasher].activeAt = activeAt;
        emit SlasherAnnounced(slasher, activeAt);
    }

    /// @inheritdoc IAgentRoles
    /// @dev Reverts AgentRolesSlasherNotAnnounced when nothing is pending for `slasher`.
    function cancelSlasher(address slasher) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_slashers[slasher].activeAt == 0) revert AgentRolesSlasherNotAnnounced(slasher);
        _slashers[slasher].activeAt = 0;
        emit SlasherAnnouncementCancelled(slasher);
    }

    /// @inheritdoc IAgentRoles
    /// @dev Reverts AgentRolesSlasherNotAnnounced when nothing is pending,
    /// AgentRolesSlasherNotReady before `activeAt`, AgentRolesTooManySlashers when full.
    function activateSlasher(address slasher) external {
        uint64 activeAt = _slashers[slasher].activeAt;
        if (activeAt == 0) revert AgentRolesSlasherNotAnnounced(slasher);
        if (block.timestamp < activeAt) revert AgentRolesSlasherNotReady(slasher, activeAt);
        if (_slasherList.length >= MAX_SLASHERS) revert AgentRolesTooManySlashers(MAX_SLASHERS);
        _register(slasher);
    }

    /// @inheritdoc IAgentRoles
    /// @dev Reverts AgentRolesNotSlasher(slasher) when `slasher` is not registered. Its locks
    /// stay until it releases them or the agent calls `releaseOrphaned`.
    function removeSlasher(address slasher) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 position = _slashers[slasher].position;
        if (position == 0) revert AgentRolesNotSlasher(slasher);
        uint256 last = _slasherList.length;
        if (position != last) {
            address moved = _slasherList[last - 1];
            _slasherList[position - 1] = moved;
            // position < last <= MAX_SLASHERS fits in uint8.
            _slashers[moved].position = uint8(position);
        }
        _slasherList.pop();
        _slashers[slasher].position = 0;
        emit SlasherRemoved(slasher);
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
        if (!_bonded) _bonded = true;
        emit Bonded(agentId, role, msg.sender, msg.value, total);
    }

    /// @inheritdoc IAgentRoles
    /// @dev Reverts AgentRolesInsufficientFreeBond when `amount` exceeds active - locked.
    function requestUnbond(uint256 agentId, bytes32 role, uint256 amount) external {
        _requireAuthorized(agentId);
        if (amount == 0) revert AgentRolesInvalidArgument();
        Bond storage b = _bonds[agentId][role];
        uint96 active = b.active;
        // locked <= active is an invariant of this contract.
        uint256 free = active - b.locked;
        if (amount > free) revert AgentRolesInsufficientFreeBond(agentId, role, free, amount);
        uint64 readyAt = uint64(block.timestamp) + _unbondingDelay;
        // amount <= free <= active (checked above), so the subtraction cannot underflow.
        unchecked {
            b.active = active - uint96(amount);
        }
        b.unbondReadyAt = readyAt;
        b.unbonding = SafeCast.toUint96(uint256(b.unbonding) + amount);
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

    /// @inheritdoc IAgentRoles
    /// @dev Reverts AgentRolesSlasherAlreadyRegistered when `slasher` is registered (it releases
    /// its own locks). Freeing nothing (no lock, or a second call) changes nothing and emits
    /// nothing.
    function releaseOrphaned(address slasher, uint256 agentId, bytes32 role) external {
        _requireAuthorized(agentId);
        if (_slashers[slasher].position != 0) revert AgentRolesSlasherAlreadyRegistered(slasher);
        uint256 held = _held(slasher, agentId, role);
        if (held == 0) return;
        _lockedBy[slasher][agentId][role] = 1;
        uint96 locked = _unlock(_bonds[agentId][role], held);
        emit StakeReleased(agentId, role, slasher, held, locked);
    }

    // ------------------------------------------------------------------ slashers

    /// @inheritdoc IAgentRoles
    /// @dev Reverts AgentRolesNotSlasher for a caller outside the registry and
    /// AgentRolesInvalidArgument for a zero amount; otherwise never reverts, and emits Slashed
    /// with what was taken (0 when nothing was there).
    function slash(uint256 agentId, bytes32 role, uint256 amount, bytes32 reason) external returns (uint256 taken) {
        if (_slashers[msg.sender].position == 0) revert AgentRolesNotSlasher(msg.sender);
        if (amount == 0) revert AgentRolesInvalidArgument();
        return _slash(_bonds[agentId][role], agentId, role, amount, reason);
    }

    /// @inheritdoc IAgentRoles
    /// @dev Eligibility is checked before the free bond; the owner comes from `ownerOf`, and
    /// `isAuthorizedOrOwner` is asked only when `operator` is not the owner. Locking 0 checks
    /// everything and locks nothing (no event).
    function lockStake(uint256 agentId, address operator, bytes32 role, uint256 amount)
        external
        returns (address owner)
    {
        // CHECKS
        if (_slashers[msg.sender].position == 0) revert AgentRolesNotSlasher(msg.sender);
        Bond storage b = _bonds[agentId][role];
        uint96 locked;
        (owner, locked) = _checkStake(b, agentId, operator, role, amount);
        if (amount == 0) return owner;
        // EFFECTS: amount <= free = active - locked, so locked + amount <= active fits in uint96.
        unchecked {
            locked += uint96(amount);
        }
        b.locked = locked;
        uint256 record = _lockedBy[msg.sender][agentId][role];
        // a record keeps 1 + what it holds once written, so later locks rewrite a live slot
        _lockedBy[msg.sender][agentId][role] = (record == 0 ? 1 : record) + amount;
        emit StakeLocked(agentId, role, msg.sender, amount, locked);
    }

    /// @inheritdoc IAgentRoles
    /// @dev Registered slashers only, as `lockStake`: a coordinator the admin removed cannot
    /// count a vote whose stake it could no longer put at risk.
    function checkStake(uint256 agentId, address operator, bytes32 role, uint256 amount)
        external
        view
        returns (address owner)
    {
        if (_slashers[msg.sender].position == 0) revert AgentRolesNotSlasher(msg.sender);
        (owner,) = _checkStake(_bonds[agentId][role], agentId, operator, role, amount);
    }

    /// @inheritdoc IAgentRoles
    /// @dev Any caller may call it: it releases only the caller's own record (0 for a stranger)
    /// and slashes only when the caller is a registered slasher (a removed slasher or a
    /// stranger slashes nothing and gets 0). It never reverts, so settling cannot be blocked.
    function releaseStake(uint256 agentId, bytes32 role, uint256 amount, uint256 slashAmount, bytes32 reason)
        external
        returns (uint256 slashed)
    {
        Bond storage b = _bonds[agentId][role];
        uint256 held = _held(msg.sender, agentId, role);
        uint256 released = amount < held ? amount : held;
        if (released != 0) {
            // released <= held, the caller's own record (1 + held, see lockStake).
            unchecked {
                _lockedBy[msg.sender][agentId][role] = held - released + 1;
            }
            uint96 locked = _unlock(b, released);
            emit StakeReleased(agentId, role, msg.sender, released, locked);
        }
        if (slashAmount != 0 && _slashers[msg.sender].position != 0) {
            slashed = _slash(b, agentId, role, slashAmount, reason);
        }
    }

    // ------------------------------------------------------------------ views (all O(1))

    /// @inheritdoc IAgentRoles
    function isEligible(uint256 agentId, address operator, bytes32 role) external view returns (bool ok) {
        (ok,) = _eligible(agentId, operator, role, _bonds[agentId][role].active);
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
    function lockedOf(uint256 agentId, bytes32 role) external view returns (uint256) {
        return _bonds[agentId][role].locked;
    }

    /// @inheritdoc IAgentRoles
    /// @dev The record may exceed `lockedOf` after a slash capped the aggregate.
    function lockedBy(address slasher, uint256 agentId, bytes32 role) external view returns (uint256) {
        return _held(slasher, agentId, role);
    }

    /// @inheritdoc IAgentRoles
    function isSlasher(address account) external view returns (bool) {
        return _slashers[account].position != 0;
    }

    /// @inheritdoc IAgentRoles
    function slasherActiveAt(address account) external view returns (uint64) {
        return _slashers[account].activeAt;
    }

    /// @inheritdoc IAgentRoles
    /// @dev At most MAX_SLASHERS entries, in no particular order.
    function slashers() external view returns (address[] memory) {
        return _slasherList;
    }

    /// @inheritdoc IAgentRoles
    function slasherDelay() external view returns (uint64) {
        return _slasherDelay;
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

    /// @dev `isEligible`, plus the owner when eligible. Unknown agents make the reference
    /// registry revert: not eligible.
    function _eligible(uint256 agentId, address operator, bytes32 role, uint96 active)
        private
        view
        returns (bool, address)
    {
        RoleConfig memory cfg = _roles[role];
        if (!cfg.configured || active < cfg.minBond) return (false, address(0));
        if (block.timestamp >= _liveUntil[agentId]) return (false, address(0));
        address owner;
        try _identity.ownerOf(agentId) returns (address o) {
            owner = o;
        } catch {
            return (false, address(0));
        }
        if (operator == owner) return (true, owner);
        try _identity.isAuthorizedOrOwner(operator, agentId) returns (bool ok) {
            return (ok, owner);
        } catch {
            return (false, address(0));
        }
    }

    /// @dev The checks of a lock: eligible (else AgentRolesNotEligible), `amount` free (else
    /// AgentRolesInsufficientFreeBond). Returns the owner and the bond's current lock.
    function _checkStake(Bond storage b, uint256 agentId, address operator, bytes32 role, uint256 amount)
        private
        view
        returns (address owner, uint96 locked)
    {
        uint96 active = b.active;
        locked = b.locked;
        bool ok;
        (ok, owner) = _eligible(agentId, operator, role, active);
        if (!ok) revert AgentRolesNotEligible(agentId, operator, role);
        // locked <= active is an invariant of this contract.
        uint256 free = active - locked;
        if (amount > free) revert AgentRolesInsufficientFreeBond(agentId, role, free, amount);
    }

    /// @dev Adds `slasher` to the registry (callers check that it is not registered and that
    /// there is room) and clears its announcement.
    function _register(address slasher) private {
        _slasherList.push(slasher);
        // length <= MAX_SLASHERS (checked by callers) fits in uint8.
        _slashers[slasher] = Slasher({position: uint8(_slasherList.length), activeAt: 0});
        emit SlasherActivated(slasher);
    }

    /// @dev What `slasher`'s record holds of the bond: the record is 0 (never written) or
    /// 1 + what it holds, so a record that empties stays a live slot (a later lock costs a
    /// rewrite, not a new slot).
    function _held(address slasher, uint256 agentId, bytes32 role) private view returns (uint256) {
        uint256 record = _lockedBy[slasher][agentId][role];
        return record == 0 ? 0 : record - 1;
    }

    /// @dev Lowers the aggregate lock by `amount`, saturating at zero (a slash may have capped
    /// it below the per-slasher records). Returns what stays locked.
    function _unlock(Bond storage b, uint256 amount) private returns (uint96 locked) {
        locked = b.locked;
        // amount >= locked is handled by the first branch, so the subtraction is exact.
        unchecked {
            locked = amount >= locked ? 0 : locked - uint96(amount);
        }
        b.locked = locked;
    }

    /// @dev Takes up to `amount`: the active bond first, then the unbonding bucket; caps the
    /// aggregate lock at what stays active. Emits Slashed with what was taken.
    function _slash(Bond storage b, uint256 agentId, bytes32 role, uint256 amount, bytes32 reason)
        private
        returns (uint256 taken)
    {
        uint96 active = b.active;
        uint96 fromActive = amount < active ? uint96(amount) : active;
        uint256 rest;
        // fromActive <= active and fromActive <= amount by the choice above.
        unchecked {
            active -= fromActive;
            rest = amount - fromActive;
        }
        uint96 locked = b.locked;
        b.active = active;
        if (locked > active) b.locked = active;
        taken = fromActive;
        if (rest != 0) {
            uint96 unbonding = b.unbonding;
            if (unbonding != 0) {
                uint96 fromUnbonding = rest < unbonding ? uint96(rest) : unbonding;
                // fromUnbonding <= unbonding by the choice above; taken <= 2 * 2^96.
                unchecked {
                    b.unbonding = unbonding - fromUnbonding;
                    taken += fromUnbonding;
                }
                if (fromUnbonding == unbonding) b.unbondReadyAt = 0;
            }
        }
        _treasury += taken;
        emit Slashed(agentId, role, msg.sender, taken, reason);
    }

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
