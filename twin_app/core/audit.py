"""The audit log: every operator action with who, when, and the state before and after.

SQLite in WAL mode with synchronous=FULL: once `record` returns, the entry survives a crash or a power loss.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from twin_app.core.database import AUDIT_INSERT, EngineDatabase, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    operator TEXT NOT NULL,
    console TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT,
    outcome TEXT NOT NULL
)
"""


def clean(text: object) -> str:
    """Text that SQLite can store: characters that are not valid Unicode (lone surrogates) are escaped."""
    value = str(text)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


class AuditLog:
    """Append-only, durable record of operator and system actions.

    Parameters
    ----------
    path
        Its own SQLite file, or the engine's database, whose connection it then shares: inside an engine step the
        entries are buffered (`buffer`) and written in the step's transaction.
    console
        The name written in each entry's console column.
    """

    def __init__(self, path: str | Path | EngineDatabase, console: str = "console") -> None:
        self.console = console
        if isinstance(path, EngineDatabase):
            self.path = path.path
            self._lock = path.lock
            self._db = path.connection
        else:
            self.path = Path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = threading.RLock()
            self._db = connect(self.path)
        self._db.execute(SCHEMA)
        self.buffer: list[tuple] | None = None  # when a list: entries wait there for the engine's commit

    def record(self, operator: str, action: str, target: str, before: object = None, after: object = None,
               outcome: str = "ok", ts: float | None = None) -> int:
        """Write one entry (committed before returning unless buffered); returns its sequence number, -1 if buffered."""
        operator, action, target, outcome = (clean(v) for v in (operator or "?", action, target, outcome))
        row = (time.time() if ts is None else ts, operator, self.console, action, target,
               None if before is None else json.dumps(before, default=str),
               None if after is None else json.dumps(after, default=str), outcome)
        if self.buffer is not None:
            self.buffer.append(row)
            return -1
        with self._lock:
            cursor = self._db.execute(AUDIT_INSERT, row)
            return int(cursor.lastrowid)

    def entries(self, target: str | None = None) -> list[dict]:
        """Entries in order, optionally for one target."""
        query = "SELECT seq, ts, operator, console, action, target, before, after, outcome FROM audit"
        args: tuple = ()
        if target is not None:
            query += " WHERE target = ?"
            args = (target,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq", args).fetchall()
        keys = ("seq", "ts", "operator", "console", "action", "target", "before", "after", "outcome")
        out = []
        for row in rows:
            entry = dict(zip(keys, row, strict=True))
            for key in ("before", "after"):
                entry[key] = json.loads(entry[key]) if entry[key] else None
            out.append(entry)
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()
