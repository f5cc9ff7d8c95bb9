"""The main job: a multi-agent workflow across three chains, end to end, by itself.

Three fresh devnets with different rules (chainc mines a block every 2 s and its attesters
wait for 2 confirmations); the whole suite deployed and linked on all; attesters, relayers,
a keeper and four groups of agents started as separate operators (each its own state
directory and key; results on each group's own IPFS node); the workflow of
``examples/demo.yaml`` run on chaina with its ``execute`` step on chainb and its ``audit``
step on chainc; live progress; a summary of who did what; and everything stopped again
(also on Ctrl-C or an error).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from web3.types import RPCEndpoint

from accord.chain.accounts import dev_account
from accord.chain.client import Client
from accord.chain.results import find_result, find_results
from accord.chain.types import RunState, StepState
from accord.dev.devnet import Chain, Devnet
from accord.dev.operators import activity
from accord.errors import AccordError
from accord.paths import project_root, state_dir

if TYPE_CHECKING:
    from accord.ipfs.node import IpfsNode

ADMIN, KEEPER, ACTOR = 0, 2, 4
CHAINS = ("chaina", "chainb", "chainc")  # home: chaina; chainc: 2 s blocks, 2 confirmations
#: One relayer operator (and key) per direction a remote step's messages travel.
RELAYERS = {("chaina", "chainb"): 3, ("chainb", "chaina"): 8,
            ("chaina", "chainc"): 21, ("chainc", "chaina"): 22}
VALIDATOR_KEYS = (5, 6, 7)  # every linked validator runs; a quorum of 2 survives one down
VALIDATOR_THRESHOLD = 2
RECIPIENT_GAS = 2_000_000
DEMO_INPUT = b"Should the cooperative buy the solar array? Budget 120k, 20-year horizon."


class DemoError(AccordError):
    """The demo could not finish; the message says where to look."""


@dataclass
class DashboardOptions:
    """``accord demo --dashboard``: serve the dashboard on ``port`` (0 = any free port) from
    the start, and keep it and the chains up after the run until Ctrl-C (or ``hold_s``)."""

    host: str = "127.0.0.1"
    port: int = 8700
    hold_s: float | None = None
    on_url: Callable[[str], None] | None = None


@dataclass
class Summary:
    run_id: int = 0
    state: str = "None"
    steps: dict[str, str] = field(default_factory=dict)
    agents: int = 0
    messages: dict[str, int] = field(default_factory=dict)
    gas: dict[str, int] = field(default_factory=dict)
    transactions: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)
    operators: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> chain -> what
    result_schemes: dict[str, int] = field(default_factory=dict)  # URI scheme -> step results
    kept: int = 0  # step results the creator's own node keeps a copy of


def _deploy(chain: Chain, echo: Callable[[str], None]) -> dict[str, str]:
    from accord import settings
    from accord.deploy import suite
    from accord.deploy.context import deployment_path
    from accord.deploy.plan import read_manifest, run_plan

    admin = dev_account(ADMIN)
    path = deployment_path(chain.name)
    report = run_plan(Client(chain.rpc_url), admin,
                      suite.plan(settings.load(), chain.name, admin.address), path,
                      network=chain.name)
    echo(f"[{chain.name}] deployed {len(report.deployed)} contracts, "
         f"{len(report.wired)} wiring steps")
    return {k: v["address"] for k, v in read_manifest(path)["contracts"].items()}


def _agent_count() -> int:
    from accord.agents.agents_file import load_agents

    ex = project_root() / "examples"
    return sum(len(load_agents(ex / f).agents) for f in AGENT_GROUPS.values())


def _owners() -> dict[str, str]:
    """Each operator's accounts (checksummed) -> its name, for the summary."""
    from accord.agents.agents_file import load_agents

    ex = project_root() / "examples"
    owners: dict[str, str] = {
        dev_account(ADMIN).address: CREATOR, dev_account(KEEPER).address: "keeper",
        dev_account(ACTOR).address: "agents-chainb"}  # its executor's action key
    owners.update({dev_account(k).address: f"relayer-{o}-{d}" for (o, d), k in RELAYERS.items()})
    owners.update({dev_account(i).address: f"attester-{i}" for i in VALIDATOR_KEYS})
    for group, config in AGENT_GROUPS.items():
        for agent in load_agents(ex / config).agents:
            if agent.dev_account is not None:
                owners[dev_account(agent.dev_account).address] = group
    return owners


