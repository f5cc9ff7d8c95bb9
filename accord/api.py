"""Accord from Python: one entry point, :func:`connect`.

```python
import accord

acc = accord.connect("chaina", dev_account=0)        # a devnet, or a deployed network
writer = acc.agent("writer", {"research": lambda step: b"notes on " + step.input})
with acc.serve([writer]):                              # agents answer in a background thread
    run = acc.start("examples/hello.yaml", input=b"tides")
    print(acc.wait(run), acc.result(run, "research"))
```

:class:`Accord` holds what every call needs (a web3 client for the network, the deployment's
addresses from its manifest, the signing account and the content-addressed result store), so
each method takes only what is particular to it. Errors are :class:`accord.errors.AccordError`
subclasses whose messages say what to do.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from accord.agents.host import Agent, AgentHost
from accord.chain.client import Client
from accord.chain.results import find_result
from accord.chain.types import RunState
from accord.errors import ConfigError
from accord.workflows.result_store import BlobStore, open_store
from accord.workflows.runs import wait_for_run
from accord.workflows.status import RunSnapshot, snapshot

Handler = Callable[..., Any]


@dataclass(frozen=True)
class RunSummary:
    """One run as :meth:`Accord.runs` lists it."""

    run_id: int
    state: str
    definition_id: str
    creator: str
    block: int


class Accord:
    """Accord on one network: define and start workflows, follow and cancel runs, read
    results, and serve agents. Build it with :func:`connect`."""

    def __init__(self, network: str, client: Client, account: LocalAccount | None,
                 contracts: Mapping[str, str], store: BlobStore) -> None:
        self.network = network
        self.client = client
        self.account = account
        self.contracts = dict(contracts)
        self.store = store
        if "coordinator" not in self.contracts:
            raise ConfigError(f"'{network}' has no coordinator in its deployment manifest; run "
                              f"'accord deploy --network {network}' first")

    @property
    def signer(self) -> LocalAccount:
        """The account transactions are signed with (an Accord built for reading has none)."""
        if self.account is None:
            raise ConfigError("this Accord reads only; connect with account=, key_env= or "
                              "dev_account= to send transactions")
        return self.account

    @property
    def coordinator(self) -> str:
        """The WorkflowCoordinator's address."""
        return self.contracts["coordinator"]

    def _coord(self) -> Any:
        return self.client.contract("WorkflowCoordinator", self.coordinator)

    # -- workflows --------------------------------------------------------------------------
    def define(self, workflow: str | Path) -> bytes:
        """Register the workflow file (idempotent: the same file gives the same id); returns
        its definition id."""
        from accord.workflows.runs import define

        def_id, _ = define(self.client, self.coordinator, workflow, self.signer,
                           home_chain=self.network)
        return def_id

    def start(self, workflow: str | Path | bytes, input: bytes = b"",  # noqa: A002
              budget: int | None = None) -> int:
        """Start a run of ``workflow`` (a YAML file, defined first if needed, or a definition
        id) with ``input`` as its input; ``budget`` wei of escrow, by default exactly the
        rewards. Returns the run id."""
        from accord.chain.types import DefinitionInfo
        from accord.workflows.runs import start

        def_id = workflow if isinstance(workflow, bytes) else self.define(workflow)
        info = DefinitionInfo.from_abi(self._coord().functions.definitionInfo(def_id).call())
        value = info.totalReward if budget is None else budget
        if value < info.totalReward:
            raise ConfigError(f"budget {value} wei is below the run's rewards, "
                              f"{info.totalReward} wei")
        run_id, _ = start(self.client, self.coordinator, def_id, input, value, self.signer,
                          self.store)
        return run_id

    def status(self, run_id: int) -> RunSnapshot:
        """The run's state and a row per step (state, agent, lease, attempts, result, votes)."""
        return snapshot(self.client, self.coordinator, run_id)

    def wait(self, run_id: int, timeout: float = 120.0) -> str:
        """Block until the run ends; its final state ("Completed", "Failed", "Cancelled").
        Raises :class:`accord.errors.ChainError` after ``timeout`` seconds."""
        return RunState(wait_for_run(self.client, self.coordinator, run_id, timeout=timeout,
                                     poll_s=0.1)).label

    def result(self, run_id: int, step: str | int) -> bytes:
        """The bytes step ``step`` (its name or index) produced, checked against the hash the
        coordinator holds."""
        index = self._step_index(run_id, step)
        found = find_result(self.client.w3, self.coordinator, run_id, index)
        if found is None:
            raise ConfigError(f"step {step!r} of run {run_id} has no result yet; see "
                              f"'accord workflow status {run_id} --network {self.network}'")
        return self.store.get(found.resultURI, found.resultHash)

    def runs(self, state: str | None = None, *, creator: str | None = None) -> list[RunSummary]:
        """Every run started on this coordinator (oldest first), optionally only those in
        ``state`` (e.g. "Running") or started by ``creator``."""
        coord = self._coord()
        start_block = min((int(c.get("block", 0)) for c in self._manifest_contracts()),
                          default=0)
        out: list[RunSummary] = []
        for log in coord.events.RunStarted().get_logs(from_block=start_block):
            args = log["args"]
            run_id = int(args["runId"])
            label = RunState(int(coord.functions.runState(run_id).call())).label
            who = str(args.get("creator", ""))
            if state is not None and label.lower() != state.lower():
                continue
            if creator is not None and who.lower() != creator.lower():
                continue
            out.append(RunSummary(run_id, label, "0x" + bytes(args["definitionId"]).hex(),
                                  who, int(log["blockNumber"])))
        return out

    def cancel(self, run_id: int) -> None:
        """Cancel a run you created (in-flight work still settles; see the README)."""
        self.client.transact(self._coord().functions.cancelRun(run_id), self.signer)

    # -- agents -----------------------------------------------------------------------------
    def agent(self, name: str, handlers: Mapping[str, Handler], *,
              operator: LocalAccount | None = None, validator: Handler | None = None,
              bonds: Mapping[str, int] | None = None) -> Agent:
        """Register an agent identity owned by ``operator`` (default: this account), bond it
        for each role of ``handlers`` (and the validator role with ``validator``) and return
        it, ready for :meth:`serve`. A handler takes a ``StepInput`` and returns bytes (or a
        ``StepOutput``)."""
        from accord.agents.onboard import onboard

        who = operator or self.signer
        roles = list(handlers) + (["validator"] if validator else [])
        agent_id = onboard(self.client, self.contracts, who, roles, bonds=bonds)
        return Agent(name, who, agent_id, dict(handlers), validator=validator)

    @contextmanager
    def serve(self, agents: list[Agent]) -> Iterator[AgentHost]:
        """Serve ``agents`` in a background thread for the duration of the ``with`` block
        (they claim, work and submit every step of their roles, and vote as validators)."""
        host = AgentHost(Client(self.client.rpc_url), self.coordinator,
                         agents, self.store, from_block=int(self.client.w3.eth.block_number))
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        failure: list[BaseException] = []

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(host.run(stop))
            except BaseException as exc:  # reported in the caller's thread
                failure.append(exc)
            finally:
                loop.close()

        thread = threading.Thread(target=main, name="accord-agents", daemon=True)
        thread.start()
        try:
            yield host
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
        if failure:
            raise failure[0]

    # -- internals --------------------------------------------------------------------------
    def _manifest_contracts(self) -> list[dict[str, Any]]:
        from accord.deploy import context

        try:
            found = context.deployment(self.network).get("contracts", {})
        except ConfigError:
            return []
        return [c for c in found.values() if isinstance(c, dict)]

    def _step_index(self, run_id: int, step: str | int) -> int:
        if isinstance(step, int):
            return step
        from accord.chain.types import DefinitionInfo, RunInfo
        from accord.workflows import catalog

        info = RunInfo.from_abi(self._coord().functions.runInfo(run_id).call())
        count = DefinitionInfo.from_abi(
            self._coord().functions.definitionInfo(info.definitionId).call()).stepCount
        names = catalog.names(info.definitionId, count)
        if step not in names:
            raise ConfigError(f"run {run_id} has no step named {step!r}; its steps: "
                              f"{', '.join(names) or '(names unknown: pass the index)'}")
        return names.index(step)


