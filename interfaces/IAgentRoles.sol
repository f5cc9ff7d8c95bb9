// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAgentRoles
/// @notice Roles (bytes32 capability ids) per ERC-8004 agentId, each gated by a native-value
/// stake bond with a configured minimum. Bonds are slashable by authorised slashers (the
/// workflow coordinator); unbonding waits a delay during which the bond stays slashable, so a
/// misbehaving agent cannot run away; liveness is a heartbeat that expires.
/// @dev Works on any ERC-8004 Identity Registry: ownership and operator checks go through
/// `ownerOf` and `isAuthorizedOrOwner`. Every read used for trust is O(1).
interface IAgentRoles {
    // ---------------------------------------------------------------- errors
    /// @notice `caller` is neither the owner nor an operator of `agentId`.
    error AgentRolesNotAuthorized(uint256 agentId, address caller);
    /// @notice `role` has not been configured by the admin.
    error AgentRolesUnknownRole(bytes32 role);
    /// @notice A bond would end up with `amount`, below the role's `minBond`.
    error AgentRolesBondBelowMinimum(bytes32 role, uint256 amount, uint256 minBond);
    /// @notice Asked to unbond or slash `requested` but only `available` is there.
    error AgentRolesInsufficientBond(uint256 agentId, bytes32 role, uint256 available, uint256 requested);
    /// @notice The unbonding of (`agentId`, `role`) matures at `readyAt`, not before.
    error AgentRolesUnbondingNotReady(uint256 agentId, bytes32 role, uint64 readyAt);
    /// @notice There is nothing matured to withdraw for (`agentId`, `role`).
    error AgentRolesNothingToWithdraw(uint256 agentId, bytes32 role);
    /// @notice Sending `amount` to `to` failed.
    error AgentRolesTransferFailed(address to, uint256 amount);
    /// @notice A zero amount, address or duration where one is not allowed.
    error AgentRolesInvalidArgument();
    /// @notice The treasury holds no slashed value to withdraw.
    error AgentRolesTreasuryEmpty();
    /// @notice `operator` may not act for `agentId` in `role` (see `isEligible`).
    error AgentRolesNotEligible(uint256 agentId, address operator, bytes32 role);
    /// @notice Asked to lock or unbond `requested` but only `free` (active - locked) is free.
    error AgentRolesInsufficientFreeBond(uint256 agentId, bytes32 role, uint256 free, uint256 requested);
    /// @notice `caller` is not a registered slasher.
    error AgentRolesNotSlasher(address caller);
    /// @notice `slasher` has no pending announcement.
    error AgentRolesSlasherNotAnnounced(address slasher);
    /// @notice The announcement of `slasher` takes effect at `activeAt`, not before.
    error AgentRolesSlasherNotReady(address slasher, uint64 activeAt);
    /// @notice The slasher registry already holds its maximum of `max` slashers.
    error AgentRolesTooManySlashers(uint256 max);
    /// @notice `slasher` is already registered (or already announced).
    error AgentRolesSlasherAlreadyRegistered(address slasher);

    // ---------------------------------------------------------------- events
    /// @notice `role` now requires at least `minBond` wei of bond.
    event RoleConfigured(bytes32 indexed role, uint256 minBond);
    /// @notice `amount` was added to the bond of (`agentId`, `role`), now `total`.
    event Bonded(uint256 indexed agentId, bytes32 indexed role, address indexed by, uint256 amount, uint256 total);
    /// @notice `amount` started unbonding; it can be withdrawn from `readyAt`.
    event UnbondRequested(uint256 indexed agentId, bytes32 indexed role, uint256 amount, uint64 readyAt);
    /// @notice Matured unbonded value `amount` was paid to `to`.
    event Withdrawn(uint256 indexed agentId, bytes32 indexed role, address indexed to, uint256 amount);
    /// @notice `slasher` took `amount` (what was there, at most what it asked) from the bond
    /// of (`agentId`, `role`) for `reason`.
    event Slashed(uint256 indexed agentId, bytes32 indexed role, address indexed slasher, uint256 amount, bytes32 reason);
    /// @notice `agentId` is live until `expiresAt`.
    event HeartbeatRecorded(uint256 indexed agentId, uint64 expiresAt);
    /// @notice The liveness window changed.
    event HeartbeatExpirySet(uint64 expirySeconds);
    /// @notice The unbonding delay changed.
    event UnbondingDelaySet(uint64 delaySeconds);
    /// @notice The admin withdrew `amount` of slashed value to `to`.
    event TreasuryWithdrawn(address indexed to, uint256 amount);
    /// @notice `slasher` locked `amount` of the bond of (`agentId`, `role`); `locked` in all.
    event StakeLocked(uint256 indexed agentId, bytes32 indexed role, address indexed slasher, uint256 amount, uint256 locked);
    /// @notice `slasher` released `amount` of the lock on (`agentId`, `role`); `locked` left.
    event StakeReleased(
        uint256 indexed agentId, bytes32 indexed role, address indexed slasher, uint256 amount, uint256 locked
    );
    /// @notice The admin announced `slasher`; it can be activated from `activeAt`.
    event SlasherAnnounced(address indexed slasher, uint64 activeAt);
    /// @notice The admin withdrew the pending announcement of `slasher`.
    event SlasherAnnouncementCancelled(address indexed slasher);
    /// @notice `slasher` may now lock, release and slash bonds.
    event SlasherActivated(address indexed slasher);
    /// @notice `slasher` may no longer lock or slash (its locks can still be released by it).
    event SlasherRemoved(address indexed slasher);