AGENT_GROUPS = {"agents-chaina": "demo-agents-chaina.yaml",
                "validators-chaina": "demo-validators-chaina.yaml",
                "agents-chainb": "demo-agents-chainb.yaml",
                "agents-chainc": "demo-agents-chainc.yaml"}
CREATOR = "creator"  # the demo process itself: defines the workflow, starts and pays the run
#: What the deployer publishes for everyone (an address book), copied into each operator's
#: own state directory: chain URLs, deployed addresses, and the workflows' step names.
PUBLIC = ("devnet.json", "deployments", "workflows")


def _relay_store(root: Path, origin: str, dest: str) -> Path:
    return _operator_dir(root, f"relayer-{origin}-{dest}") / "relay.sqlite"


def _operator_dir(root: Path, name: str) -> Path:
    folder = root / "operators" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _publish(root: Path) -> None:
    """Copy the public address book into every operator's own state directory (an operator
    on another machine would fetch it); nothing else crosses between them."""
    for folder in sorted((root / "operators").iterdir()):
        for item in PUBLIC:
            src = root / item
            if src.is_dir():
                shutil.copytree(src, folder / item, dirs_exist_ok=True)
            elif src.is_file():
                shutil.copy2(src, folder / item)


def _operator_env(root: Path, name: str) -> dict[str, str]:
    """An operator's own state directory, which is also its HOME: nothing it or a library it
    uses writes lands where another operator reads."""
    folder = str(_operator_dir(root, name))
    return {"ACCORD_STATE_DIR": folder, "HOME": folder}


def _ipfs_nodes(root: Path, stack: ExitStack) -> dict[str, IpfsNode]:
    """One IPFS node per party that publishes or reads results (the agent groups and the
    run's creator), each in its operator's directory; launched here, peered by ``_peer``."""
    import secrets

    from accord.ipfs.node import IpfsNode

    nodes = {name: IpfsNode(_operator_dir(root, name) / "ipfs", secrets.token_hex(16),
                            fetch_timeout_s=8.0)  # under the readers' 10 s read timeout
             for name in (CREATOR, *AGENT_GROUPS)}
    for node in nodes.values():
        stack.callback(node.stop)
        node.launch()
    return nodes


def _peer(nodes: dict[str, IpfsNode]) -> None:
    """Wait for every node, then peer them all: inputs and results travel between them over
    bitswap."""
    for node in nodes.values():
        node.wait_ready()
    names = list(nodes)
    for i, name in enumerate(names):  # dialling is both ways: each pair once
        for other in names[i + 1:]:
            nodes[name].connect(nodes[other].info.peer_address)


def _ipfs_env(node: IpfsNode) -> dict[str, str]:
    from accord.ipfs.node import TOKEN_ENV
    from accord.ipfs.store import GATEWAYS_ENV

    return {TOKEN_ENV: node.token, GATEWAYS_ENV: node.info.api}


