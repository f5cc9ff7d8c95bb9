"""Agent cards: the ERC-8004 registration file an agent's identity points at.

Onboarding publishes it to the result store (content-addressed, so its URI commits to its
bytes) and sets it as the agent URI (``setAgentURI``); ``accord agents show`` fetches it back
and checks it against the chain: the type, and a registration naming this agentId in this
chain's identity registry (``eip155:<chainId>:<registry>``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from accord.chain.client import Client
from accord.errors import AccordError, ChainError
from accord.workflows.result_store import BlobStore

REGISTRATION_TYPE = "https://eips.ethereum.org/EIPS/eip-8004#registration-v1"


def registry_id(chain_id: int, identity: str) -> str:
    """CAIP-10 style name of an identity registry: ``eip155:<chainId>:<address>``."""
    return f"eip155:{chain_id}:{identity}"


def registration_file(name: str, agent_id: int, chain_id: int, identity: str, *,
                      description: str = "", a2a: str | None = None,
                      mcp: str | None = None) -> dict[str, Any]:
    """The registration file (registration-v1) of ``agent_id`` in ``identity``."""
    services = [{"name": kind, "endpoint": url} for kind, url in (("A2A", a2a), ("MCP", mcp))
                if url]
    return {"type": REGISTRATION_TYPE, "name": name,
            "description": description or f"{name}, an Accord agent",
            "services": services, "active": True,
            "registrations": [{"agentId": agent_id,
                               "agentRegistry": registry_id(chain_id, identity)}],
            "supportedTrust": ["reputation", "crypto-economic"]}


def publish_card(client: Client, identity: str, owner: LocalAccount, agent_id: int,
                 store: BlobStore, card: dict[str, Any]) -> str:
    """Store ``card`` and make it ``agent_id``'s agent URI; returns the URI."""
    data = json.dumps(card, sort_keys=True, separators=(",", ":")).encode()
    _, uri = store.put(data)
    registry = client.contract("IdentityRegistry", identity)
    client.transact(registry.functions.setAgentURI(agent_id, uri), owner)
    return uri


@dataclass
class CardCheck:
    """What ``accord agents show`` found: the chain's facts, the card and what is wrong."""

    agent_id: int
    owner: str
    uri: str
    card: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.card is not None and not self.problems


def check_card(client: Client, identity: str, agent_id: int, store: BlobStore) -> CardCheck:
    """Fetch ``agent_id``'s card (its agent URI) and check it against the chain."""
    registry = client.contract("IdentityRegistry", identity)
    try:
        owner = str(registry.functions.ownerOf(agent_id).call())
        uri = str(registry.functions.tokenURI(agent_id).call())
    except Exception as exc:  # a revert: no such agent
        raise ChainError(f"agent {agent_id} does not exist in the identity registry at "
                         f"{identity} ({type(exc).__name__})") from None
    found = CardCheck(agent_id, owner, uri)
    if not uri:
        found.problems.append("no agent URI: the agent has no registration file")
        return found
    try:
        found.card = json.loads(store.get(uri))
    except AccordError as exc:
        found.problems.append(f"cannot fetch its registration file: {exc}")
        return found
    except ValueError:
        found.problems.append("its registration file is not JSON")
        return found
    if not isinstance(found.card, dict):
        found.card = None
        found.problems.append("its registration file is not a JSON object")
        return found
    found.problems += card_problems(found.card, agent_id, client.chain_id, identity)
    return found


def card_problems(card: dict[str, Any], agent_id: int, chain_id: int, identity: str
                  ) -> list[str]:
    """What is wrong with ``card`` as the registration file of ``agent_id`` in ``identity``
    on ``chain_id`` (nothing: it is that agent's card)."""
    problems = []
    if card.get("type") != REGISTRATION_TYPE:
        problems.append(f"type is {card.get('type')!r}, not {REGISTRATION_TYPE!r}")
    registry_name = registry_id(chain_id, identity)
    regs = card.get("registrations")
    mine = [r for r in regs if isinstance(r, dict)] if isinstance(regs, list) else []
    if not any(r.get("agentId") == agent_id
               and str(r.get("agentRegistry", "")).lower() == registry_name.lower()
               for r in mine):
        problems.append(f"no registration names agentId {agent_id} in {registry_name} "
                        "(a card copied from another agent?)")
    if not isinstance(card.get("name"), str) or not card.get("name"):
        problems.append("the card has no name")
    return problems
