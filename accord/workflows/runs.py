"""Define and start workflows from Python (the CLI and the demo use these)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from accord.chain.client import Client
from accord.chain.types import (
    DefinitionInfo,
    RunState,
    StepSpec,
    ValidationTimeout,
    WorkflowDefinition,
)
from accord.errors import ChainError
from accord.workflows import catalog
from accord.workflows.compiler import Workflow, known_roles_from_settings, load_workflow
from accord.workflows.result_store import BlobStore


def define(client: Client, coordinator: str, path: str | Path, sender: LocalAccount,
           home_chain: str | None = None) -> tuple[bytes, Workflow]:
    """Compile a workflow file and register it (idempotent: same file, same id)."""
    wf = load_workflow(path, known_roles=known_roles_from_settings(), home_chain=home_chain)
    coord = client.contract("WorkflowCoordinator", coordinator)
    def_id = wf.definition_id(client.chain_id)
    client.transact(coord.functions.registerDefinition(wf.definition(client.chain_id)), sender)
    catalog.save(def_id, wf.names, {"workflow": wf.name, "file": str(path)})
    return def_id, wf


def start(client: Client, coordinator: str, definition_id: bytes, data: bytes, value: int,
          sender: LocalAccount, store: BlobStore) -> tuple[int, Any]:
    """Start a run with ``data`` as its input (stored content-addressed) and ``value`` wei of
    budget; returns (run id, receipt)."""
    coord = client.contract("WorkflowCoordinator", coordinator)
    digest, uri = store.put(data) if data else (b"\x00" * 32, "")
    receipt = client.transact(coord.functions.startRun(definition_id, digest, uri), sender,
                              value=value)
    run_id = coord.events.RunStarted().process_receipt(receipt, errors=DISCARD)[0]["args"][
        "runId"]
    return int(run_id), receipt


# ---------------------------------------------------------------------- quorum vs. judges
@dataclass(frozen=True)
class QuorumGap:
    """A step whose validation quorum the judges bonded right now cannot reach."""

    step: str
    quorum: int
    judges: int  # distinct owners of agents bonded for the judge role
    role: str

    def message(self, network: str) -> str:
        have = f"only {self.judges}" if self.judges else "no"
        return (f"step '{self.step}' needs {self.quorum} judge approval(s) but {have} judge(s) "
                f"with independent owners are bonded for role '{self.role}' on {network}; a "
                f"run would sit in Submitted until its validation deadline: lower the quorum "
                f"or bond {self.quorum - self.judges} more judge(s) with owners of their own")


def judge_owners(client: Client, coordinator: str, role: bytes, from_block: int = 0) -> set[str]:
    """Owners of the agents whose active bond for ``role`` meets its minimum now.

    A vote counts once per owner (and never from the executor's owner), so the number of
    distinct owners bounds the approvals any step can get. Bonds are found from AgentRoles'
    ``Bonded`` events (role is indexed) since ``from_block`` (AgentRoles' deployment block:
    the manifest has it), then checked with ``bondOf``.
    """
    coord = client.contract("WorkflowCoordinator", coordinator)
    identity_addr, roles_addr, _, _, _ = coord.functions.registries().call()
    roles = client.contract("AgentRoles", roles_addr)
    identity = client.contract("IdentityRegistry", identity_addr)
    min_bond, configured = roles.functions.roleMinBond(role).call()
    if not configured:
        return set()
    logs = roles.events.Bonded().get_logs(from_block=from_block,
                                         argument_filters={"role": role})
    owners: set[str] = set()
    for agent_id in {int(log["args"]["agentId"]) for log in logs}:
        active, _, _ = roles.functions.bondOf(agent_id, role).call()
        if active > 0 and active >= min_bond:
            owners.add(str(identity.functions.ownerOf(agent_id).call()))
    return owners


def quorum_gaps(client: Client, coordinator: str, definition: WorkflowDefinition,
                names: list[str], from_block: int = 0) -> list[QuorumGap]:
    """Steps of ``definition`` that run on this chain and need more approvals than there are
    bonded judges with independent owners (empty when every quorum can be met now)."""
    from accord import settings
    from accord.errors import ConfigError
    from accord.settings import role_id

    needs = [(names[i], s.quorum) for i, s in enumerate(definition.steps)
             if s.quorum and s.chainId == client.chain_id]
    if not needs:
        return []
    role = bytes(definition.validatorRole)
    if not any(role):
        role = bytes(client.contract("WorkflowCoordinator", coordinator).functions
                     .registries().call()[4])
    try:
        cfg = settings.load()
        known = {role_id(n): n for n in (*cfg.roles, cfg.validator_role)}
    except ConfigError:  # settings only name the role; the hex id will do
        known = {}
    role_name = known.get(role, "0x" + role.hex())
    judges = len(judge_owners(client, coordinator, role, from_block))
    return [QuorumGap(name, q, judges, role_name) for name, q in needs if q > judges]


def registered_definition(client: Client, coordinator: str,
                          definition_id: bytes) -> WorkflowDefinition:
    """A registered definition read back from the coordinator (the fields the checks use)."""
    c = client.contract("WorkflowCoordinator", coordinator).functions
    info = DefinitionInfo.from_abi(c.definitionInfo(definition_id).call())
    steps = tuple(StepSpec.from_abi(c.definitionStep(definition_id, i).call())
                  for i in range(info.stepCount))
    return WorkflowDefinition(validatorRole=info.validatorRole, slashAmount=info.slashAmount,
                              validationSeconds=0,  # not read back: the checks do not use it
                              onValidationTimeout=ValidationTimeout.RETRY, steps=steps)


def run_state(client: Client, coordinator: str, run_id: int) -> RunState:
    """The stored state of ``run_id`` (``RunState.NONE`` for a run that does not exist)."""
    return RunState(client.contract("WorkflowCoordinator", coordinator).functions.runState(
        run_id).call())


def wait_for_run(client: Client, coordinator: str, run_id: int, *, timeout: float = 60.0,
                 poll_s: float = 0.05) -> RunState:
    """Block until ``run_id`` leaves Running/Paused; returns its final state."""
    deadline = time.monotonic() + timeout
    while True:
        state = run_state(client, coordinator, run_id)
        if state != RunState.NONE and not state.active:
            return state
        if time.monotonic() > deadline:
            raise ChainError(f"run {run_id} is still running after {timeout:.0f}s; are agents "
                             "serving every role of its steps?")
        time.sleep(poll_s)
