"""Relayer throughput and latency on two automine anvils, against a naive relayer.

The validators (2 of 3, in process) attest first; then the relayer delivers everything and we
time it: ``msgs_per_s_bN`` for windows/batches of N. ``p50_s``/``p95_s`` come from a streaming
run (sender, validators and relayer concurrently, batch 50): time from a validator seeing a
message to its delivery. ``naive_msgs_per_s``: one ``deliver`` per message, waiting for each
receipt, measured in the same run.

Over HTTP, as relayers and attesters on different machines run it (``accord relay
--discover``, ``accord validate --serve``): three attesters, each with its own store,
serve their signatures over HTTP; the relayer follows the origin itself and fetches and
verifies the attestations it needs before each delivery pass.
``msgs_per_s_http_b50``: 1,000 messages delivered in windows of 50, the fetching timed with
the delivery; ``p50_http_s``/``p95_http_s``: the streaming run over HTTP (time from the
relayer's own follower seeing a message to its delivery). ``wasted_gas_3_relayers``: three
such relayers, each with its own store and account, serve one route at once; what they
spend together on the 1,000 messages minus what one relayer spends on them
(``wasted_gas_3_relayers_pct``: that as a share of the single relayer's gas). The gateway's
replay bits make a repeat cost gas, never a second delivery.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
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
from accord.crosschain.publication import Feed, Fetcher, Source
from accord.crosschain.relayer import Relayer, RelayerConfig
from accord.deploy.links import GatewayEnd, link
from accord.dev.devnet import stop_pid
from bench.common import BenchContext

N_MESSAGES = 1_000
N_NAIVE = 200


class _Route:
    def __init__(self, origin: Client, dest: Client, store: SqliteStore, window: int,
                 attester_stores: list[SqliteStore] | None = None) -> None:
        admin = dev_account(0)
        self.origin, self.dest = origin, dest
        self.gw_a, _ = origin.deploy("AccordGateway", admin.address, sender=admin)
        self.gw_b, _ = dest.deploy("AccordGateway", admin.address, sender=admin)
        self.bulk, _ = origin.deploy("MockBulkSender", sender=admin)
        self.rcpt, _ = dest.deploy("MockCountingRecipient", sender=admin)
        vals = [dev_account(i) for i in (5, 6, 7)]
        link([GatewayEnd(origin, self.gw_a.address, admin),
              GatewayEnd(dest, self.gw_b.address, admin)], [v.address for v in vals], 2)
        self.window = window
        self.validator_accounts = vals
        # in process, the validators share the relayer's store; over HTTP, each has its own
        stores = attester_stores or [store, store]
        self.validators = [Attester(origin, st, PrivateKey(v.key),
                                     AttesterConfig(gateway=self.gw_a.address, window=window,
                                                     straggler_s=0.2))
                           for v, st in zip(vals, stores, strict=False)]
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


class _HttpRoute:
    """Three attesters with their own stores serving over HTTP, and relayers that each follow
    the origin and fetch from them into their own store."""

    def __init__(self, origin: Client, dest: Client, tmp: Path, name: str) -> None:
        self.tmp, self.name = tmp, name
        stores = [SqliteStore(tmp / f"{name}-att{i}.sqlite") for i in range(3)]
        self.route = _Route(origin, dest, SqliteStore(tmp / f"{name}-r0.sqlite"), 50, stores)
        # each attester serves from its own process, as from its own machine
        self.servers = [subprocess.Popen(
            [sys.executable, "-m", "bench.attester_server", str(st.path), v.address],
            stdout=subprocess.PIPE, text=True)
            for st, v in zip(stores, self.route.validator_accounts, strict=True)]
        self.sources = [Source(v.address, _first_line(srv)) for v, srv
                        in zip(self.route.validator_accounts, self.servers, strict=True)]

    def relayer(self, index: int, account: int) -> tuple[Relayer, Feed, SqliteStore]:
        r = self.route
        store = SqliteStore(self.tmp / f"{self.name}-r{index}.sqlite")
        relayer = Relayer(r.dest, store, dev_account(account), RelayerConfig(
            gateway=r.gw_b.address, origin_chain=r.origin.chain_id, threshold=2,
            batch_size=r.window, recipient_gas=100_000))
        observer = Attester(r.origin, store, None,
                            AttesterConfig(gateway=r.gw_a.address, window=r.window))
        fetcher = Fetcher(store, list(self.sources), r.origin.chain_id, r.gw_a.address,
                          route=relayer.route, window=r.window, allow_private=True)
        feed = Feed(observer, fetcher, relayer.route, r.window, 2, lambda: list(self.sources))
        return relayer, feed, store

    def close(self) -> None:
        for srv in self.servers:
            stop_pid(srv.pid)
            srv.wait()


def _first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        raise RuntimeError(f"an attester server did not start (said {line!r})")
    return line


def _gas_by(client: Client, first_block: int, senders: set[str]) -> dict[str, int]:
    """Gas each of ``senders`` paid in blocks ``first_block``..head."""
    spent = dict.fromkeys(senders, 0)
    w3 = client.w3
    for n in range(first_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
            if tx["from"] in spent:
                spent[tx["from"]] += int(w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"])
    return spent


def _deliver_http(route: _HttpRoute, relayers: list[tuple[Relayer, Feed, SqliteStore]],
                  count: int) -> tuple[float, dict[str, int]]:
    """Send ``count``, let the three attesters sign, then time the relayers (each in its
    own thread, feeding its own store over HTTP) until all are delivered; returns the seconds
    and the gas each relayer paid."""
    r = route.route
    r.send(count)
    for v in r.validators:
        v.poll_once()
    before = r.delivered()
    first_block = r.dest.w3.eth.block_number + 1
    stop = threading.Event()
    threads = [threading.Thread(target=rel.run, args=(stop, feed.step), daemon=True)
               for rel, feed, _ in relayers]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while r.delivered() < before + count and time.monotonic() < deadline:
        time.sleep(0.05)  # this thread's RPC calls compete with the relayers' for the GIL
    elapsed = time.perf_counter() - t0
    stop.set()
    for t in threads:
        t.join(timeout=10)
    if r.delivered() != before + count:
        raise RuntimeError(f"HTTP relayer bench delivered {r.delivered() - before} of {count}")
    gas = _gas_by(r.dest, first_block, {rel.account.address for rel, _, _ in relayers})
    return elapsed, gas


def _http(origin: Client, dest: Client, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    route = _HttpRoute(origin, dest, tmp, "http")
    try:
        one = [route.relayer(0, 3)]
        elapsed, gas_one = _deliver_http(route, one, N_MESSAGES)
        out["msgs_per_s_http_b50"] = round(N_MESSAGES / elapsed, 1)
        single = sum(gas_one.values())
        three = [route.relayer(i, acct) for i, acct in ((1, 4), (2, 8), (3, 9))]
        _, gas_three = _deliver_http(route, three, N_MESSAGES)
        wasted = sum(gas_three.values()) - single
        out["wasted_gas_3_relayers"] = wasted
        out["wasted_gas_3_relayers_pct"] = round(100 * wasted / single, 1)
    finally:
        route.close()
    out["p50_http_s"], out["p95_http_s"] = _latency_http(origin, dest, tmp)
    return out


def _latency_http(origin: Client, dest: Client, tmp: Path) -> tuple[float, float]:
    route = _HttpRoute(origin, dest, tmp, "http-stream")
    relayer, feed, store = route.relayer(0, 3)
    stop = threading.Event()

    def follow(v: Attester) -> None:
        while not stop.is_set():
            if v.poll_once() == 0:
                time.sleep(0.01)

    threads = [threading.Thread(target=follow, args=(v,), daemon=True)
               for v in route.route.validators]
    threads.append(threading.Thread(target=relayer.run, args=(stop, feed.step), daemon=True))
    try:
        for t in threads:
            t.start()
        for _ in range(10):  # a steady stream: 100 messages every 100 ms
            route.route.send(100)
            time.sleep(0.1)
        deadline = time.monotonic() + 60
        while route.route.delivered() < 1_000 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
        route.close()
    lat = sorted(store.latencies())
    return round(statistics.median(lat), 3), round(lat[int(0.95 * (len(lat) - 1))], 3)


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
        out.update(_http(origin, dest, tmp))
    out["speedup_vs_naive"] = round(out["msgs_per_s_b50"] / out["naive_msgs_per_s"], 1)
    return {"relayer": out}
