"""The fault proxy itself, and one unit-level test per service fix it drove, each with a
scripted (deterministic) fault between the service and the session's anvil:

- the proxy counts what it does and a seed fixes its choices;
- Client: a dropped connection or HTTP 502 is retried (reads and sends alike);
- Client: a send whose answer was lost, or that was duplicated and answered "nonce too
  low"/"already known", is the same transaction: success, one transaction on chain;
- Client: a connect that meets a failed eth_chainId asks again; a call answered with a
  transient JSON-RPC error (internal error, no revert data) is asked again, a revert is not;
- the agents' AsyncChain: the same retries, and a duplicated send is one transaction;
- with_retries (the relay command's start-up reads) retries failed calls, not reverts;
- Relayer.run, Attester.run and Keeper.run outlive a failing call (they backed off and carried on);
- the relayer's reconcile (asking the gateway about messages someone else delivered) retries
  a failed status read and never aborts the step (it did: under 15% faults a restarted
  relayer re-sent a delivered window forever, each step dying on one of 50 status reads).
"""

from __future__ import annotations

import time

import json
import logging
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faults_support import received_ids, wait_until

from accord.chain.client import Client, with_retries
from accord.chain.accounts import dev_account
from accord.dev.devnet import Chain
from accord.errors import ChainError, ConfigError, ContractRevert
from accord.testing.faultproxy import FaultPlan, FaultProxy, fetch_counts
from accord.crosschain.attestation_store import SqliteStore


@pytest.fixture
def proxy(chaina: Chain) -> Iterator[FaultProxy]:
    with FaultProxy(chaina.rpc_url, FaultPlan(seed=1)) as p:
        yield p


def _raw(url: str, method: str) -> tuple[int, Any]:
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 (loopback)
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (urllib.error.URLError, ConnectionError):
        return 0, None


# -- the proxy -----------------------------------------------------------------------------
def test_proxy_counts_each_fault_and_a_seed_repeats_the_same_choices(chaina: Chain) -> None:
    plan = dict(drop=0.2, delay=0.2, duplicate=0.2, fail=0.2, max_delay_s=0.01, seed=42)
    outcomes = []
    for _ in range(2):
        with FaultProxy(chaina.rpc_url, FaultPlan(**plan)) as p:  # type: ignore[arg-type]
            outcomes.append([_raw(p.url, "eth_chainId")[0] for _ in range(60)])
            counts = fetch_counts(p.url)
    assert outcomes[0] == outcomes[1]
    assert counts["calls"] == 60
    assert sum(counts[k] for k in ("dropped", "delayed", "duplicated", "failed",
                                   "forwarded")) == 60
    assert min(counts[k] for k in ("dropped", "delayed", "duplicated", "failed")) > 0
    assert {0, 200, 502} <= set(outcomes[0])  # dropped, answered, bad gateway


def test_proxy_rejects_shares_over_one(chaina: Chain) -> None:
    with pytest.raises(ConfigError, match="sum to at most 1"):
        FaultPlan(drop=0.6, fail=0.6)


def test_proxy_spares_anvil_controls_and_scripts_faults(proxy: FaultProxy) -> None:
    proxy.plan = FaultPlan(fail=1.0)
    assert _raw(proxy.url, "evm_mine")[0] == 200  # spared
    proxy.plan = FaultPlan()
    proxy.force("fail_rpc", "fail_http", "drop_before")
    assert _raw(proxy.url, "eth_chainId")[1]["error"]["message"].startswith("fault proxy")
    assert _raw(proxy.url, "eth_chainId")[0] == 502
    assert _raw(proxy.url, "eth_chainId")[0] == 0
    assert _raw(proxy.url, "eth_chainId")[0] == 200


