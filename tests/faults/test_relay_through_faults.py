"""Validators and relayers as processes talk to both chains only through fault proxies that
drop, delay, duplicate and fail 10% of calls each (seeded): every message, both ways, is
delivered exactly once, and the gateways report every one of them delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faults_support import (
    delivery_figures,
    gateway_statuses,
    record,
    sent_ids,
    start_relayer,
    start_validator,
    wait_until,
)

from accord.dev.supervisor import Supervisor

MESSAGES_EACH_WAY = 300
ROUNDS = 6  # sends spread out, so faults hit every phase (reading, signing, delivering)
SHARES = ("--drop", "0.1", "--delay", "0.1", "--duplicate", "0.1", "--fail", "0.1",
          "--max-delay", "0.2")


def test_every_message_is_delivered_once_through_a_proxy_faulting_40_percent_of_calls(
        tc: Any, services: Supervisor, proxies: Any, tmp_path: Path) -> None:
    store = str(tmp_path / "relay.sqlite")
    proxy = {side.client.chain_id: proxies(side.chain.rpc_url, *SHARES, "--seed", str(seed))
             for seed, side in enumerate((tc.a, tc.b))}
    url = {cid: p.url for cid, p in proxy.items()}
    for side, other in ((tc.a, tc.b), (tc.b, tc.a)):
        cid, oid = side.client.chain_id, other.client.chain_id
        for i in range(2):
            start_validator(services, f"validator-{cid}-{i}", url[cid], side.gateway, store,
                            5 + i)
        start_relayer(services, f"relayer-{cid}", url[cid], url[oid], other.gateway, store)

    def logs() -> str:
        return "\n".join(f"{n}: {services.log_tail(n, 3)}" for n in services.procs)

    per_round = MESSAGES_EACH_WAY // ROUNDS
    for r in range(1, ROUNDS + 1):
        tc.send(tc.a, tc.b, per_round, tag=r)
        tc.send(tc.b, tc.a, per_round, tag=r)
        wait_until(lambda r=r: tc.delivered_total(tc.b) >= r * per_round // 2, 60,
                   f"half of round {r} delivered", logs)
    wait_until(lambda: tc.delivered_total(tc.b) >= MESSAGES_EACH_WAY
               and tc.delivered_total(tc.a) >= MESSAGES_EACH_WAY, 120, "all deliveries", logs)
    assert all(services.alive(n) for n in services.procs), logs()
    counts = {k: sum(p.counts().get(k, 0) for p in proxy.values())
              for k in ("calls", "dropped", "delayed", "duplicated", "failed")}
    services.stop_all()  # nothing in flight any more: what is on chain now is final

    ab, ba = delivery_figures(tc.a, tc.b), delivery_figures(tc.b, tc.a)
    for fig in (ab, ba):
        assert fig == {"sent": MESSAGES_EACH_WAY, "delivered": MESSAGES_EACH_WAY, "lost": 0,
                       "delivered_twice": 0, "unknown": 0}
    assert gateway_statuses(tc.a, tc.b, sent_ids(tc.a)) == {1: MESSAGES_EACH_WAY}
    assert gateway_statuses(tc.b, tc.a, sent_ids(tc.b)) == {1: MESSAGES_EACH_WAY}
    assert min(counts[k] for k in ("dropped", "delayed", "duplicated", "failed")) > 0
    record("relay_through_fault_proxy", sent=2 * MESSAGES_EACH_WAY,
           delivered=ab["delivered"] + ba["delivered"], lost=ab["lost"] + ba["lost"],
           delivered_twice=ab["delivered_twice"] + ba["delivered_twice"], proxy=counts)