    // ---------------------------------------------------------------- admin
    /// @notice Configure (or reconfigure) a role and its minimum bond. Admin only.
    function configureRole(bytes32 role, uint256 minBond) external;

    /// @notice Set how long a heartbeat keeps an agent live. Admin only.
    function setHeartbeatExpiry(uint64 expirySeconds) external;

    /// @notice Set the unbonding delay. Admin only.
    function setUnbondingDelay(uint64 delaySeconds) external;

    /// @notice Pay all slashed value held in the treasury to `to` (pull payment). Admin only.
    function withdrawTreasury(address payable to) external;

    /// @notice Announce `slasher` (admin only); it can be activated after `slasherDelay`
    /// (at once while no bond was ever posted).
    function announceSlasher(address slasher) external;

    /// @notice Withdraw a pending announcement (admin only).
    function cancelSlasher(address slasher) external;

    /// @notice Register an announced slasher whose delay has passed (anyone).
    function activateSlasher(address slasher) external;

    /// @notice Deregister `slasher` at once (admin only).
    function removeSlasher(address slasher) external;

    // ---------------------------------------------------------------- agents
    /// @notice Add `msg.value` to the bond of (`agentId`, `role`). Owner or operator of the agent.
    function bond(uint256 agentId, bytes32 role) external payable;

    /// @notice Start unbonding `amount` of the free bond (active - locked); it stays
    /// slashable until withdrawn.
    function requestUnbond(uint256 agentId, bytes32 role, uint256 amount) external;

    /// @notice Pay matured unbonded value to `to`. Owner or operator of the agent.
    function withdraw(uint256 agentId, bytes32 role, address payable to) external;

    /// @notice Mark `agentId` live for the configured expiry. Owner or operator of the agent.
    function heartbeat(uint256 agentId) external;

    // ---------------------------------------------------------------- slashers
    /// @notice Take up to `amount` from the bond (active first, then unbonding) and return
    /// what was taken (never reverts for a shortfall). Registered slashers only.
    function slash(uint256 agentId, bytes32 role, uint256 amount, bytes32 reason) external returns (uint256 taken);

    /// @notice Check that `operator` may act for `agentId` in `role` (`isEligible`, else
    /// AgentRolesNotEligible) and lock `amount` of its free bond (else
    /// AgentRolesInsufficientFreeBond; 0 locks nothing). Returns the agent's owner.
    /// Registered slashers only.
    function lockStake(uint256 agentId, address operator, bytes32 role, uint256 amount)
        external
        returns (address owner);

    /// @notice The checks of `lockStake` without the lock: reverts AgentRolesNotSlasher,
    /// AgentRolesNotEligible or AgentRolesInsufficientFreeBond as it would, else returns the
    /// agent's owner. For a stake that is at risk only within the caller's transaction (a
    /// deciding vote). Registered slashers only.
    function checkStake(uint256 agentId, address operator, bytes32 role, uint256 amount)
        external
        view
        returns (address owner);

    /// @notice Release up to `amount` of what the caller locked on (`agentId`, `role`), then
    /// slash up to `slashAmount` of the bond (as `slash`, registered slashers only); returns
    /// what was slashed. Never reverts for a shortfall, so settling a step cannot be blocked.
    /// A removed slasher may still release (never slash) what it locked.
    function releaseStake(uint256 agentId, bytes32 role, uint256 amount, uint256 slashAmount, bytes32 reason)
        external
        returns (uint256 slashed);

    /// @notice Free everything a removed (or never registered) `slasher` still holds locked on
    /// (`agentId`, `role`). Owner or operator of the agent.
    function releaseOrphaned(address slasher, uint256 agentId, bytes32 role) external;

    // ---------------------------------------------------------------- views (all O(1))
    /// @notice True when `operator` is the owner or an operator of `agentId`, the agent's
    /// active bond for `role` meets the role's minimum, and its heartbeat has not expired.
    function isEligible(uint256 agentId, address operator, bytes32 role) external view returns (bool);

    /// @notice The ERC-8004 Identity Registry this contract reads.
    function identityRegistry() external view returns (address);

    /// @notice Minimum bond of `role` and whether it is configured.
    function roleMinBond(bytes32 role) external view returns (uint256 minBond, bool configured);

    /// @notice Active bond, unbonding amount and when the unbonding matures.
    function bondOf(uint256 agentId, bytes32 role)
        external
        view
        returns (uint256 active, uint256 unbonding, uint64 unbondReadyAt);

    /// @notice When the agent's liveness expires (0 if it never sent a heartbeat).
    function liveUntil(uint256 agentId) external view returns (uint64);

    /// @notice Value of (`agentId`, `role`) locked by all slashers (<= the active bond).
    function lockedOf(uint256 agentId, bytes32 role) external view returns (uint256);

    /// @notice Value of (`agentId`, `role`) locked by `slasher`.
    function lockedBy(address slasher, uint256 agentId, bytes32 role) external view returns (uint256);

    /// @notice Whether `account` is a registered slasher.
    function isSlasher(address account) external view returns (bool);

    /// @notice When the pending announcement of `account` can be activated (0 = none).
    function slasherActiveAt(address account) external view returns (uint64);

    /// @notice The registered slashers (a short list the admin maintains).
    function slashers() external view returns (address[] memory);

    /// @notice Seconds between `announceSlasher` and `activateSlasher` (fixed at deployment).
    function slasherDelay() external view returns (uint64);

    /// @notice Slashed value awaiting `withdrawTreasury`.
    function treasuryBalance() external view returns (uint256);

    /// @notice The current unbonding delay and heartbeat expiry, in seconds.
    function timing() external view returns (uint64 unbondingDelaySeconds, uint64 heartbeatExpirySeconds);
}
