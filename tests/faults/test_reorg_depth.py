"""Origin reorgs made with ``anvil_reorg``, below and above the validators' confirmation
depth (tests/crosschain/test_reorg.py covers an ``evm_revert`` reorg of unconfirmed,
unsigned-by-depth messages; this file covers the depth boundary).

- Below depth (confirmations N, reorg depth < N): the removed messages were never signed;
  every signature in the store is for a message on the canonical chain, and every surviving
  message (and its replacements) is delivered exactly once.
- Above depth (the documented limit: a validator signs what is N blocks deep, so a deeper
  reorg can remove a message after it was signed, even after it was delivered): messages
  signed but not yet delivered are marked ``orphaned`` and never delivered; messages already
  delivered stay delivered (the destination cannot undo them); when the origin re-includes
  the same messages (same ids) the gateway does not deliver them a second time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from faults_support import delivery_figures, record, sent_ids

from accord.dev.devnet import rpc
from accord.crosschain.attestation_store import SqliteStore


def _mine(side: Any, blocks: int) -> None:
    for _ in range(blocks):
        rpc(side.chain.rpc_url, "evm_mine")


def _reorg(tc: Any, depth: int) -> None:
    """Replace the origin's last ``depth`` blocks with empty ones (their transactions are
    gone), then forget the sender's cached nonce."""
    assert rpc(tc.a.chain.rpc_url, "anvil_reorg", [depth, []]) is None
    tc.a.client.reset_nonce(tc.admin)


def _catch_up(validators: list[Any]) -> None:
    """Poll each validator until its cursor is at the confirmed head."""
    for v in validators:
        for _ in range(100):
            v.poll_once()
            cur = v.store.cursor(v.name)
            if cur and cur[0] >= v.client.w3.eth.block_number - v.config.confirmations:
                break


def _signed_ids(store_path: Path) -> set[str]:
    with sqlite3.connect(store_path) as db:
        rows = db.execute("SELECT DISTINCT id FROM attestations WHERE id LIKE '0x%'")
        return {str(r[0]) for r in rows}


def _validators(tc: Any, store: SqliteStore, confirmations: int) -> list[Any]:
    vs = tc.validator_set(tc.a, store, window=50)  # windows stay open: messages signed singly
    for v in vs:
        v.config.confirmations = confirmations
    return vs


def test_reorg_below_confirmation_depth_signs_nothing_wrong_and_delivers_survivors(
        tc: Any, store_path: Path) -> None:
    confirmations, depth = 4, 3
    store = SqliteStore(store_path)
    validators = _validators(tc, store, confirmations)
    relayer = tc.relayer(tc.a, tc.b, store, window=50)
    tc.send(tc.a, tc.b, 5, tag=1)
    _mine(tc.a, confirmations)
    _catch_up(validators)
    assert relayer.step() == 5
    tc.send(tc.a, tc.b, 5, tag=2)  # two blocks the reorg will remove, not yet confirmed
    tc.send(tc.a, tc.b, 5, tag=3)
    _mine(tc.a, 1)
    _catch_up(validators)
    removed = set(sent_ids(tc.a)) - set(store.ids("delivered"))
    assert len(removed) == 10 and store.counts() == {"delivered": 5}

    _reorg(tc, depth)
    tc.send(tc.a, tc.b, 5, tag=4)  # the same nonces, other messages
    _mine(tc.a, confirmations)
    _catch_up(validators)
    canonical = set(sent_ids(tc.a))
    assert not removed & canonical
    assert _signed_ids(store_path) <= canonical  # nothing the reorg removed was signed
    assert relayer.step() == 5
    fig = delivery_figures(tc.a, tc.b)
    assert fig == {"sent": 10, "delivered": 10, "lost": 0, "delivered_twice": 0, "unknown": 0}
    assert store.counts() == {"delivered": 10}
    fig.pop("unknown")
    record("reorg_below_depth", **fig, confirmations=confirmations, reorg_depth=depth,
           removed_before_signing=len(removed), signed_not_canonical=0)


def test_reorg_above_confirmation_depth_orphans_signed_messages_and_never_delivers_twice(
        tc: Any, store_path: Path) -> None:
    confirmations = 2
    store = SqliteStore(store_path)
    validators = _validators(tc, store, confirmations)
    relayer = tc.relayer(tc.a, tc.b, store, window=50)
    start = tc.a.client.w3.eth.block_number
    tc.send(tc.a, tc.b, 5, tag=1)  # signed and delivered, then reorged away
    _mine(tc.a, confirmations)
    _catch_up(validators)
    assert relayer.step() == 5
    delivered_first = set(store.ids("delivered"))
    tc.send(tc.a, tc.b, 5, tag=2)  # signed, not delivered, then reorged away
    _mine(tc.a, confirmations)
    _catch_up(validators)
    signed_pending = set(store.ids("pending"))
    assert len(signed_pending) == 5 and signed_pending <= _signed_ids(store_path)

    depth = tc.a.client.w3.eth.block_number - start  # deeper than the confirmations
    _reorg(tc, depth)
    _catch_up(validators)
    assert set(store.ids("orphaned")) == signed_pending  # marked, so never delivered
    assert not (delivered_first | signed_pending) & set(sent_ids(tc.a))
    assert relayer.step() == 0
    # The limit: five messages were delivered that the origin no longer has.
    delivered_not_canonical = len(delivered_first - set(sent_ids(tc.a)))

    # The origin re-includes the first five (same sender, nonces and payloads: same ids) and
    # five new ones; the gateway refuses the repeats, the new ones arrive once.
    tc.send(tc.a, tc.b, 5, tag=1)
    tc.send(tc.a, tc.b, 5, tag=3)
    _mine(tc.a, confirmations)
    _catch_up(validators)
    assert delivered_first <= set(sent_ids(tc.a))
    assert relayer.step() == 5
    fig = delivery_figures(tc.a, tc.b)
    assert fig == {"sent": 10, "delivered": 10, "lost": 0, "delivered_twice": 0, "unknown": 0}
    assert store.counts() == {"delivered": 10, "orphaned": 5}
    fig.pop("unknown")
    record("reorg_above_depth", **fig, confirmations=confirmations, reorg_depth=depth,
           orphaned_after_signing=len(signed_pending),
           delivered_then_reorged=delivered_not_canonical)
