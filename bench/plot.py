"""The benchmark plot: gas per operation against the peers, and relayer throughput by batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot(results: dict[str, Any], path: Path) -> Path | None:
    """Write a PNG with two panels; returns None when there is nothing to draw."""
    gas = results.get("gas", {})
    peers = results.get("peers", {})
    relayer = results.get("relayer", {})
    if not gas and not relayer:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    rows: list[tuple[str, float, float]] = []  # (who, send, receive) for 32-byte messages
    if "send_32" in gas and "deliver_single_32" in gas:
        rows.append(("Accord (single)", gas["send_32"], gas["deliver_single_32"]))
    if "send_32" in gas and "deliver_batch50_per_msg" in gas:
        rows.append(("Accord (batch 50)", gas["send_32"], gas["deliver_batch50_per_msg"]))
    hyp = peers.get("hyperlane", {})
    if "send_32" in hyp:
        rows.append(("Hyperlane 12.1", hyp["send_32"], hyp["receive_32"]))
    lz = peers.get("layerzero", {})
    if "send_32" in lz:
        rows.append(("LayerZero v2", lz["send_32"], lz["receive_32"]))
    names = [r[0] for r in rows]
    left.barh(names, [r[1] for r in rows], label="send")
    left.barh(names, [r[2] for r in rows], left=[r[1] for r in rows], label="receive")
    left.set_xlabel("gas per 32-byte message (send + verified receive)")
    left.invert_yaxis()
    left.legend()
    left.set_title("Cross-chain message cost, anvil 1.7.1, prague")
    sizes = [b for b in (1, 10, 50) if f"msgs_per_s_b{b}" in relayer]
    if sizes:
        right.plot(sizes, [relayer[f"msgs_per_s_b{b}"] for b in sizes], marker="o",
                   label="Accord relayer")
        if "naive_msgs_per_s" in relayer:
            right.axhline(relayer["naive_msgs_per_s"], color="grey", linestyle="--",
                          label="naive (1 tx per message, wait each receipt)")
        right.set_xscale("log")
        right.set_xlabel("batch size")
        right.set_ylabel("messages / s")
        right.legend()
        right.set_title("Relayer throughput (automine anvils)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
