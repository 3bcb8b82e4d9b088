"""The engine's durable state: one SQLite file in the data folder, written once per engine step.

WAL journal and ``synchronous=FULL``: once `EngineDatabase.commit` returns, the step's changes (alarms, orders,
units, pending commands, answered requests, KPI logs, audit entries) survive a killed process or a power loss.
Each step's changes go in one transaction, so a restart sees a step wholly or not at all.
"""

from __future__ import annotations

import json
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


AUDIT_INSERT = ("INSERT INTO audit (ts, operator, console, action, target, before, after, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


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
                    db.executemany(AUDIT_INSERT, audit)
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
