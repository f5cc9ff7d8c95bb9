"""Helpers of the fault-injection tests: two linked gateways (the crosschain fixtures' code,
loaded by path), validators/relayers/proxies as processes stopped by their own pids, delivery
figures, and a recorder that prints one summary line per test and merges it into
``test-artifacts/faults.json``. (Not in conftest.py: test modules import these by a name no
other folder uses.)"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from accord.chain.accounts import dev_account
from accord.chain.types import MessageStatusInfo
from accord.dev.devnet import Chain
from accord.testing.faultproxy import fetch_counts
from accord.deploy.links import GatewayEnd, link
from accord.dev.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "faults.json"


def _load_crosschain() -> ModuleType:
    """tests/crosschain/conftest.py as a module (TwoChains, Side, _side): one definition of
    the two-gateway setup for both suites."""
    name = "accord_tests_crosschain_fixtures"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests/crosschain/conftest.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


cc = _load_crosschain()
TwoChains = cc.TwoChains


def two_chains(a: Chain, b: Chain) -> Any:
    """Fresh gateways, senders and recipients on ``a`` and ``b``, linked 2-of-3."""
    admin = dev_account(0)
    sa, sb = cc._side(a, admin), cc._side(b, admin)
    validators = [dev_account(i) for i in cc.VALIDATOR_INDEXES]
    link([GatewayEnd(sa.client, sa.gateway, admin), GatewayEnd(sb.client, sb.gateway, admin)],
         [v.address for v in validators], cc.THRESHOLD)
    return TwoChains(sa, sb, admin, validators)


# -- services ---------------------------------------------------------------------------------
def start_validator(services: Supervisor, name: str, rpc_url: str, gateway: str, store: str,
                    key_index: int, *extra: str) -> int:
    key = "0x" + dev_account(key_index).key.hex()
    return services.start(name, "validate", "--chain", rpc_url, "--gateway", gateway,
                          "--store", store, "--key-env", "ACCORD_SERVICE_KEY", *extra,
                          env={"ACCORD_SERVICE_KEY": key, "PYTHONUNBUFFERED": "1"})


def start_relayer(services: Supervisor, name: str, origin_url: str, dest_url: str,
                  gateway: str, store: str, key_index: int = 3) -> int:
    key = "0x" + dev_account(key_index).key.hex()
    return services.start(name, "relay", "--from", origin_url, "--to", dest_url,
                          "--gateway", gateway, "--store", store,
                          "--key-env", "ACCORD_SERVICE_KEY",
                          env={"ACCORD_SERVICE_KEY": key, "PYTHONUNBUFFERED": "1"})


def serving(services: Supervisor, name: str) -> bool:
    """Whether service ``name`` printed its banner (it is connected and working)."""
    path = services.log_dir / f"{name}.log"
    if not path.is_file():
        return False
    text = path.read_text(errors="replace")
    return "relaying " in text or " watching " in text


class ProxyProcess:
    """``python -m accord.faultproxy`` in front of ``upstream``; stopped by its pid."""

    def __init__(self, upstream: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "accord.testing.faultproxy", "--upstream", upstream, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening "):
            self.stop()
            raise AssertionError(f"fault proxy did not start: {line!r}")
        self.url = line.split()[1]

    def counts(self) -> dict[str, int]:
        return fetch_counts(self.url)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# -- checks -------------------------------------------------------------------------------------
def wait_until(pred: Callable[[], bool], timeout: float, what: str,
               on_timeout: Callable[[], str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            extra = on_timeout() if on_timeout else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{extra}")
        time.sleep(0.1)


def sent_ids(side: Any) -> dict[str, int]:
    """id -> nonce of every message the gateway of ``side`` sent (its MessageNonce logs)."""
    gw = side.client.contract("AccordGateway", side.gateway)
    logs = gw.events.MessageNonce().get_logs(from_block=0)
    return {"0x" + bytes(e["args"]["id"]).hex(): int(e["args"]["nonce"]) for e in logs}


def received_ids(side: Any) -> list[str]:
    """Every Received id on the counting recipient of ``side``, in order (repeats kept)."""
    contract = side.client.contract("MockCountingRecipient", side.recipient)
    logs = contract.events.Received().get_logs(from_block=0)
    return ["0x" + bytes(e["args"]["id"]).hex() for e in logs]


def gateway_statuses(origin: Any, dest: Any, ids: dict[str, int]) -> dict[int, int]:
    """How many of ``ids`` the destination gateway reports in each status (a MessageStatus,
    1 = delivered)."""
    gw = dest.client.contract("AccordGateway", dest.gateway)
    counts: dict[int, int] = {}
    items = list(ids.items())
    for start in range(0, len(items), 200):
        with dest.client.w3.batch_requests() as batch:
            for mid, nonce in items[start:start + 200]:
                batch.add(gw.functions.messageStatus(origin.client.chain_id, origin.gateway,
                                                     nonce, bytes.fromhex(mid[2:])))
            for reply in batch.execute():
                status = MessageStatusInfo.from_abi(reply).status
                counts[status] = counts.get(status, 0) + 1
    return counts


def delivery_figures(origin: Any, dest: Any) -> dict[str, int]:
    """sent / delivered / lost / delivered twice for the route origin -> dest."""
    sent = sent_ids(origin)
    got = received_ids(dest)
    unique = set(got)
    return {"sent": len(sent), "delivered": len(unique), "lost": len(set(sent) - unique),
            "delivered_twice": len(got) - len(unique), "unknown": len(unique - set(sent))}


# -- the summary --------------------------------------------------------------------------------
def record(test: str, **figures: Any) -> None:
    """One line on stdout and ``figures`` under ``test`` in test-artifacts/faults.json
    (merged under a file lock: xdist workers write concurrently)."""
    print(f"\nFAULTS {test}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACT.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(ARTIFACT.read_text()) if ARTIFACT.is_file() else {}
        data[test] = figures
        tmp = ARTIFACT.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        tmp.replace(ARTIFACT)
