"""The audit log is hash-chained: an entry changed, removed or inserted in the file is found and named."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.core.test_engine import T0, Port, _actions, _engine, _raise_co, _row
from twin_app.audit_cli import main
from twin_app.core.audit import AuditLog, verify
from twin_app.core.database import Changes, EngineDatabase, entry_hash
from twin_app.core.errors import InputError
from twin_app.core.inbox import Drained

OLD_AUDIT = """
CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, operator TEXT NOT NULL,
    console TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, before TEXT, after TEXT, outcome TEXT NOT NULL)
"""


def _database(tmp_path: Path, steps: int = 4, per_step: int = 5) -> Path:
    """An engine database with 20 entries, written as the engine does: buffered, one commit per step."""
    path = tmp_path / "engine.sqlite"
    database = EngineDatabase(path)
    log = AuditLog(database, console="wall-1")
    for step in range(steps):
        log.buffer = []
        for i in range(per_step):
            n = step * per_step + i
            log.record(f"op-{n % 3}", "ack" if n % 2 else "dispatch", f"A{n}:hi", {"state": "unack_active"},
                       {"state": "ack_active", "n": n}, ts=T0 + n)
        rows, log.buffer = log.buffer, None
        database.commit(Changes(meta={"serial": step}), rows)
    database.close()
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin_app.audit_cli", *args], capture_output=True, text=True,
                          timeout=60)


def _attack(path: Path, *statements: str, params: tuple = ()) -> None:
    db = sqlite3.connect(path)  # what anyone with the file can do
    with db:
        for statement in statements:
            db.execute(statement, params if "?" in statement else ())
    db.close()


def test_an_intact_log_verifies(tmp_path) -> None:
    path = _database(tmp_path)
    result = verify(path)
    assert result.ok and result.entries == 20 and result.last_seq == 20 and result.chained_from_seq == 1
    assert result.chained_at_upgrade is None and len(result.genesis["nonce"]) == 32
    rows = sqlite3.connect(path).execute("SELECT seq, prev_hash, hash FROM audit ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == list(range(1, 21)) and result.last_hash == rows[-1][2]
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, 20))  # each entry carries the previous one's hash
    run = _cli("verify", str(path))
    assert run.returncode == 0, run.stderr
    line = run.stdout.strip()
    assert line.startswith("intact: 20 entries, genesis ") and line.endswith(f"last seq 20 hash {rows[-1][2]}")
    assert "\n" not in line


def _forged_row(path: Path, good_hash: bool) -> None:
    db = sqlite3.connect(path)
    seq, last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    fields = (seq + 1, T0 + 30, "op-0", "wall-1", "ack", "A99:hi", None, None, "ok")
    digest = entry_hash(*fields, last) if good_hash else "0" * 64
    with db:
        db.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*fields, last, digest))
    db.close()


def _rewritten_row(path: Path) -> None:
    """Row 7's operator edited, and its hash recomputed so that the row alone looks right."""
    db = sqlite3.connect(path)
    row = db.execute("SELECT seq, ts, operator, console, action, target, before, after, outcome, prev_hash "
                     "FROM audit WHERE seq = 7").fetchone()
    with db:
        db.execute("UPDATE audit SET operator = 'op-mallory', hash = ? WHERE seq = 7",
                   (entry_hash(row[0], row[1], "op-mallory", *row[3:]),))
    db.close()


