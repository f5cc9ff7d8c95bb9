"""Model-based test of AgentRoles' money: random bonds, unbond requests (free bond only),
withdrawals before and after the delay, stake locks and releases by two slashers (and
strangers), partial slashes (active first, then unbonding; the aggregate lock capped at what
stays active) and treasury sweeps against a Python model; after every step every bond, lock
and the treasury match the model, the aggregate lock never exceeds the active bond, and the
contract's balance equals what it holds for agents plus the slashed-not-swept treasury.

(The coordinator's `balance == totalOwed + totalEscrowed` is checked after every step of
test_coordinator_model.py; the router's and gateways' ledgers after every step of
test_crosschain_model.py.)"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from balances import assert_roles_solvent
from machines import OneChainMachine, plain_web3, run_machine

ROLE_A = keccak(text="accord.role.a")      # min bond 100
ROLE_B = keccak(text="accord.role.b")      # min bond 0 (any amount)
UNKNOWN = keccak(text="accord.role.none")  # never configured
MIN_BOND = {ROLE_A: 100, ROLE_B: 0}
DELAY = 100
SLASHER_DELAY = 1000
AMOUNTS = [0, 1, 40, 100, 250]
STRANGER = st.sampled_from([False, False, False, True])  # mostly the authorised caller


@dataclass
class Bond:
    active: int = 0
    unbonding: int = 0
    ready_at: int = 0
    locked: int = 0
    locked_by: dict[str, int] = field(default_factory=dict)


class Revert(Exception):
    pass


@pytest.fixture(scope="module")
def roles_env(project, accounts, chain) -> dict[str, Any]:
    admin, slashers = accounts[0], [accounts[3], accounts[4]]
    owners = [accounts[1], accounts[2]]
    identity = project.IdentityRegistry.deploy(sender=admin)
    roles = project.AgentRoles.deploy(identity.address, admin.address, DELAY, 10**9, SLASHER_DELAY,
                                      sender=admin)
    for role, minimum in MIN_BOND.items():
        roles.configureRole(role, minimum, sender=admin)
    for slasher in slashers:  # before any bond: registered at once
        roles.announceSlasher(slasher.address, sender=admin)
    agents = []
    for owner in owners:
        tx = identity.register(sender=owner)
        agents.append(int(tx.events.filter(identity.Registered)[0].agentId))
        roles.heartbeat(agents[-1], sender=owner)  # live for the whole run (expiry 1e9 s)
    w3 = plain_web3(chain)
    c = w3.eth.contract(address=roles.address, abi=[a.model_dump(by_alias=True, mode="json")
                                                     for a in roles.contract_type.abi])
    return {"w3": w3, "c": c, "admin": admin.address,
            "slashers": [x.address for x in slashers],
            "owners": [o.address for o in owners], "agents": agents}


class RolesMachine(OneChainMachine):
    GAS = 500_000

    @initialize()
    def setup(self) -> None:
        self.begin()
        self.c = self.env["c"]
        self.bonds: dict[tuple[int, bytes], Bond] = {}
        self.treasury = 0
        for who in (0, 1):  # something to unbond, slash and withdraw from the first step on
            self.bond(who, False, ROLE_A, 250)
            self.bond(who, False, ROLE_B, 100)

    # -------------------------------------------------------------- plumbing
    def _both(self, model_op: Any, fn: Any, sender: str, value: int = 0) -> None:
        """Apply ``model_op`` (may raise Revert) and the transaction; both succeed or both
        revert, and the model changes only when both succeed."""
        snapshot = (copy.deepcopy(self.bonds), self.treasury)
        try:
            model_op(self.now + 1)
            expected = True
        except Revert:
            self.bonds, self.treasury = snapshot
            expected = False
        event(f"{fn.fn_name}: {'ok' if expected else 'reverts'}")  # --hypothesis-show-statistics
        assert self._send(fn, sender, value) == expected

    def _bond(self, agent: int, role: bytes) -> Bond:
        return self.bonds.setdefault((agent, role), Bond())

    # -------------------------------------------------------------- rules
    @rule(who=st.integers(0, 1), stranger=STRANGER,
          role=st.sampled_from([ROLE_A, ROLE_A, ROLE_B, UNKNOWN]), amount=st.sampled_from(AMOUNTS))
    def bond(self, who: int, stranger: bool, role: bytes, amount: int) -> None:
        agent = self.env["agents"][who]
        by = 1 - who if stranger else who

        def model(now: int) -> None:
            if amount == 0 or role not in MIN_BOND or stranger:
                raise Revert
            b = self._bond(agent, role)
            if b.active + amount < MIN_BOND[role]:
                raise Revert
            b.active += amount

        self._both(model, self.c.functions.bond(agent, role), self.env["owners"][by], amount)

    @rule(who=st.integers(0, 1), role=st.sampled_from([ROLE_A, ROLE_B]),
          amount=st.sampled_from(AMOUNTS))
    def request_unbond(self, who: int, role: bytes, amount: int) -> None:
        agent = self.env["agents"][who]

        def model(now: int) -> None:
            b = self._bond(agent, role)
            if amount == 0 or amount > b.active - b.locked:  # only free bond unbonds
                raise Revert
            b.active -= amount
            b.unbonding += amount
            b.ready_at = now + DELAY  # every request restarts the delay

        self._both(model, self.c.functions.requestUnbond(agent, role, amount),
                   self.env["owners"][who])

    @rule(who=st.integers(0, 1), stranger=STRANGER, role=st.sampled_from([ROLE_A, ROLE_B]))
    def withdraw(self, who: int, stranger: bool, role: bytes) -> None:
        agent, owner = self.env["agents"][who], self.env["owners"][1 - who if stranger else who]

        def model(now: int) -> None:
            b = self._bond(agent, role)
            if stranger or b.unbonding == 0 or now < b.ready_at:
                raise Revert
            b.unbonding, b.ready_at = 0, 0

        self._both(model, self.c.functions.withdraw(agent, role, owner), owner)

    def _slash_model(self, b: Bond, amount: int) -> None:
        """Partial slash: what is there, at most ``amount``; active first; lock capped."""
        from_active = min(amount, b.active)
        b.active -= from_active
        b.locked = min(b.locked, b.active)
        from_unbonding = min(amount - from_active, b.unbonding)
        b.unbonding -= from_unbonding
        if from_unbonding and b.unbonding == 0:
            b.ready_at = 0
        self.treasury += from_active + from_unbonding

    def _caller(self, slasher: int, who: int) -> str:
        """Slasher 0 or 1, or (2) the agent's owner, who is no slasher."""
        return self.env["slashers"][slasher] if slasher < 2 else self.env["owners"][who]

    @rule(who=st.integers(0, 1), role=st.sampled_from([ROLE_A, ROLE_B]),
          amount=st.sampled_from(AMOUNTS + [140, 350]), slasher=st.sampled_from([0, 0, 1, 2]))
    def slash(self, who: int, role: bytes, amount: int, slasher: int) -> None:
        agent = self.env["agents"][who]

        def model(now: int) -> None:
            if slasher == 2 or amount == 0:
                raise Revert
            self._slash_model(self._bond(agent, role), amount)

        self._both(model, self.c.functions.slash(agent, role, amount, b"\x00" * 32),
                   self._caller(slasher, who))

    @rule(who=st.integers(0, 1), role=st.sampled_from([ROLE_A, ROLE_A, ROLE_B, UNKNOWN]),
          amount=st.sampled_from(AMOUNTS), slasher=st.sampled_from([0, 0, 1, 2]), stranger=STRANGER)
    def lock(self, who: int, role: bytes, amount: int, slasher: int, stranger: bool) -> None:
        agent = self.env["agents"][who]
        operator = self.env["owners"][1 - who if stranger else who]
        caller = self._caller(slasher, who)

        def model(now: int) -> None:
            if slasher == 2 or role not in MIN_BOND or stranger:
                raise Revert
            b = self._bond(agent, role)
            if b.active < MIN_BOND[role] or amount > b.active - b.locked:
                raise Revert
            b.locked += amount
            b.locked_by[caller] = b.locked_by.get(caller, 0) + amount

        self._both(model, self.c.functions.lockStake(agent, operator, role, amount), caller)

    @rule(who=st.integers(0, 1), role=st.sampled_from([ROLE_A, ROLE_B]),
          amount=st.sampled_from(AMOUNTS + [2**256 - 1]), slash=st.sampled_from([0, 0, 1, 40, 350]),
          slasher=st.sampled_from([0, 0, 1, 2]))
    def release(self, who: int, role: bytes, amount: int, slash: int, slasher: int) -> None:
        agent = self.env["agents"][who]
        caller = self._caller(slasher, who)

        def model(now: int) -> None:  # never reverts
            b = self._bond(agent, role)
            released = min(amount, b.locked_by.get(caller, 0))
            b.locked_by[caller] = b.locked_by.get(caller, 0) - released
            b.locked = max(0, b.locked - released)
            if slash and slasher < 2:
                self._slash_model(b, slash)

        self._both(model, self.c.functions.releaseStake(agent, role, amount, slash, b"\x00" * 32),
                   caller)

    @rule()
    def sweep(self) -> None:
        def model(now: int) -> None:
            if self.treasury == 0:
                raise Revert
            self.treasury = 0

        self._both(model, self.c.functions.withdrawTreasury(self.env["admin"]),
                   self.env["admin"])

    @rule(dt=st.sampled_from([10, DELAY - 2, DELAY - 1, DELAY, DELAY + 50]))
    def time_passes(self, dt: int) -> None:
        self._advance(dt)

    # -------------------------------------------------------------- invariants
    @invariant()
    def bonds_match_model_and_value_is_conserved(self) -> None:
        if not hasattr(self, "bonds"):
            return
        for (agent, role), b in self.bonds.items():
            assert tuple(self.c.functions.bondOf(agent, role).call()) == (
                b.active, b.unbonding, b.ready_at), (agent, role)
            locked = self.c.functions.lockedOf(agent, role).call()
            assert locked == b.locked <= b.active, (agent, role, locked, b.active)
            for slasher in self.env["slashers"]:
                assert self.c.functions.lockedBy(slasher, agent, role).call() == b.locked_by.get(
                    slasher, 0), (agent, role, slasher)
        assert self.c.functions.treasuryBalance().call() == self.treasury
        every = [(a, r) for a in self.env["agents"] for r in MIN_BOND]
        assert_roles_solvent(self.w3, self.c, every)


def test_agent_roles_bonds_locks_unbonds_slashes_and_sweeps_conserve_value(roles_env) -> None:
    run_machine(RolesMachine, 10, 20, env=roles_env)


@pytest.mark.slow
def test_agent_roles_bonds_locks_unbonds_slashes_and_sweeps_conserve_value_long(roles_env) -> None:
    run_machine(RolesMachine, 500, 40, env=roles_env)
