"""``twin-app config``: check a configuration file without starting anything; show what the app would use.

``twin-app config check FILE``
    Exit 0 and one line ``FILE: ok: key=value, ...``; exit 2 and one line per problem,
    ``twin-app: error: FILE: key 'broker.url': what is wrong``.
``twin-app config show [--config FILE]``
    The files read (per machine, per user, ``--config``), then one JSON object: each key set, its value and the file
    it came from. Exit 2 as ``check`` when one of them has a problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from twin_app import config as cfg


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin-app config",
                                     description="Check a configuration file; show the configuration in force.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("check", help="check a configuration file without starting (exit 2 on a problem)")
    check.add_argument("file", type=Path, metavar="FILE")
    show = commands.add_parser("show", help="the files read and the keys in force, with the file of each")
    show.add_argument("--config", type=Path, metavar="FILE", help="a file read after the per-user one")
    return parser


def _report(exc: cfg.ConfigError) -> int:
    for line in exc.lines():
        print(f"twin-app: error: {line}", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    """Run ``twin-app config`` with the arguments after ``config``; returns the exit status (0 or 2)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help (0)
        return int(exc.code or 0)
    if args.command == "check":
        try:
            values = cfg.read_file(args.file)
        except cfg.ConfigError as exc:
            return _report(exc)
        merged = cfg.Config()
        merged.update(args.file, values)
        print(f"{args.file}: ok: {merged.summary()}")
        return 0
    site, user = cfg.site_config_file(), cfg.user_config_file()
    try:
        merged = cfg.load((site, user), args.config)
    except cfg.ConfigError as exc:
        return _report(exc)
    for label, path in (("per machine", site), ("per user", user), ("--config", args.config)):
        if path is not None:
            state = "read" if path in merged.files else "absent"
            print(f"{label}: {path} ({state})")
    print(json.dumps({k: {"value": str(v), "file": str(merged.sources[k])} for k, v in merged.values.items()},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
