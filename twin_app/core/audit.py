"""The audit log: every operator action with who, when, and the state before and after; tamper-evident.

SQLite in WAL mode with synchronous=FULL: once `record` returns, the entry survives a crash or a power loss.
Each entry carries the hash of the one before it, from a genesis recorded when the log was created, and the last
entry's (seq, hash) is recorded beside the table in the same transaction: `verify` finds an entry changed, removed
or inserted, and entries deleted from the end. (Anyone who can write the file can also recompute the whole chain:
the last hash that `verify` prints, noted elsewhere, is what proves a later file is the same log continued.)
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from twin_app.core.database import (
    AUDIT_INSERT,
    EngineDatabase,
    audit_tail,
    connect,
    entry_hash,
    genesis_hash,
    prepare_audit,
    write_audit,
)
from twin_app.core.errors import InputError

__all__ = ["AUDIT_INSERT", "AuditLog", "VerifyResult", "clean", "open_readonly", "verify"]

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
        self.console = clean(console)
        if isinstance(path, EngineDatabase):
            self.path = path.path
            self._lock = path.lock
            self._db = path.connection
        else:
            self.path = Path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = threading.RLock()
            self._db = connect(self.path)
        with self._lock:
            prepare_audit(self._db)
            self._last = audit_tail(self._db)  # (seq, hash) of the last entry made, written or buffered
        self.buffer: list[tuple] | None = None  # when a list: entries wait there for the engine's commit

    def _row(self, last: tuple[int, str], ts: float, operator: str, console: str, action: str, target: str,
             before: str | None, after: str | None, outcome: str) -> tuple:
        seq = last[0] + 1
        digest = entry_hash(seq, ts, operator, console, action, target, before, after, outcome, last[1])
        return seq, ts, operator, console, action, target, before, after, outcome, last[1], digest

    def record(self, operator: str, action: str, target: str, before: object = None, after: object = None,
               outcome: str = "ok", ts: float | None = None, console: str | None = None) -> int:
        """Write one entry (committed before returning unless buffered); returns its sequence number, -1 if buffered.

        A buffered entry is chained at once to the last entry made: the buffer's rows are written, in order and
        unchanged, by `EngineDatabase.commit` (again in a later step if a commit fails).
        """
        operator, action, target, outcome = (clean(v) for v in (operator or "?", action, target, outcome))
        console = clean(console) if console else self.console  # the console an operator acted from
        fields = (float(time.time() if ts is None else ts), operator, console, action, target,
                  None if before is None else json.dumps(before, default=str),
                  None if after is None else json.dumps(after, default=str), outcome)
        with self._lock:
            if self.buffer is not None:
                row = self._row(self._last, *fields)
                self._last = (row[0], row[-1])
                self.buffer.append(row)
                return -1
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:  # chained to the later of this log's last entry (buffered ones included) and the file's
                row = self._row(max(self._last, audit_tail(db), key=lambda last: last[0]), *fields)
                write_audit(db, [row])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._last = (row[0], row[-1])
            return int(row[0])

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


_HASH = re.compile(r"[0-9a-f]{64}")
_SELECT = ("SELECT seq, ts, operator, console, action, target, before, after, outcome, prev_hash, hash FROM audit")
# the storage class each column must have: a time stored as text hashes like the number but sorts apart from it
_TYPES = ("SELECT seq, typeof(ts), typeof(operator), typeof(console), typeof(action), typeof(target), "
          "typeof(outcome), typeof(before), typeof(after) FROM audit WHERE seq = ?")
_TEXT_COLUMNS = ("operator", "console", "action", "target", "outcome")


def iso_time(ts: float, timespec: str = "seconds") -> str:
    """A Unix time as ISO 8601 local time with its UTC offset (``2026-11-25T16:00:03+01:00``)."""
    from datetime import datetime

    try:
        return datetime.fromtimestamp(float(ts)).astimezone().isoformat(timespec=timespec)
    except (TypeError, ValueError, OverflowError, OSError):
        return str(ts)


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found.

    Attributes
    ----------
    ok
        True when every entry is chained, in order, from the genesis to the recorded last entry.
    entries
        Entries found intact, in seq order (all of them when ``ok``).
    kind
        The first fault: ``"changed"``, ``"removed"`` or ``"inserted"`` (None when ``ok``).
    seq
        The entry it concerns (for a removed one, the first seq missing).
    ts, action, target
        That entry's time, action and target, when it is in the file.
    reason
        The fault in words, naming its neighbours for a removed entry.
    genesis
        The recorded genesis (``nonce``, ``created``), ``chained_from_seq`` the first seq of the chain, and
        ``chained_at_upgrade`` the entries written before the chain existed and chained when the file was upgraded.
    last_seq, last_hash
        The last intact entry (the genesis hash and ``chained_from_seq - 1`` while the log is empty): note them
        elsewhere to prove later that a file is this log continued, not rewritten.
    """

    ok: bool
    entries: int
    kind: str | None = None
    seq: int | None = None
    ts: float | None = None
    action: str | None = None
    target: str | None = None
    reason: str = ""
    genesis: dict | None = None
    chained_from_seq: int | None = None
    chained_at_upgrade: dict | None = None
    last_seq: int | None = None
    last_hash: str | None = None


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to a file with an audit table.

    Raises
    ------
    InputError
        The file is missing, unreadable, not a SQLite database, or holds no audit table.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise InputError(str(path), f"cannot be opened ({exc})") from None
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        db.close()
        raise InputError(str(path), f"cannot be read as a SQLite database ({exc})") from None
    if "audit" not in tables:
        db.close()
        raise InputError(str(path), "holds no audit log (no audit table)")
    return db