def _services(sup: Any, chains: dict[str, Chain], env: dict[str, str],
              nodes: dict[str, IpfsNode]) -> None:
    """Every operator shares nothing but the chains (and, for results, the IPFS network):
    each runs in its own state directory with its own key. Each attester keeps its own
    store and publishes its signatures over HTTP at a location it announces on its chain;
    each relayer follows its origin itself and fetches them from there; each agent group
    publishes results to its own IPFS node and reads others' through it."""
    ex = project_root() / "examples"
    root = state_dir()
    for name in ([f"attester-{c}-{i}" for c in chains for i in VALIDATOR_KEYS]
                 + [f"relayer-{o}-{d}" for o, d in RELAYERS]
                 + ["keeper", *AGENT_GROUPS]):
        _operator_dir(root, name)
    _publish(root)  # before any of them starts: they read the chains' URLs at once
    for chain in chains.values():  # each waits for its chain's confirmations (chainc: 2)
        for i in VALIDATOR_KEYS:
            name = f"attester-{chain.name}-{i}"
            sup.start(name, "validate", "--chain", chain.name,
                      "--dev-account", str(i), "--straggler-seconds", "0.2",
                      "--store", str(_operator_dir(root, name) / "attestations.sqlite"),
                      "--serve", "127.0.0.1:0", env=_operator_env(root, name))
    for (origin, dest), key in RELAYERS.items():  # a remote task opens a run: ~1M gas
        name = f"relayer-{origin}-{dest}"
        sup.start(name, "relay", "--from", origin, "--to", dest, "--dev-account", str(key),
                  "--recipient-gas", str(RECIPIENT_GAS), "--discover",
                  "--store", str(_relay_store(root, origin, dest)),
                  env=_operator_env(root, name))
    sup.start("keeper", "keep", *(arg for c in chains for arg in ("--network", c)),
              "--dev-account", str(KEEPER), env=_operator_env(root, "keeper"))
    for group, config in AGENT_GROUPS.items():
        network = group.rsplit("-", 1)[1]
        node = nodes[group]
        sup.start(group, "agents", "run", "--network", network, "--config", str(ex / config),
                  "--store", "ipfs+" + node.info.api,
                  env={**_operator_env(root, group), **_ipfs_env(node),
                       **(env if network == "chainb" else {})})


def _rules(net: Any) -> str:
    """How a chain differs from an automining devnet, for the start line."""
    rules = []
    if net.block_time:
        rules.append(f"a block every {net.block_time:g} s")
    if net.confirmations:
        rules.append(f"{net.confirmations} confirmations")
    return f"; {', '.join(rules)}" if rules else ""


def _chain_gas(client: Client) -> tuple[int, int]:
    """(gas used, transactions) over the whole devnet chain."""
    gas = txs = 0
    for n in range(1, client.w3.eth.block_number + 1):
        block = client.w3.eth.get_block(n)
        gas += int(block["gasUsed"])
        txs += len(block["transactions"])
    return gas, txs


class Progress:
    """Prints each step transition as it happens (a live table on a terminal)."""

    def __init__(self, names: list[str], echo: Callable[[str], None]) -> None:
        self.names = names
        self.echo = echo
        self.last: dict[int, int] = {}
        self.started = time.monotonic()

    def update(self, states: list[int]) -> None:
        for i, st in enumerate(states):
            first = i not in self.last
            if self.last.get(i) == st:
                continue
            self.last[i] = st
            if first and st == StepState.BLOCKED:
                continue  # Blocked at the start is not news
            self.echo(f"  {time.monotonic() - self.started:5.1f}s  {self.names[i]:<15} "
                      f"{StepState(st).label}")


@dataclass
class ResultCopies:
    """The run's creator keeps a copy of every step's result on its own IPFS node as soon as
    the result is on chain (Submitted; Done for a remote step), so a result stays reachable
    when the operator that produced it goes offline: its node fetches the block from its peers
    and keeps it (``POST /pins/<cid>``); counted only once the node answered that it has it."""

    w3: Any
    coordinator: str
    run_id: int
    store: Any  # the creator's IpfsResultStore
    kept: set[int] = field(default_factory=set)

    def update(self, states: list[int]) -> None:
        due = [i for i, st in enumerate(states) if i not in self.kept
               and st in (StepState.SUBMITTED, StepState.DONE)]
        if not due:
            return
        for i, found in find_results(self.w3, self.coordinator, self.run_id, due).items():
            try:
                self.store.pin(found.resultURI)
            except AccordError:
                continue  # asked again on the next pass
            self.kept.add(i)


