"""Agent runtime throughput: 200 fan-out steps (4 runs of 50, quorum 0) served by 20 agents in
one asyncio process against the full suite on the bench anvil.

``steps_per_s``: steps Done per second, from the first ``startRun`` to the last run
Completed (every step is a claim and a submit, which the runtime batches per agent into
multicall transactions). ``node_tx_per_s``: the same node's rate for simple transfers,
pre-signed and pipelined (no waiting per receipt), measured in the same run. The goal is
``steps_per_s >= 0.3 x node_tx_per_s``.

``idle_rpc_per_s_10_runs`` and ``idle_rpc_per_s_1000_runs``: the JSON-RPC requests per second
of an idle agent host (live-network settings: rescans every 2 s, HTTP log polling every 1 s,
no WebSocket) while 10, then 1,000, runs it cannot work on (a role none of its agents hold)
are open, counted over ``IDLE_WINDOW_S`` once it has caught up. Goal: the second at most 1.5x
the first, both at most 5.

Each agent bonds ``HOLD`` stakes (the workflow's default stake is the role's minimum bond), so
it can hold, and batch, up to ``HOLD`` steps as the runtime's defaults allow (``max_concurrent``
and ``batch`` 8); with the minimum bond it would hold one step at a time.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from eth_account import Account

from accord.agents.handlers import StepInput
from accord.agents.host import Agent, AgentHost
from accord.agents.onboard import onboard
from accord.chain.rpc import Abi, AsyncChain
from accord.deploy import suite as suite_mod
from accord.deploy.plan import read_manifest, run_plan
from accord.settings import Settings
from accord.workflows.compiler import parse_workflow
from accord.workflows.result_store import ResultStore
from bench.common import BenchContext

STEPS, AGENTS, RUNS = 200, 20, 4
TRANSFERS = 1_000
IDLE_RUNS = (10, 1_000)
IDLE_WINDOW_S = 10.0
HOLD = 8  # stakes each agent bonds: steps it can hold at once


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _echo(inp: StepInput) -> bytes:
    return inp.name.encode() + b":" + inp.input


async def _node_rate(ctx: BenchContext) -> float:
    """Simple transfers, signed beforehand, sent pipelined by 4 senders."""
    chain = AsyncChain(ctx.client)
    senders = [Account.create() for _ in range(4)]
    for s in senders:
        ctx.client.w3.provider.make_request("anvil_setBalance", [s.address, hex(10**21)])
    fees = await chain._fees_now()
    raws: list[list[str]] = []
    for s in senders:
        nonce = ctx.client.next_nonce(s)
        raws.append(["0x" + s.sign_transaction({
            "to": ctx.account(9).address, "value": 1, "gas": 21_000, "nonce": nonce + i,
            "chainId": ctx.client.chain_id, "type": 2, **fees}).raw_transaction.hex()
            for i in range(TRANSFERS // len(senders))])

    async def pump(txs: list[str]) -> str:
        last = ""
        for raw in txs:
            last = await chain.request("eth_sendRawTransaction", [raw])
        return last

    t0 = time.perf_counter()
    lasts = await asyncio.gather(*(pump(txs) for txs in raws))
    for h in lasts:
        await chain.receipt(h)
    elapsed = time.perf_counter() - t0
    await chain.close()
    return TRANSFERS / elapsed


async def _agents_rate(ctx: BenchContext, tmp: Path) -> tuple[float, dict[str, float]]:
    c = ctx.client
    admin = ctx.account(0)
    stake = 10**15  # the role's minimum bond, and the workflow's default stake
    settings = Settings(roles={"execute": stake, "validator": stake})
    manifest = tmp / "deployments" / "bench.json"
    run_plan(c, admin, suite_mod.plan(settings, "bench", admin.address), manifest,
             network="bench")
    addresses = {k: v["address"] for k, v in read_manifest(manifest)["contracts"].items()}
    agents = []
    for i in range(AGENTS):
        op = Account.create()
        c.w3.provider.make_request("anvil_setBalance", [op.address, hex(10**20)])
        agent_id = onboard(c, addresses, op, ["execute"], bonds={"execute": HOLD * stake})
        agents.append(Agent(f"a{i}", op, agent_id, {"execute": _echo}))
    per_run = STEPS // RUNS
    wf = parse_workflow("steps:\n" + "".join(
        f"  - {{name: s{i}, role: execute, reward: 1}}\n" for i in range(per_run)))
    coord = c.contract("WorkflowCoordinator", addresses["coordinator"])
    c.transact(coord.functions.registerDefinition(wf.definition(c.chain_id)), admin)
    def_id = wf.definition_id(c.chain_id)
    store = ResultStore(tmp / "results")
    digest, uri = store.put(b"bench input")
    host = AgentHost(c, addresses["coordinator"], agents, store,
                     from_block=c.w3.eth.block_number, catalog_root=tmp / "workflows",
                     poll_s=0.01, rescan_s=0.5)
    stop = asyncio.Event()
    task = asyncio.ensure_future(host.run(stop))
    await host.follower.caught_up.wait()
    chain = AsyncChain(c)
    start = Abi("WorkflowCoordinator").encode("startRun", def_id, digest, uri)
    cpu0 = (_cpu(ctx.chain.pid), time.process_time())
    t0 = time.perf_counter()
    for _ in range(RUNS):
        await chain.transact(admin, coord.address, start, gas=2_000_000,
                             value=per_run)
    while host.stats["submitted"] < STEPS:
        if task.done():
            task.result()
        if time.perf_counter() - t0 > 300:
            raise RuntimeError(f"agents bench stalled: {dict(host.stats)}")
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - t0
    node_cpu, py_cpu = _cpu(ctx.chain.pid) - cpu0[0], time.process_time() - cpu0[1]
    print(f"   agents: {elapsed:.2f}s wall, node cpu {node_cpu:.2f}s, bench process cpu "
          f"{py_cpu:.2f}s")
    stop.set()
    await task
    completed = sum(1 for r in range(1, RUNS + 1) if coord.functions.runState(r).call() == 3)
    if completed != RUNS:
        raise RuntimeError(f"only {completed} of {RUNS} bench runs completed")
    idle = await _idle_rates(ctx, tmp, chain, coord.address, agents[:1], store)
    await chain.close()
    return STEPS / elapsed, {**dict(host.stats), **idle}


async def _idle_rates(ctx: BenchContext, tmp: Path, chain: AsyncChain, coordinator: str,
                      agents: list[Agent], store: ResultStore) -> dict[str, float]:
    """An idle host's requests per second with IDLE_RUNS open runs it cannot work on."""
    c, admin = ctx.client, ctx.account(0)
    wf = parse_workflow("steps:\n  - {name: other, role: validator, reward: 1}\n")
    coord = c.contract("WorkflowCoordinator", coordinator)
    c.transact(coord.functions.registerDefinition(wf.definition(c.chain_id)), admin)
    start = Abi("WorkflowCoordinator").encode("startRun", wf.definition_id(c.chain_id),
                                              b"\x00" * 32, "")
    rates: dict[str, float] = {}
    opened = 0
    for runs in IDLE_RUNS:
        while opened < runs:
            await chain.transact(admin, coordinator, start, gas=1_000_000, value=1)
            opened += 1
        host = AgentHost(c, coordinator, agents, store, from_block=c.w3.eth.block_number,
                         catalog_root=tmp / "workflows", ws=False, poll_s=1.0, rescan_s=2.0)
        stop = asyncio.Event()
        task = asyncio.ensure_future(host.run(stop))
        await host.follower.caught_up.wait()
        await asyncio.sleep(2.5)  # past the first rescan
        sent0, t0 = host.chain.budget.sent, time.perf_counter()
        await asyncio.sleep(IDLE_WINDOW_S)
        rate = (host.chain.budget.sent - sent0) / (time.perf_counter() - t0)
        stop.set()
        await task
        rates[f"idle_rpc_per_s_{runs}_runs"] = round(rate, 2)
    return rates


def run(ctx: BenchContext) -> dict[str, dict[str, Any]]:
    if ctx.gas_only:
        return {}
    node = asyncio.run(_node_rate(ctx))
    with TemporaryDirectory() as tmp:
        steps, stats = asyncio.run(_agents_rate(ctx, Path(tmp)))
    idle = {k: stats.pop(k) for k in [k for k in stats if k.startswith("idle_rpc")]}
    print(f"   node transfers/s {node:,.0f}; steps/s {steps:,.1f} "
          f"({steps / node:.2f} x node); host stats {stats}; idle host requests/s {idle}")
    return {"agents": {"steps_per_s": round(steps, 1), "node_tx_per_s": round(node, 1),
                       "steps": STEPS, "agents": AGENTS, **idle}}
