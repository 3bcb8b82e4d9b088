"""`twin-app replay`: the console on a recording (replay or training), or the state at one instant as JSON."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from twin_app.audit_cli import parse_time
from twin_app.core.errors import InputError
from twin_app.telemetry.recording import RecordingReader
from twin_app.telemetry.runtime import RECORDINGS

if TYPE_CHECKING:
    from twin_app.core.devices import DeviceIndex

EXIT_BAD_INPUT = 2
START_OFFSET_MAX_S = 1e8  # a time below this is seconds from the recording's start, above it a unix time


def add_presentation_options(parser: argparse.ArgumentParser) -> None:
    """Wall mode, screen, language and theme of a console window (the console and the replay)."""
    parser.add_argument("--wall", action="store_true",
                        help="wall mode: full screen on the wall's monitor, panels sized for reading from 5 m (F11 "
                             "switches)")
    parser.add_argument("--screen", metavar="NAME", default=None,
                        help="the monitor wall mode fills, by the name the system gives it (default: "
                             "console.wall_screen of the configuration files, else the one last used, else the "
                             "primary); an absent screen falls back to the primary with a message")
    parser.add_argument("--lang", choices=("zh_CN", "en"), default=None,
                        help="language of the console (default: console.language of the configuration files, else "
                             "the one last chosen, else the system's)")
    parser.add_argument("--theme", choices=("dark", "light"), default=None,
                        help="dark (control room, the default) or light (office PC)")



def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="twin-app replay",
        description="Replay a recording in the console (as it happened, or re-evaluated with today's rules), train "
                    "on it (--training: nothing leaves the console), or print the state at one instant "
                    "(--at SECONDS --json, no window).")
    p.add_argument("source", type=Path, help="a recording (.mcap), a folder of them, or an engine's data folder")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--training", action="store_true",
                      help="train on it: act as in live operation; scored against the historic response")
    mode.add_argument("--re-evaluate", action="store_true", help="run today's rules on the recorded telemetry")
    p.add_argument("--at", metavar="T", help="seconds from the recording's start, a unix time or ISO 8601 time")
    p.add_argument("--json", action="store_true", help="with --at: print the state at that instant, no window")
    p.add_argument("--ifc", type=Path, help="the model (default: the one the recording names)")
    p.add_argument("--registry", type=Path, help="device registry (default: devices.parquet beside the model)")
    p.add_argument("--trainee", default=None, help="the trainee's name in the report (default: your user name)")
    p.add_argument("--speed", type=float, default=None, help="start playing at this speed (0.5 to 60)")
    p.add_argument("--screenshot", type=Path, help="save the window as PNG once the instant is drawn, then exit")
    p.add_argument("--size", default="1920x1080", help="window size (default 1920x1080)")
    add_presentation_options(p)
    return p


def open_source(source: Path) -> tuple[RecordingReader, Path]:
    """The recording at `source` (a file, a folder of files, or an engine's data folder)."""
    if source.is_dir() and (source / RECORDINGS).is_dir():
        source = source / RECORDINGS
    return RecordingReader(source), source


def model_of(reader: RecordingReader, ifc: Path | None) -> tuple[Path | None, dict]:
    """The IFC file (None: the generated district) and district arguments the recording was made on.

    Raises
    ------
    InputError
        The recording names an IFC file that is not there.
    """
    if ifc is not None:
        return ifc, {}
    described = reader.meta.get("model") if isinstance(reader.meta.get("model"), dict) else {}
    if isinstance(described.get("ifc"), str):
        path = Path(described["ifc"])
        if not path.is_file():
            raise InputError(str(reader.paths[0]), f"recorded on the model {path}, which is not here: give --ifc")
        return path, {}
    district = described.get("district") if isinstance(described.get("district"), dict) else {}
    args = {"towers": 19, "seed": 20261124, "storeys": None}
    for key in args:
        value = district.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**9:
            args[key] = value
    return None, args


def instant(text: str | None, reader: RecordingReader) -> float | None:
    """--at as a unix time inside the recording."""
    if text is None:
        return None
    first, last = reader.span
    try:
        value = parse_time(text)
    except ValueError as exc:
        raise InputError("--at", str(exc)) from None
    t = first + value if value < START_OFFSET_MAX_S else value
    if not math.isfinite(t) or t < first - 1e-6 or t > last + 1e-6:
        raise InputError("--at", f"{text}: outside the recording ({last - first:.0f} s long, from {first:.0f} to "
                                 f"{last:.0f})")
    return t


def state_json(args: argparse.Namespace, reader: RecordingReader, t: float) -> dict:
    """The state at `t`, without a window."""
    from twin_app.bim.district_cache import ensure_district
    from twin_app.telemetry.replay import ReplaySession

    ifc, district = model_of(reader, args.ifc)
    if ifc is None:
        generated = ensure_district(**district)
        ifc, registry = generated.ifc_path, args.registry or generated.registry_path
    else:
        registry = args.registry or ifc.with_name("devices.parquet")
    index = load_index(ifc, registry)
    mode = "training" if args.training else "re_evaluate" if args.re_evaluate else "as_recorded"
    session = ReplaySession(reader, index, mode)
    session.seek(t)
    out = session.state_json()
    if reader.damaged:
        out["damaged"] = [str(e) for e in reader.damaged]
    return out


def main(argv: list[str]) -> int:
    logging.getLogger("twin_app.recording").setLevel(logging.ERROR)  # the damage is said once, below
    args = _parser().parse_args(argv)
    try:
        reader, source = open_source(args.source)
        t = instant(args.at, reader)
        if args.speed is not None and not 0.5 <= args.speed <= 60:
            raise InputError("--speed", f"{args.speed}: between 0.5 and 60")
        if args.json:
            if t is None:
                raise InputError("--json", "needs --at SECONDS: the instant whose state is printed")
            for problem in reader.damaged:
                print(f"twin-app: warning: {problem} (the rest is replayed)", file=sys.stderr)
            print(json.dumps(state_json(args, reader, t)))
            return 0
        ifc, district = model_of(reader, args.ifc)
    except InputError as exc:
        print(f"twin-app: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for problem in reader.damaged:
        print(f"twin-app: warning: {problem} (the rest is replayed)", file=sys.stderr)
    from twin_app.ui.app import run_replay_console

    return run_replay_console(args, source, ifc, district, t)


def load_index(ifc: Path, registry: Path) -> DeviceIndex:
    """A model (through the loader and its cache) and its device registry, joined."""
    from twin_app.bim.loader import load_model
    from twin_app.core.devices import DeviceIndex
    from twin_app.core.registry import read_registry

    return DeviceIndex(read_registry(registry), load_model(ifc).model)


def load_district_index(district) -> DeviceIndex:
    """The device index of a generated district variant (for the incident recordings)."""
    from twin_app.bim.district_cache import ensure_district

    generated = ensure_district(district.towers, district.seed, district.storeys)
    return load_index(generated.ifc_path, generated.registry_path)


def record_incidents_main(argv: list[str]) -> int:
    """`twin-app record-incidents OUT_DIR [--only NAME]`: the shipped incident recordings, made again."""
    from twin_app.telemetry.incident_recordings import main as record_main

    return record_main(argv, load=load_district_index, prog="twin-app record-incidents")