def _dashboard(opts: DashboardOptions | None, root: Path,
               echo: Callable[[str], None]) -> AbstractContextManager[Any]:
    """The dashboard server as a context manager (nothing without --dashboard). It follows
    the demo's devnet manifest, so the chains appear on the page as soon as they start."""
    if opts is None:
        return nullcontext()
    from accord.dashboard.data import Dashboard
    from accord.dashboard.server import DashboardServer, check_bundle
    from accord.dashboard.source import Source
    from accord.dev.devnet import MANIFEST_NAME

    check_bundle()  # fail before starting any chain
    server = DashboardServer(Dashboard(Source(root / MANIFEST_NAME)), opts.host, opts.port)
    on_url = opts.on_url

    class _Served:
        def __enter__(self) -> DashboardServer:
            url = server.start()
            echo(f"dashboard: {url}")
            if on_url is not None:
                on_url(url)
            return server

        def __exit__(self, *exc: object) -> None:
            server.stop()

    return _Served()


def _hold(opts: DashboardOptions, url: str, echo: Callable[[str], None]) -> None:
    """Keep the dashboard (and the chains it reads) up until Ctrl-C or ``opts.hold_s``."""
    echo(f"dashboard: {url} stays up with the chains; press Ctrl-C to stop")
    deadline = None if opts.hold_s is None else time.monotonic() + opts.hold_s
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass


def run_demo(echo: Callable[[str], None] = print, timeout: float = 120.0,
             dashboard: DashboardOptions | None = None) -> Summary:
    from accord import settings
    from accord.crosschain.attestation_store import SqliteStore
    from accord.crosschain.attester import route_name
    from accord.deploy import links
    from accord.dev.devnet import manifest_path
    from accord.dev.supervisor import Supervisor
    from accord.ipfs.store import GATEWAYS_ENV, IpfsResultStore
    from accord.workflows.result_store import ResultStore
    from accord.workflows.runs import define, start

    t0 = time.monotonic()
    root = state_dir() / "demo"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    os.environ["ACCORD_STATE_DIR"] = str(root)  # this process and every child: demo state
    if dashboard is not None:  # a run people watch: each work step takes a moment
        os.environ.setdefault("ACCORD_DEMO_PACE_S", "3")
    summary = Summary()
    printed = False
    # live_clock: leases, backoffs and deadlines run on an idle chain too
    with _dashboard(dashboard, root, echo) as server, \
            Devnet(log_dir=root / "logs", live_clock=True) as net, \
            Supervisor(root / "logs") as sup, ExitStack() as stack:
        nodes = _ipfs_nodes(root, stack)  # they start while the chains do
        chains = {name: net.start(name) for name in CHAINS}
        net.write_manifest(manifest_path())
        cfg = settings.load()
        echo("chains: " + ", ".join(
            f"{c.name} (id {c.chain_id}{_rules(cfg.network(c.name))}) at {c.rpc_url}"
            for c in chains.values()))
        clients = {name: Client(c.rpc_url) for name, c in chains.items()}
        slow = {n: t for n in CHAINS if (t := cfg.network(n).block_time)}
        for name in slow:  # set up at automine speed; the operators meet the real rules
            clients[name].w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [True])
        with ThreadPoolExecutor(len(chains)) as pool:  # one deployer per chain, at once
            addrs = dict(zip(chains, pool.map(lambda c: _deploy(c, echo), chains.values()),
                             strict=True))
        b, addr_a = chains["chainb"], addrs["chaina"]
        ca, cb = clients["chaina"], clients["chainb"]
        admin = dev_account(ADMIN)
        ends = []
        for name, chain in chains.items():
            client, addr = clients[name], addrs[name]
            # relayer fees: each paymaster quotes the other chain (the demo's relayers
            # deliver everything, --fee-policy any)
            oracle, enforced = links.destination_oracle(cfg.network(chain.name), True)
            ends.append(links.GatewayEnd(client, addr["gateway"], admin, addr["router"],
                                         addr.get("paymaster"), oracle, enforced))
        changed = links.link(ends, [dev_account(i).address for i in VALIDATOR_KEYS],
                             VALIDATOR_THRESHOLD)
        echo(f"linked: {len(changed)} settings (gateways trust each other, "
             f"{VALIDATOR_THRESHOLD}-of-{len(VALIDATOR_KEYS)} validators, routers, relayer-fee "
             "prices)")
        action_log, _ = cb.deploy("ActionLog", sender=admin)
        env = {"ACCORD_DEMO_RPC": b.rpc_url, "ACCORD_DEMO_ACTION_LOG": action_log.address,
               "ACCORD_DEMO_ACTOR_KEY": "0x" + dev_account(ACTOR).key.hex()}
        for name, block_time in slow.items():
            clients[name].w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
            clients[name].w3.provider.make_request(RPCEndpoint("evm_setIntervalMining"),
                                                   [int(block_time)])
        _peer(nodes)
        # what this process reads without its node's token (the dashboard: agent cards) comes
        # from the operators' nodes as public gateways (each serves what it holds)
        os.environ[GATEWAYS_ENV] = ",".join(n.info.api for n in nodes.values())
        _services(sup, chains, env, nodes)
        echo(f"started {len(sup.procs)} operators, each with its own state directory and key: "
             f"{len(chains) * len(VALIDATOR_KEYS)} attesters, {len(RELAYERS)} relayers, a "
             f"keeper, {len(AGENT_GROUPS)} agent groups; {len(nodes)} IPFS nodes (the agent "
             "groups' and the creator's) carry the results")

        def_id, wf = define(ca, addr_a["coordinator"], project_root() / "examples" / "demo.yaml",
                            admin, home_chain="chaina")
        # the run's creator pays each remote step from its own deposit on that chain's router
        # (every attempt may open a remote run; unpaid rewards come back to the deposit)
        for name in CHAINS[1:]:
            remote = sum(s.reward * s.attempts for s in wf.steps if s.chain == name)
            router = clients[name].contract("RemoteStepRouter", addrs[name]["router"])
            clients[name].transact(router.functions.deposit(admin.address), admin, value=remote)
            echo(f"deposited {remote} wei for the run's creator on {name}'s router")
        _publish(root)  # the workflow's step names, for the agents
        store = IpfsResultStore(nodes[CREATOR].info.api, nodes[CREATOR].token,
                                ResultStore(_operator_dir(root, CREATOR) / "results"))
        run_id, _ = start(ca, addr_a["coordinator"], def_id, DEMO_INPUT, wf.total_reward(),
                          admin, store)
        remote_steps = ", ".join(f"'{s.name}' on {s.chain}" for s in wf.steps
                                 if s.chain not in (None, "chaina"))
        echo(f"run {run_id} of '{wf.name}' started on chaina: {len(wf.names)} steps, "
             f"{remote_steps}")
        coord = ca.contract("WorkflowCoordinator", addr_a["coordinator"])
        progress = Progress(wf.names, echo)
        copies = ResultCopies(ca.w3, addr_a["coordinator"], run_id, store)
        deadline = time.monotonic() + timeout
        gate = os.environ.get("ACCORD_DEMO_GATE")
        state = RunState.RUNNING
        while state in (RunState.NONE, RunState.RUNNING, RunState.PAUSED):
            if gate and not os.path.exists(gate):  # held by a watcher: not the run's time
                deadline = time.monotonic() + timeout
            states = [int(coord.functions.stepState(run_id, i).call())
                      for i in range(len(wf.names))]
            copies.update(states)  # tried before the line that shows the step (not a promise)
            progress.update(states)
            state = RunState(int(coord.functions.runState(run_id).call()))
            if time.monotonic() > deadline:
                dead = [n for n in sup.procs if not sup.alive(n)]
                raise DemoError(f"run {run_id} did not finish in {timeout:.0f}s"
                                + (f"; processes that died: {', '.join(dead)}" if dead else "")
                                + f"; logs in {root / 'logs'}")
            time.sleep(0.5)
        states = [int(coord.functions.stepState(run_id, i).call())
                  for i in range(len(wf.names))]
        copies.update(states)
        progress.update(states)
        summary.kept = len(copies.kept)
        summary.run_id = run_id
        summary.state = state.label
        summary.steps = {wf.names[i]: StepState(s).label for i, s in progress.last.items()}
        found = [find_result(coord.w3, coord.address, run_id, i) for i in range(len(wf.names))]
        summary.result_schemes = dict(Counter(f.resultURI.split("://")[0] + "://"
                                              for f in found if f is not None))
        report = found[-1]
        try:
            if report is None:
                raise ValueError("the last step has no result")
            summary.report = json.loads(store.get(report.resultURI, report.resultHash))
        except (AccordError, ValueError, OSError):
            summary.report = {}
        counts: Counter[str] = Counter()
        for origin, dest in RELAYERS:  # each relayer's own route (it sees others' too)
            route = route_name(chains[origin].chain_id, chains[dest].chain_id)
            counts.update(SqliteStore(_relay_store(root, origin, dest)).counts(route))
        summary.messages = dict(counts)
        owners = _owners()
        for name, client in clients.items():
            summary.gas[name], summary.transactions[name] = _chain_gas(client)
            for who, act in activity(client, owners).items():
                summary.operators.setdefault(who, {})[name] = act.describe(6)
        summary.agents = _agent_count()
        summary.seconds = round(time.monotonic() - t0, 1)
        if dashboard is not None:
            _print_summary(summary, echo)
            printed = True
            _hold(dashboard, server.url, echo)
        echo("stopping services and chains")
    if not printed:
        _print_summary(summary, echo)
    if summary.state != RunState.COMPLETED.label:
        raise DemoError(f"run {summary.run_id} ended {summary.state}; logs in {root / 'logs'}")
    return summary


