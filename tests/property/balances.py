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

from collections.abc import Iterable
from typing import Any

from web3 import Web3


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
