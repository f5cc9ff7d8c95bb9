"""Relayer throughput and latency on two automine anvils, against a naive relayer.

The validators (2 of 3, in process) attest first; then the relayer delivers everything and we
time it: ``msgs_per_s_bN`` for windows/batches of N. ``p50_s``/``p95_s`` come from a streaming
run (sender, validators and relayer concurrently, batch 50): time from a validator seeing a
message to its delivery. ``naive_msgs_per_s``: one ``deliver`` per message, waiting for each
receipt, measured in the same run.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from eth_keys.datatypes import PrivateKey

from accord.chain.accounts import dev_account
from accord.chain.client import Client
from accord.crosschain.attestation_store import SqliteStore
from accord.crosschain.attester import Attester, AttesterConfig
from accord.crosschain.messages import encode_interop_address
from accord.crosschain.relayer import Relayer, RelayerConfig
from accord.deploy.links import GatewayEnd, link
from bench.common import BenchContext

N_MESSAGES = 1_000
N_NAIVE = 200


class _Route:
    def __init__(self, origin: Client, dest: Client, store: SqliteStore, window: int) -> None:
        admin = dev_account(0)
        self.origin, self.dest = origin, dest
        self.gw_a, _ = origin.deploy("AccordGateway", admin.address, sender=admin)
        self.gw_b, _ = dest.deploy("AccordGateway", admin.address, sender=admin)
        self.bulk, _ = origin.deploy("MockBulkSender", sender=admin)
        self.rcpt, _ = dest.deploy("MockCountingRecipient", sender=admin)
        vals = [dev_account(i) for i in (5, 6, 7)]
        link([GatewayEnd(origin, self.gw_a.address, admin),
              GatewayEnd(dest, self.gw_b.address, admin)], [v.address for v in vals], 2)
        self.validators = [Attester(origin, store, PrivateKey(v.key),
                                     AttesterConfig(gateway=self.gw_a.address, window=window,
                                                     straggler_s=0.2)) for v in vals[:2]]
        self.relayer = Relayer(dest, store, dev_account(3), RelayerConfig(
            gateway=self.gw_b.address, origin_chain=origin.chain_id, threshold=2,
            batch_size=window, recipient_gas=100_000))
        self.to = encode_interop_address(dest.chain_id, self.rcpt.address)

    def send(self, count: int) -> None:
        for start in range(0, count, 100):
            n = min(100, count - start)
            self.origin.transact(self.bulk.functions.sendMany(self.gw_a.address, self.to, 1, n),
                                 dev_account(0), gas=60_000 + 45_000 * n)

    def delivered(self) -> int:
        return int(self.rcpt.functions.total().call())


def _throughput(origin: Client, dest: Client, tmp: Path, window: int) -> float:
    store = SqliteStore(tmp / f"b{window}.sqlite")
    route = _Route(origin, dest, store, window)
    route.send(N_MESSAGES)
    for v in route.validators:
        v.poll_once()
    t0 = time.perf_counter()
    deadline = time.monotonic() + 120
    while store.counts().get("pending", 0) and time.monotonic() < deadline:
        if route.relayer.step() == 0:
            time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    if route.delivered() != N_MESSAGES:
        raise RuntimeError(f"relayer bench delivered {route.delivered()} of {N_MESSAGES}: "
                           f"{store.counts()}")
    return N_MESSAGES / elapsed


def _naive(origin: Client, dest: Client, tmp: Path) -> float:
    store = SqliteStore(tmp / "naive.sqlite")
    route = _Route(origin, dest, store, window=1_000_000)  # no window closes: singles only
    for v in route.validators:
        v.config.straggler_s = 0.0
    route.send(N_NAIVE)
    for v in route.validators:
        v.poll_once()
    batches = route.relayer.plan()
    t0 = time.perf_counter()
    for batch in batches:  # one transaction per message, each receipt awaited
        route.relayer.deliver_single_checked(batch)
    return len(batches) / (time.perf_counter() - t0)


def _latency(origin: Client, dest: Client, tmp: Path) -> tuple[float, float]:
    store = SqliteStore(tmp / "stream.sqlite")
    route = _Route(origin, dest, store, window=50)
    stop = threading.Event()

    def follow(v: Attester) -> None:
        while not stop.is_set():
            if v.poll_once() == 0:
                time.sleep(0.01)

    threads = [threading.Thread(target=follow, args=(v,), daemon=True)
               for v in route.validators]
    threads.append(threading.Thread(target=route.relayer.run, args=(stop,), daemon=True))
    for t in threads:
        t.start()
    for _ in range(10):  # a steady stream: 100 messages every 100 ms
        route.send(100)
        time.sleep(0.1)
    deadline = time.monotonic() + 60
    while route.delivered() < 1_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    lat = sorted(store.latencies())
    return statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]


def run(ctx: BenchContext) -> dict[str, dict[str, Any]]:
    if ctx.gas_only:
        return {}
    _, dest = ctx.fresh_chain("chainb")
    origin = ctx.client
    out: dict[str, Any] = {}
    with TemporaryDirectory() as d:
        tmp = Path(d)
        for window in (1, 10, 50):
            out[f"msgs_per_s_b{window}"] = round(_throughput(origin, dest, tmp, window), 1)
        p50, p95 = _latency(origin, dest, tmp)
        out["p50_s"], out["p95_s"] = round(p50, 3), round(p95, 3)
        out["naive_msgs_per_s"] = round(_naive(origin, dest, tmp), 1)
    out["speedup_vs_naive"] = round(out["msgs_per_s_b50"] / out["naive_msgs_per_s"], 1)
    return {"relayer": out}