# -- Client ---------------------------------------------------------------------------------
def test_client_retries_dropped_connections_and_bad_gateways(proxy: FaultProxy,
                                                             chaina: Chain) -> None:
    client = Client(proxy.url)
    proxy.force("drop_before", "fail_http", "drop_after", "drop_before")
    assert client.w3.eth.block_number == Client(chaina.rpc_url).w3.eth.block_number
    proxy.plan = FaultPlan(drop=0.3, seed=3)
    for _ in range(30):
        client.w3.eth.get_block("latest")
    assert proxy.snapshot()["dropped"] >= 5


@pytest.mark.parametrize("fault", ["duplicate", "drop_after"])
def test_client_send_whose_answer_was_lost_or_duplicated_is_one_transaction(
        proxy: FaultProxy, chaina: Chain, fault: str) -> None:
    client, direct = Client(proxy.url), Client(chaina.rpc_url)
    sender = dev_account(9)
    nonce = direct.w3.eth.get_transaction_count(sender.address)
    proxy.plan = FaultPlan(only_methods=("eth_sendRawTransaction",))
    proxy.force(fault)
    receipt = client.send({"to": dev_account(8).address, "value": 1, "gas": 21_000,
                           "chainId": client.chain_id}, sender)
    assert receipt["status"] == 1
    assert direct.w3.eth.get_transaction_count(sender.address) == nonce + 1
    counts = proxy.snapshot()
    assert counts.get("duplicated", 0) + counts.get("dropped", 0) == 1
    # and the next send gets the next nonce
    client.send({"to": dev_account(8).address, "value": 1, "gas": 21_000,
                 "chainId": client.chain_id}, sender)
    assert direct.w3.eth.get_transaction_count(sender.address) == nonce + 2


def test_client_send_rejected_for_a_real_reason_still_fails(proxy: FaultProxy) -> None:
    client = Client(proxy.url)
    proxy.plan = FaultPlan(only_methods=("eth_sendRawTransaction",))
    proxy.force(*["fail_rpc"] * 5)  # errors every time, not "already known": not sent
    with pytest.raises(ChainError, match="rejected"):
        client.send({"to": dev_account(8).address, "value": 1, "gas": 21_000,
                     "chainId": client.chain_id}, dev_account(9))


def test_client_connect_asks_again_after_a_failed_chain_id(proxy: FaultProxy,
                                                           chaina: Chain) -> None:
    proxy.force("fail_rpc", "fail_rpc")
    assert Client(proxy.url).chain_id == chaina.chain_id


