"""The whole Accord suite as a deployment plan: registries (or an existing ERC-8004 identity
registry), AgentRoles, the coordinator, the gateway, the remote-step router, the attesters'
announcement board and the relayer-fee paymaster, plus their wiring. Trust between chains
(gateways and routers) and the paymasters' prices per destination are set by
accord.deploy.links.link."""

from __future__ import annotations

import time
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from accord.chain.client import Client
from accord.deploy.context import checked_address
from accord.deploy.plan import ContractStep, Pending, Plan, Ref, WireStep
from accord.settings import Settings, role_id

SLASHER_WIRE = "roles: coordinator may lock and slash bonds"


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
                                             settings.heartbeat_expiry, settings.slasher_delay]),
        ContractStep("coordinator", "WorkflowCoordinator",
                     [identity, Ref("roles"), Ref("reputation"), Ref("validation"),
                      role_id(settings.validator_role), admin]),
        ContractStep("gateway", "AccordGateway", [admin]),
        ContractStep("router", "RemoteStepRouter", [Ref("coordinator"), Ref("gateway"), admin]),
        # where this chain's attesters say they publish their attestations (relayers read it)
        ContractStep("announce", "AttesterAnnounce"),
        # relayer fees paid on this chain for messages it sends (docs/relayer-fees.md); the
        # deployer is the first beneficiary, the configured one is wired below
        ContractStep("paymaster", "AccordGasPaymaster", [admin, admin]),
    ]
    wiring = [_role_wire(name, bond) for name, bond in sorted(settings.roles.items())]
    wiring.append(WireStep(
        SLASHER_WIRE,
        check=lambda c, a: bool(c.contract("AgentRoles", a["roles"]).functions.isSlasher(
            a["coordinator"]).call()),
        apply=_register_coordinator))
    wiring.append(WireStep(
        "coordinator: remote steps go through the router",
        check=lambda c, a: _same(c.contract("WorkflowCoordinator", a["coordinator"])
                                 .functions.router().call(), a["router"]),
        apply=lambda c, a, s: c.transact(c.contract("WorkflowCoordinator", a["coordinator"])
                                         .functions.setRouter(a["router"]), s)))
    beneficiary = admin if net.fee_beneficiary is None else checked_address(
        net.fee_beneficiary, f"accord.networks.{network}.fee_beneficiary")
    wiring.append(WireStep(
        f"paymaster: fees go to {beneficiary}",
        check=lambda c, a: _same(c.contract("AccordGasPaymaster", a["paymaster"])
                                 .functions.beneficiary().call(), beneficiary),
        apply=lambda c, a, s: c.transact(c.contract("AccordGasPaymaster", a["paymaster"])
                                         .functions.setBeneficiary(beneficiary), s)))
    return Plan(contracts, wiring)


def _register_coordinator(c: Client, a: dict[str, str], s: LocalAccount) -> Pending | None:
    """Announce the coordinator as a slasher and activate it once its delay has passed. On a
    fresh AgentRoles (no bond yet) the announcement registers it at once; otherwise the
    announcement starts the public delay and the deploy reports it pending (rerun to finish)."""
    roles = c.contract("AgentRoles", a["roles"]).functions
    coordinator = a["coordinator"]
    active_at = int(roles.slasherActiveAt(coordinator).call())
    if active_at == 0:
        c.transact(roles.announceSlasher(coordinator), s)
        if roles.isSlasher(coordinator).call():
            return None
        active_at = int(roles.slasherActiveAt(coordinator).call())
    now = int(c.w3.eth.get_block("latest")["timestamp"])
    if now >= active_at:
        c.transact(roles.activateSlasher(coordinator), s)
        return None
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(active_at))
    return Pending(f"coordinator {coordinator} is announced as a slasher and can be activated "
                   f"at {when} (in {active_at - now} s); until then it cannot lock or slash "
                   "bonds. Rerun 'accord deploy' after that time (or anyone may call "
                   "AgentRoles.activateSlasher)")


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