ATTACKS = {
    "operator edited": (lambda p: _attack(p, "UPDATE audit SET operator = 'op-mallory' WHERE seq = 7"),
                        "changed", 7, "does not match its hash"),
    "edited, hash recomputed": (_rewritten_row, "changed", 7, "rewritten"),
    "row deleted in the middle": (lambda p: _attack(p, "DELETE FROM audit WHERE seq = 9"), "removed", 9,
                                  "seq 9 missing, between seq 8"),
    "forged row, any hash": (lambda p: _forged_row(p, good_hash=False), "inserted", 21, "after the last entry"),
    "forged row, chained": (lambda p: _forged_row(p, good_hash=True), "inserted", 21, "after the last entry"),
    "forged row without hash": (lambda p: _attack(p, "INSERT INTO audit (seq, ts, operator, console, action, target, "
                                                  "outcome) VALUES (21, 1, 'op-0', 'w', 'ack', 'X', 'ok')"),
                                "inserted", 21, "no valid hash"),
    "last rows deleted": (lambda p: _attack(p, "DELETE FROM audit WHERE seq > 17"), "removed", 18,
                          "seq 18 to 20 deleted from the end"),
    "all rows deleted": (lambda p: _attack(p, "DELETE FROM audit"), "removed", 1, "deleted from the end"),
    "first row deleted": (lambda p: _attack(p, "DELETE FROM audit WHERE seq = 1"), "removed", 1,
                          "between the start of the chain and seq 2"),
    "tail record deleted": (lambda p: _attack(p, "DELETE FROM audit_meta WHERE key = 'tail'"), "removed", None,
                            "audit_meta 'tail'"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_rewritten_log_names_the_first_entry_tampered_with(tmp_path, attack) -> None:
    tamper, kind, seq, words = ATTACKS[attack]
    path = _database(tmp_path)
    tamper(path)
    result = verify(path)
    assert not result.ok and (result.kind, result.seq) == (kind, seq), result
    assert words in result.reason
    run = _cli("verify", str(path))
    assert run.returncode == 1, run.stderr
    line = run.stdout.strip()
    assert line.startswith(f"{kind}: seq {seq}" if seq is not None else f"{kind}: ") and "\n" not in line
    if kind != "removed":  # the entry is in the file: its time and action are named
        assert f"({datetime.fromtimestamp(result.ts).astimezone().isoformat(timespec='seconds')}, " in line
        assert f", {result.action}, " in line


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="no sqlite3 command-line tool")
def test_an_edit_with_the_sqlite3_tool_is_found(tmp_path) -> None:
    path = _database(tmp_path)
    edit = subprocess.run(["sqlite3", str(path), "UPDATE audit SET after = '{\"state\": \"closed\"}' WHERE seq = 12;"],
                          capture_output=True, text=True, timeout=60)
    assert edit.returncode == 0, edit.stderr
    run = _cli("verify", str(path))
    assert run.returncode == 1 and run.stdout.startswith("changed: seq 12 ("), run.stdout


def test_what_cannot_be_read_exits_2(tmp_path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all\x00" * 100)
    empty = tmp_path / "other.sqlite"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    for path in (junk, empty, tmp_path / "missing.sqlite"):
        run = _cli("verify", str(path))
        assert run.returncode == 2 and run.stdout == "" and len(run.stderr.strip().splitlines()) == 1, run
        with pytest.raises(InputError):
            verify(path)
    assert main(["verify", str(junk)]) == 2 and main([]) == 2


def test_a_failed_commit_retried_in_the_next_step_keeps_the_chain(small_index, tmp_path) -> None:
    row = _row(small_index, "T01-B1-GZA-CO1-co")
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    real = engine.database.commit
    failures = {"left": 0}

    def flaky(changes, audit=()) -> None:  # the disk refuses writes for a while
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        real(changes, audit)

    engine.database.commit = flaky
    alarm_id = _raise_co(engine, row, T0)
    failures["left"] = 2
    engine.step(_actions(("ack", {"request": "r1", "operator": "op-li", "console": "c1", "alarm_id": alarm_id})),
                T0 + 10)  # not written
    engine.step(_actions(("comment", {"request": "r2", "operator": "op-li", "console": "c1", "alarm_id": alarm_id,
                                      "text": "fans on"})), T0 + 11)  # not written either
    assert engine.errors["database"] == 2
    engine.step(_actions(("ack", {"request": "r3", "operator": "op-wu", "console": "c1", "alarm_id": alarm_id})),
                T0 + 12)  # both earlier steps go first, in this transaction
    entries = engine.audit.entries()
    assert [e["operator"] for e in entries[-3:]] == ["op-li", "op-li", "op-wu"]
    engine.database.close()
    result = verify(tmp_path / "engine.sqlite")
    assert result.ok and result.entries == len(entries) and result.last_seq == entries[-1]["seq"], result


def test_an_entry_written_while_a_step_waits_for_its_retry_keeps_the_chain(tmp_path) -> None:
    database = EngineDatabase(tmp_path / "engine.sqlite")
    log = AuditLog(database)
    log.buffer = []
    log.record("op-li", "ack", "A1:hi")
    waiting, log.buffer = log.buffer, None  # the commit fails: the engine holds the rows
    seq = log.record("op-li", "comment", "A1:hi")  # written at once, after the waiting ones in the chain
    assert seq == 2
    assert verify(database.path).kind == "removed"  # seq 1 is not in the file yet
    log.buffer = []
    log.record("op-wu", "ack", "A2:hi")
    database.commit(Changes(), waiting + log.buffer)
    log.buffer = None
    result = verify(database.path)
    assert result.ok and result.entries == 3 and result.last_seq == 3, result


def test_a_real_engine_and_a_restart_continue_the_chain(small_index, tmp_path) -> None:
    row = _row(small_index, "T01-B1-GZA-CO1-co")
    engine = _engine(small_index, tmp_path)
    alarm_id = _raise_co(engine, row, T0)
    engine.step(_actions(("ack", {"request": "r1", "operator": "op-li", "console": "c1", "alarm_id": alarm_id}),
                         ("dispatch", {"request": "r2", "operator": "op-li", "console": "c1", "alarm_id": alarm_id,
                                       "unit": "PM-1"})), T0 + 10)
    before = engine.audit.entries()
    assert len(before) >= 2
    engine.database.close()
    first = verify(tmp_path / "engine.sqlite")
    assert first.ok and first.entries == len(before)
    again = _engine(small_index, tmp_path)
    again.step(Drained.empty(), T0 + 20)
    again.step(_actions(("comment", {"request": "r3", "operator": "op-wu", "console": "c1", "alarm_id": alarm_id,
                                     "text": "on site"})), T0 + 30)
    after = again.audit.entries()
    assert len(after) > len(before) and [e["seq"] for e in after] == list(range(1, len(after) + 1))
    again.database.close()
    result = verify(tmp_path / "engine.sqlite")
    assert result.ok and result.entries == len(after) and result.genesis == first.genesis, result
    db = sqlite3.connect(tmp_path / "engine.sqlite")
    link = db.execute("SELECT prev_hash FROM audit WHERE seq = ?", (len(before) + 1,)).fetchone()[0]
    assert link == first.last_hash  # the restarted engine chained on from the file's last entry


def test_the_standalone_log_chains_across_a_reopen(tmp_path) -> None:
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path, console="wall-1")
    assert [log.record("op-li", "ack", f"A{i}:hi", {"state": "unack"}, {"state": "ack"}) for i in range(3)] == [1, 2, 3]
    log.close()
    log = AuditLog(path)
    assert log.record("op-li", "dispatch", "A1:hi", outcome="refused: unit busy") == 4
    assert [e["action"] for e in log.entries("A1:hi")] == ["ack", "dispatch"]
    log.close()
    result = verify(path)
    assert result.ok and result.entries == 4
    assert main(["verify", str(path)]) == 0


def test_entries_deleted_from_the_end_stay_found_after_a_restart(tmp_path) -> None:
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path)
    for i in range(5):
        log.record("op-li", "ack", f"A{i}:hi")
    log.close()
    _attack(path, "DELETE FROM audit WHERE seq >= 4")
    log = AuditLog(path)  # the log goes on from the recorded last entry: the gap stays
    assert log.record("op-li", "ack", "A9:hi") == 6
    log.close()
    result = verify(path)
    assert (result.ok, result.kind, result.seq) == (False, "removed", 4) and "seq 4 to 5 missing" in result.reason


