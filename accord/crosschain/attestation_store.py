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

#: Columns added to ``messages`` after its first release, added to an older store when it is
#: opened (``ALTER TABLE ... ADD COLUMN``: old rows get the default, old readers ignore them).
#: What the relayer spent on a message whose recipient failed, and why it stopped.
ADDED_COLUMNS = (
    ("gas_spent", "INTEGER NOT NULL DEFAULT 0"),  # gasUsed charged to it, over all tries
    ("tries", "INTEGER NOT NULL DEFAULT 0"),      # failures seen: on chain, or simulated
    ("last_gas", "INTEGER"),                      # recipient gas of its last on-chain try
    ("note", "TEXT"),                             # the relayer's last word on it, for people
)


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
    reason: str | None = None       # reasonHash of its last failure on the gateway
    gas_spent: int = 0
    tries: int = 0
    last_gas: int | None = None
    note: str | None = None


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
        self._migrate()

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

    def _migrate(self) -> None:
        """Add the columns an older store lacks, under the write lock (several processes may
        open one store at once: the second finds them added)."""
        def missing() -> list[tuple[str, str]]:
            have = {str(r["name"]) for r in self._db().execute("PRAGMA table_info(messages)")}
            return [(n, d) for n, d in ADDED_COLUMNS if n not in have]

        if not missing():
            return
        with self._tx() as db:
            for name, decl in missing():
                db.execute(f"ALTER TABLE messages ADD COLUMN {name} {decl}")

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
                " AND status IN ('pending', 'unpaid', 'failed')", (origin_chain, to_block))
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

    def version(self) -> tuple[int, int]:
        """Changes to the file so far, as this thread's connection sees them: equal answers
        mean nothing was committed in between, by any connection or process."""
        db = self._db()
        row = db.execute("PRAGMA data_version").fetchone()
        return int(row[0]), db.total_changes

    # -- messages --------------------------------------------------------------------------
    def pending_ids(self, route: str, limit: int) -> list[tuple[str, int]]:
        """``(id, nonce)`` of the pending messages of ``route``, by nonce (no bodies read:
        what a relayer plans with before it loads what it can send)."""
        rows = self._db().execute(
            "SELECT id, nonce FROM messages WHERE route = ? AND status = 'pending'"
            " ORDER BY nonce LIMIT ?", (route, limit)).fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

    def pending_between(self, route: str, lo: int, hi: int) -> list[StoredMessage]:
        """The pending messages of ``route`` with ``lo <= nonce < hi``, by nonce."""
        rows = self._db().execute(
            "SELECT * FROM messages WHERE route = ? AND status = 'pending'"
            " AND nonce >= ? AND nonce < ? ORDER BY nonce", (route, lo, hi)).fetchall()
        return [_row(r) for r in rows]

    def pending(self, route: str, limit: int) -> list[StoredMessage]:
        rows = self._db().execute(
            "SELECT * FROM messages WHERE route = ? AND status = 'pending'"
            " ORDER BY nonce LIMIT ?", (route, limit)).fetchall()
        return [_row(r) for r in rows]

    def by_status(self, route: str, status: str, limit: int, *, after_nonce: int = -1
                  ) -> list[StoredMessage]:
        """Up to ``limit`` messages of ``route`` in ``status`` with a nonce above
        ``after_nonce``, by nonce."""
        rows = self._db().execute(
            "SELECT * FROM messages WHERE route = ? AND status = ? AND nonce > ? "
            "ORDER BY nonce LIMIT ?", (route, status, after_nonce, limit)).fetchall()
        return [_row(r) for r in rows]

    def message(self, message_id: str) -> StoredMessage | None:
        row = self._db().execute("SELECT * FROM messages WHERE id = ?",
                                 (message_id,)).fetchone()
        return _row(row) if row else None

    def mark(self, ids: Iterable[str], status: str, *, tx: str | None = None,
             reason: str | None = None, gas: int = 0, note: str | None = None) -> None:
        """Set the status of ``ids``; ``gas`` (gasUsed charged to each) is added to what was
        spent on it, ``note`` replaces the relayer's note when given."""
        now = time.time()
        with self._tx() as db:
            for mid in ids:
                db.execute(
                    "UPDATE messages SET status = ?, attempts = attempts + 1,"
                    " delivered_tx = COALESCE(?, delivered_tx), reason = COALESCE(?, reason),"
                    " gas_spent = gas_spent + ?, note = COALESCE(?, note),"
                    " delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END"
                    " WHERE id = ?", (status, tx, reason, gas, note, status, now, mid))

    def failed(self, message_id: str, *, tx: str, reason: str, gas: int,
               recipient_gas: int) -> None:
        """A delivery or retry of ``message_id`` failed at its recipient: one more try, ``gas``
        charged to it, ``recipient_gas`` what the recipient was given; the note is cleared
        (the failure is new: the relayer looks at it again)."""
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET status = 'failed', attempts = attempts + 1,"
                " tries = tries + 1, delivered_tx = ?, reason = ?, gas_spent = gas_spent + ?,"
                " last_gas = ?, note = NULL WHERE id = ?",
                (tx, reason, gas, recipient_gas, message_id))

    def annotate(self, message_id: str, note: str, *, tries: int = 0,
                 status: str | None = None) -> None:
        """Record the relayer's ``note`` on a message, count ``tries`` more (a simulated try
        that failed) and, when given, move it to ``status`` (``gave_up``)."""
        with self._tx() as db:
            db.execute("UPDATE messages SET note = ?, tries = tries + ?,"
                       " status = COALESCE(?, status) WHERE id = ?",
                       (note, tries, status, message_id))

    def reopen(self, message_id: str) -> StoredMessage | None:
        """Hand a message the relayer gave up on back to it, with a fresh gas budget and
        tries (a person fixed the recipient, or accepts the cost); None unless given up."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM messages WHERE id = ? AND status = 'gave_up'",
                             (message_id,)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE messages SET status = 'failed', tries = 0, gas_spent = 0,"
                       " note = ? WHERE id = ?",
                       (f"reopened by hand after: {row['note']} ({row['gas_spent']:,} gas spent "
                        "before)", message_id))
        return _row(row)

    def routes(self, origin_chain: int) -> list[str]:
        rows = self._db().execute(
            "SELECT DISTINCT route FROM messages WHERE origin_chain = ?", (origin_chain,))
        return [str(r["route"]) for r in rows]

    def max_nonce(self, origin_chain: int) -> int:
        row = self._db().execute(
            "SELECT MAX(nonce) AS n FROM messages WHERE origin_chain = ?"
            " AND status != 'orphaned'", (origin_chain,)).fetchone()
        return -1 if row is None or row["n"] is None else int(row["n"])

    def window_ids(self, route: str, lo: int, hi: int) -> list[str]:
        """Ids of the messages of ``route`` with ``lo <= nonce < hi`` (orphans excluded), by
        nonce: a window's members, as signed."""
        rows = self._db().execute(
            "SELECT id FROM messages WHERE route = ? AND nonce >= ? AND nonce < ?"
            " AND status != 'orphaned' ORDER BY nonce", (route, lo, hi)).fetchall()
        return [str(r[0]) for r in rows]

    def signed_windows(self, route: str, signer: str) -> int:
        """The highest window of ``route`` that ``signer`` attested, or -1."""
        prefix = f"window:{route}:"
        rows = self._db().execute(
            "SELECT id FROM attestations WHERE signer = ? AND id LIKE ? AND id NOT LIKE '%:ids'",
            (signer, prefix + "%"))
        return max((int(str(r["id"])[len(prefix):]) for r in rows), default=-1)

    def unsigned_since(self, route: str, signer: str, min_nonce: int,
                       seen_before: float) -> list[StoredMessage]:
        """Undelivered messages of ``route`` (pending, or held back unpaid by a relayer's fee
        policy: anyone may still deliver them) from ``min_nonce`` on, older than
        ``seen_before``, that ``signer`` has not attested singly."""
        rows = self._db().execute(
            "SELECT m.* FROM messages m WHERE m.route = ? AND m.nonce >= ?"
            " AND m.status IN ('pending', 'unpaid') AND m.seen_at <= ? AND NOT EXISTS"
            " (SELECT 1 FROM attestations a WHERE a.id = m.id AND a.signer = ?)"
            " ORDER BY m.nonce", (route, min_nonce, seen_before, signer)).fetchall()
        return [_row(r) for r in rows]

    def ids(self, status: str) -> list[str]:
        """Ids of the messages in ``status``, by route and nonce."""
        rows = self._db().execute(
            "SELECT id FROM messages WHERE status = ? ORDER BY route, nonce", (status,))
        return [str(r["id"]) for r in rows]

    def counts(self, route: str | None = None) -> dict[str, int]:
        """Messages by status: all of them, or those of one ``route``."""
        if route is None:
            rows = self._db().execute(
                "SELECT status, COUNT(*) AS n FROM messages GROUP BY status")
        else:
            rows = self._db().execute(
                "SELECT status, COUNT(*) AS n FROM messages WHERE route = ? GROUP BY status",
                (route,))
        return {str(r["status"]): int(r["n"]) for r in rows}

    def latencies(self) -> list[float]:
        rows = self._db().execute(
            "SELECT delivered_at - seen_at AS l FROM messages WHERE status = 'delivered'")
        return [float(r["l"]) for r in rows]


def _row(r: sqlite3.Row) -> StoredMessage:
    return StoredMessage(id=r["id"], route=r["route"], origin_chain=r["origin_chain"],
                         dest_chain=r["dest_chain"], nonce=r["nonce"], block=r["block"],
                         block_hash=r["block_hash"], tx=r["tx"], body=json.loads(r["body"]),
                         status=r["status"], attempts=r["attempts"], seen_at=r["seen_at"],
                         reason=r["reason"], gas_spent=r["gas_spent"], tries=r["tries"],
                         last_gas=r["last_gas"], note=r["note"])
