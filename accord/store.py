"""Persistent state of the off-chain services, in SQLite (one file per service or shared).

Validators write attestations here; relayers read them and record delivery progress. The
:class:`AttestationStore` protocol is the seam another store (a shared database, an HTTP
service) plugs into. Every write is one transaction, so a SIGKILL at any moment leaves the
store consistent, and a restart resumes exactly where the last commit left off.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (
    name TEXT PRIMARY KEY, block INTEGER NOT NULL, block_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
    name TEXT NOT NULL, number INTEGER NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (name, number)
);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    route TEXT NOT NULL,
    origin_chain INTEGER NOT NULL,
    dest_chain INTEGER NOT NULL,
    nonce INTEGER NOT NULL,
    block INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    tx TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    seen_at REAL NOT NULL,
    delivered_at REAL,
    delivered_tx TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS messages_route_status ON messages (route, status, nonce);
CREATE TABLE IF NOT EXISTS attestations (
    id TEXT NOT NULL, signer TEXT NOT NULL, signature TEXT NOT NULL, signed_at REAL NOT NULL,
    PRIMARY KEY (id, signer)
);
"""


@dataclass(frozen=True)
class StoredMessage:
    id: str
    route: str
    origin_chain: int
    dest_chain: int
    nonce: int
    block: int
    block_hash: str
    tx: str
    body: dict[str, Any]
    status: str
    attempts: int
    seen_at: float


class AttestationStore(Protocol):
    """Where validators publish signatures and relayers read them."""

    def put_attestation(self, message_id: str, signer: str, signature: str) -> None: ...

    def put_attestations(self, rows: Iterable[tuple[str, str, str]]) -> None: ...

    def attestations(self, message_id: str) -> dict[str, str]: ...