def _print_summary(s: Summary, echo: Callable[[str], None]) -> None:
    done_label = StepState.DONE.label
    done = sum(1 for v in s.steps.values() if v == done_label)
    echo("")
    echo(f"run {s.run_id}: {s.state} in {s.seconds}s")
    echo(f"  steps      {done} done of {len(s.steps)} "
         f"({', '.join(f'{k}={v}' for k, v in s.steps.items() if v != done_label) or 'all done'})")
    echo(f"  agents     {s.agents} (5 workers + 2 validators on chaina, 1 executor + "
         "2 validators on chainb, 1 auditor on chainc)")
    echo(f"  messages   {sum(s.messages.values())} cross-chain "
         f"({', '.join(f'{k} {v}' for k, v in sorted(s.messages.items()))})")
    if s.result_schemes:
        echo("  results    " + ", ".join(f"{n} on {k}" for k, n in sorted(s.result_schemes.items()))
             + f" (each agent group's own IPFS node; the creator's node keeps a copy of {s.kept}; "
               "read over bitswap, checked against the chain)")
    for name in s.gas:
        echo(f"  gas        {name}: {s.gas[name]:,} in {s.transactions[name]} transactions")
    if s.operators:
        echo("  operators  (each its own state directory and key; what its transactions did)")
        for who in sorted(s.operators, key=_operator_order):
            for chain, what in sorted(s.operators[who].items()):
                echo(f"    {who:<18} {chain}: {what}")
    if s.report:
        echo(f"  report     {json.dumps(s.report)[:160]}")


def _operator_order(name: str) -> tuple[int, str]:
    kinds = (CREATOR, "agents", "validators", "attester", "relayer", "keeper")
    return next((i for i, k in enumerate(kinds) if name.startswith(k)), len(kinds)), name


if __name__ == "__main__":  # pragma: no cover
    try:
        run_demo()
    except AccordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
