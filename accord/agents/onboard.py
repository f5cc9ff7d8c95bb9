"""Bring an agent on line: an ERC-8004 identity, a bond per role, a liveness heartbeat.

Tests and the demo create agents in a few lines::

    agent_id = onboard(client, addresses, operator, ["analysis", "validator"])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from accord.chain.client import Client
from accord.chain.types import Bond
from accord.errors import ConfigError
from accord.settings import role_id


def register_identity(client: Client, identity: str, owner: LocalAccount,
                      agent_uri: str = "") -> int:
    """Mint a new agentId to ``owner`` (IdentityRegistry.register); returns the id."""
    registry = client.contract("IdentityRegistry", identity)
    fn = registry.get_function_by_signature("register(string)")(agent_uri)
    receipt = client.transact(fn, owner)
    events = registry.events.Registered().process_receipt(receipt, errors=DISCARD)
    return int(events[0]["args"]["agentId"])


def bond_roles(client: Client, roles_address: str, owner: LocalAccount, agent_id: int,
               roles: Iterable[str], bonds: Mapping[str, int] | None = None) -> None:
    """Bond each role up to its minimum (or ``bonds[role]``); skips roles bonded enough."""
    roles_c = client.contract("AgentRoles", roles_address)
    for name in roles:
        rid = role_id(name)
        min_bond, configured = roles_c.functions.roleMinBond(rid).call()
        if not configured:
            raise ConfigError(f"role '{name}' is not configured on AgentRoles at "
                              f"{roles_address}; add it under accord.roles in ape-config.yaml "
                              "and rerun 'accord deploy'")
        want = int((bonds or {}).get(name, min_bond))
        active = Bond.from_abi(roles_c.functions.bondOf(agent_id, rid).call()).active
        if active < want:
            client.transact(roles_c.functions.bond(agent_id, rid), owner, value=want - active)


def onboard(client: Client, addresses: Mapping[str, str], owner: LocalAccount,
            roles: Iterable[str], *, agent_id: int | None = None, agent_uri: str = "",
            bonds: Mapping[str, int] | None = None) -> int:
    """Register (unless ``agent_id`` is given), bond every role, heartbeat; returns agentId.

    ``addresses`` holds the deployment's ``identity`` and ``roles`` addresses (a suite
    manifest's contracts, or a dict of addresses)."""
    if agent_id is None:
        agent_id = register_identity(client, addresses["identity"], owner, agent_uri)
    bond_roles(client, addresses["roles"], owner, agent_id, roles, bonds)
    roles_c = client.contract("AgentRoles", addresses["roles"])
    client.transact(roles_c.functions.heartbeat(agent_id), owner)
    return agent_id
