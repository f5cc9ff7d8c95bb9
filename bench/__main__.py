"""Run every benchmark module (bench/b_*.py), print tables, write bench/results.json and end
with one JSON line: {"gas": {...}, "relayer": {...}, ...}.

A benchmark module exposes ``run(ctx: BenchContext) -> dict[str, dict[str, float|int]]``;
the sections it returns (``gas``, ``relayer``, ``agents``, ``peers``) are merged by key.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from accord.chain.client import Client
from accord.dev.devnet import Devnet
from bench import snapshot
from bench.common import BenchContext

HERE = Path(__file__).resolve().parent


def _modules(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("b_*.py"))
    return [n for n in names if not only or any(o in n for o in only)]


def measure(only: list[str], gas_only: bool = False) -> dict[str, dict[str, Any]]:
    """Run the benchmark modules (all, or those whose name contains one of ``only``), each on
    a fresh chain, so no module's gas depends on what ran before it (addresses, nonces)."""
    results: dict[str, dict[str, Any]] = {}
    with Devnet(log_dir=HERE.parent / ".accord" / "bench-logs") as net:
        for name in _modules(only):
            chain = net.start("chaina")
            ctx = BenchContext(devnet=net, chain=chain, client=Client(chain.rpc_url),
                               gas_only=gas_only)
            mod = importlib.import_module(f"bench.{name}")
            t0 = time.monotonic()
            print(f"== {name}", flush=True)
            try:
                for section, values in mod.run(ctx).items():
                    results.setdefault(section, {}).update(values)
            finally:
                for extra in list(net.chains):
                    net.stop(extra)
            print(f"   ({time.monotonic() - t0:.1f}s)", flush=True)
    return results


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _table(title: str, values: dict[str, Any]) -> None:
    print(f"\n{title}")
    width = max((len(k) for k in values), default=0)
    for key, value in values.items():
        shown = f"{value:,}" if isinstance(value, int) else (
            f"{value:,.2f}" if isinstance(value, float) else str(value))
        print(f"  {key:<{width}}  {shown:>14}")


def _comparison(results: dict[str, Any]) -> None:
    """Accord against the peers, per 32/256-byte message: send, verified receive, total."""
    gas, peers = results.get("gas", {}), results.get("peers", {})
    rows = []
    for size in (32, 256):
        if f"send_{size}" in gas and "deliver_single_32" in gas:
            recv = gas["deliver_single_32"] if size == 32 else None
            rows.append((f"Accord {size}B", gas[f"send_{size}"], recv))
        for name, label in (("hyperlane", "Hyperlane"), ("layerzero", "LayerZero")):
            peer = peers.get(name, {})
            if f"send_{size}" in peer:
                rows.append((f"{label} {size}B", peer[f"send_{size}"], peer.get(f"receive_{size}")))
    if "deliver_batch50_per_msg" in gas and "send_32" in gas:
        rows.append(("Accord 32B batch50", gas["send_32"], gas["deliver_batch50_per_msg"]))
    if not rows:
        return
    print("\ncross-chain message gas (send + verified receive)")
    print(f"  {'':<20}{'send':>10}{'receive':>10}{'total':>10}")
    for label, send, recv in rows:
        total = f"{send + recv:,}" if recv is not None else "-"
        recv_s = f"{recv:,}" if recv is not None else "-"
        print(f"  {label:<20}{send:>10,}{recv_s:>10}{total:>10}")


def main(argv: list[str]) -> int:
    update = "--update-snapshot" in argv
    check = "--check-snapshot" in argv
    only = [a for a in argv if not a.startswith("--")]
    started = time.monotonic()
    results = measure(only, gas_only=update or check)
    for section, values in results.items():
        _table(section, _flatten(values))
    _comparison(results)
    results["meta"] = {"seconds": round(time.monotonic() - started, 1), "evm": "prague",
                       "anvil": "1.7.1"}
    out = HERE / "results.json"
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    if not (update or check):
        from bench.plot import plot

        png = plot(results, HERE / "results.png")
        if png:
            print(f"plot: {png}")
    status = 0
    if update:
        snapshot.write(results.get("gas", {}))
        print(f"gas snapshot updated: {snapshot.SNAPSHOT}")
    elif check:
        problems = snapshot.compare(results.get("gas", {}))
        for line in problems:
            print(f"GAS {line}")
        status = 1 if problems else 0
    print(json.dumps(results, sort_keys=True, separators=(",", ":")))
    return status


if __name__ == "__main__":
    from accord.service import shutdown as _shutdown

    _shutdown.install()  # a killed benchmark still stops its chains
    sys.exit(main(sys.argv[1:]))
