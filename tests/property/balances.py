"""Value invariants shared by the property tests: every contract that holds native value holds
exactly what it owes plus what it escrows, computed from the contracts' own getters and events
(never from the test's bookkeeping).

- WorkflowCoordinator: ``balance == totalOwed() + totalEscrowed()``.
- AgentRoles: ``balance == sum(active + unbonding over every bonded (agent, role)) +
  treasuryBalance()`` (slashed value stays as treasury until swept).
- RemoteStepRouter: a pool with no debts of its own; its balance moves only by ``Funded``
  (in), the reward of every ``TaskOpened`` request (out, into a remote run's escrow) and
  ``Reclaimed`` (in), so ``balance == opening + funded - opened rewards + reclaimed``.
- AccordGateway: rejects value on every entry point, so its balance stays 0.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from web3 import Web3


def property_settings(examples: int, steps: int) -> settings:
    """Reproducible settings (derandomized, no example database) for the stateful tests.
    ``ACCORD_PROPERTY_EXAMPLES`` overrides the example count (soaks) and
    ``ACCORD_PROPERTY_SHRINK=0`` skips shrinking (a failing soak reports its first failure)."""
    examples = int(os.environ.get("ACCORD_PROPERTY_EXAMPLES", examples))
    phases = list(Phase)
    if os.environ.get("ACCORD_PROPERTY_SHRINK", "1") == "0":
        phases.remove(Phase.shrink)
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                    derandomize=True, database=None, phases=phases,
                    suppress_health_check=list(HealthCheck))


def run_machine(machine: Any, examples: int, steps: int, **attrs: Any) -> None:
    """Run a RuleBasedStateMachine class with ``property_settings``, after setting ``attrs``
    (its environment: deployed contracts, a temporary folder) as class attributes."""
    for name, value in attrs.items():
        setattr(machine, name, value)
    test = machine.TestCase
    test.settings = property_settings(examples, steps)
    test("runTest").runTest()


def plain_web3(chain: Any) -> Web3:
    """A web3 client at ape's node without ape's middleware: its validation asks eth_chainId
    before every call, which makes a read 9 ms instead of 1 (the per-step invariants read
    dozens of values)."""
    return Web3(Web3.HTTPProvider(chain.provider.uri), middleware=[])


def assert_coordinator_solvent(w3: Web3, coordinator: Any) -> None:
    balance = w3.eth.get_balance(coordinator.address)
    owed = coordinator.functions.totalOwed().call()
    escrowed = coordinator.functions.totalEscrowed().call()
    assert balance == owed + escrowed, ("coordinator", balance, owed, escrowed)


def assert_roles_solvent(w3: Web3, roles: Any, bonds: Iterable[tuple[int, bytes]]) -> None:
    """``bonds``: every (agentId, role) that was ever bonded on this AgentRoles."""
    held = 0
    for agent_id, role in bonds:
        active, unbonding, _ = roles.functions.bondOf(agent_id, role).call()
        held += active + unbonding
    treasury = roles.functions.treasuryBalance().call()
    balance = w3.eth.get_balance(roles.address)
    assert balance == held + treasury, ("roles", balance, held, treasury)


def assert_router_ledger(w3: Web3, router: Any, from_block: int, opening: int) -> None:
    """The router's balance now against ``opening`` (its balance before ``from_block``, read
    then: anvil may no longer serve old state after snapshots and reverts) and its own
    events since ``from_block``."""
    funded = sum(int(e["args"]["amount"]) for e in
                 router.events.Funded().get_logs(from_block=from_block))
    opened = sum(int(router.functions.request(e["args"]["requestId"]).call()[4]) for e in
                 router.events.TaskOpened().get_logs(from_block=from_block))
    reclaimed = sum(int(e["args"]["amount"]) for e in
                    router.events.Reclaimed().get_logs(from_block=from_block))
    balance = w3.eth.get_balance(router.address)
    assert balance == opening + funded - opened + reclaimed, (
        "router", balance, opening, funded, opened, reclaimed)


def assert_gateway_holds_nothing(w3: Web3, gateway: str) -> None:
    assert w3.eth.get_balance(gateway) == 0, ("gateway", gateway)
