"""`twin-app export`: a time window of a recording (and some towers) as one Parquet file readable with pandas."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

from twin_app.audit_cli import parse_time
from twin_app.core.errors import InputError
from twin_app.telemetry.recording import JSON_CHANNELS, RecordingReader
from twin_app.telemetry.runtime import RECORDINGS

START_OFFSET_MAX_S = 1e8  # a time below this is seconds from the recording's start, above it a unix time


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin-app export", description="A time window of a recording as one "
                                     "Parquet file: the telemetry (the state at the start, then every change) and the "
                                     "status, event, action and output channels.")
    parser.add_argument("source", type=Path, help="a recording (.mcap), a folder of them, or an engine's data folder")
    parser.add_argument("--from", dest="start", default=None, metavar="T",
                        help="seconds from the recording's start, a unix time or ISO 8601 local time "
                             "(default: the start)")
    parser.add_argument("--to", dest="end", default=None, metavar="T", help="as --from (default: the end)")
    parser.add_argument("--towers", default=None, help="only these towers' devices, e.g. T01,T02")
    parser.add_argument("out", type=Path, help="the Parquet file to write (.parquet)")
    return parser


def _time(text: str | None, origin: float) -> float | None:
    if text is None:
        return None
    value = parse_time(text)
    return origin + value if value < START_OFFSET_MAX_S else value


def export(source: Path, out: Path, start: str | None = None, end: str | None = None,
           towers: list[str] | None = None) -> tuple[int, float, float]:
    """Write the window to `out`; returns (rows, start, end) in unix seconds."""
    if source.is_dir() and (source / RECORDINGS).is_dir():
        source = source / RECORDINGS  # an engine's data folder
    reader = RecordingReader(source)
    known = list(reader.meta.get("buildings", []))
    unknown = [t for t in towers or [] if t not in known]
    if unknown:
        raise InputError("--towers", f"{', '.join(unknown)}: not in the recording (its towers: {', '.join(known)})")
    first, last = reader.span
    t0, t1 = _time(start, first) or first, _time(end, first) or last
    if t1 < t0:
        raise InputError("--from/--to", "the window ends before it starts")
    telemetry = reader.to_frame(t0, t1, towers)
    telemetry.insert(0, "channel", "telemetry")
    frames = [telemetry]
    for channel in JSON_CHANNELS:  # each message as the JSON it was recorded as (no field flattened, null kept)
        messages = list(reader.messages(channel, t0, t1))
        if not messages:
            continue
        rows = pd.DataFrame({"channel": channel.strip("/"), "time": [t for t, _ in messages],
                             "json": [json.dumps(body, default=str) for _, body in messages]})
        frames.append(rows)
    table = pd.concat(frames, ignore_index=True, sort=False).sort_values("time", kind="stable")
    if out.suffix != ".parquet":
        raise InputError(str(out), "the export is written as Parquet: name it .parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out, index=False)
    for problem in reader.damaged:
        print(f"twin-app export: warning: {problem}", file=sys.stderr)
    return len(table), t0, t1


def main(argv: list[str]) -> int:
    logging.getLogger("twin_app.recording").setLevel(logging.ERROR)  # the damage is said once, below
    args = _parser().parse_args(argv)
    towers = [t.strip() for t in args.towers.split(",") if t.strip()] if args.towers else None
    try:
        rows, t0, t1 = export(args.source, args.out, args.start, args.end, towers)
    except (InputError, OSError, ValueError) as exc:
        print(f"twin-app export: {exc}", file=sys.stderr)
        return 2
    print(f"exported {rows:,} rows ({t1 - t0:.0f} s) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