class SqliteStore:
    """Messages, attestations and cursors in one SQLite file (WAL; safe across processes)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._db().executescript(SCHEMA)  # idempotent DDL; executescript commits itself

    # -- connection ---------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- cursors and reorg tracking -----------------------------------------------------
    def cursor(self, name: str) -> tuple[int, str] | None:
        row = self._db().execute(
            "SELECT block, block_hash FROM cursors WHERE name = ?", (name,)).fetchone()
        return (int(row["block"]), str(row["block_hash"])) if row else None

    def block_hash(self, name: str, number: int) -> str | None:
        row = self._db().execute("SELECT hash FROM blocks WHERE name = ? AND number = ?",
                                 (name, number)).fetchone()
        return str(row["hash"]) if row else None

    def advance(self, name: str, block: int, block_hash: str,
                messages: Iterable[StoredMessage] = (),
                attestations: Iterable[tuple[str, str, str]] = (),
                seen_blocks: Iterable[tuple[int, str]] = ()) -> None:
        """Record messages (and their attestations) and move the cursor, atomically."""
        now = time.time()
        with self._tx() as db:
            for m in messages:
                db.execute(
                    "INSERT INTO messages (id, route, origin_chain, dest_chain, nonce, block,"
                    " block_hash, tx, body, seen_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(id) DO UPDATE SET block=excluded.block,"
                    " block_hash=excluded.block_hash, tx=excluded.tx,"
                    " status=CASE WHEN status='orphaned' THEN 'pending' ELSE status END",
                    (m.id, m.route, m.origin_chain, m.dest_chain, m.nonce, m.block,
                     m.block_hash, m.tx, json.dumps(m.body), now))
            for mid, signer, sig in attestations:
                db.execute("INSERT OR IGNORE INTO attestations VALUES (?,?,?,?)",
                           (mid, signer, sig, now))
            for number, bhash in seen_blocks:
                db.execute("INSERT OR REPLACE INTO blocks VALUES (?,?,?)", (name, number, bhash))
            db.execute("INSERT OR REPLACE INTO cursors VALUES (?,?,?)", (name, block, block_hash))
            db.execute("DELETE FROM blocks WHERE name = ? AND number < ?", (name, block - 256))

    def rewind(self, name: str, to_block: int, to_hash: str, origin_chain: int) -> int:
        """A reorg removed blocks above ``to_block``: orphan their undelivered messages."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE messages SET status='orphaned' WHERE origin_chain = ? AND block > ?"
                " AND status IN ('pending', 'failed')", (origin_chain, to_block))
            db.execute("DELETE FROM blocks WHERE name = ? AND number > ?", (name, to_block))
            db.execute("INSERT OR REPLACE INTO cursors VALUES (?,?,?)",
                       (name, to_block, to_hash))
            return int(cur.rowcount)

    # -- attestations --------------------------------------------------------------------
    def put_attestation(self, message_id: str, signer: str, signature: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO attestations VALUES (?,?,?,?)",
                       (message_id, signer, signature, time.time()))

    def put_attestations(self, rows: Iterable[tuple[str, str, str]]) -> None:
        now = time.time()
        with self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO attestations VALUES (?,?,?,?)",
                           [(mid, signer, sig, now) for mid, signer, sig in rows])

    def attestations(self, message_id: str) -> dict[str, str]:
        rows = self._db().execute(
            "SELECT signer, signature FROM attestations WHERE id = ?", (message_id,))
        return {str(r["signer"]): str(r["signature"]) for r in rows}

    # -- messages --------------------------------------------------------------------------
    def pending(self, route: str, limit: int) -> list[StoredMessage]:
        rows = self._db().execute(
            "SELECT * FROM messages WHERE route = ? AND status = 'pending'"
            " ORDER BY nonce LIMIT ?", (route, limit)).fetchall()
        return [_row(r) for r in rows]

    def message(self, message_id: str) -> StoredMessage | None:
        row = self._db().execute("SELECT * FROM messages WHERE id = ?",
                                 (message_id,)).fetchone()
        return _row(row) if row else None

    def mark(self, ids: Iterable[str], status: str, *, tx: str | None = None,
             reason: str | None = None) -> None:
        now = time.time()
        with self._tx() as db:
            for mid in ids:
                db.execute(
                    "UPDATE messages SET status = ?, attempts = attempts + 1,"
                    " delivered_tx = COALESCE(?, delivered_tx), reason = COALESCE(?, reason),"
                    " delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END"
                    " WHERE id = ?", (status, tx, reason, status, now, mid))

    def routes(self, origin_chain: int) -> list[str]:
        rows = self._db().execute(
            "SELECT DISTINCT route FROM messages WHERE origin_chain = ?", (origin_chain,))
        return [str(r["route"]) for r in rows]

    def max_nonce(self, origin_chain: int) -> int:
        row = self._db().execute(
            "SELECT MAX(nonce) AS n FROM messages WHERE origin_chain = ?"
            " AND status != 'orphaned'", (origin_chain,)).fetchone()
        return -1 if row is None or row["n"] is None else int(row["n"])

    def window_messages(self, route: str, lo: int, hi: int) -> list[StoredMessage]:
        """Messages of ``route`` with ``lo <= nonce < hi`` (orphans excluded), by nonce."""
        rows = self._db().execute(
            "SELECT * FROM messages WHERE route = ? AND nonce >= ? AND nonce < ?"
            " AND status != 'orphaned' ORDER BY nonce", (route, lo, hi)).fetchall()
        return [_row(r) for r in rows]

    def signed_windows(self, route: str, signer: str) -> int:
        """The highest window of ``route`` that ``signer`` attested, or -1."""
        prefix = f"window:{route}:"
        rows = self._db().execute(
            "SELECT id FROM attestations WHERE signer = ? AND id LIKE ? AND id NOT LIKE '%:ids'",
            (signer, prefix + "%"))
        return max((int(str(r["id"])[len(prefix):]) for r in rows), default=-1)

    def unsigned_since(self, route: str, signer: str, min_nonce: int,
                       seen_before: float) -> list[StoredMessage]:
        """Pending messages of ``route`` from ``min_nonce`` on, older than ``seen_before``,
        that ``signer`` has not attested singly."""
        rows = self._db().execute(
            "SELECT m.* FROM messages m WHERE m.route = ? AND m.nonce >= ?"
            " AND m.status = 'pending' AND m.seen_at <= ? AND NOT EXISTS"
            " (SELECT 1 FROM attestations a WHERE a.id = m.id AND a.signer = ?)"
            " ORDER BY m.nonce", (route, min_nonce, seen_before, signer)).fetchall()
        return [_row(r) for r in rows]

    def ids(self, status: str) -> list[str]:
        """Ids of the messages in ``status``, by route and nonce."""
        rows = self._db().execute(
            "SELECT id FROM messages WHERE status = ? ORDER BY route, nonce", (status,))
        return [str(r["id"]) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self._db().execute("SELECT status, COUNT(*) AS n FROM messages GROUP BY status")
        return {str(r["status"]): int(r["n"]) for r in rows}

    def latencies(self) -> list[float]:
        rows = self._db().execute(
            "SELECT delivered_at - seen_at AS l FROM messages WHERE status = 'delivered'")
        return [float(r["l"]) for r in rows]


def _row(r: sqlite3.Row) -> StoredMessage:
    return StoredMessage(id=r["id"], route=r["route"], origin_chain=r["origin_chain"],
                         dest_chain=r["dest_chain"], nonce=r["nonce"], block=r["block"],
                         block_hash=r["block_hash"], tx=r["tx"], body=json.loads(r["body"]),
                         status=r["status"], attempts=r["attempts"], seen_at=r["seen_at"])