def _old_file(path: Path, meta_schema: bool) -> None:
    """A file written before the chain: an audit table without prev_hash and hash."""
    db = sqlite3.connect(path)
    with db:
        db.execute(OLD_AUDIT)
        if meta_schema:  # the engine's database, schema 2
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT INTO meta VALUES ('schema', '2')")
        db.executemany("INSERT INTO audit (ts, operator, console, action, target, before, after, outcome) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [(T0 + i, "op-li", "engine", "ack", f"A{i}:hi", json.dumps({"s": i}), None, "ok")
                        for i in range(6)])
    db.close()


@pytest.mark.parametrize("engine_file", [True, False])
def test_a_file_written_before_the_chain_is_chained_once_at_upgrade(tmp_path, engine_file) -> None:
    path = tmp_path / "engine.sqlite"
    _old_file(path, meta_schema=engine_file)
    with pytest.raises(InputError, match="not chained"):
        verify(path)  # verify reads only: it upgrades nothing
    assert main(["verify", str(path)]) == 2
    if engine_file:
        database = EngineDatabase(path)
        log = AuditLog(database)
    else:
        log = AuditLog(path)
    result = verify(path)
    assert result.ok and result.entries == 6 and result.chained_from_seq == 1
    assert result.chained_at_upgrade["from_seq"] == 1 and result.chained_at_upgrade["to_seq"] == 6
    log.record("op-wu", "dispatch", "A1:hi")
    log.close()
    if engine_file:
        again = EngineDatabase(path)  # opening again chains nothing twice
        again.close()
    result = verify(path)
    assert result.ok and result.entries == 7 and result.last_seq == 7
    run = _cli("verify", str(path))
    assert run.returncode == 0 and "seq 1-6 written before the chain, chained at upgrade" in run.stdout
    assert len(AuditLog(path).entries()) == 7


