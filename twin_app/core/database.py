"""The engine's durable state: one SQLite file in the data folder, written once per engine step.

WAL journal and ``synchronous=FULL``: once `EngineDatabase.commit` returns, the step's changes (alarms, orders,
units, pending commands, answered requests, KPI logs, audit entries) survive a killed process or a power loss.
Each step's changes go in one transaction, so a restart sees a step wholly or not at all.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from twin_app.core.errors import InputError

SCHEMA_VERSION = 2  # 2: incidents; the KPI log is kept per incident (a version 1 file is upgraded)
KPI_DAYS = 7  # the KPIs cover the last week; older logs stay in the database, unread
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alarms (id TEXT PRIMARY KEY, key TEXT NOT NULL, live INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alarms_live ON alarms (live);
CREATE TABLE IF NOT EXISTS occurrences (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, open INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (id TEXT PRIMARY KEY, status TEXT NOT NULL, order_id TEXT);
CREATE TABLE IF NOT EXISTS commands (id TEXT PRIMARY KEY, done INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY, ts REAL NOT NULL, answer TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kpi_log (alarm_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (id TEXT PRIMARY KEY, open INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (open);
"""


@dataclass
class Changes:
    """What one engine step changed, to be written in one transaction."""

    alarms: dict[str, dict] = field(default_factory=dict)  # id -> record (with "live")
    occurrences: dict[str, int] = field(default_factory=dict)
    orders: dict[str, dict] = field(default_factory=dict)
    units: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    commands: dict[str, dict] = field(default_factory=dict)  # id -> record (with "done")
    requests: dict[str, tuple[float, dict]] = field(default_factory=dict)
    kpi_log: dict[str, dict] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)
    incidents: dict[str, dict] = field(default_factory=dict)  # id -> record (with "open")

    def merge(self, later: Changes) -> None:
        """Add a later step's changes (the later value of a key wins)."""
        for name in ("alarms", "occurrences", "orders", "units", "commands", "requests", "kpi_log", "meta",
                     "incidents"):
            getattr(self, name).update(getattr(later, name))

    def __bool__(self) -> bool:
        return any((self.alarms, self.occurrences, self.orders, self.units, self.commands, self.requests,
                    self.kpi_log, self.meta, self.incidents))


@dataclass
class Snapshot:
    """Everything a restarted engine takes back."""

    alarms: list[dict]
    occurrences: dict[str, int]
    orders: list[dict]
    units: dict[str, tuple[str, str | None]]
    commands: list[dict]
    requests: dict[str, dict]
    kpi_log: dict[str, dict]
    meta: dict[str, object]
    incidents: list[dict] = field(default_factory=list)


# The audit log's table, hash-chained: each entry carries the hash of the one before it (the first, the hash of the
# genesis recorded in audit_meta), and its own hash over its content and that link (`entry_hash`). audit_meta holds
# the genesis, the first chained seq, and the tail: the last entry's (seq, hash), written in the same transaction as
# the entry, so that entries deleted from the end show (a chain alone cannot tell a short log from a truncated one).
AUDIT_COLUMNS = ("seq", "ts", "operator", "console", "action", "target", "before", "after", "outcome", "prev_hash",
                 "hash")
