"""Validators and relayers as separate processes over two devnet anvils: 500 messages each
way, each delivered exactly once, also when a relayer is SIGKILLed mid-stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from relay_helpers import received_ids, wait_until

from accord.chain.accounts import dev_account
from accord.dev.supervisor import Supervisor

MESSAGES_EACH_WAY = 500


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Supervisor]:
    with Supervisor(tmp_path) as s:
        yield s


def _start(services: Supervisor, name: str, *args: str, key_index: int) -> None:
    key = "0x" + dev_account(key_index).key.hex()
    services.start(name, *args, "--key-env", "ACCORD_SERVICE_KEY",
                   env={"ACCORD_SERVICE_KEY": key})



def test_500_messages_each_way_arrive_exactly_once_through_a_relayer_sigkill(
        tc, services: Supervisor, tmp_path: Path) -> None:
    store = str(tmp_path / "relay.sqlite")
    for side, other in ((tc.a, tc.b), (tc.b, tc.a)):
        for i, _ in enumerate(tc.validators[:2]):  # 2 of 3 validators online is a quorum
            _start(services, f"validator-{side.client.chain_id}-{i}", "validate",
                           "--chain", side.chain.rpc_url, "--gateway", side.gateway,
                           "--store", store, key_index=5 + i)
        _start(services, f"relayer-{side.client.chain_id}", "relay",
                       "--from", side.chain.rpc_url, "--to", other.chain.rpc_url,
                       "--gateway", other.gateway, "--store", store, key_index=3)

    half = MESSAGES_EACH_WAY // 2
    tc.send(tc.a, tc.b, half)
    tc.send(tc.b, tc.a, MESSAGES_EACH_WAY)

    # Kill the a->b relayer once it has delivered something; the rest is sent while it is
    # dead and must be delivered by its restarted self, none twice.
    wait_until(lambda: tc.delivered_total(tc.b) >= 50, 60, "first deliveries on chainb")
    services.kill(f"relayer-{tc.a.client.chain_id}")
    at_kill = tc.delivered_total(tc.b)
    tc.send(tc.a, tc.b, MESSAGES_EACH_WAY - half)
    assert at_kill < MESSAGES_EACH_WAY
    _start(services, f"relayer-{tc.a.client.chain_id}-again", "relay",
                   "--from", tc.a.chain.rpc_url, "--to", tc.b.chain.rpc_url,
                   "--gateway", tc.b.gateway, "--store", store, key_index=3)

    wait_until(lambda: tc.delivered_total(tc.b) >= MESSAGES_EACH_WAY
                and tc.delivered_total(tc.a) >= MESSAGES_EACH_WAY, 120, "all deliveries")
    services.stop_all()  # once every relayer has exited, anything delivered twice is on chain
    for side in (tc.a, tc.b):
        ids = received_ids(side)
        assert len(ids) == MESSAGES_EACH_WAY
        assert len(set(ids)) == MESSAGES_EACH_WAY
