"""AgentRoles: bonds, unbonding delay, slashing, treasury, heartbeat, eligibility, reentrancy."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak
from registry_constants import (HEARTBEAT_EXPIRY, MIN_BOND, OTHER_ROLE, REASON, ROLE, SLASHER_DELAY,
                                UNBONDING_DELAY, ZERO)

UINT96_MAX = 2**96 - 1


def _bonded(roles: Any, alice: Any, amount: int = MIN_BOND) -> None:
    roles.bond(0, ROLE, sender=alice, value=amount)


# ------------------------------------------------------------------ deployment and admin


def test_constructor_stores_configuration(roles: Any, identity: Any, deployer: Any) -> None:
    assert roles.identityRegistry() == identity.address
    assert roles.timing() == (UNBONDING_DELAY, HEARTBEAT_EXPIRY)
    assert roles.hasRole(roles.DEFAULT_ADMIN_ROLE(), deployer.address)
    assert roles.roleMinBond(ROLE) == (MIN_BOND, True)
    assert roles.roleMinBond(OTHER_ROLE) == (0, False)
    assert roles.slasherDelay() == SLASHER_DELAY
    assert roles.MAX_SLASHERS() == 8


@pytest.mark.parametrize("bad", ["identity", "admin", "delay", "expiry", "slasher_delay"])
def test_constructor_rejects_zero_arguments(project: Any, roles: Any, identity: Any, deployer: Any, bad: str) -> None:
    args = {"identity": identity.address, "admin": deployer.address, "delay": 10, "expiry": 10,
            "slasher_delay": 10}
    args[bad] = ZERO if bad in ("identity", "admin") else 0
    with ape.reverts(roles.AgentRolesInvalidArgument):
        project.AgentRoles.deploy(args["identity"], args["admin"], args["delay"], args["expiry"],
                                  args["slasher_delay"], sender=deployer)


def test_configure_role_by_admin_emits(roles: Any, deployer: Any) -> None:
    tx = roles.configureRole(OTHER_ROLE, 5, sender=deployer)
    assert tx.events.filter(roles.RoleConfigured) == [roles.RoleConfigured(role=OTHER_ROLE, minBond=5)]
    assert roles.roleMinBond(OTHER_ROLE) == (5, True)


@pytest.mark.covers("AgentRoles.configureRole", "bad_arguments")
def test_configure_role_rejects_min_bond_beyond_uint96(roles: Any, deployer: Any) -> None:
    with ape.reverts(roles.SafeCastOverflowedUintDowncast, bits=96, value=UINT96_MAX + 1):
        roles.configureRole(OTHER_ROLE, UINT96_MAX + 1, sender=deployer)


def test_admin_setters_update_timing(roles: Any, deployer: Any) -> None:
    tx = roles.setHeartbeatExpiry(60, sender=deployer)
    assert tx.events.filter(roles.HeartbeatExpirySet) == [roles.HeartbeatExpirySet(expirySeconds=60)]
    tx = roles.setUnbondingDelay(120, sender=deployer)
    assert tx.events.filter(roles.UnbondingDelaySet) == [roles.UnbondingDelaySet(delaySeconds=120)]
    assert roles.timing() == (120, 60)


@pytest.mark.covers("AgentRoles.setHeartbeatExpiry", "bad_arguments")
@pytest.mark.covers("AgentRoles.setUnbondingDelay", "bad_arguments")
def test_admin_setters_reject_zero(roles: Any, deployer: Any) -> None:
    with ape.reverts(roles.AgentRolesInvalidArgument):
        roles.setHeartbeatExpiry(0, sender=deployer)
    with ape.reverts(roles.AgentRolesInvalidArgument):
        roles.setUnbondingDelay(0, sender=deployer)


@pytest.mark.covers("AgentRoles.configureRole", "wrong_caller")
@pytest.mark.covers("AgentRoles.setHeartbeatExpiry", "wrong_caller")
@pytest.mark.covers("AgentRoles.setUnbondingDelay", "wrong_caller")
@pytest.mark.covers("AgentRoles.withdrawTreasury", "wrong_caller")
def test_admin_functions_reject_non_admin(roles: Any, carol: Any) -> None:
    admin_role = roles.DEFAULT_ADMIN_ROLE()
    for call in (lambda: roles.configureRole(OTHER_ROLE, 1, sender=carol),
                 lambda: roles.setHeartbeatExpiry(1, sender=carol),
                 lambda: roles.setUnbondingDelay(1, sender=carol),
                 lambda: roles.withdrawTreasury(carol.address, sender=carol)):
        with ape.reverts(roles.AccessControlUnauthorizedAccount, account=carol.address, neededRole=admin_role):
            call()


# ------------------------------------------------------------------ bond


def test_bond_by_owner_adds_to_active_and_emits(roles: Any, alice: Any) -> None:
    tx = roles.bond(0, ROLE, sender=alice, value=MIN_BOND)
    assert tx.events.filter(roles.Bonded) == [roles.Bonded(
        agentId=0, role=ROLE, by=alice.address, amount=MIN_BOND, total=MIN_BOND)]
    roles.bond(0, ROLE, sender=alice, value=5)
    assert roles.bondOf(0, ROLE) == (MIN_BOND + 5, 0, 0)


def test_bond_by_operator_is_allowed(roles: Any, identity: Any, alice: Any, dave: Any) -> None:
    identity.setApprovalForAll(dave.address, True, sender=alice)
    roles.bond(0, ROLE, sender=dave, value=MIN_BOND)
    assert roles.bondOf(0, ROLE)[0] == MIN_BOND


@pytest.mark.covers("AgentRoles.bond", "bad_arguments")
def test_bond_rejects_zero_value(roles: Any, alice: Any) -> None:
    with ape.reverts(roles.AgentRolesInvalidArgument):
        roles.bond(0, ROLE, sender=alice, value=0)


@pytest.mark.covers("AgentRoles.bond", "bad_arguments")
def test_bond_rejects_unknown_role(roles: Any, alice: Any) -> None:
    with ape.reverts(roles.AgentRolesUnknownRole, role=OTHER_ROLE):
        roles.bond(0, OTHER_ROLE, sender=alice, value=1)


@pytest.mark.covers("AgentRoles.bond", "wrong_caller")
def test_bond_rejects_stranger(roles: Any, carol: Any) -> None:
    with ape.reverts(roles.AgentRolesNotAuthorized, agentId=0, caller=carol.address):
        roles.bond(0, ROLE, sender=carol, value=MIN_BOND)


@pytest.mark.covers("AgentRoles.bond", "bad_arguments")
def test_bond_reverts_for_unknown_agent(roles: Any, identity: Any, alice: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=33):
        roles.bond(33, ROLE, sender=alice, value=MIN_BOND)


@pytest.mark.covers("AgentRoles.bond", "bad_arguments")
def test_bond_rejects_total_below_minimum(roles: Any, alice: Any) -> None:
    with ape.reverts(roles.AgentRolesBondBelowMinimum, role=ROLE, amount=MIN_BOND - 1, minBond=MIN_BOND):
        roles.bond(0, ROLE, sender=alice, value=MIN_BOND - 1)


# ------------------------------------------------------------------ unbond and withdraw


def test_request_unbond_moves_amount_and_starts_delay(roles: Any, alice: Any) -> None:
    _bonded(roles, alice, 3 * MIN_BOND)
    tx = roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    ready = tx.timestamp + UNBONDING_DELAY
    assert tx.events.filter(roles.UnbondRequested) == [roles.UnbondRequested(
        agentId=0, role=ROLE, amount=MIN_BOND, readyAt=ready)]
    assert roles.bondOf(0, ROLE) == (2 * MIN_BOND, MIN_BOND, ready)
    # a second request adds to the bucket and restarts the delay
    tx2 = roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    assert roles.bondOf(0, ROLE) == (MIN_BOND, 2 * MIN_BOND, tx2.timestamp + UNBONDING_DELAY)


@pytest.mark.covers("AgentRoles.requestUnbond", "bad_arguments", "wrong_state")
def test_request_unbond_rejects_zero_and_more_than_active(roles: Any, alice: Any) -> None:
    _bonded(roles, alice)
    with ape.reverts(roles.AgentRolesInvalidArgument):
        roles.requestUnbond(0, ROLE, 0, sender=alice)
    with ape.reverts(roles.AgentRolesInsufficientFreeBond, agentId=0, role=ROLE, free=MIN_BOND,
                     requested=MIN_BOND + 1):
        roles.requestUnbond(0, ROLE, MIN_BOND + 1, sender=alice)


@pytest.mark.covers("AgentRoles.requestUnbond", "wrong_caller")
def test_request_unbond_rejects_stranger(roles: Any, alice: Any, carol: Any) -> None:
    _bonded(roles, alice)
    with ape.reverts(roles.AgentRolesNotAuthorized, agentId=0, caller=carol.address):
        roles.requestUnbond(0, ROLE, 1, sender=carol)


def test_withdraw_after_delay_pays_recipient(roles: Any, chain: Any, alice: Any, dave: Any) -> None:
    _bonded(roles, alice)
    tx = roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    chain.pending_timestamp = tx.timestamp + UNBONDING_DELAY
    before = dave.balance
    wtx = roles.withdraw(0, ROLE, dave.address, sender=alice)
    assert wtx.events.filter(roles.Withdrawn) == [roles.Withdrawn(
        agentId=0, role=ROLE, to=dave.address, amount=MIN_BOND)]
    assert dave.balance == before + MIN_BOND
    assert roles.bondOf(0, ROLE) == (0, 0, 0)


@pytest.mark.covers("AgentRoles.withdraw", "wrong_state")
def test_withdraw_before_delay_reverts(roles: Any, chain: Any, alice: Any) -> None:
    _bonded(roles, alice)
    tx = roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    ready = tx.timestamp + UNBONDING_DELAY
    chain.pending_timestamp = ready - 1
    with ape.reverts(roles.AgentRolesUnbondingNotReady, agentId=0, role=ROLE, readyAt=ready):
        roles.withdraw(0, ROLE, alice.address, sender=alice)


@pytest.mark.covers("AgentRoles.withdraw", "wrong_state")
def test_withdraw_with_nothing_unbonding_reverts(roles: Any, alice: Any) -> None:
    _bonded(roles, alice)
    with ape.reverts(roles.AgentRolesNothingToWithdraw, agentId=0, role=ROLE):
        roles.withdraw(0, ROLE, alice.address, sender=alice)


@pytest.mark.covers("AgentRoles.withdraw", "wrong_caller", "bad_arguments")
def test_withdraw_rejects_zero_recipient_and_stranger(roles: Any, chain: Any, alice: Any, carol: Any) -> None:
    _bonded(roles, alice)
    roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    chain.pending_timestamp += UNBONDING_DELAY + 1
    with ape.reverts(roles.AgentRolesInvalidArgument):
        roles.withdraw(0, ROLE, ZERO, sender=alice)
    with ape.reverts(roles.AgentRolesNotAuthorized, agentId=0, caller=carol.address):
        roles.withdraw(0, ROLE, carol.address, sender=carol)


@pytest.mark.covers("AgentRoles.withdraw", "bad_arguments")
def test_withdraw_to_rejecting_receiver_reverts_with_transfer_failed(
        project: Any, roles: Any, chain: Any, alice: Any, deployer: Any) -> None:
    sink = project.RejectingReceiverMock.deploy(sender=deployer)
    _bonded(roles, alice)
    roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    chain.pending_timestamp += UNBONDING_DELAY + 1
    with ape.reverts(roles.AgentRolesTransferFailed, to=sink.address, amount=MIN_BOND):
        roles.withdraw(0, ROLE, sink.address, sender=alice)


# ------------------------------------------------------------------ slash and treasury


def test_slash_takes_from_active_then_unbonding(roles: Any, alice: Any, slasher: Any) -> None:
    _bonded(roles, alice, 3 * MIN_BOND)
    tx = roles.requestUnbond(0, ROLE, 2 * MIN_BOND, sender=alice)
    ready = tx.timestamp + UNBONDING_DELAY
    stx = roles.slash(0, ROLE, MIN_BOND // 2, REASON, sender=slasher)
    assert stx.events.filter(roles.Slashed) == [roles.Slashed(
        agentId=0, role=ROLE, slasher=slasher.address, amount=MIN_BOND // 2, reason=REASON)]
    assert roles.bondOf(0, ROLE) == (MIN_BOND // 2, 2 * MIN_BOND, ready)
    roles.slash(0, ROLE, MIN_BOND, REASON, sender=slasher)       # empties active, takes half from unbonding
    assert roles.bondOf(0, ROLE) == (0, 3 * MIN_BOND // 2, ready)
    roles.slash(0, ROLE, 3 * MIN_BOND // 2, REASON, sender=slasher)  # everything: maturity cleared
    assert roles.bondOf(0, ROLE) == (0, 0, 0)
    assert roles.treasuryBalance() == 3 * MIN_BOND


@pytest.mark.covers("AgentRoles.withdraw", "wrong_state")
def test_slash_during_unbonding_delay_still_reaches_the_bond(roles: Any, chain: Any, alice: Any,
                                                             slasher: Any) -> None:
    _bonded(roles, alice)
    roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    chain.pending_timestamp += UNBONDING_DELAY - 10
    roles.slash(0, ROLE, MIN_BOND, REASON, sender=slasher)
    chain.pending_timestamp += 20
    with ape.reverts(roles.AgentRolesNothingToWithdraw, agentId=0, role=ROLE):
        roles.withdraw(0, ROLE, alice.address, sender=alice)


@pytest.mark.covers("AgentRoles.slash", "bad_arguments")
def test_slash_rejects_zero(roles: Any, alice: Any, slasher: Any) -> None:
    _bonded(roles, alice)
    with ape.reverts(roles.AgentRolesInvalidArgument):
        roles.slash(0, ROLE, 0, REASON, sender=slasher)


@pytest.mark.covers("AgentRoles.slash", "wrong_caller")
def test_slash_rejects_non_slasher(roles: Any, alice: Any, deployer: Any, carol: Any) -> None:
    _bonded(roles, alice)
    for caller in (deployer, carol):
        with ape.reverts(roles.AgentRolesNotSlasher, caller=caller.address):
            roles.slash(0, ROLE, 1, REASON, sender=caller)


def test_withdraw_treasury_pays_admin_chosen_recipient(roles: Any, alice: Any, slasher: Any, deployer: Any,
                                                       dave: Any) -> None:
    _bonded(roles, alice)
    roles.slash(0, ROLE, MIN_BOND, REASON, sender=slasher)
    before = dave.balance
    tx = roles.withdrawTreasury(dave.address, sender=deployer)
    assert tx.events.filter(roles.TreasuryWithdrawn) == [roles.TreasuryWithdrawn(to=dave.address, amount=MIN_BOND)]
    assert dave.balance == before + MIN_BOND
    assert roles.treasuryBalance() == 0


@pytest.mark.covers("AgentRoles.withdrawTreasury", "wrong_state", "bad_arguments")
def test_withdraw_treasury_rejects_empty_and_zero_recipient(roles: Any, alice: Any, slasher: Any,
                                                            deployer: Any) -> None:
    with ape.reverts(roles.AgentRolesTreasuryEmpty):
        roles.withdrawTreasury(deployer.address, sender=deployer)
    _bonded(roles, alice)
    roles.slash(0, ROLE, 1, REASON, sender=slasher)
    with ape.reverts(roles.AgentRolesInvalidArgument):
        roles.withdrawTreasury(ZERO, sender=deployer)


@pytest.mark.covers("AgentRoles.withdrawTreasury", "bad_arguments")
def test_withdraw_treasury_to_rejecting_receiver_reverts(project: Any, roles: Any, alice: Any, slasher: Any,
                                                         deployer: Any) -> None:
    sink = project.RejectingReceiverMock.deploy(sender=deployer)
    _bonded(roles, alice)
    roles.slash(0, ROLE, 7, REASON, sender=slasher)
    with ape.reverts(roles.AgentRolesTransferFailed, to=sink.address, amount=7):
        roles.withdrawTreasury(sink.address, sender=deployer)


# ------------------------------------------------------------------ heartbeat and eligibility


def test_heartbeat_sets_live_until(roles: Any, alice: Any) -> None:
    assert roles.liveUntil(0) == 0
    tx = roles.heartbeat(0, sender=alice)
    expires = tx.timestamp + HEARTBEAT_EXPIRY
    assert tx.events.filter(roles.HeartbeatRecorded) == [roles.HeartbeatRecorded(agentId=0, expiresAt=expires)]
    assert roles.liveUntil(0) == expires


@pytest.mark.covers("AgentRoles.heartbeat", "wrong_caller")
def test_heartbeat_rejects_stranger(roles: Any, carol: Any) -> None:
    with ape.reverts(roles.AgentRolesNotAuthorized, agentId=0, caller=carol.address):
        roles.heartbeat(0, sender=carol)


def test_eligible_when_authorized_bonded_and_live(roles: Any, identity: Any, alice: Any, dave: Any) -> None:
    _bonded(roles, alice)
    roles.heartbeat(0, sender=alice)
    assert roles.isEligible(0, alice.address, ROLE)
    assert not roles.isEligible(0, dave.address, ROLE)          # not an operator
    identity.setApprovalForAll(dave.address, True, sender=alice)
    assert roles.isEligible(0, dave.address, ROLE)
    assert not roles.isEligible(0, alice.address, OTHER_ROLE)   # unknown role
    assert not roles.isEligible(99, alice.address, ROLE)        # unknown agent: false, no revert


def test_not_eligible_without_heartbeat_or_after_expiry(roles: Any, chain: Any, alice: Any) -> None:
    _bonded(roles, alice)
    assert not roles.isEligible(0, alice.address, ROLE)
    tx = roles.heartbeat(0, sender=alice)
    chain.mine(1, timestamp=tx.timestamp + HEARTBEAT_EXPIRY - 1)
    assert roles.isEligible(0, alice.address, ROLE)
    chain.mine(1, timestamp=tx.timestamp + HEARTBEAT_EXPIRY)
    assert not roles.isEligible(0, alice.address, ROLE)


def test_not_eligible_below_minimum_after_unbond_or_slash(roles: Any, alice: Any, slasher: Any) -> None:
    _bonded(roles, alice, 2 * MIN_BOND)
    roles.heartbeat(0, sender=alice)
    roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    assert roles.isEligible(0, alice.address, ROLE)             # exactly the minimum left
    roles.slash(0, ROLE, 1, REASON, sender=slasher)
    assert not roles.isEligible(0, alice.address, ROLE)


def test_raising_the_minimum_makes_existing_bonds_ineligible(roles: Any, alice: Any, deployer: Any) -> None:
    _bonded(roles, alice)
    roles.heartbeat(0, sender=alice)
    roles.configureRole(ROLE, MIN_BOND + 1, sender=deployer)
    assert not roles.isEligible(0, alice.address, ROLE)


@pytest.mark.covers("AgentRoles.requestUnbond", "wrong_state")
def test_transfer_moves_control_to_the_new_owner(roles: Any, identity: Any, alice: Any, carol: Any) -> None:
    _bonded(roles, alice)
    roles.heartbeat(0, sender=alice)
    identity.transferFrom(alice.address, carol.address, 0, sender=alice)
    assert not roles.isEligible(0, alice.address, ROLE)
    assert roles.isEligible(0, carol.address, ROLE)
    with ape.reverts(roles.AgentRolesNotAuthorized, agentId=0, caller=alice.address):
        roles.requestUnbond(0, ROLE, 1, sender=alice)


# ------------------------------------------------------------------ reentrancy


@pytest.fixture
def attacker(project: Any, roles: Any, identity: Any, deployer: Any) -> Any:
    """A contract that owns agent 2, bonded MIN_BOND, unbonding matured."""
    mock = project.ReentrantReceiverMock.deploy(sender=deployer)
    mock.setRoles(roles.address, sender=deployer)
    mock.registerAgent(identity.address, sender=deployer)
    mock.bond(ROLE, sender=deployer, value=2 * MIN_BOND)
    return mock


@pytest.mark.covers("AgentRoles.withdraw", "replay")
def test_withdraw_reentry_is_blocked_and_pays_once(roles: Any, chain: Any, attacker: Any, deployer: Any) -> None:
    attacker.requestUnbond(MIN_BOND, sender=deployer)
    chain.pending_timestamp += UNBONDING_DELAY + 1
    attacker.setAttack(1, sender=deployer)
    balance_before = roles.balance
    attacker.withdraw(sender=deployer)
    assert attacker.reentered()
    assert bytes(attacker.reentryError())[:4] == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert attacker.received() == MIN_BOND
    assert roles.balance == balance_before - MIN_BOND
    assert roles.bondOf(2, ROLE)[:2] == (MIN_BOND, 0)


@pytest.mark.covers("AgentRoles.withdrawTreasury", "replay")
def test_withdraw_treasury_reentry_is_blocked_and_pays_once(
        roles: Any, alice: Any, slasher: Any, attacker: Any, deployer: Any) -> None:
    roles.grantRole(roles.DEFAULT_ADMIN_ROLE(), attacker.address, sender=deployer)
    _bonded(roles, alice)
    roles.slash(0, ROLE, MIN_BOND, REASON, sender=slasher)
    attacker.setAttack(2, sender=deployer)
    balance_before = roles.balance
    attacker.withdrawTreasury(sender=deployer)
    assert attacker.reentered()
    assert bytes(attacker.reentryError())[:4] == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert attacker.received() == MIN_BOND
    assert roles.balance == balance_before - MIN_BOND
    assert roles.treasuryBalance() == 0


@pytest.mark.covers("AgentRoles.bond", "bad_arguments")
def test_bond_overflow_beyond_uint96_reverts(roles: Any, alice: Any) -> None:
    alice.balance = 2**100
    with ape.reverts(roles.SafeCastOverflowedUintDowncast, bits=96, value=UINT96_MAX + 1):
        roles.bond(0, ROLE, sender=alice, value=UINT96_MAX + 1)


# ------------------------------------------------------------------ negatives for the matrix


@pytest.mark.covers("AgentRoles.heartbeat", "bad_arguments")
def test_heartbeat_reverts_for_unknown_agent(roles: Any, identity: Any, alice: Any) -> None:
    with ape.reverts(identity.ERC721NonexistentToken, tokenId=33):
        roles.heartbeat(33, sender=alice)


@pytest.mark.covers("AgentRoles.heartbeat", "wrong_state")
@pytest.mark.covers("AgentRoles.bond", "wrong_state")
@pytest.mark.covers("AgentRoles.withdraw", "wrong_state")
def test_previous_owner_cannot_heartbeat_bond_or_withdraw_after_transfer(
        roles: Any, identity: Any, chain: Any, alice: Any, carol: Any) -> None:
    _bonded(roles, alice)
    roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    chain.pending_timestamp += UNBONDING_DELAY + 1
    identity.transferFrom(alice.address, carol.address, 0, sender=alice)
    for call in (lambda: roles.heartbeat(0, sender=alice),
                 lambda: roles.bond(0, ROLE, sender=alice, value=MIN_BOND),
                 lambda: roles.withdraw(0, ROLE, alice.address, sender=alice)):
        with ape.reverts(roles.AgentRolesNotAuthorized, agentId=0, caller=alice.address):
            call()


@pytest.mark.covers("AgentRoles.requestUnbond", "replay")
def test_request_unbond_repeated_beyond_the_bond_reverts(roles: Any, alice: Any) -> None:
    _bonded(roles, alice)
    roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    with ape.reverts(roles.AgentRolesInsufficientFreeBond, agentId=0, role=ROLE, free=0, requested=MIN_BOND):
        roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)


@pytest.mark.covers("AgentRoles.withdraw", "replay")
def test_withdraw_twice_pays_once(roles: Any, chain: Any, alice: Any) -> None:
    _bonded(roles, alice)
    roles.requestUnbond(0, ROLE, MIN_BOND, sender=alice)
    chain.pending_timestamp += UNBONDING_DELAY + 1
    roles.withdraw(0, ROLE, alice.address, sender=alice)
    with ape.reverts(roles.AgentRolesNothingToWithdraw, agentId=0, role=ROLE):
        roles.withdraw(0, ROLE, alice.address, sender=alice)


@pytest.mark.covers("AgentRoles.withdrawTreasury", "replay")
def test_withdraw_treasury_twice_pays_once(roles: Any, alice: Any, slasher: Any, deployer: Any) -> None:
    _bonded(roles, alice)
    roles.slash(0, ROLE, MIN_BOND, REASON, sender=slasher)
    roles.withdrawTreasury(deployer.address, sender=deployer)
    with ape.reverts(roles.AgentRolesTreasuryEmpty):
        roles.withdrawTreasury(deployer.address, sender=deployer)


@pytest.mark.covers("AgentRoles.slash", "replay", "wrong_state")
def test_repeated_slash_cannot_take_more_than_the_bond(roles: Any, alice: Any, slasher: Any) -> None:
    _bonded(roles, alice)
    roles.slash(0, ROLE, MIN_BOND, REASON, sender=slasher)
    tx = roles.slash(0, ROLE, MIN_BOND, REASON, sender=slasher)  # nothing left: takes 0, says so
    assert tx.events.filter(roles.Slashed) == [roles.Slashed(
        agentId=0, role=ROLE, slasher=slasher.address, amount=0, reason=REASON)]
    assert tx.return_value == 0
    assert roles.treasuryBalance() == MIN_BOND
    assert roles.bondOf(0, ROLE) == (0, 0, 0)


# ------------------------------------------------------------------ inherited AccessControl
# Only DEFAULT_ADMIN_ROLE is checked anywhere; any other role id (v1's SLASHER_ROLE included)
# can be granted and grants nothing (test_admin_cannot_grant_itself_slashing).


@pytest.mark.covers("AgentRoles.grantRole", "wrong_caller")
@pytest.mark.covers("AgentRoles.revokeRole", "wrong_caller")
def test_grant_and_revoke_reject_non_admin(roles: Any, deployer: Any, carol: Any) -> None:
    admin_role = roles.DEFAULT_ADMIN_ROLE()
    with ape.reverts(roles.AccessControlUnauthorizedAccount, account=carol.address, neededRole=admin_role):
        roles.grantRole(admin_role, carol.address, sender=carol)
    with ape.reverts(roles.AccessControlUnauthorizedAccount, account=carol.address, neededRole=admin_role):
        roles.revokeRole(admin_role, deployer.address, sender=carol)


@pytest.mark.covers("AgentRoles.renounceRole", "wrong_caller", "bad_arguments")
def test_renounce_for_another_account_reverts(roles: Any, deployer: Any, carol: Any) -> None:
    admin_role = roles.DEFAULT_ADMIN_ROLE()
    with ape.reverts(roles.AccessControlBadConfirmation):
        roles.renounceRole(admin_role, deployer.address, sender=carol)
    assert roles.hasRole(admin_role, deployer.address)


@pytest.mark.covers("AgentRoles.grantRole", "replay")
@pytest.mark.covers("AgentRoles.revokeRole", "replay")
@pytest.mark.covers("AgentRoles.renounceRole", "replay")
def test_repeated_grant_revoke_and_renounce_change_nothing(roles: Any, deployer: Any, dave: Any) -> None:
    role = roles.DEFAULT_ADMIN_ROLE()
    roles.grantRole(role, dave.address, sender=deployer)
    tx = roles.grantRole(role, dave.address, sender=deployer)
    assert not tx.events.filter(roles.RoleGranted)
    roles.revokeRole(role, dave.address, sender=deployer)
    tx = roles.revokeRole(role, dave.address, sender=deployer)
    assert not tx.events.filter(roles.RoleRevoked)
    tx = roles.renounceRole(role, dave.address, sender=dave)
    assert not tx.events.filter(roles.RoleRevoked)
    with ape.reverts(roles.AccessControlUnauthorizedAccount, account=dave.address, neededRole=role):
        roles.configureRole(ROLE, 1, sender=dave)