def deployment(network: str = "chaina") -> dict[str, str]:
    """The addresses of Accord's contracts on ``network`` (a devnet name such as ``chaina``,
    or a network with a manifest from ``accord deploy``, e.g. ``ethereum:sepolia``): contract
    name -> checksummed address, e.g. ``deployment("chaina")["coordinator"]``. Reads the
    deployment manifest only (no RPC), so an ``ape run`` script or a test in your own ape
    project can pass the addresses to its contracts. A network with no manifest raises
    :class:`accord.errors.ConfigError` naming the ``accord deploy`` command to run."""
    from accord.deploy import context

    return {key: str(c["address"]) for key, c in
            context.deployment(network).get("contracts", {}).items()
            if isinstance(c, dict) and "address" in c}


def connect(network: str = "chaina", *, account: LocalAccount | None = None,
            dev_account: int | None = None, key_env: str | None = None,
            rpc: str | None = None, store: str | Path | None = None,
            read_only: bool = False) -> Accord:
    """Accord on ``network``: a devnet name (``accord devnet up``) or a network with a
    deployment manifest (``accord deploy``). Sign with ``account``, the key in environment
    variable ``key_env``, or (devnets only) anvil's dev account ``dev_account``; with
    ``read_only`` there is no signer (status, wait, result, runs only). Results go to
    ``store``: a directory (default ``.accord/results``) or an ``http(s)://`` result service
    (``accord results serve``; its token in ACCORD_RESULTS_TOKEN)."""
    from accord.deploy import context

    signer = None
    if not read_only:
        if account is None and key_env is None and dev_account is None:
            raise ConfigError(f"connect('{network}') needs a signer: account=<LocalAccount>, "
                              "key_env='VAR' (the key in that environment variable) or, on "
                              "devnets, dev_account=N; or read_only=True to only read")
        signer = account or context.signer(key_env, dev_account, network)
    client = Client(rpc or context.rpc_url(network), timeout=10)
    contracts = deployment(network)
    blobs = open_store(str(store) if store is not None else None)
    return Accord(network, client, signer, contracts, blobs)
