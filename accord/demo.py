"""The main job: two fresh devnets, a deployment on each, a summary, everything stopped."""

from __future__ import annotations

import time
from collections.abc import Callable

from accord.chain import Client, dev_account
from accord.devnet import Devnet


def run_demo(echo: Callable[[str], None] = print) -> dict[str, object]:
    started = time.monotonic()
    summary: dict[str, object] = {}
    deployer = dev_account(0)
    with Devnet() as net:
        for name in ("chaina", "chainb"):
            chain = net.start(name)
            echo(f"[{name}] anvil up: chain id {chain.chain_id} at {chain.rpc_url} "
                 f"(pid {chain.pid})")
            client = Client(chain.rpc_url)
            probe, receipt = client.deploy("Probe", sender=deployer)
            client.transact(probe.functions.set(chain.chain_id), deployer)
            stored = probe.functions.value().call()
            echo(f"[{name}] Probe deployed at {probe.address} in block "
                 f"{receipt['blockNumber']} ({receipt['gasUsed']} gas); stored {stored}")
            summary[name] = {"chain_id": chain.chain_id, "probe": probe.address,
                             "stored": stored}
    elapsed = time.monotonic() - started
    echo(f"done in {elapsed:.1f}s; both chains stopped")
    summary["seconds"] = round(elapsed, 2)
    return summary
