"""Origin reorgs: messages a reorg removed are never delivered; confirmations hold signing back."""

from __future__ import annotations

from pathlib import Path

from accord.dev.devnet import rpc
from accord.crosschain.attestation_store import SqliteStore


def _snapshot(url: str) -> str:
    return str(rpc(url, "evm_snapshot"))


def _revert_and_mine(url: str, snap: str, blocks: int) -> None:
    assert rpc(url, "evm_revert", [snap]) is True
    for _ in range(blocks):
        rpc(url, "evm_mine")


def test_messages_removed_by_an_origin_reorg_are_orphaned_not_delivered(
        tc, store_path: Path) -> None:
    store = SqliteStore(store_path)
    validators = tc.validator_set(tc.a, store, window=10)
    tc.send(tc.a, tc.b, 3)
    for v in validators:
        v.poll_once()
    snap = _snapshot(tc.a.chain.rpc_url)
    tc.send(tc.a, tc.b, 5)  # these 5 will be reorged away
    for v in validators:
        v.poll_once()
    assert store.counts() == {"pending": 8}
    tc.a.client.reset_nonce(tc.admin)
    _revert_and_mine(tc.a.chain.rpc_url, snap, blocks=3)  # same heights, other blocks
    for v in validators:
        v.poll_once()
    assert store.counts() == {"pending": 3, "orphaned": 5}
    relayer = tc.relayer(tc.a, tc.b, store, window=10)
    assert relayer.step() == 3
    assert tc.delivered_total(tc.b) == 3


def test_confirmations_keep_unconfirmed_messages_unsigned(tc, store_path: Path) -> None:
    store = SqliteStore(store_path)
    validators = tc.validator_set(tc.a, store, window=10)
    for v in validators:
        v.config.confirmations = 3
    tc.send(tc.a, tc.b, 4)  # one block
    for v in validators:
        v.poll_once()
    assert store.counts() == {}
    for _ in range(3):
        rpc(tc.a.chain.rpc_url, "evm_mine")
    for v in validators:
        v.poll_once()
    assert store.counts() == {"pending": 4}