def test_export_writes_the_window_as_csv(tmp_path) -> None:
    path = _database(tmp_path)
    out = tmp_path / "window.csv"
    start = datetime.fromtimestamp(T0 + 5).isoformat(timespec="seconds")  # local time, as an inspector types it
    run = _cli("export", str(path), "--from", start, "--to", str(T0 + 9), str(out))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"exported 5 entries (seq 6-10) to {out}; chain intact"
    table = pd.read_csv(out)
    assert list(table.columns) == ["seq", "time", "operator", "console", "action", "target", "before", "after",
                                   "outcome", "hash"]
    assert table["seq"].tolist() == [6, 7, 8, 9, 10]
    assert [datetime.fromisoformat(t).timestamp() for t in table["time"]] == [T0 + n for n in range(5, 10)]
    assert json.loads(table["after"].iloc[0]) == {"state": "ack_active", "n": 5}
    assert table["console"].eq("wall-1").all() and table["hash"].str.fullmatch("[0-9a-f]{64}").all()
    assert main(["export", str(path), str(tmp_path / "all.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "all.csv")) == 20
    assert main(["export", str(path), "--from", "next tuesday", str(tmp_path / "x.csv")]) == 2
    _attack(path, "UPDATE audit SET operator = 'op-mallory' WHERE seq = 7")
    run = _cli("export", str(path), "--from", str(T0), "--to", str(T0 + 3), str(out))
    assert run.returncode == 0 and "chain NOT intact (changed: seq 7" in run.stdout


def test_a_time_stored_as_text_is_found_though_it_hashes_like_the_number(tmp_path) -> None:
    path = _database(tmp_path)
    ts = sqlite3.connect(path).execute("SELECT ts FROM audit WHERE seq = 3").fetchone()[0]
    _attack(path, "UPDATE audit SET ts = ? WHERE seq = 3", params=(f"{ts:_}",))  # hides it from time windows
    result = verify(path)
    assert not result.ok and result.kind == "changed" and result.seq == 3 and "wrong type (ts)" in result.reason


def test_a_wiped_chain_is_not_chained_again_when_the_engine_opens_it(tmp_path) -> None:
    path = _database(tmp_path)
    _attack(path, "UPDATE audit SET operator = 'someone-else' WHERE seq = 2",
            "UPDATE audit SET prev_hash = NULL, hash = NULL", "DELETE FROM audit_meta")
    EngineDatabase(path).close()  # the engine starts on the file: it must not launder the edit into a new chain
    result = verify(path)
    assert not result.ok and "genesis of the chain is not recorded" in result.reason
