"""Turn an agents.yaml into a running :class:`AgentHost` (used by ``accord agents run``).

Agent ids: ``agent_id`` from the file, else the id remembered in
``<state>/agents/<network>/<name>.json`` (for the same identity registry and operator), else
(devnets only) a fresh onboarding: register, bond every role, heartbeat, remember. Every
handler is imported before any of that (:func:`accord.agents.agents_file.load_handlers`), so a
misspelt handler fails with no transaction sent.

The event cursor is ``<state>/agents/<network>/cursor-<file stem>-<key>.json``, the key a hash
of the agents file's resolved path, the coordinator and each agent's name, operator, agentId
and roles (:func:`cursor_key`): two agents files never share a cursor, even with one name.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from accord.agents.agents_file import AgentConfig, AgentsFile, load_handlers
from accord.agents.card import publish_card, registration_file
from accord.agents.host import Agent, AgentHost
from accord.agents.onboard import bond_roles, onboard
from accord.chain.client import Client
from accord.chain.types import RunState
from accord.errors import ConfigError
from accord.paths import read_json_object
from accord.workflows.result_store import open_store
from accord.workflows.runs import run_state


def _remembered(path: Path, identity: str, operator: str) -> int | None:
    data = read_json_object(path)
    if data is None:
        return None
    if data.get("identity") == identity and data.get("operator") == operator:
        return int(data["agent_id"])
    return None


def build_host(client: Client, network: str, coordinator: str, cfg: AgentsFile, *,
               store: str | None = None, ws: bool | None = None, config_stem: str = "agents",
               echo: Callable[[str], None] = print) -> AgentHost:
    from accord.deploy import context
    from accord.paths import state_dir
    from accord.settings import load as load_settings

    if any(len(a.loaded) < len(a.roles) or (a.validates and a.loaded_validator is None)
           for a in cfg.agents):
        load_handlers(cfg)  # before the chain: a bad handler must not cost a transaction
    addresses = {k: v["address"] for k, v in context.deployment(network)["contracts"].items()}
    for key in ("identity", "roles"):
        if key not in addresses:
            raise ConfigError(f"the deployment on '{network}' has no '{key}'; rerun "
                              f"'accord deploy --network {network}'")
    devnet = context.is_devnet(network)
    settings = load_settings()
    blobs = open_store(store or cfg.store)
    folder = state_dir() / "agents" / network
    agents: list[Agent] = []
    identities: list[tuple[str, str, int, str]] = []
    for a in cfg.agents:
        operator = context.signer(a.key_env, a.dev_account, network)
        roles = list(a.roles) + ([a.validator_role or settings.validator_role]
                                 if a.validates else [])
        agent_id = a.agent_id
        memo = folder / f"{a.name}.json"
        if agent_id is None:
            agent_id = _remembered(memo, addresses["identity"], operator.address)
        if agent_id is None:
            if not devnet:
                raise ConfigError(f"{cfg.path}:{a.line}: agent '{a.name}' has no agent_id; "
                                  "register its ERC-8004 identity and set agent_id (automatic "
                                  "onboarding is for devnets only)")
            agent_id = onboard(client, addresses, operator, roles, agent_uri=a.agent_uri)
            if not a.agent_uri:
                publish_card(client, addresses["identity"], operator, agent_id, blobs,
                             registration_file(a.name, agent_id, client.chain_id,
                                               addresses["identity"], description=a.description,
                                               a2a=a.a2a, mcp=a.mcp))
            memo.parent.mkdir(parents=True, exist_ok=True)
            memo.write_text(json.dumps({"agent_id": agent_id, "identity": addresses["identity"],
                                        "operator": operator.address}))
            echo(f"  onboarded {a.name}: agentId {agent_id}, roles {', '.join(roles)}")
        elif devnet:
            bond_roles(client, addresses["roles"], operator, agent_id, roles)
        agents.append(_agent(a, operator, agent_id))
        identities.append((a.name, operator.address, agent_id, ",".join(sorted(roles))))
    block = int(context.deployment(network)["contracts"]["coordinator"].get("block", 0))
    return AgentHost(client, coordinator, agents, blobs, ws=ws, from_block=block,
                     cursor_path=folder / f"cursor-{config_stem}-"
                     f"{cursor_key(cfg.path, coordinator, identities)}.json",
                     rescan_s=0.5 if devnet else 2.0, poll_s=0.1 if devnet else 1.0)


def cursor_key(config_path: str | Path, coordinator: str,
               identities: list[tuple[str, str, int, str]]) -> str:
    """16 hex digits naming one agents file serving one coordinator with these agents
    (name, operator address, agentId, the roles it serves): the cursor file of that
    combination. A new role is a new cursor: the saved one lists only the runs the old roles
    could work on, so the host reads the runs from the deployment block again."""
    text = json.dumps([str(Path(config_path).resolve()), coordinator.lower(),
                       sorted([n, op.lower(), i, r] for n, op, i, r in identities)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _agent(a: AgentConfig, operator: object, agent_id: int) -> Agent:
    return Agent(a.name, operator, agent_id, dict(a.loaded),  # type: ignore[arg-type]
                 validator=a.loaded_validator, validator_role=a.validator_role,
                 max_concurrent=a.max_concurrent, batch=a.batch, timeout_s=a.timeout)


async def serve(host: AgentHost, client: Client, coordinator: str, *,
                seconds: float | None = None, until_runs: tuple[int, ...] = ()) -> None:
    """Run ``host`` until ``seconds`` pass or every run of ``until_runs`` has ended."""
    stop = asyncio.Event()
    task = asyncio.ensure_future(host.run(stop))
    started = time.monotonic()
    try:
        while not task.done():
            if seconds is not None and time.monotonic() - started >= seconds:
                break
            if until_runs:
                states = await asyncio.to_thread(
                    lambda: [run_state(client, coordinator, r) for r in until_runs])
                if RunState.NONE in states:
                    missing = until_runs[states.index(RunState.NONE)]
                    raise ConfigError(f"--until-run {missing}: no such run on this coordinator")
                if not any(s.active for s in states):
                    break
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await task
