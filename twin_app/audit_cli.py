"""``twin-app audit``: check that an audit log was not rewritten, and export a time window for an inspector.

``twin-app audit verify FILE``
    Exit 0 and one line ``intact: N entries, genesis …``; exit 1 and one line naming the first entry changed,
    removed or inserted (its seq, time and action); exit 2 when the file cannot be read or holds no audit log.
``twin-app audit export FILE [--from T] [--to T] OUT.csv``
    The entries with ``from <= time <= to`` (T: Unix seconds or ISO 8601, local time unless it says its offset:
    ``2026-11-25T16:00``) as CSV: seq, time (ISO 8601 local, with its offset), operator, console, action, target,
    before, after, outcome, hash. The line printed says whether the chain is intact.

The file is only read, never written: the engine may run on meanwhile.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from datetime import datetime
from pathlib import Path

from twin_app.core.audit import VerifyResult, iso_time, open_readonly, verify
from twin_app.core.errors import InputError

CSV_COLUMNS = ("seq", "time", "operator", "console", "action", "target", "before", "after", "outcome", "hash")


def parse_time(text: str) -> float:
    """Unix seconds from ``1795618800`` or ISO 8601 (``2026-11-25T16:00``: local time unless it has an offset).

    Raises
    ------
    ValueError
        Neither a number nor an ISO 8601 date and time.
    """
    try:
        value = float(text)
    except ValueError:
        try:
            return datetime.fromisoformat(text.strip()).timestamp()  # naive: local time
        except ValueError:
            raise ValueError(f"{text!r} is neither Unix seconds nor ISO 8601 (2026-11-25T16:00)") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a time")
    return value


def fault_line(result: VerifyResult) -> str:
    """The one line for a log that is not intact: the fault, the entry's seq, time and action, and why."""
    where = "" if result.seq is None else f" seq {result.seq}"
    if result.ts is not None:
        where += f" ({iso_time(result.ts)}, {result.action}, {result.target})"
    return f"{result.kind}:{where}: {result.reason}" if where else f"{result.kind}: {result.reason}"


def intact_line(result: VerifyResult) -> str:
    """The one line for an intact log: its entries, genesis, last (seq, hash), and what was chained at an upgrade."""
    genesis = result.genesis or {}
    line = (f"intact: {result.entries} entries, genesis {iso_time(genesis.get('created', 0.0))} "
            f"nonce {str(genesis.get('nonce', ''))[:8]}, last seq {result.last_seq} hash {result.last_hash}")
    upgrade = result.chained_at_upgrade
    if isinstance(upgrade, dict):
        line += (f"; seq {upgrade.get('from_seq')}-{upgrade.get('to_seq')} written before the chain, chained at "
                 f"upgrade {iso_time(upgrade.get('at', 0.0))}")
    return line


def _verify(args: argparse.Namespace) -> int:
    result = verify(args.file)
    if result.ok:
        print(intact_line(result))
        return 0
    print(fault_line(result))
    return 1


def _export(args: argparse.Namespace) -> int:
    try:
        start = -math.inf if args.start is None else parse_time(args.start)
        end = math.inf if args.end is None else parse_time(args.end)
    except ValueError as exc:
        raise InputError("--from/--to", str(exc)) from None
    if end < start:
        raise InputError("--from/--to", "the window ends before it starts")
    db = open_readonly(args.file)
    try:
        rows = db.execute("SELECT seq, ts, operator, console, action, target, before, after, outcome, hash "
                          "FROM audit WHERE ts >= ? AND ts <= ? ORDER BY seq",
                          (max(start, -1e300), min(end, 1e300))).fetchall()
    except Exception as exc:  # sqlite3.Error, or a table without the chain's columns
        raise InputError(str(args.file), f"cannot be read ({exc})") from None
    finally:
        db.close()
    out = Path(args.out)
    try:
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            for seq, ts, *rest in rows:
                writer.writerow([seq, iso_time(ts, "milliseconds"), *rest])
    except OSError as exc:
        raise InputError(str(out), f"cannot be written ({exc.strerror or exc})") from None
    try:
        result = verify(args.file)
        chain = "chain intact" if result.ok else f"chain NOT intact ({fault_line(result)})"
    except InputError as exc:
        chain = f"chain not verified ({exc.what})"
    span = f"seq {rows[0][0]}-{rows[-1][0]}" if rows else "none"
    print(f"exported {len(rows)} entries ({span}) to {out}; {chain}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin-app audit", description="Check or export an audit log.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="check that no entry was changed, removed or inserted")
    check.add_argument("file", help="the engine's database (engine.sqlite) or an audit log file")
    check.set_defaults(run=_verify)
    export = sub.add_parser("export", help="a time window of the log as CSV")
    export.add_argument("file", help="the engine's database (engine.sqlite) or an audit log file")
    export.add_argument("out", help="the CSV file to write")
    export.add_argument("--from", dest="start", metavar="T", help="first time: Unix seconds or 2026-11-25T16:00")
    export.add_argument("--to", dest="end", metavar="T", help="last time: Unix seconds or 2026-11-25T17:00")
    export.set_defaults(run=_export)
    return parser


def main(argv: list[str]) -> int:
    """Run ``twin-app audit`` with the arguments after ``audit``; returns the exit status (0, 1 or 2)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help (0)
        return int(exc.code or 0)
    try:
        return int(args.run(args))
    except InputError as exc:
        print(f"twin-app audit {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
