"""AgentRoles v2: the slasher registry (announced, delayed, genesis at once, removable), stake
locks per slasher, partial slashes, releases that never block settling, and the attacks they
close (issue 15: attack 5, a bond backing many claims; attack 7, an admin that slashes)."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak, to_checksum_address
from registry_constants import (HEARTBEAT_EXPIRY, MIN_BOND, OTHER_ROLE, REASON, ROLE, SLASHER_DELAY,
                                UNBONDING_DELAY, ZERO)

OLD_SLASHER_ROLE = keccak(text="SLASHER_ROLE")  # v1's role id; v2 checks no role for slashing


def _ready(roles: Any, owner: Any, agent: int = 0, amount: int = MIN_BOND) -> None:
    """Bond `amount` for ROLE and send a heartbeat: the agent is eligible."""
    roles.bond(agent, ROLE, sender=owner, value=amount)
    roles.heartbeat(agent, sender=owner)


def _register(roles: Any, chain: Any, account: Any, admin: Any) -> None:
    """Announce `account` and activate it (after the delay unless still in genesis)."""
    roles.announceSlasher(account.address, sender=admin)
    if not roles.isSlasher(account.address):
        chain.pending_timestamp = roles.slasherActiveAt(account.address)
        roles.activateSlasher(account.address, sender=admin)


@pytest.fixture
def slasher2(accounts: Any, chain: Any, roles: Any, slasher: Any, deployer: Any) -> Any:
    """A second registered slasher (another coordinator)."""
    _register(roles, chain, accounts[6], deployer)
    return accounts[6]


@pytest.fixture
def bonded(roles: Any, alice: Any, slasher: Any, slasher2: Any) -> None:
    """Agent 0 bonded MIN_BOND and live, two slashers registered; the genesis window is over."""
    _ready(roles, alice)


# ------------------------------------------------------------------ slasher registry


def test_announce_before_any_bond_registers_at_once(project: Any, identity: Any, deployer: Any,
                                                     carol: Any) -> None:
    fresh = project.AgentRoles.deploy(identity.address, deployer.address, UNBONDING_DELAY,
                                      HEARTBEAT_EXPIRY, SLASHER_DELAY, sender=deployer)
    tx = fresh.announceSlasher(carol.address, sender=deployer)
    assert tx.events.filter(fresh.SlasherAnnounced) == [fresh.SlasherAnnounced(
        slasher=carol.address, activeAt=tx.timestamp)]
    assert tx.events.filter(fresh.SlasherActivated) == [fresh.SlasherActivated(slasher=carol.address)]
    assert fresh.isSlasher(carol.address) and fresh.slasherActiveAt(carol.address) == 0
    assert fresh.slashers() == [carol.address]


def test_announce_after_a_bond_waits_the_delay_then_anyone_activates(
        roles: Any, chain: Any, bonded: None, deployer: Any, carol: Any, dave: Any) -> None:
    tx = roles.announceSlasher(carol.address, sender=deployer)
    active_at = tx.timestamp + SLASHER_DELAY
    assert tx.events.filter(roles.SlasherAnnounced) == [roles.SlasherAnnounced(
        slasher=carol.address, activeAt=active_at)]
    assert not tx.events.filter(roles.SlasherActivated)
    assert not roles.isSlasher(carol.address) and roles.slasherActiveAt(carol.address) == active_at
    chain.pending_timestamp = active_at
    atx = roles.activateSlasher(carol.address, sender=dave)
    assert atx.events.filter(roles.SlasherActivated) == [roles.SlasherActivated(slasher=carol.address)]
    assert roles.isSlasher(carol.address) and roles.slasherActiveAt(carol.address) == 0
    assert carol.address in roles.slashers()


@pytest.mark.covers("AgentRoles.announceSlasher", "wrong_caller")
@pytest.mark.covers("AgentRoles.cancelSlasher", "wrong_caller")
@pytest.mark.covers("AgentRoles.removeSlasher", "wrong_caller")
def test_slasher_admin_functions_reject_non_admin(roles: Any, bonded: None, slasher: Any, deployer: Any,
                                                  carol: Any) -> None:
    admin_role = roles.DEFAULT_ADMIN_ROLE()
    roles.announceSlasher(carol.address, sender=deployer)
    with ape.reverts(roles.AccessControlUnauthorizedAccount, account=carol.address, neededRole=admin_role):
        roles.announceSlasher(carol.address, sender=carol)
    # a registered slasher has no admin power either
    with ape.reverts(roles.AccessControlUnauthorizedAccount, account=slasher.address, neededRole=admin_role):
        roles.cancelSlasher(carol.address, sender=slasher)
    with ape.reverts(roles.AccessControlUnauthorizedAccount, account=slasher.address, neededRole=admin_role):
        roles.removeSlasher(slasher.address, sender=slasher)
    assert roles.isSlasher(slasher.address) and roles.slasherActiveAt(carol.address) != 0


@pytest.mark.covers("AgentRoles.announceSlasher", "bad_arguments")
def test_announce_rejects_zero_address(roles: Any, deployer: Any) -> None:
    with ape.reverts(roles.AgentRolesInvalidArgument):
        roles.announceSlasher(ZERO, sender=deployer)


@pytest.mark.covers("AgentRoles.announceSlasher", "wrong_state", "replay")
def test_announce_rejects_registered_or_pending_slasher(roles: Any, bonded: None, slasher: Any,
                                                        deployer: Any, carol: Any) -> None:
    with ape.reverts(roles.AgentRolesSlasherAlreadyRegistered, slasher=slasher.address):
        roles.announceSlasher(slasher.address, sender=deployer)
    tx = roles.announceSlasher(carol.address, sender=deployer)
    with ape.reverts(roles.AgentRolesSlasherAlreadyRegistered, slasher=carol.address):
        roles.announceSlasher(carol.address, sender=deployer)     # a replay cannot restart the clock
    assert roles.slasherActiveAt(carol.address) == tx.timestamp + SLASHER_DELAY


@pytest.mark.covers("AgentRoles.announceSlasher", "wrong_state")
@pytest.mark.covers("AgentRoles.activateSlasher", "wrong_state")
def test_registry_is_capped_at_max_slashers(project: Any, identity: Any, chain: Any, alice: Any,
                                            deployer: Any) -> None:
    fresh = project.AgentRoles.deploy(identity.address, deployer.address, UNBONDING_DELAY,
                                      HEARTBEAT_EXPIRY, SLASHER_DELAY, sender=deployer)
    fresh.configureRole(ROLE, MIN_BOND, sender=deployer)
    who = [to_checksum_address(f"0x{i + 1:040x}") for i in range(10)]
    for address in who[:7]:
        fresh.announceSlasher(address, sender=deployer)                   # genesis: at once
    fresh.bond(0, ROLE, sender=alice, value=MIN_BOND)
    fresh.announceSlasher(who[7], sender=deployer)                        # 8th: pending
    fresh.announceSlasher(who[8], sender=deployer)                        # 9th: pending
    chain.pending_timestamp = fresh.slasherActiveAt(who[8])
    fresh.activateSlasher(who[7], sender=deployer)
    assert len(fresh.slashers()) == 8
    with ape.reverts(fresh.AgentRolesTooManySlashers, max=8):
        fresh.activateSlasher(who[8], sender=deployer)
    with ape.reverts(fresh.AgentRolesTooManySlashers, max=8):
        fresh.announceSlasher(who[9], sender=deployer)
    fresh.removeSlasher(who[0], sender=deployer)
    fresh.activateSlasher(who[8], sender=deployer)
    assert sorted(fresh.slashers()) == sorted(who[1:9])


@pytest.mark.covers("AgentRoles.activateSlasher", "wrong_state")
def test_activate_before_the_delay_reverts(roles: Any, chain: Any, bonded: None, deployer: Any,
                                           carol: Any) -> None:
    tx = roles.announceSlasher(carol.address, sender=deployer)
    active_at = tx.timestamp + SLASHER_DELAY
    chain.pending_timestamp = active_at - 1
    with ape.reverts(roles.AgentRolesSlasherNotReady, slasher=carol.address, activeAt=active_at):
        roles.activateSlasher(carol.address, sender=carol)


@pytest.mark.covers("AgentRoles.activateSlasher", "bad_arguments")
def test_activate_unannounced_or_zero_reverts(roles: Any, carol: Any) -> None:
    for who in (carol.address, ZERO):
        with ape.reverts(roles.AgentRolesSlasherNotAnnounced, slasher=who):
            roles.activateSlasher(who, sender=carol)


@pytest.mark.covers("AgentRoles.activateSlasher", "replay")
@pytest.mark.covers("AgentRoles.cancelSlasher", "replay", "wrong_state")
def test_cancel_withdraws_the_announcement_once(roles: Any, chain: Any, bonded: None, slasher: Any,
                                                deployer: Any, carol: Any) -> None:
    tx = roles.announceSlasher(carol.address, sender=deployer)
    ctx = roles.cancelSlasher(carol.address, sender=deployer)
    assert ctx.events.filter(roles.SlasherAnnouncementCancelled) == [
        roles.SlasherAnnouncementCancelled(slasher=carol.address)]
    assert roles.slasherActiveAt(carol.address) == 0
    with ape.reverts(roles.AgentRolesSlasherNotAnnounced, slasher=carol.address):
        roles.cancelSlasher(carol.address, sender=deployer)                # replay
    with ape.reverts(roles.AgentRolesSlasherNotAnnounced, slasher=slasher.address):
        roles.cancelSlasher(slasher.address, sender=deployer)              # active, not pending
    chain.pending_timestamp = tx.timestamp + SLASHER_DELAY
    with ape.reverts(roles.AgentRolesSlasherNotAnnounced, slasher=carol.address):
        roles.activateSlasher(carol.address, sender=carol)                 # cancelled stays dead
    _register(roles, chain, carol, deployer)
    with ape.reverts(roles.AgentRolesSlasherNotAnnounced, slasher=carol.address):
        roles.activateSlasher(carol.address, sender=carol)                 # activation replayed
    assert roles.isSlasher(carol.address)


@pytest.mark.covers("AgentRoles.cancelSlasher", "bad_arguments")
def test_cancel_of_zero_address_reverts(roles: Any, deployer: Any) -> None:
    with ape.reverts(roles.AgentRolesSlasherNotAnnounced, slasher=ZERO):
        roles.cancelSlasher(ZERO, sender=deployer)


def test_remove_takes_effect_at_once_and_keeps_the_list_short(roles: Any, slasher: Any, slasher2: Any,
                                                              deployer: Any) -> None:
    assert sorted(roles.slashers()) == sorted([slasher.address, slasher2.address])
    tx = roles.removeSlasher(slasher.address, sender=deployer)
    assert tx.events.filter(roles.SlasherRemoved) == [roles.SlasherRemoved(slasher=slasher.address)]
    assert roles.slashers() == [slasher2.address] and not roles.isSlasher(slasher.address)
    with ape.reverts(roles.AgentRolesNotSlasher, caller=slasher.address):
        roles.slash(0, ROLE, 1, REASON, sender=slasher)
    roles.removeSlasher(slasher2.address, sender=deployer)
    assert roles.slashers() == []


@pytest.mark.covers("AgentRoles.removeSlasher", "wrong_state", "bad_arguments", "replay")
def test_remove_rejects_unregistered(roles: Any, bonded: None, slasher: Any, deployer: Any, carol: Any) -> None:
    roles.announceSlasher(carol.address, sender=deployer)
    with ape.reverts(roles.AgentRolesNotSlasher, caller=carol.address):
        roles.removeSlasher(carol.address, sender=deployer)                # pending, not registered
    with ape.reverts(roles.AgentRolesNotSlasher, caller=ZERO):
        roles.removeSlasher(ZERO, sender=deployer)
    roles.removeSlasher(slasher.address, sender=deployer)
    with ape.reverts(roles.AgentRolesNotSlasher, caller=slasher.address):
        roles.removeSlasher(slasher.address, sender=deployer)              # replay


def test_admin_cannot_grant_itself_slashing(roles: Any, chain: Any, bonded: None, deployer: Any) -> None:
    """Attack 7: the admin gives itself power over the bonds. Granting v1's role hash (or any
    role) grants nothing; announcing itself is public and only takes effect after the delay."""
    roles.grantRole(OLD_SLASHER_ROLE, deployer.address, sender=deployer)
    with ape.reverts(roles.AgentRolesNotSlasher, caller=deployer.address):
        roles.slash(0, ROLE, MIN_BOND, REASON, sender=deployer)
    with ape.reverts(roles.AgentRolesNotSlasher, caller=deployer.address):
        roles.lockStake(0, ZERO, ROLE, 1, sender=deployer)
    tx = roles.announceSlasher(deployer.address, sender=deployer)
    active_at = tx.timestamp + SLASHER_DELAY
    with ape.reverts(roles.AgentRolesSlasherNotReady, slasher=deployer.address, activeAt=active_at):
        roles.activateSlasher(deployer.address, sender=deployer)
    with ape.reverts(roles.AgentRolesNotSlasher, caller=deployer.address):
        roles.slash(0, ROLE, MIN_BOND, REASON, sender=deployer)
    # everyone saw it coming: the announcement is an event and a view
    logs = list(roles.SlasherAnnounced.range(tx.block_number, tx.block_number + 1))
    assert [(log.slasher, log.activeAt) for log in logs] == [(deployer.address, active_at)]
    assert roles.slasherActiveAt(deployer.address) == active_at
    chain.pending_timestamp = active_at
    roles.activateSlasher(deployer.address, sender=deployer)
    assert roles.isSlasher(deployer.address)
    assert roles.bondOf(0, ROLE)[0] == MIN_BOND      # untouched until then


# ------------------------------------------------------------------ lockStake


def test_lock_returns_owner_and_records_the_lock(roles: Any, identity: Any, bonded: None, alice: Any,
                                                 dave: Any, slasher: Any) -> None:
    identity.setApprovalForAll(dave.address, True, sender=alice)
    assert roles.lockStake.call(0, dave.address, ROLE, 1, sender=slasher) == alice.address
    tx = roles.lockStake(0, dave.address, ROLE, MIN_BOND // 4, sender=slasher)
    assert tx.return_value == alice.address
    assert tx.events.filter(roles.StakeLocked) == [roles.StakeLocked(
        agentId=0, role=ROLE, slasher=slasher.address, amount=MIN_BOND // 4, locked=MIN_BOND // 4)]
    tx = roles.lockStake(0, alice.address, ROLE, MIN_BOND // 4, sender=slasher)
    assert tx.events.filter(roles.StakeLocked)[0].locked == MIN_BOND // 2
    assert roles.lockedOf(0, ROLE) == MIN_BOND // 2
    assert roles.lockedBy(slasher.address, 0, ROLE) == MIN_BOND // 2


def test_lock_of_zero_checks_eligibility_and_locks_nothing(roles: Any, bonded: None, alice: Any, carol: Any,
                                                           slasher: Any) -> None:
    tx = roles.lockStake(0, alice.address, ROLE, 0, sender=slasher)
    assert tx.return_value == alice.address
    assert not tx.events.filter(roles.StakeLocked)
    assert roles.lockedOf(0, ROLE) == 0
    with ape.reverts(roles.AgentRolesNotEligible, agentId=0, operator=carol.address, role=ROLE):
        roles.lockStake(0, carol.address, ROLE, 0, sender=slasher)


@pytest.mark.covers("AgentRoles.lockStake", "wrong_caller")
def test_lock_rejects_non_slashers(roles: Any, bonded: None, alice: Any, deployer: Any, carol: Any,
                                   slasher: Any) -> None:
    roles.announceSlasher(carol.address, sender=deployer)                # pending is not enough
    for caller in (deployer, carol, alice):
        with ape.reverts(roles.AgentRolesNotSlasher, caller=caller.address):
            roles.lockStake(0, alice.address, ROLE, 1, sender=caller)
    roles.removeSlasher(slasher.address, sender=deployer)
    with ape.reverts(roles.AgentRolesNotSlasher, caller=slasher.address):
        roles.lockStake(0, alice.address, ROLE, 1, sender=slasher)


@pytest.mark.covers("AgentRoles.lockStake", "wrong_state")
def test_lock_requires_eligibility_like_is_eligible(roles: Any, chain: Any, alice: Any, deployer: Any,
                                                    slasher: Any) -> None:
    def refused() -> None:
        assert not roles.isEligible(0, alice.address, ROLE)
        with ape.reverts(roles.AgentRolesNotEligible, agentId=0, operator=alice.address, role=ROLE):
            roles.lockStake(0, alice.address, ROLE, 1, sender=slasher)

    roles.bond(0, ROLE, sender=alice, value=MIN_BOND)
    refused()                                                             # no heartbeat
    tx = roles.heartbeat(0, sender=alice)
    roles.lockStake(0, alice.address, ROLE, 1, sender=slasher)
    chain.mine(1, timestamp=tx.timestamp + HEARTBEAT_EXPIRY)
    refused()                                                             # heartbeat expired
    roles.heartbeat(0, sender=alice)
    roles.configureRole(ROLE, MIN_BOND + 1, sender=deployer)
    refused()                                                             # below the minimum


@pytest.mark.covers("AgentRoles.lockStake", "bad_arguments")
def test_lock_rejects_unknown_agent_role_and_stranger_operator(roles: Any, bonded: None, alice: Any,
                                                               carol: Any, slasher: Any) -> None:
    for agent, operator, role in ((99, alice.address, ROLE), (0, alice.address, OTHER_ROLE),
                                  (0, carol.address, ROLE), (0, ZERO, ROLE)):
        with ape.reverts(roles.AgentRolesNotEligible, agentId=agent, operator=operator, role=role):
            roles.lockStake(agent, operator, role, 1, sender=slasher)


@pytest.mark.covers("AgentRoles.lockStake", "replay", "wrong_state")
def test_lock_needs_free_bond(roles: Any, bonded: None, alice: Any, slasher: Any, slasher2: Any) -> None:
    """Attack 5: one minimum bond backing many claims. The second lock finds nothing free,
    whichever slasher asks."""
    roles.lockStake(0, alice.address, ROLE, MIN_BOND, sender=slasher)
    for who in (slasher, slasher2):
        with ape.reverts(roles.AgentRolesInsufficientFreeBond, agentId=0, role=ROLE, free=0,
                         requested=MIN_BOND):
            roles.lockStake(0, alice.address, ROLE, MIN_BOND, sender=who)
    roles.bond(0, ROLE, sender=alice, value=MIN_BOND // 2)
    with ape.reverts(roles.AgentRolesInsufficientFreeBond, agentId=0, role=ROLE, free=MIN_BOND // 2,
                     requested=MIN_BOND // 2 + 1):
        roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2 + 1, sender=slasher2)
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher2)
    assert roles.lockedOf(0, ROLE) == roles.bondOf(0, ROLE)[0] == 3 * MIN_BOND // 2


def test_check_stake_checks_like_a_lock_and_locks_nothing(roles: Any, bonded: None, alice: Any,
                                                         carol: Any, slasher: Any) -> None:
    """`checkStake` (a deciding vote's stake: at risk only within its transaction) reverts
    exactly as `lockStake` would, registered slashers only, and changes nothing."""
    with ape.reverts(roles.AgentRolesNotSlasher, caller=carol.address):
        roles.checkStake(0, alice.address, ROLE, MIN_BOND, sender=carol)
    assert roles.checkStake(0, alice.address, ROLE, MIN_BOND, sender=slasher) == alice.address
    assert roles.lockedOf(0, ROLE) == 0
    for agent, operator, role in ((99, alice.address, ROLE), (0, carol.address, ROLE)):
        with ape.reverts(roles.AgentRolesNotEligible, agentId=agent, operator=operator, role=role):
            roles.checkStake(agent, operator, role, 1, sender=slasher)
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher)
    with ape.reverts(roles.AgentRolesInsufficientFreeBond, agentId=0, role=ROLE,
                     free=MIN_BOND - MIN_BOND // 2, requested=MIN_BOND):
        roles.checkStake(0, alice.address, ROLE, MIN_BOND, sender=slasher)
    assert roles.checkStake(0, alice.address, ROLE, MIN_BOND - MIN_BOND // 2,
                            sender=slasher) == alice.address


@pytest.mark.covers("AgentRoles.requestUnbond", "wrong_state")
def test_claim_lock_cannot_be_unbonded(roles: Any, chain: Any, bonded: None, alice: Any,
                                       slasher: Any) -> None:
    """A bond at risk for a claim cannot start unbonding (and so cannot run away before the
    claim is settled); what is free can."""
    roles.bond(0, ROLE, sender=alice, value=MIN_BOND)
    roles.lockStake(0, alice.address, ROLE, 3 * MIN_BOND // 2, sender=slasher)
    with ape.reverts(roles.AgentRolesInsufficientFreeBond, agentId=0, role=ROLE, free=MIN_BOND // 2,
                     requested=MIN_BOND):
        roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    roles.requestUnbond(0, ROLE, MIN_BOND // 2, sender=alice)
    with ape.reverts(roles.AgentRolesInsufficientFreeBond, agentId=0, role=ROLE, free=0, requested=1):
        roles.requestUnbond(0, ROLE, 1, sender=alice)
    chain.pending_timestamp += UNBONDING_DELAY + 1
    roles.withdraw(0, ROLE, alice.address, sender=alice)
    assert roles.bondOf(0, ROLE)[0] == roles.lockedOf(0, ROLE) == 3 * MIN_BOND // 2
    roles.releaseStake(0, ROLE, 3 * MIN_BOND // 2, 0, REASON, sender=slasher)
    roles.requestUnbond(0, ROLE, 3 * MIN_BOND // 2, sender=alice)       # settled: free again


# ------------------------------------------------------------------ releaseStake


def test_release_frees_the_lock_and_slashes_in_one_call(roles: Any, bonded: None, alice: Any,
                                                        slasher: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND, sender=slasher)
    tx = roles.releaseStake(0, ROLE, MIN_BOND, MIN_BOND // 10, REASON, sender=slasher)
    assert tx.events.filter(roles.StakeReleased) == [roles.StakeReleased(
        agentId=0, role=ROLE, slasher=slasher.address, amount=MIN_BOND, locked=0)]
    assert tx.events.filter(roles.Slashed) == [roles.Slashed(
        agentId=0, role=ROLE, slasher=slasher.address, amount=MIN_BOND // 10, reason=REASON)]
    assert tx.return_value == MIN_BOND // 10
    assert roles.bondOf(0, ROLE)[0] == MIN_BOND - MIN_BOND // 10
    assert roles.lockedOf(0, ROLE) == roles.lockedBy(slasher.address, 0, ROLE) == 0
    assert roles.treasuryBalance() == MIN_BOND // 10


@pytest.mark.covers("AgentRoles.releaseStake", "wrong_caller")
def test_one_slasher_cannot_release_anothers_lock(roles: Any, bonded: None, alice: Any, carol: Any,
                                                  slasher: Any, slasher2: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND, sender=slasher)
    tx = roles.releaseStake(0, ROLE, MIN_BOND, 0, REASON, sender=slasher2)
    assert not tx.events.filter(roles.StakeReleased)
    # a stranger neither releases nor slashes, and does not revert
    tx = roles.releaseStake(0, ROLE, MIN_BOND, MIN_BOND, REASON, sender=carol)
    assert not tx.events.filter(roles.StakeReleased) and not tx.events.filter(roles.Slashed)
    assert tx.return_value == 0
    assert roles.lockedOf(0, ROLE) == roles.lockedBy(slasher.address, 0, ROLE) == MIN_BOND
    assert roles.bondOf(0, ROLE)[0] == MIN_BOND


@pytest.mark.covers("AgentRoles.releaseStake", "wrong_state", "bad_arguments")
def test_release_beyond_the_lock_releases_what_is_there(roles: Any, bonded: None, alice: Any,
                                                        slasher: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher)
    tx = roles.releaseStake(0, ROLE, 2**256 - 1, 2**256 - 1, REASON, sender=slasher)
    assert tx.events.filter(roles.StakeReleased)[0].amount == MIN_BOND // 2
    assert tx.events.filter(roles.Slashed)[0].amount == MIN_BOND                 # all there was
    assert tx.return_value == MIN_BOND
    # nothing locked, nothing left: settling still goes through
    tx = roles.releaseStake(0, ROLE, 1, 1, REASON, sender=slasher)
    assert not tx.events.filter(roles.StakeReleased)
    assert tx.events.filter(roles.Slashed)[0].amount == 0


@pytest.mark.covers("AgentRoles.releaseStake", "replay")
def test_release_twice_releases_once(roles: Any, bonded: None, alice: Any, slasher: Any, slasher2: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher)
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher2)
    roles.releaseStake(0, ROLE, MIN_BOND // 2, 0, REASON, sender=slasher)
    tx = roles.releaseStake(0, ROLE, MIN_BOND // 2, 0, REASON, sender=slasher)
    assert not tx.events.filter(roles.StakeReleased)
    assert roles.lockedOf(0, ROLE) == roles.lockedBy(slasher2.address, 0, ROLE) == MIN_BOND // 2


def test_removed_slasher_may_release_but_not_slash(roles: Any, bonded: None, alice: Any, deployer: Any,
                                                   slasher: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND, sender=slasher)
    roles.removeSlasher(slasher.address, sender=deployer)
    tx = roles.releaseStake(0, ROLE, MIN_BOND, MIN_BOND, REASON, sender=slasher)
    assert tx.events.filter(roles.StakeReleased)[0].amount == MIN_BOND
    assert not tx.events.filter(roles.Slashed) and tx.return_value == 0
    assert roles.bondOf(0, ROLE)[0] == MIN_BOND and roles.lockedOf(0, ROLE) == 0


# ------------------------------------------------------------------ slash with locks


def test_slash_takes_what_is_there_and_says_how_much(roles: Any, bonded: None, alice: Any,
                                                     slasher: Any) -> None:
    roles.requestUnbond(0, ROLE, MIN_BOND // 2, sender=alice)
    tx = roles.slash(0, ROLE, 10 * MIN_BOND, REASON, sender=slasher)
    assert tx.events.filter(roles.Slashed) == [roles.Slashed(
        agentId=0, role=ROLE, slasher=slasher.address, amount=MIN_BOND, reason=REASON)]
    assert tx.return_value == MIN_BOND
    assert roles.bondOf(0, ROLE) == (0, 0, 0)
    assert roles.treasuryBalance() == MIN_BOND


def test_slash_below_the_locks_caps_them_and_releases_saturate(roles: Any, bonded: None, alice: Any,
                                                               slasher: Any, slasher2: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher)
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher2)
    roles.slash(0, ROLE, 3 * MIN_BOND // 4, REASON, sender=slasher)
    assert roles.bondOf(0, ROLE)[0] == roles.lockedOf(0, ROLE) == MIN_BOND // 4   # capped at active
    assert roles.lockedBy(slasher.address, 0, ROLE) == MIN_BOND // 2             # records untouched
    tx = roles.releaseStake(0, ROLE, MIN_BOND // 2, 0, REASON, sender=slasher)
    assert tx.events.filter(roles.StakeReleased)[0].locked == 0                  # saturated
    tx = roles.releaseStake(0, ROLE, MIN_BOND // 2, 0, REASON, sender=slasher2)
    assert tx.events.filter(roles.StakeReleased) == [roles.StakeReleased(
        agentId=0, role=ROLE, slasher=slasher2.address, amount=MIN_BOND // 2, locked=0)]
    assert roles.lockedBy(slasher2.address, 0, ROLE) == 0


# ------------------------------------------------------------------ releaseOrphaned


def test_removed_slasher_locks_can_be_freed_by_agent(roles: Any, chain: Any, bonded: None, alice: Any,
                                                     deployer: Any, slasher: Any, slasher2: Any) -> None:
    """A slasher removed (or broken) while holding locks must not freeze the bond forever."""
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher)
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 4, sender=slasher2)
    roles.removeSlasher(slasher.address, sender=deployer)
    tx = roles.releaseOrphaned(slasher.address, 0, ROLE, sender=alice)
    assert tx.events.filter(roles.StakeReleased) == [roles.StakeReleased(
        agentId=0, role=ROLE, slasher=slasher.address, amount=MIN_BOND // 2, locked=MIN_BOND // 4)]
    assert roles.lockedBy(slasher.address, 0, ROLE) == 0
    roles.requestUnbond(0, ROLE, 3 * MIN_BOND // 4, sender=alice)       # only slasher2's lock stays
    with ape.reverts(roles.AgentRolesSlasherAlreadyRegistered, slasher=slasher2.address):
        roles.releaseOrphaned(slasher2.address, 0, ROLE, sender=alice)


@pytest.mark.covers("AgentRoles.releaseOrphaned", "wrong_caller")
def test_release_orphaned_rejects_stranger(roles: Any, bonded: None, alice: Any, carol: Any,
                                           deployer: Any, slasher: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND, sender=slasher)
    roles.removeSlasher(slasher.address, sender=deployer)
    for caller in (carol, deployer):
        with ape.reverts(roles.AgentRolesNotAuthorized, agentId=0, caller=caller.address):
            roles.releaseOrphaned(slasher.address, 0, ROLE, sender=caller)


@pytest.mark.covers("AgentRoles.releaseOrphaned", "wrong_state")
def test_release_orphaned_rejects_registered_slasher(roles: Any, bonded: None, alice: Any,
                                                     slasher: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND, sender=slasher)
    with ape.reverts(roles.AgentRolesSlasherAlreadyRegistered, slasher=slasher.address):
        roles.releaseOrphaned(slasher.address, 0, ROLE, sender=alice)
    assert roles.lockedOf(0, ROLE) == MIN_BOND


@pytest.mark.covers("AgentRoles.releaseOrphaned", "bad_arguments")
def test_release_orphaned_reverts_for_unknown_agent(roles: Any, identity: Any, alice: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=33):
        roles.releaseOrphaned(ZERO, 33, ROLE, sender=alice)


@pytest.mark.covers("AgentRoles.releaseOrphaned", "replay")
def test_release_orphaned_twice_frees_once(roles: Any, bonded: None, alice: Any, deployer: Any,
                                           slasher: Any, slasher2: Any) -> None:
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher)
    roles.lockStake(0, alice.address, ROLE, MIN_BOND // 2, sender=slasher2)
    roles.removeSlasher(slasher.address, sender=deployer)
    roles.releaseOrphaned(slasher.address, 0, ROLE, sender=alice)
    tx = roles.releaseOrphaned(slasher.address, 0, ROLE, sender=alice)
    assert not tx.events.filter(roles.StakeReleased)
    assert roles.lockedOf(0, ROLE) == MIN_BOND // 2                      # slasher2's lock intact


# ------------------------------------------------------------------ gas (hot path)


def test_lock_and_release_gas(roles: Any, bonded: None, alice: Any, slasher: Any) -> None:
    """lockStake runs on every claim and vote: a slasher's first lock of a bond writes two
    slots (bond, record); the record then stays a live slot (1 + what it holds), so a lock
    after everything was released rewrites it instead of creating it again."""
    fresh = roles.lockStake(0, alice.address, ROLE, MIN_BOND // 4, sender=slasher).gas_used
    repeat = roles.lockStake(0, alice.address, ROLE, MIN_BOND // 4, sender=slasher).gas_used
    release = roles.releaseStake(0, ROLE, MIN_BOND // 4, 0, REASON, sender=slasher).gas_used
    roles.releaseStake(0, ROLE, MIN_BOND // 4, 0, REASON, sender=slasher)
    assert roles.lockedBy(slasher.address, 0, ROLE) == 0 and roles.lockedOf(0, ROLE) == 0
    relock = roles.lockStake(0, alice.address, ROLE, MIN_BOND // 4, sender=slasher).gas_used
    release_slash = roles.releaseStake(0, ROLE, MIN_BOND // 4, 1, REASON, sender=slasher).gas_used
    print(f"\ngas: lockStake fresh {fresh}, repeat {repeat}, after a full release {relock}; "
          f"releaseStake {release}, with slash {release_slash}")
    assert fresh < 75_000 and repeat < 55_000 and release < 45_000 and release_slash < 70_000
    assert relock <= fresh - 15_000  # no new slot: 2,900 instead of 20,000 for the record
    assert roles.lockedBy(slasher.address, 0, ROLE) == 0
