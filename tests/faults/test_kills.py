"""Relayer and validator processes SIGKILLed at random moments (seeded) while messages flow,
each restarted at once: every message sent is delivered, none is lost and none twice (the
recipient's Received events by id, and the destination gateway's status of every id).

The CI run sends 2,000 messages a->b in transactions of 100 and kills 20 times; the soak
(``-m slow``) sends 10,000 both ways through fault proxies and kills 100 times."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from faults_support import (
    delivery_figures,
    gateway_statuses,
    record,
    sent_ids,
    serving,
    start_relayer,
    start_validator,
    wait_until,
)

from accord.dev.supervisor import Supervisor


def _kill_run(tc: Any, services: Supervisor, store: str, *, messages: int, kills: int,
              seed: int, routes: list[tuple[Any, Any]], urls: dict[int, str]) -> dict[str, Any]:
    """Send ``messages`` per route in rounds; kill (and restart) one random service per
    round. Returns the figures summed over routes."""
    rng = random.Random(seed)
    starters: dict[str, Any] = {}
    for origin, dest in routes:
        cid, did = origin.client.chain_id, dest.client.chain_id
        for i in range(3):
            starters[f"validator-{cid}-{i}"] = (
                lambda n, cid=cid, o=origin, i=i: start_validator(
                    services, n, urls[cid], o.gateway, store, 5 + i))
        starters[f"relayer-{cid}"] = (
            lambda n, cid=cid, did=did, d=dest: start_relayer(
                services, n, urls[cid], urls[did], d.gateway, store))
    names = {base: base for base in starters}  # base name -> current process name
    for base, start in starters.items():
        start(base)
    # Relayers twice as likely as any one validator: they hold the riskier state.
    victims = [b for b in starters if b.startswith("relayer")] * 2 + \
        [b for b in starters if b.startswith("validator")]

    per_round = messages // kills
    killed: dict[str, int] = {}
    mid_stream = 0  # kills while some sent message was not delivered yet
    for r in range(kills):
        for origin, dest in routes:
            tc.send(origin, dest, per_round, tag=r + 1)
        time.sleep(rng.uniform(0.05, 0.6))
        # A victim that is up and working (else most kills would hit a process still
        # importing web3, which proves little).
        while not (up := [b for b in victims if serving(services, names[b])]):
            time.sleep(0.05)
        base = rng.choice(up)
        mid_stream += int(any(tc.delivered_total(d) < (r + 1) * per_round
                              for _, d in routes))
        services.kill(names[base])
        kind = base.rsplit("-", 1)[0] if base.startswith("validator") else base
        killed[kind] = killed.get(kind, 0) + 1
        names[base] = f"{base}-r{r}"
        starters[base](names[base])

    def done() -> bool:
        return all(tc.delivered_total(d) >= messages for _, d in routes)

    def logs() -> str:
        return "\n".join(f"{n}: {services.log_tail(n, 3)}" for n in services.procs)

    wait_until(done, 90 + messages / 20, "every message delivered", logs)
    assert all(services.alive(n) for n in services.procs), logs()
    services.stop_all()

    total = {"sent": 0, "delivered": 0, "lost": 0, "delivered_twice": 0, "unknown": 0}
    for origin, dest in routes:
        fig = delivery_figures(origin, dest)
        assert fig == {"sent": messages, "delivered": messages, "lost": 0,
                       "delivered_twice": 0, "unknown": 0}
        assert gateway_statuses(origin, dest, sent_ids(origin)) == {1: messages}
        for k in total:
            total[k] += fig[k]
    total.pop("unknown")
    return {**total, "kills": kills, "kills_mid_stream": mid_stream, "killed": killed}


def test_2000_messages_survive_20_random_sigkills_of_relayer_and_validators(
        tc: Any, services: Supervisor, tmp_path: Path) -> None:
    urls = {s.client.chain_id: s.chain.rpc_url for s in (tc.a, tc.b)}
    figures = _kill_run(tc, services, str(tmp_path / "relay.sqlite"), messages=2000, kills=20,
                        seed=8, routes=[(tc.a, tc.b)], urls=urls)
    record("sigkill_2000_messages_20_kills", **figures)


@pytest.mark.slow
def test_soak_10000_messages_each_way_100_kills_through_fault_proxies(
        tc: Any, services: Supervisor, proxies: Any, tmp_path: Path) -> None:
    shares = ("--drop", "0.15", "--delay", "0.15", "--duplicate", "0.15", "--fail", "0.15")
    proxy = {s.client.chain_id: proxies(s.chain.rpc_url, *shares, "--seed", str(i))
             for i, s in enumerate((tc.a, tc.b))}
    figures = _kill_run(tc, services, str(tmp_path / "relay.sqlite"), messages=10_000,
                        kills=100, seed=88, routes=[(tc.a, tc.b), (tc.b, tc.a)],
                        urls={cid: p.url for cid, p in proxy.items()})
    counts = {k: sum(p.counts().get(k, 0) for p in proxy.values())
              for k in ("calls", "dropped", "delayed", "duplicated", "failed")}
    record("soak_10000_each_way_100_kills_proxied", **figures, proxy=counts)
