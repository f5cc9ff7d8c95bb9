"""Validators and relayers as separate processes over two devnet anvils: 500 messages each
way, each delivered exactly once, also when a relayer is SIGKILLed mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.chain import dev_account

MESSAGES_EACH_WAY = 500


class Services:
    """Starts accord CLI processes and always stops them (by pid) at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str, key_index: int) -> None:
        env = dict(os.environ, ACCORD_SERVICE_KEY="0x" + dev_account(key_index).key.hex())
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "accord.cli", *args, "--key-env", "ACCORD_SERVICE_KEY"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = Services(tmp_path)
    yield s
    s.stop_all()


def _wait_until(pred, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _received_ids(side) -> list[str]:  # type: ignore[no-untyped-def]
    contract = side.client.contract("MockCountingRecipient", side.recipient)
    logs = contract.events.Received().get_logs(from_block=0)
    return ["0x" + bytes(e["args"]["id"]).hex() for e in logs]


def test_500_messages_each_way_arrive_exactly_once_through_a_relayer_sigkill(
        tc, services: Services, tmp_path: Path) -> None:
    store = str(tmp_path / "relay.sqlite")
    for side, other in ((tc.a, tc.b), (tc.b, tc.a)):
        for i, _ in enumerate(tc.validators[:2]):  # 2 of 3 validators online is a quorum
            services.start(f"validator-{side.client.chain_id}-{i}", "validate",
                           "--chain", side.chain.rpc_url, "--gateway", side.gateway,
                           "--store", store, key_index=5 + i)
        services.start(f"relayer-{side.client.chain_id}", "relay",
                       "--from", side.chain.rpc_url, "--to", other.chain.rpc_url,
                       "--gateway", other.gateway, "--store", store, key_index=3)

    half = MESSAGES_EACH_WAY // 2
    tc.send(tc.a, tc.b, half)
    tc.send(tc.b, tc.a, MESSAGES_EACH_WAY)

    # Kill the a->b relayer once it has delivered something; the rest is sent while it is
    # dead and must be delivered by its restarted self, none twice.
    _wait_until(lambda: tc.delivered_total(tc.b) >= 50, 60, "first deliveries on chainb")
    services.kill(f"relayer-{tc.a.client.chain_id}")
    at_kill = tc.delivered_total(tc.b)
    tc.send(tc.a, tc.b, MESSAGES_EACH_WAY - half)
    assert at_kill < MESSAGES_EACH_WAY
    services.start(f"relayer-{tc.a.client.chain_id}-again", "relay",
                   "--from", tc.a.chain.rpc_url, "--to", tc.b.chain.rpc_url,
                   "--gateway", tc.b.gateway, "--store", store, key_index=3)

    _wait_until(lambda: tc.delivered_total(tc.b) >= MESSAGES_EACH_WAY
                and tc.delivered_total(tc.a) >= MESSAGES_EACH_WAY, 120, "all deliveries")
    time.sleep(0.5)  # anything delivered twice would show up now
    for side in (tc.a, tc.b):
        ids = _received_ids(side)
        assert len(ids) == MESSAGES_EACH_WAY
        assert len(set(ids)) == MESSAGES_EACH_WAY
