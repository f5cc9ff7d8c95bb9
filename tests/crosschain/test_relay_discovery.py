"""Attesters and a relayer that share nothing but the chains: each attester keeps its own
store and publishes its signatures over HTTP at a location it announces on the origin chain;
the relayer follows the origin itself, finds the attesters through the gateway's validator
set and the announcements, and delivers, also after an attester dies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from relay_helpers import received_ids, wait_until

from accord.chain.accounts import dev_account
from accord.crosschain.announce import discover
from accord.crosschain.attestation_store import SqliteStore
from accord.crosschain.attester import window_key
from accord.dev.supervisor import Supervisor

FIRST, SECOND = 30, 20


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Supervisor]:
    with Supervisor(tmp_path) as s:
        yield s



def test_a_relayer_that_shares_nothing_with_the_attesters_delivers_through_an_attester_death(
        tc, services: Supervisor, tmp_path: Path) -> None:
    board, _ = tc.a.client.deploy("AttesterAnnounce", sender=tc.admin)
    attesters = tc.validators[:3]
    for i, v in enumerate(attesters):  # each its own machine: own store, own HTTP server
        services.start(f"attester-{i}", "validate", "--chain", tc.a.chain.rpc_url,
                       "--gateway", tc.a.gateway, "--store", str(tmp_path / f"att{i}.sqlite"),
                       "--straggler-seconds", "0", "--window", "10",
                       "--serve", "127.0.0.1:0", "--announce", board.address,
                       "--key-env", "ACCORD_SERVICE_KEY",
                       env={"ACCORD_SERVICE_KEY": "0x" + v.key.hex()})
    wait_until(lambda: len(discover(tc.a.client, board.address,
                                     [v.address for v in attesters])) == 3,
                60, "three announcements")
    services.start("relayer", "relay", "--from", tc.a.chain.rpc_url, "--to", tc.b.chain.rpc_url,
                   "--gateway", tc.b.gateway, "--store", str(tmp_path / "relayer.sqlite"),
                   "--batch-size", "10", "--discover", "--announce", board.address,
                   "--origin-gateway", tc.a.gateway, "--key-env", "ACCORD_SERVICE_KEY",
                   env={"ACCORD_SERVICE_KEY": "0x" + dev_account(3).key.hex()})

    tc.send(tc.a, tc.b, FIRST)
    wait_until(lambda: tc.delivered_total(tc.b) >= FIRST, 90, "the first messages")
    services.kill("attester-0")  # 2 of 3 still online: a quorum
    tc.send(tc.a, tc.b, SECOND)
    wait_until(lambda: tc.delivered_total(tc.b) >= FIRST + SECOND, 90, "the rest")
    services.stop_all()
    ids = received_ids(tc.b)
    assert len(ids) == len(set(ids)) == FIRST + SECOND
    # what the relayer delivered came from its own store, filled by its own follower and the
    # signatures it fetched: messages of every window, attested by at least a quorum
    own = SqliteStore(tmp_path / "relayer.sqlite")
    route = f"{tc.a.client.chain_id}->{tc.b.client.chain_id}"
    assert own.counts().get("delivered") == FIRST + SECOND
    assert len(own.attestations(window_key(route, 1))) >= tc.threshold
