"""Value invariants shared by the property tests: every contract that holds native value holds
exactly what it owes plus what it escrows, computed from the contracts' own getters and events
(never from the test's bookkeeping).

- WorkflowCoordinator: ``balance == totalOwed() + totalEscrowed()``.
- AgentRoles: ``balance == sum(active + unbonding over every bonded (agent, role)) +
  treasuryBalance()`` (slashed value stays as treasury until swept).
- RemoteStepRouter: per-creator deposits. Its balance moves only by ``Deposited`` (in),
  ``DepositWithdrawn`` (out), ``DepositCharged`` (out, a reward into a remote run's escrow)
  and ``Reclaimed`` (in); ``totalDeposits`` by those deposit events plus ``DepositRefunded``;
  and exactly: ``balance + coordinator.owed(router) + escrow of its Open runs ==
  totalDeposits + sum(reward - paid over Open requests)`` (so every deposit is covered).
- AccordGateway: rejects value on every entry point, so its balance stays 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from web3 import Web3

from accord.chain.types import Request, RequestState, RunInfo, StepState


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


def _sum(router: Any, event: str, from_block: int) -> int:
    return sum(int(e["args"]["amount"]) for e in
               getattr(router.events, event)().get_logs(from_block=from_block))


def assert_router_ledger(w3: Web3, router: Any, coordinator: Any, from_block: int,
                         opening: tuple[int, int]) -> None:
    """The router's balance and ``totalDeposits`` now against ``opening`` (both read before
    ``from_block``: anvil may no longer serve old state after snapshots and reverts) and its
    own events since ``from_block``; then the exact ledger against its coordinator."""
    deposited = _sum(router, "Deposited", from_block)
    withdrawn = _sum(router, "DepositWithdrawn", from_block)
    charged = _sum(router, "DepositCharged", from_block)
    refunded = _sum(router, "DepositRefunded", from_block)
    reclaimed = _sum(router, "Reclaimed", from_block)
    balance = w3.eth.get_balance(router.address)
    deposits = int(router.functions.totalDeposits().call())
    assert balance == opening[0] + deposited - withdrawn - charged + reclaimed, (
        "router balance", balance, opening[0], deposited, withdrawn, charged, reclaimed)
    assert deposits == opening[1] + deposited - withdrawn - charged + refunded, (
        "router deposits", deposits, opening[1], deposited, withdrawn, charged, refunded)
    held = balance + int(coordinator.functions.owed(router.address).call())
    assert held >= deposits, ("router deposits not covered", held, deposits)
    owed = deposits
    for e in router.events.DepositCharged().get_logs(from_block=from_block):
        q = Request.from_abi(router.functions.request(e["args"]["requestId"]).call())
        if q.state is not RequestState.OPEN:
            continue
        run = q.remoteRunId
        held += RunInfo.from_abi(coordinator.functions.runInfo(run).call()).escrow
        paid = int(coordinator.functions.stepState(run, 0).call()) == StepState.DONE
        owed += 0 if paid else q.reward
    assert held == owed, ("router ledger", held, owed)


def assert_gateway_holds_nothing(w3: Web3, gateway: str) -> None:
    assert w3.eth.get_balance(gateway) == 0, ("gateway", gateway)