def test_with_retries_retries_failures_but_not_reverts() -> None:
    calls: list[int] = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise ValueError("injected")
        return 7

    assert with_retries(flaky, "flaky read", first_wait_s=0.001) == 7
    assert len(calls) == 3
    with pytest.raises(ChainError, match="flaky read failed 2 times"):
        with_retries(lambda: 1 // 0, "flaky read", attempts=2, first_wait_s=0.001)

    def revert() -> None:
        raise ContractRevert("X", (), "0x")

    with pytest.raises(ContractRevert):
        with_retries(revert, "a revert", first_wait_s=0.001)


# -- service loops --------------------------------------------------------------------------
def test_validator_and_relayer_loops_outlive_failing_calls(
        tc: Any, proxy: FaultProxy, chainb: Chain, store_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    store = SqliteStore(store_path)
    with FaultProxy(chainb.rpc_url, FaultPlan(seed=2)) as proxy_b:
        origin = Client(proxy.url)
        validators = tc.validator_set(tc.a, store, window=10)
        for v in validators:  # the same validators, reading through the proxy
            v.client = origin
            v._contract = origin.contract("AccordGateway", v.gateway)
        relayer = tc.relayer(tc.a, tc.b, store, window=10)
        relayer.client = Client(proxy_b.url)
        relayer.gateway = relayer.client.contract("AccordGateway", tc.b.gateway)
        relayer.config.backoff_s = 0.05
        for v in validators:
            v.config.error_backoff_s = 0.05
        tc.send(tc.a, tc.b, 10)
        stop = threading.Event()
        threads = [threading.Thread(target=v.run, kwargs={"stop": stop}) for v in validators]
        threads.append(threading.Thread(target=relayer.run, args=(stop,)))

        def logged(pred: Any) -> Any:
            return lambda: any(pred(r) for r in list(caplog.records))

        try:
            # The origin fails every call (an outage) until the validators' polls have failed
            # past the retries inside one call and their loops back off; then they resume.
            # Then the same for the relayer's destination.
            proxy.plan = FaultPlan(fail=1.0)
            for t in threads[:-1]:
                t.start()
            wait_until(logged(lambda r: "poll failed" in r.getMessage()), 60,
                       "a failed validator poll")
            proxy.plan = FaultPlan()
            wait_until(lambda: len(store.ids("pending")) == 10, 30, "10 messages signed")
            proxy_b.plan = FaultPlan(fail=1.0)
            threads[-1].start()
            wait_until(logged(lambda r: r.name == "accord.relayer"
                              and "retrying" in r.getMessage()), 60, "a failed relayer step")
            proxy_b.plan = FaultPlan()
            wait_until(lambda: tc.delivered_total(tc.b) >= 10, 30, "10 deliveries")
        finally:
            stop.set()
            for t in threads:
                if t.is_alive() or t.ident is not None:
                    t.join()
    assert sorted(received_ids(tc.b)) == sorted(set(received_ids(tc.b)))
    assert any("poll failed" in r.getMessage() for r in caplog.records)
    assert any(r.name == "accord.relayer" and "retrying" in r.getMessage()
               for r in caplog.records)  # a failed step, or batches put back for later


def test_relayer_reconcile_survives_failing_status_reads(
        tc: Any, proxy: FaultProxy, chainb: Chain, store_path: Path) -> None:
    store = SqliteStore(store_path)
    validators = tc.validator_set(tc.a, store, window=10)
    tc.send(tc.a, tc.b, 10)
    for v in validators:
        v.poll_once()
    first = tc.relayer(tc.a, tc.b, store, window=10)
    batches = first.plan()
    assert first.send(batches) == 10
    # as if the relayer died before recording its delivery
    store.mark([m.id for m in batches[0].messages], "pending")
    with FaultProxy(chainb.rpc_url, FaultPlan(only_methods=("eth_call",))) as proxy_b:
        again = tc.relayer(tc.a, tc.b, store, window=10)
        again.client = Client(proxy_b.url)
        again.gateway = again.client.contract("AccordGateway", tc.b.gateway)
        # status reads fail 45 times in a row: the pre-send check fails whole (so the batch
        # is sent, and the gateway's replay bits skip it), and the reconcile of its skipped
        # messages meets failures too: what it cannot read stays pending for a later step
        proxy_b.force(*["fail_rpc"] * 45)
        assert again.step() == 0  # nothing new delivered; the step did not raise
        deadline = time.monotonic() + 60
        while store.counts() != {"delivered": 10} and time.monotonic() < deadline:
            again._next_attempt.clear()
            assert again.step() == 0  # never a second delivery
        assert again.counters.already == 10  # each recorded as delivered before, once
    assert store.counts() == {"delivered": 10}
    assert len(received_ids(tc.b)) == 10


def test_client_asks_again_after_a_transient_error_but_not_after_a_revert(
        proxy: FaultProxy, tc: Any) -> None:
    client = Client(proxy.url)
    gw = client.contract("AccordGateway", tc.a.gateway)
    proxy.force("fail_rpc", "fail_rpc", "fail_rpc")
    assert gw.functions.validators(tc.b.client.chain_id).call()  # asked four times
    assert proxy.snapshot()["failed"] == 3
    with pytest.raises(ContractRevert):  # a revert is an answer: not asked again
        client.transact(gw.functions.setValidatorSet(1, [dev_account(1).address], 1),
                        dev_account(9))


def test_agent_rpc_retries_and_treats_a_duplicated_send_as_one_transaction(
        proxy: FaultProxy, chaina: Chain) -> None:
    import asyncio

    from accord.chain.rpc import AsyncChain

    direct = Client(chaina.rpc_url)
    sender = dev_account(9)

    async def go() -> None:
        chain = AsyncChain(Client(proxy.url))
        try:
            proxy.force("fail_rpc", "fail_http", "drop_before", "drop_after")
            assert int(await chain.request("eth_blockNumber", []), 16) > 0
            nonce = direct.w3.eth.get_transaction_count(sender.address)
            proxy.plan = FaultPlan(only_methods=("eth_sendRawTransaction",))
            for fault in ("duplicate", "drop_after"):
                proxy.force(fault)
                rcpt = await chain.transact(sender, dev_account(8).address, b"", gas=21_000,
                                            value=1)
                assert int(rcpt["status"], 16) == 1
            assert direct.w3.eth.get_transaction_count(sender.address) == nonce + 2
        finally:
            await chain.close()

    asyncio.run(go())


def test_keeper_loop_outlives_failing_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.crosschain.keeper import Keeper

    passes: list[int] = []

    def step(self: Keeper) -> int:
        passes.append(1)
        if len(passes) <= 3:
            raise ChainError("node unreachable")
        return 0

    monkeypatch.setattr(Keeper, "step", step)
    keeper = Keeper.__new__(Keeper)  # the loop only: no chain needed
    keeper.run(poll_s=0.01, stop_after_s=0.5)
    assert len(passes) > 4



def test_keeper_warns_naming_the_creator_when_its_deposit_is_short(
        caplog: pytest.LogCaptureFixture) -> None:
    """An open that reverts RouterUnfunded is a warning (once per shortfall) naming the creator
    and the wei missing; any other revert stays at debug (a race lost to another keeper)."""
    from accord.crosschain.keeper import Keeper

    rid, creator = b"\x01" * 32, "0x" + "ab" * 20
    reverts = [ContractRevert("RouterUnfunded", (rid, creator, 5, 12), "0x")] * 2 + [
        ContractRevert("RouterRequestNotUnfunded", (rid, 2), "0x"),
        ContractRevert("RouterUnfunded", (rid, creator, 10, 12), "0x")]

    class FakeClient:
        def transact(self, fn: Any, account: Any) -> None:
            raise reverts.pop(0)

    keeper = Keeper.__new__(Keeper)  # no chain: only _try and its explanation
    keeper.client, keeper.account, keeper.router = FakeClient(), None, "0xrouter"  # type: ignore
    keeper.actions, keeper._short = 0, {}
    with caplog.at_level(logging.DEBUG, logger="accord.keeper"):
        for _ in range(4):
            assert not keeper._try(None, "open", keeper._unfunded(rid))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # 7 wei short (twice: warned once), then 2 wei short
    assert creator in warnings[0] and "7 wei missing" in warnings[0]
    assert "2 wei missing" in warnings[1]
    assert any("RouterRequestNotUnfunded" in r.getMessage() for r in caplog.records
               if r.levelno == logging.DEBUG)

def test_service_loop_backs_off_doubling_to_a_cap_and_resets_after_a_good_pass() -> None:
    from accord.service.loop import run_service

    outcomes: list[int | Exception] = [ChainError("down")] * 5 + [1, 0, ChainError("again"), 0]
    waits: list[float] = []
    errors: list[int] = []

    def step() -> int:
        result = outcomes.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    run_service(step, what="test pass", poll_s=0.5, first_backoff_s=0.1, max_backoff_s=0.8,
                log=logging.getLogger("test"), running=lambda: bool(outcomes),
                wait=waits.append, on_error=lambda: errors.append(1))
    # five failures in a row: 0.1, 0.2, 0.4, 0.8 (cap), 0.8; a busy pass waits nothing; an
    # idle pass waits poll_s; the next failure starts again at the first backoff
    assert waits == [0.1, 0.2, 0.4, 0.8, 0.8, 0.5, 0.1, 0.5]
    assert len(errors) == 6