def _neighbour(row: tuple | None) -> str:
    return "the start of the chain" if row is None else f"seq {row[0]} ({iso_time(row[1])}, {row[4]})"


def _walk(db: sqlite3.Connection, meta: dict) -> VerifyResult:
    genesis = meta.get("genesis")
    first = meta.get("chained_from_seq", 1)
    tail = meta.get("tail")
    facts = {"genesis": genesis if isinstance(genesis, dict) else None,
             "chained_from_seq": first if isinstance(first, int) else None,
             "chained_at_upgrade": meta.get("chained_at_upgrade")}
    try:
        start = genesis_hash(genesis)  # type: ignore[arg-type]
    except (TypeError, KeyError, ValueError):
        return VerifyResult(False, 0, "changed", None, reason="the genesis of the chain is not recorded "
                            "(audit_meta 'genesis' is missing or damaged)", **facts)
    if not isinstance(first, int):
        return VerifyResult(False, 0, "changed", None, reason="the first seq of the chain is not recorded "
                            "(audit_meta 'chained_from_seq' is missing or damaged)", **facts)
    anchor = (tail.get("seq"), tail.get("hash")) if isinstance(tail, dict) else None
    expected_seq, expected_prev, prev, n = first, start, None, 0

    def fault(kind: str, reason: str, row: tuple | None = None, seq: int | None = None) -> VerifyResult:
        if row is not None:
            return VerifyResult(False, n, kind, row[0], row[1], row[4], row[5], reason, **facts,
                                last_seq=expected_seq - 1, last_hash=expected_prev)
        return VerifyResult(False, n, kind, seq, reason=reason, **facts, last_seq=expected_seq - 1,
                            last_hash=expected_prev)

    rows: Iterator[tuple] = db.execute(_SELECT + " ORDER BY seq")
    for row in rows:
        seq, prev_hash, digest = row[0], row[9], row[10]
        if not isinstance(seq, int):
            return fault("inserted", "its seq is not a whole number", row)
        if prev is not None and seq == prev[0]:
            return fault("inserted", f"a second entry with seq {seq}", row)
        if seq < expected_seq:
            return fault("inserted", f"it comes before the first entry of the chain (seq {first})", row)
        if not isinstance(digest, str) or not _HASH.fullmatch(digest):
            return fault("inserted", "it has no valid hash: it was not written by the audit log", row)
        if seq > expected_seq:
            gone = f"seq {expected_seq}" if seq == expected_seq + 1 else f"seq {expected_seq} to {seq - 1}"
            return fault("removed", f"{gone} missing, between {_neighbour(prev)} and {_neighbour(row)}",
                         seq=expected_seq)
        kinds = db.execute(_TYPES, (seq,)).fetchone()
        odd = ["ts"] if kinds[1] != "real" else []
        odd += [name for name, kind in zip(_TEXT_COLUMNS, kinds[2:7], strict=True) if kind != "text"]
        odd += [name for name, kind in zip(("before", "after"), kinds[7:9], strict=True)
                if kind not in ("text", "null")]
        if odd:
            return fault("changed", f"stored with the wrong type ({', '.join(odd)}): it was edited", row)
        try:
            content = entry_hash(*row[:10])
        except (TypeError, ValueError):
            content = None
        if content != digest:
            if anchor is not None and isinstance(anchor[0], int) and seq > anchor[0]:
                return fault("inserted", f"it comes after the last entry recorded (seq {anchor[0]}) and its hash "
                             "does not match its content", row)
            return fault("changed", "its content does not match its hash", row)
        if prev_hash != expected_prev:
            if prev is None:
                return fault("changed", "it is not chained to the recorded genesis: the start of the log was "
                             "replaced", row)
            earlier = db.execute("SELECT seq FROM audit WHERE hash = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
                                 (prev_hash, prev[0])).fetchone()
            if earlier is not None:
                after = db.execute(_SELECT + " WHERE seq > ? ORDER BY seq LIMIT 1", (earlier[0],)).fetchone()
                return fault("inserted", f"it is not in the chain: seq {seq} is chained to seq {earlier[0]}", after)
            return fault("changed", f"it was rewritten with a new hash: seq {seq} was chained to a different entry",
                         prev)
        expected_seq, expected_prev, prev, n = seq + 1, digest, row, n + 1
    last_seq = expected_seq - 1
    if anchor is None or not isinstance(anchor[0], int):
        return fault("removed", "the record of the last entry (audit_meta 'tail') is missing: entries deleted from "
                     "the end cannot be ruled out")
    if anchor[0] > last_seq:
        gone = f"seq {last_seq + 1}" if anchor[0] == last_seq + 1 else f"seq {last_seq + 1} to {anchor[0]}"
        return fault("removed", f"{gone} deleted from the end: the file records seq {anchor[0]} as its last entry, "
                     f"the log ends at {_neighbour(prev)}", seq=last_seq + 1)
    if anchor[0] < last_seq:
        after = db.execute(_SELECT + " WHERE seq > ? ORDER BY seq LIMIT 1", (anchor[0],)).fetchone()
        return fault("inserted", f"it comes after the last entry recorded (seq {anchor[0]})", after)
    if anchor[1] != expected_prev:
        if prev is None:
            return fault("changed", "the record of the last entry does not match the genesis of an empty log",
                         seq=last_seq)
        return fault("changed", "its hash is not the one recorded for the last entry: it was rewritten", prev)
    return VerifyResult(True, n, **facts, last_seq=last_seq, last_hash=expected_prev)


