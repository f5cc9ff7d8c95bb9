"""Define and start workflows from Python (the CLI and the demo use these)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from accord.agents import catalog
from accord.agents.store import ResultStore
from accord.chain import Client
from accord.workflow_yaml import Workflow, known_roles_from_settings, load_workflow


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
          sender: LocalAccount, store: ResultStore) -> tuple[int, Any]:
    """Start a run with ``data`` as its input (stored content-addressed) and ``value`` wei of
    budget; returns (run id, receipt)."""
    coord = client.contract("WorkflowCoordinator", coordinator)
    digest, uri = store.put(data) if data else (b"\x00" * 32, "")
    receipt = client.transact(coord.functions.startRun(definition_id, digest, uri), sender,
                              value=value)
    run_id = coord.events.RunStarted().process_receipt(receipt, errors=DISCARD)[0]["args"][
        "runId"]
    return int(run_id), receipt
