"""The real validator and relayer code, stepped deterministically in one process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from accord.chain.accounts import dev_account
from accord.crosschain.attestation_store import SqliteStore
from accord.crosschain.attester import Attester, AttesterConfig, route_name


def test_full_windows_go_as_batches_and_stragglers_singly(tc,
                                                         store_path: Path) -> None:
    store = SqliteStore(store_path)
    tc.send(tc.a, tc.b, 25)
    for v in tc.validator_set(tc.a, store, window=10):
        v.poll_once()
    relayer = tc.relayer(tc.a, tc.b, store, window=10)
    plan = relayer.plan()
    assert [len(b.messages) for b in plan if not b.single] == [10, 10]
    assert sum(1 for b in plan if b.single) == 5
    assert relayer.send(plan) == 25
    assert tc.delivered_total(tc.b) == 25
    assert store.counts() == {"delivered": 25}


def test_duplicated_and_reordered_batches_deliver_each_message_once(
        tc, store_path: Path) -> None:
    store = SqliteStore(store_path)
    tc.send(tc.b, tc.a, 20)
    for v in tc.validator_set(tc.b, store, window=10):
        v.poll_once()
    relayer = tc.relayer(tc.b, tc.a, store, window=10)
    plan = relayer.plan()
    relayer.send(list(reversed(plan)) + plan)  # every batch twice, newest first
    assert tc.delivered_total(tc.a) == 20
    assert store.counts() == {"delivered": 20}


def test_a_second_relayer_treats_already_delivered_as_success(tc,
                                                             tmp_path: Path) -> None:
    first, second = SqliteStore(tmp_path / "one.sqlite"), SqliteStore(tmp_path / "two.sqlite")
    tc.send(tc.a, tc.b, 10)
    for store in (first, second):
        for v in tc.validator_set(tc.a, store, window=10):
            v.poll_once()
    tc.relayer(tc.a, tc.b, first, window=10).step()
    late = tc.relayer(tc.a, tc.b, second, window=10)
    late.account = dev_account(4)  # another operator
    nonce = tc.b.client.w3.eth.get_transaction_count(late.account.address)
    assert late.step() == 0
    assert second.counts() == {"delivered": 10}
    assert late.counters.already == 10
    assert tc.delivered_total(tc.b) == 10
    # it read the status before sending: the repeat cost it no transaction at all
    assert tc.b.client.w3.eth.get_transaction_count(late.account.address) == nonce


def test_relayers_that_know_nothing_of_each_other_begin_on_different_windows(
        tc, store_path: Path) -> None:
    store = SqliteStore(store_path)
    tc.send(tc.a, tc.b, 40)
    for v in tc.validator_set(tc.a, store, window=10):
        v.poll_once()
    firsts = {}
    for i in range(3, 10):
        relayer = tc.relayer(tc.a, tc.b, store, window=10)
        relayer.account = dev_account(i)
        plan = relayer.plan()
        assert sorted(m.nonce for b in plan for m in b.messages) == sorted(
            m.nonce for m in store.pending(relayer.route, 100))  # every window, once
        firsts[relayer.account.address] = plan[0].messages[0].nonce // 10
    assert len(set(firsts.values())) > 1  # where each begins follows from its address


def test_one_validator_is_not_a_quorum(tc, store_path: Path) -> None:
    store = SqliteStore(store_path)
    tc.send(tc.a, tc.b, 10)
    for v in tc.validator_set(tc.a, store, window=10, count=1):
        v.poll_once()
    assert tc.relayer(tc.a, tc.b, store, window=10).plan() == []
    assert tc.delivered_total(tc.b) == 0


def test_a_restarted_validator_signs_the_same_window_root(tc,
                                                         store_path: Path) -> None:
    store = SqliteStore(store_path)
    tc.send(tc.a, tc.b, 6)
    v1, v2 = tc.validator_set(tc.a, store, window=10)
    v1.poll_once()
    tc.send(tc.a, tc.b, 4)
    v1_again = Attester(tc.a.client, store, v1.key, v1.config)  # a restart: no memory
    v1_again.poll_once()
    v2.poll_once()
    sigs = store.attestations(f"window:{tc.a.client.chain_id}->{tc.b.client.chain_id}:0:ids")
    assert len(set(sigs.values())) == 1 and len(sigs) == 2
    relayer = tc.relayer(tc.a, tc.b, store, window=10)
    assert relayer.step() == 10


def _views(tc):  # type: ignore[no-untyped-def]
    from accord.crosschain.trace import ChainView

    return [ChainView("chaina", tc.a.client, tc.a.gateway),
            ChainView("chainb", tc.b.client, tc.b.gateway)]


def test_trace_shows_send_attestations_delivery_and_latency(tc, store_path: Path) -> None:
    from accord.crosschain.trace import message_life

    store = SqliteStore(store_path)
    tc.send(tc.a, tc.b, 1)
    for v in tc.validator_set(tc.a, store, window=10):
        v.poll_once()
    tc.relayer(tc.a, tc.b, store, window=10).step()
    mid = _only_id(store)
    life = message_life(mid, _views(tc), store)
    assert life.origin == "chaina" and life.destination == "chainb"
    assert life.status == "delivered"
    assert [e[0] for e in life.events] == ["delivered"]
    assert len(life.signers) == 2
    # block timestamps of two devnets (other tests time-travel them): only present, any sign
    assert life.latency_s is not None
    text = "\n".join(life.lines())
    assert "sent      on chaina" in text and "status    delivered" in text


def test_a_failing_recipient_is_recorded_with_its_reason_and_traced(tc, store_path: Path) -> None:
    from accord.crosschain.trace import message_life

    store = SqliteStore(store_path)
    recipient = tc.b.client.contract("MockCountingRecipient", tc.b.recipient)
    tc.b.client.transact(recipient.functions.setFailTag(9), tc.admin)
    tc.send(tc.a, tc.b, 1, tag=9)
    tc.send(tc.a, tc.b, 1, tag=1)
    for v in tc.validator_set(tc.a, store, window=10):
        v.poll_once()
    assert tc.relayer(tc.a, tc.b, store, window=10).step() == 1
    assert store.counts() == {"delivered": 1, "failed": 1}
    failed_id = _only_id(store, status="failed")
    life = message_life(failed_id, _views(tc), store)
    assert life.status == "failed" and life.attempts == 1
    assert life.reason_hash is not None and life.reason_hash != "0x" + "00" * 32


def _only_id(store: SqliteStore, status: str = "delivered") -> str:
    ids = store.ids(status)
    assert len(ids) == 1
    return ids[0]


def test_a_failed_message_is_retried_once_its_recipient_accepts_and_delivered_once(
        tc, store_path: Path) -> None:
    store = SqliteStore(store_path)
    recipient = tc.b.client.contract("MockCountingRecipient", tc.b.recipient)
    tc.b.client.transact(recipient.functions.setFailTag(9), tc.admin)
    tc.send(tc.a, tc.b, 1, tag=9)
    for v in tc.validator_set(tc.a, store, window=10):
        v.poll_once()
    relayer = tc.relayer(tc.a, tc.b, store, window=10)
    relayer.config.backoff_s = relayer.config.retry_backoff_s = 0.0
    assert relayer.step() == 0
    assert store.counts() == {"failed": 1}
    tc.b.client.transact(recipient.functions.setFailTag(0), tc.admin)  # the recipient is fixed
    assert relayer.step() == 1
    assert store.counts() == {"delivered": 1}
    assert relayer.step() == 0  # never twice
    assert tc.delivered_total(tc.b) == 1


def test_relayer_serves_prometheus_counters_on_loopback(tc, store_path: Path) -> None:
    import urllib.request

    from accord.dev.devnet import free_port
    from accord.crosschain.relayer import serve_metrics

    store = SqliteStore(store_path)
    tc.send(tc.a, tc.b, 3)
    for v in tc.validator_set(tc.a, store, window=10):
        v.poll_once()
    relayer = tc.relayer(tc.a, tc.b, store, window=10)
    relayer.step()
    port = free_port()
    server = serve_metrics(relayer, port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    finally:
        server.shutdown()
    assert "accord_relayer_delivered_total 3" in text
    assert "accord_relayer_pending 0" in text
    assert 'accord_relayer_latency_seconds{quantile="0.5"}' in text


def test_an_idle_relayer_plans_again_once_another_connection_writes_or_a_backoff_ends(
        tc, store_path: Path) -> None:
    """An idle relayer skips planning while its store is unchanged; what another thread or
    process commits, and a message whose backoff ended, are planned all the same."""
    store = SqliteStore(store_path)
    tc.send(tc.a, tc.b, 10)
    relayer = tc.relayer(tc.a, tc.b, store, window=10)
    relayer.config.backoff_s = 0.2
    assert relayer.plan() == []  # nothing recorded yet: idle
    validators = tc.validator_set(tc.a, store, window=10)
    signer = threading.Thread(target=lambda: [v.poll_once() for v in validators])
    signer.start()  # its own SQLite connection, as another process's
    signer.join()
    plan = relayer.plan()
    assert sum(len(b.messages) for b in plan) == 10
    relayer._backoff(plan[0], "a failed send")  # no store write: a timer only
    assert relayer.plan() == []
    deadline = time.monotonic() + 30
    while not (again := relayer.plan()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sum(len(b.messages) for b in again) == 10


def test_a_follower_records_a_backlog_in_whole_blocks_and_is_called_between_parts(
        tc, store_path: Path) -> None:
    store = SqliteStore(store_path)
    for _ in range(4):
        tc.send(tc.a, tc.b, 5)  # four blocks of five messages
    observer = Attester(tc.a.client, store, None, AttesterConfig(gateway=tc.a.gateway))
    seen: list[tuple[int, int]] = []

    def between() -> None:
        cursor = store.cursor(observer.name)
        assert cursor is not None
        blocks = {m.block for m in store.pending(observer_route(tc), 100)}
        assert cursor[0] == max(blocks)  # the cursor passed whole blocks only
        seen.append((len(store.pending(observer_route(tc), 100)), cursor[0]))

    assert observer.poll_once(between=between, chunk=4) == 20
    assert [n for n, _ in seen] == [5, 10, 15]
    assert [b for _, b in seen] == sorted({b for _, b in seen})
    assert store.counts() == {"pending": 20}
    assert observer.poll_once(between=between, chunk=4) == 0 and len(seen) == 3


def observer_route(tc) -> str:  # type: ignore[no-untyped-def]
    return route_name(tc.a.client.chain_id, tc.b.client.chain_id)
