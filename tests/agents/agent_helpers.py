"""Helpers of the agent tests: a deployed suite with methods to create agents, start runs and
read events, and `drive` to run agent hosts until a condition holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from accord.agents.onboard import onboard
from accord.agents.host import Agent, AgentHost
from accord.workflows.result_store import ResultStore
from accord.chain.client import Client
from accord.dev.devnet import Chain
from accord.workflows.compiler import Workflow, parse_workflow

BOND = 10**16
ROLES = ("research", "analysis", "report", "execute", "validator")


@dataclass
class Suite:
    chain: Chain
    client: Client
    admin: LocalAccount
    addresses: dict[str, str]
    store: ResultStore
    manifest: Path
    root: Path

    @property
    def coordinator(self) -> Any:
        return self.client.contract("WorkflowCoordinator", self.addresses["coordinator"])

    def fund(self) -> LocalAccount:
        acct = Account.create()
        self.client.w3.provider.make_request("anvil_setBalance", [acct.address, hex(10**21)])
        return acct

    def agent(self, name: str, handlers: dict[str, Any] | None = None, *,
              validator: Any = None, **kw: Any) -> Agent:
        operator = self.fund()
        roles = list(handlers or {}) + (["validator"] if validator else [])
        agent_id = onboard(self.client, self.addresses, operator, roles)
        return Agent(name, operator, agent_id, dict(handlers or {}), validator=validator, **kw)

    def host(self, agents: list[Agent], **kw: Any) -> AgentHost:
        kw.setdefault("rescan_s", 0.1)
        kw.setdefault("poll_s", 0.02)
        return AgentHost(Client(self.chain.rpc_url), self.addresses["coordinator"], agents,
                         self.store, from_block=self.client.w3.eth.block_number,
                         catalog_root=self.root / "workflows", **kw)

    def start(self, workflow: Workflow | str, data: bytes = b"input") -> int:
        wf = parse_workflow(workflow) if isinstance(workflow, str) else workflow
        defn = wf.definition(self.client.chain_id)
        coord = self.coordinator
        self.client.transact(coord.functions.registerDefinition(defn), self.admin)
        from accord.workflows import catalog

        def_id = wf.definition_id(self.client.chain_id)
        catalog.save(def_id, wf.names, root=self.root / "workflows")
        digest, uri = self.store.put(data)
        receipt = self.client.transact(coord.functions.startRun(def_id, digest, uri),
                                       self.admin, value=wf.total_reward())
        started = coord.events.RunStarted().process_receipt(receipt, errors=DISCARD)
        return int(started[0]["args"]["runId"])

    def events(self, name: str, run_id: int) -> list[dict[str, Any]]:
        ev = getattr(self.coordinator.events, name)
        logs = ev.get_logs(from_block=0, argument_filters={"runId": run_id})
        return [dict(log["args"]) for log in logs]

    def run_state(self, run_id: int) -> int:
        return int(self.coordinator.functions.runState(run_id).call())

    def travel(self, seconds: int) -> None:
        self.client.w3.provider.make_request("evm_increaseTime", [seconds])
        self.client.w3.provider.make_request("evm_mine", [])


async def drive(hosts: list[AgentHost], until: Callable[[], bool], *, timeout: float = 20.0,
                on_tick: Callable[[], None] | None = None) -> None:
    """Run ``hosts`` until ``until()`` holds (checked off the event loop), then stop them."""
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(h.run(stop)) for h in hosts]
    deadline = time.monotonic() + timeout
    try:
        while True:
            for t in tasks:
                if t.done():
                    t.result()  # a host died: raise its error
            if await asyncio.to_thread(until):
                return
            if on_tick is not None:
                await asyncio.to_thread(on_tick)
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s; host stats: "
                                     f"{[dict(h.stats) for h in hosts]}")
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def deploy_suite(chain: Chain, root: Path) -> Suite:
    """A fresh Accord suite on ``chain`` (a new funded admin), its manifest under ``root``."""
    from accord.deploy import suite as suite_mod
    from accord.deploy.plan import read_manifest, run_plan
    from accord.settings import Settings

    client = Client(chain.rpc_url)
    admin = Account.create()
    client.w3.provider.make_request("anvil_setBalance", [admin.address, hex(10**22)])
    settings = Settings(roles={r: BOND for r in ROLES}, validator_role="validator")
    manifest = root / "deployments" / f"ethereum_{chain.name}.json"
    run_plan(client, admin, suite_mod.plan(settings, chain.name, admin.address), manifest,
             network=chain.name)
    addresses = {k: v["address"] for k, v in read_manifest(manifest)["contracts"].items()}
    return Suite(chain, client, admin, addresses, ResultStore(root / "results"), manifest,
                 root)


def run_cli(*args: str) -> Result:
    """`accord ARGS` in-process (stdout and stderr mixed, as a user sees them)."""
    from accord.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_line_error(result: Result, starts: str) -> None:
    """Exit 1 with exactly one line, ``error: <starts>...``, and no traceback."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: " + starts), lines[0]