AUDIT_TABLE = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    operator TEXT NOT NULL,
    console TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT,
    hash TEXT
)
"""
AUDIT_META_TABLE = "CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
AUDIT_INSERT = (f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(AUDIT_COLUMNS))})")
AUDIT_CHAIN_VERSION = 1  # SHA-256 over the JSON list of the entry's fields and the previous hash
_canonical = json.JSONEncoder(separators=(",", ":")).encode  # ASCII-only, one spelling per value (made once: faster)


def entry_hash(seq: int, ts: float, operator: str, console: str, action: str, target: str, before: str | None,
               after: str | None, outcome: str, prev_hash: str) -> str:
    """The hash of one audit entry: SHA-256 (hex) over a canonical serialisation of its fields and the previous hash.

    The serialisation is the compact, ASCII-only JSON list of the fields in this order (``ts`` as a float, ``before``
    and ``after`` as the JSON text stored), so that it reads the same from the row written and from the file.
    """
    text = _canonical([seq, float(ts), operator, console, action, target, before, after, outcome, prev_hash])
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def genesis_hash(genesis: dict) -> str:
    """The hash the first entry of a chain is chained to, from the genesis recorded in audit_meta (nonce, created)."""
    text = _canonical(["genesis", str(genesis["nonce"]), float(genesis["created"])])
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _audit_meta(db: sqlite3.Connection, key: str) -> object:
    row = db.execute("SELECT value FROM audit_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else json.loads(row[0])


def _set_audit_meta(db: sqlite3.Connection, key: str, value: object) -> None:
    db.execute("INSERT OR REPLACE INTO audit_meta VALUES (?, ?)", (key, _dumps(value)))


def prepare_audit(db: sqlite3.Connection) -> None:
    """Create the audit table and its genesis, or upgrade a table written before the chain.

    A table without the ``prev_hash`` and ``hash`` columns gets them, and its entries are chained once, in seq order,
    from a new genesis: ``chained_at_upgrade`` in audit_meta says so (their integrity before then is not vouched for).
    One transaction: a crash leaves the file as it was. Idempotent.

    Parameters
    ----------
    db
        A connection in autocommit mode (``isolation_level=None``), outside a transaction.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(AUDIT_TABLE)
        db.execute(AUDIT_META_TABLE)
        columns = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
        added = [column for column in ("prev_hash", "hash") if column not in columns]
        for column in added:
            db.execute(f"ALTER TABLE audit ADD COLUMN {column} TEXT")
        empty = db.execute("SELECT 1 FROM audit LIMIT 1").fetchone() is None
        fresh = db.execute("SELECT 1 FROM audit_meta LIMIT 1").fetchone() is None and (bool(added) or empty)
        # chained here only when new, or written before the chain existed (its columns just added): a chained file
        # whose hashes and genesis were wiped is never chained again, `verify` reports it
        if fresh:
            now = time.time()
            genesis = {"nonce": secrets.token_hex(16), "created": now}
            rows = db.execute("SELECT seq, ts, operator, console, action, target, before, after, outcome "
                              "FROM audit ORDER BY seq").fetchall()
            first = int(rows[0][0]) if rows else 1
            last_seq, last_hash = first - 1, genesis_hash(genesis)
            links = []
            for row in rows:
                digest = entry_hash(*row, last_hash)
                links.append((last_hash, digest, row[0]))
                last_seq, last_hash = int(row[0]), digest
            db.executemany("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", links)
            _set_audit_meta(db, "chain_version", AUDIT_CHAIN_VERSION)
            _set_audit_meta(db, "genesis", genesis)
            _set_audit_meta(db, "chained_from_seq", first)
            if rows:  # entries written before the chain existed: chained now, as they stand
                _set_audit_meta(db, "chained_at_upgrade", {"at": now, "from_seq": first, "to_seq": last_seq,
                                                           "entries": len(rows)})
            _set_audit_meta(db, "tail", {"seq": last_seq, "hash": last_hash})
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def audit_tail(db: sqlite3.Connection) -> tuple[int, str]:
    """The (seq, hash) the next entry is chained to: the later of the table's last row and the recorded tail.

    The recorded tail wins a tie and a truncated table: entries written after rows were deleted from the end still
    leave a gap that `twin_app.core.audit.verify` reports.
    """
    tail = _audit_meta(db, "tail")
    anchor = (int(tail["seq"]), str(tail["hash"])) if isinstance(tail, dict) else (0, "")
    row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    if row is not None and int(row[0]) > anchor[0]:
        return int(row[0]), str(row[1] or "")
    return anchor


def write_audit(db: sqlite3.Connection, rows: list[tuple] | tuple) -> None:
    """Insert chained audit rows (`AUDIT_COLUMNS`) and move the recorded tail, inside the caller's transaction."""
    db.executemany(AUDIT_INSERT, rows)
    top = max(rows, key=lambda r: r[0])
    tail = _audit_meta(db, "tail")
    if not isinstance(tail, dict) or int(top[0]) > int(tail["seq"]):
        _set_audit_meta(db, "tail", {"seq": top[0], "hash": top[-1]})


def connect(path: Path) -> sqlite3.Connection:
    """A SQLite connection whose commits survive a crash or a power loss (WAL, synchronous=FULL)."""
    connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


def _without(record: dict, key: str) -> dict:
    """The record without its row flag (the record itself stays whole: a failed commit is retried with it)."""
    return {k: v for k, v in record.items() if k != key}


def _dumps(value: object) -> str:
    return json.dumps(value, default=str, separators=(",", ":"))


