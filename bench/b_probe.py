"""Gas of the foundation's Probe contract (keeps the harness honest end to end)."""

from __future__ import annotations

from bench.common import BenchContext, gas


def run(ctx: BenchContext) -> dict[str, dict[str, int]]:
    owner = ctx.account(0)
    probe, deployed = ctx.client.deploy("Probe", sender=owner)
    first = ctx.client.transact(probe.functions.set(1), owner)
    again = ctx.client.transact(probe.functions.set(2), owner)
    return {"gas": {"probe_deploy": gas(deployed), "probe_set_first": gas(first),
                    "probe_set_again": gas(again)}}
