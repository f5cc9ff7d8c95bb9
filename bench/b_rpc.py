"""The agents' chain client against web3.py's own ``AsyncWeb3``, side by side in one run.

The agent runtime talks to its chain through a hand-written async JSON-RPC client
(:class:`accord.chain.rpc.AsyncChain`: one aiohttp session, calls encoded and decoded with
eth_abi). web3.py ships ``AsyncWeb3`` with an async HTTP provider; this bench shows what the
hand-written client gains on the agents' hot path, the coordinator views a host calls for
every run at every rescan (``readySteps``) and for every step it works (``runInfo``, a
struct): ``CALLS`` calls, ``IN_FLIGHT`` at a time, against the same node, same contract and
same runs, each client on its own warm session.

``rpc.hand_written_calls_per_s``, ``rpc.async_web3_calls_per_s`` (web3.py's defaults, its
middleware included) and ``rpc.async_web3_bare_calls_per_s`` (no middleware: the fastest
AsyncWeb3 gets): calls answered and decoded per second; ``rpc.hand_written_gain``: the
hand-written client's rate over the faster AsyncWeb3.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from web3 import AsyncHTTPProvider, AsyncWeb3

from accord.chain.artifacts import artifact
from accord.chain.rpc import Abi, AsyncChain
from accord.deploy import suite as suite_mod
from accord.deploy.plan import read_manifest, run_plan
from accord.settings import Settings
from accord.workflows.compiler import parse_workflow
from bench.common import BenchContext

CALLS = 2_000
IN_FLIGHT = 16
RUNS = 4


def _setup(ctx: BenchContext, tmp: Path) -> str:
    """The suite, one 8-step definition and RUNS runs of it; returns the coordinator."""
    c = ctx.client
    admin = ctx.account(0)
    settings = Settings(roles={"execute": 10**15, "validator": 10**15})
    manifest = tmp / "bench.json"
    run_plan(c, admin, suite_mod.plan(settings, "bench", admin.address), manifest,
             network="bench")
    coordinator = read_manifest(manifest)["contracts"]["coordinator"]["address"]
    wf = parse_workflow("steps:\n" + "".join(
        f"  - {{name: s{i}, role: execute, reward: 1}}\n" for i in range(8)))
    coord = c.contract("WorkflowCoordinator", coordinator)
    c.transact(coord.functions.registerDefinition(wf.definition(c.chain_id)), admin)
    for _ in range(RUNS):
        c.transact(coord.functions.startRun(wf.definition_id(c.chain_id), b"\x01" * 32,
                                            "accord-store://input"), admin, value=8)
    return coordinator


async def _rate(call: Callable[[int], Awaitable[Any]]) -> float:
    """Calls per second: CALLS calls, IN_FLIGHT at a time (after a warm-up)."""
    for i in range(IN_FLIGHT):
        await call(i)
    todo = iter(range(CALLS))

    async def worker() -> None:
        for i in todo:
            await call(i)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return CALLS / (time.perf_counter() - t0)


async def _hand_written(ctx: BenchContext, coordinator: str) -> float:
    chain = AsyncChain(ctx.client)
    abi = Abi("WorkflowCoordinator")

    async def call(i: int) -> Any:
        run = 1 + i % RUNS
        if i % 2:
            return abi.decode("readySteps", await chain.call(coordinator, abi.encode(
                "readySteps", run)))
        return abi.decode_struct("runInfo", await chain.call(coordinator, abi.encode(
            "runInfo", run)))

    try:
        return await _rate(call)
    finally:
        await chain.close()


async def _async_web3(ctx: BenchContext, coordinator: str, *, bare: bool) -> float:
    provider = AsyncHTTPProvider(ctx.chain.rpc_url)
    w3 = AsyncWeb3(provider, middleware=[]) if bare else AsyncWeb3(provider)
    coord = w3.eth.contract(address=w3.to_checksum_address(coordinator),
                            abi=artifact("WorkflowCoordinator").abi)

    async def call(i: int) -> Any:
        run = 1 + i % RUNS
        if i % 2:
            return await coord.functions.readySteps(run).call()
        return await coord.functions.runInfo(run).call()

    try:
        return await _rate(call)
    finally:
        await w3.provider.disconnect()


def run(ctx: BenchContext) -> dict[str, dict[str, Any]]:
    if ctx.gas_only:
        return {}
    with TemporaryDirectory() as tmp:
        coordinator = _setup(ctx, Path(tmp))
    hand = asyncio.run(_hand_written(ctx, coordinator))
    web3 = asyncio.run(_async_web3(ctx, coordinator, bare=False))
    bare = asyncio.run(_async_web3(ctx, coordinator, bare=True))
    gain = hand / max(web3, bare)
    print(f"   coordinator views, {IN_FLIGHT} in flight: hand-written client {hand:,.0f} "
          f"calls/s, AsyncWeb3 {web3:,.0f} (without middleware {bare:,.0f}) calls/s: "
          f"{gain:.2f}x", flush=True)
    return {"rpc": {"hand_written_calls_per_s": round(hand, 1),
                    "async_web3_calls_per_s": round(web3, 1),
                    "async_web3_bare_calls_per_s": round(bare, 1),
                    "hand_written_gain": round(gain, 2)}}