def verify(path: str | Path) -> VerifyResult:
    """Walk the audit chain of a file in seq order; report the first entry changed, removed or inserted.

    Read-only (the file is never written). An entry whose hash does not match its content was changed; a gap in seq,
    or a recorded last entry beyond the table's end, is a removal; a duplicate seq, a row without a valid hash, an
    entry beyond the recorded last one or chained past its predecessor was inserted.

    Parameters
    ----------
    path
        An audit log's file: the engine's database or a standalone `AuditLog` file.

    Returns
    -------
    VerifyResult
        ``ok``, or the first fault with its seq and reason.

    Raises
    ------
    InputError
        The file cannot be read, holds no audit table, or was never chained (written before the chain existed
        and not opened since).
    """
    db = open_readonly(path)
    try:
        db.execute("BEGIN")  # one consistent snapshot while the engine writes on
        columns = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"prev_hash", "hash"} <= columns or "audit_meta" not in tables:
            raise InputError(str(path), "the audit log is not chained (written before the chain: it is chained "
                                        "when the engine or an AuditLog opens it)")
        meta = {}
        for key, value in db.execute("SELECT key, value FROM audit_meta"):
            try:
                meta[key] = json.loads(value)
            except (TypeError, ValueError):
                meta[key] = None
        return _walk(db, meta)
    except sqlite3.Error as exc:
        raise InputError(str(path), f"cannot be read ({exc})") from None
    finally:
        db.close()
