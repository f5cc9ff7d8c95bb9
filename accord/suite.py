"""The whole Accord suite as a deployment plan: registries (or an existing ERC-8004 identity
registry), AgentRoles, the coordinator, the gateway and the remote-step router, plus their
wiring. Trust between chains (gateways and routers) is set by accord.links.link."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from accord.chain import Client
from accord.deploy import ContractStep, Plan, Ref, WireStep
from accord.settings import Settings, role_id

SLASHER_ROLE = bytes(Web3.keccak(text="SLASHER_ROLE"))


def plan(settings: Settings, network: str, admin: str) -> Plan:
    net = settings.network(network)
    identity: Any = net.identity_registry
    contracts: list[ContractStep] = []
    if identity is None:
        contracts.append(ContractStep("identity", "IdentityRegistry"))
        identity = Ref("identity")
    contracts += [
        ContractStep("reputation", "ReputationRegistry", [identity]),
        ContractStep("validation", "ValidationRegistry", [identity]),
        ContractStep("roles", "AgentRoles", [identity, admin, settings.unbonding_delay,
                                             settings.heartbeat_expiry]),
        ContractStep("coordinator", "WorkflowCoordinator",
                     [identity, Ref("roles"), Ref("reputation"), Ref("validation"),
                      role_id(settings.validator_role), admin]),
        ContractStep("gateway", "AccordGateway", [admin]),
        ContractStep("router", "RemoteStepRouter", [Ref("coordinator"), Ref("gateway"), admin]),
    ]
    wiring = [_role_wire(name, bond) for name, bond in sorted(settings.roles.items())]
    wiring.append(WireStep(
        "roles: coordinator may slash",
        check=lambda c, a: bool(c.contract("AgentRoles", a["roles"]).functions.hasRole(
            SLASHER_ROLE, a["coordinator"]).call()),
        apply=lambda c, a, s: c.transact(c.contract("AgentRoles", a["roles"]).functions.grantRole(
            SLASHER_ROLE, a["coordinator"]), s)))
    wiring.append(WireStep(
        "coordinator: remote steps go through the router",
        check=lambda c, a: _same(c.contract("WorkflowCoordinator", a["coordinator"])
                                 .functions.router().call(), a["router"]),
        apply=lambda c, a, s: c.transact(c.contract("WorkflowCoordinator", a["coordinator"])
                                         .functions.setRouter(a["router"]), s)))
    return Plan(contracts, wiring)


def _same(x: str, y: str) -> bool:
    return Web3.to_checksum_address(x) == Web3.to_checksum_address(y)


def _role_wire(name: str, min_bond: int) -> WireStep:
    rid = role_id(name)

    def check(c: Client, a: dict[str, str]) -> bool:
        bond, configured = c.contract("AgentRoles", a["roles"]).functions.roleMinBond(rid).call()
        return bool(configured) and int(bond) == min_bond

    def apply(c: Client, a: dict[str, str], s: LocalAccount) -> Any:
        return c.transact(c.contract("AgentRoles", a["roles"]).functions.configureRole(
            rid, min_bond), s)

    return WireStep(f"roles: {name} needs a bond of {min_bond} wei", check, apply)
