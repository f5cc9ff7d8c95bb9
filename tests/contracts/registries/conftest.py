"""Deployments shared by the registry and AgentRoles tests.

Contracts are deployed once per session; ape's pytest plugin snapshots the chain around every
test, so each test starts from the state below without redeploying.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from registry_constants import (AGENT_URI, HEARTBEAT_EXPIRY, MIN_BOND, ROLE, SLASHER_DELAY,
                                UNBONDING_DELAY)


@pytest.fixture(scope="session")
def deployer(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts: Any) -> Any:
    """Owner of agent 0."""
    return accounts[1]


@pytest.fixture(scope="session")
def bob(accounts: Any) -> Any:
    """Owner of agent 1."""
    return accounts[2]


@pytest.fixture(scope="session")
def carol(accounts: Any) -> Any:
    """An unrelated client / validator."""
    return accounts[3]


@pytest.fixture(scope="session")
def dave(accounts: Any) -> Any:
    """Another unrelated account."""
    return accounts[4]


@pytest.fixture(scope="session")
def identity(project: Any, deployer: Any, alice: Any, bob: Any) -> Any:
    """IdentityRegistry with agent 0 (alice, AGENT_URI) and agent 1 (bob, no URI)."""
    registry = project.IdentityRegistry.deploy(sender=deployer)
    registry.register(AGENT_URI, sender=alice)
    registry.register(sender=bob)
    return registry


@pytest.fixture(scope="session")
def reputation(project: Any, deployer: Any, identity: Any) -> Any:
    return project.ReputationRegistry.deploy(identity.address, sender=deployer)


@pytest.fixture(scope="session")
def validation(project: Any, deployer: Any, identity: Any) -> Any:
    return project.ValidationRegistry.deploy(identity.address, sender=deployer)


@pytest.fixture(scope="session")
def roles(project: Any, deployer: Any, identity: Any) -> Any:
    """AgentRoles administered by `deployer`, ROLE configured with MIN_BOND."""
    contract = project.AgentRoles.deploy(identity.address, deployer.address, UNBONDING_DELAY,
                                         HEARTBEAT_EXPIRY, SLASHER_DELAY, sender=deployer)
    contract.configureRole(ROLE, MIN_BOND, sender=deployer)
    return contract


@pytest.fixture(scope="session")
def slasher(accounts: Any, chain: Any, roles: Any, deployer: Any) -> Any:
    """A registered slasher (stands in for the coordinator): announced before any bond, so
    registered at once (genesis); activated after the delay should a bond exist already."""
    account = accounts[5]
    roles.announceSlasher(account.address, sender=deployer)
    if not roles.isSlasher(account.address):
        chain.pending_timestamp = roles.slasherActiveAt(account.address)
        roles.activateSlasher(account.address, sender=deployer)
    return account


@pytest.fixture(scope="session")
def sign_wallet(chain: Any, identity: Any) -> Callable[..., bytes]:
    """Sign AgentWalletSet(agentId, newWallet, owner, deadline) with `private_key`."""

    def sign(private_key: Any, agent_id: int, new_wallet: str, owner: str, deadline: int) -> bytes:
        key = private_key if isinstance(private_key, (bytes, str)) else bytes(private_key)
        typed = {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "AgentWalletSet": [
                    {"name": "agentId", "type": "uint256"},
                    {"name": "newWallet", "type": "address"},
                    {"name": "owner", "type": "address"},
                    {"name": "deadline", "type": "uint256"},
                ],
            },
            "primaryType": "AgentWalletSet",
            "domain": {"name": "ERC8004IdentityRegistry", "version": "1",
                       "chainId": chain.chain_id, "verifyingContract": identity.address},
            "message": {"agentId": agent_id, "newWallet": new_wallet, "owner": owner,
                        "deadline": deadline},
        }
        signed = Account.sign_message(encode_typed_data(full_message=typed), key)
        return bytes(signed.signature)

    return sign