class EngineDatabase:
    """The durable state of one engine.

    Parameters
    ----------
    path
        The SQLite file (created with its folder when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = connect(self.path)
            self.connection.executescript(SCHEMA)
            row = self.connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except (OSError, sqlite3.DatabaseError) as exc:
            raise InputError(str(self.path), f"the engine's database cannot be opened ({exc})") from None
        if row is None:
            self.connection.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(json.loads(row[0])) == 1:  # alarm-based KPI logs give way to incident-based ones
            with self.connection:
                self.connection.execute("DELETE FROM kpi_log")
                self.connection.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
        elif int(json.loads(row[0])) != SCHEMA_VERSION:
            raise InputError(str(self.path), f"database schema {row[0]} is not {SCHEMA_VERSION}")
        try:
            prepare_audit(self.connection)  # the audit table, chained (a table written before the chain is chained)
        except sqlite3.DatabaseError as exc:
            raise InputError(str(self.path), f"the audit log cannot be opened ({exc})") from None
        self.lock = threading.RLock()  # shared with the audit log on the same connection

    def load(self, answers_kept_s: float = 2 * 86400.0) -> Snapshot:
        """Everything live: alarms not finished, open orders, units, commands not done, recent answered requests.

        Answers older than `answers_kept_s` are deleted first (a redelivered action comes within minutes).
        """
        db = self.connection
        with self.lock:
            db.execute("DELETE FROM requests WHERE ts < ?", (time.time() - answers_kept_s,))
            alarms = [json.loads(b) for (b,) in db.execute("SELECT body FROM alarms WHERE live = 1")]
            occurrences = dict(db.execute("SELECT key, n FROM occurrences").fetchall())
            orders = [json.loads(b) for (b,) in db.execute("SELECT body FROM orders WHERE open = 1 ORDER BY id")]
            units = {u: (s, o) for u, s, o in db.execute("SELECT id, status, order_id FROM units")}
            commands = [json.loads(b) for (b,) in db.execute("SELECT body FROM commands WHERE done = 0")]
            requests = {r: json.loads(a) for r, a in db.execute("SELECT id, answer FROM requests ORDER BY ts")}
            kpi_log = {a: json.loads(b) for a, b in db.execute("SELECT alarm_id, body FROM kpi_log")}
            kpi_log = {a: b for a, b in kpi_log.items() if (b.get("raised") or 0) >= time.time() - KPI_DAYS * 86400}
            meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
            incidents = [json.loads(b) for (b,) in db.execute("SELECT body FROM incidents WHERE open = 1 ORDER BY id")]
        return Snapshot(alarms, occurrences, orders, units, commands, requests, kpi_log, meta, incidents)

    def commit(self, changes: Changes, audit: list[tuple] = ()) -> None:
        """Write one step's changes and its audit rows in one durable transaction."""
        if not changes and not audit:
            return
        db = self.connection
        with self.lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO alarms VALUES (?, ?, ?, ?)",
                               [(i, r["key"], int(r.get("live", True)), _dumps(_without(r, "live")))
                                for i, r in changes.alarms.items()])
                db.executemany("INSERT OR REPLACE INTO occurrences VALUES (?, ?)", list(changes.occurrences.items()))
                db.executemany("INSERT OR REPLACE INTO orders VALUES (?, ?, ?)",
                               [(i, int(r.get("open", True)), _dumps(_without(r, "open")))
                                for i, r in changes.orders.items()])
                db.executemany("INSERT OR REPLACE INTO units VALUES (?, ?, ?)",
                               [(u, s, o) for u, (s, o) in changes.units.items()])
                db.executemany("INSERT OR REPLACE INTO commands VALUES (?, ?, ?)",
                               [(i, int(r.get("done", False)), _dumps(_without(r, "done")))
                                for i, r in changes.commands.items()])
                db.executemany("INSERT OR REPLACE INTO requests VALUES (?, ?, ?)",
                               [(i, ts, _dumps(a)) for i, (ts, a) in changes.requests.items()])
                db.executemany("INSERT OR REPLACE INTO kpi_log VALUES (?, ?)",
                               [(i, _dumps(b)) for i, b in changes.kpi_log.items()])
                db.executemany("INSERT OR REPLACE INTO incidents VALUES (?, ?, ?)",
                               [(i, int(r.get("open", True)), _dumps(_without(r, "open")))
                                for i, r in changes.incidents.items()])
                db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                               [(k, _dumps(v)) for k, v in changes.meta.items()])
                if audit:
                    write_audit(db, audit)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def incident(self, incident_id: str) -> dict | None:
        """An incident's record, open or closed (for reports)."""
        with self.lock:
            row = self.connection.execute("SELECT body FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def answer(self, request: str) -> dict | None:
        """The answer given to a request id, if one was given (beyond what an engine keeps in memory)."""
        with self.lock:
            row = self.connection.execute("SELECT answer FROM requests WHERE id = ?", (request,)).fetchone()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        with self.lock:
            self.connection.close()
