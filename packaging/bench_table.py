#!/usr/bin/env python3
"""Regenerate the README's benchmark table from one ``twin-app bench --json`` run.

Usage: ``packaging/bench_table.py RESULTS.json [README.md]``. With a README, the text between the markers
``<!-- bench:start -->`` and ``<!-- bench:end -->`` is replaced (the markers stay); without one, the table is printed.
Exit status 2, with a message, when the JSON is not a bench result or the README lacks the markers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
CONDITIONS = "conditions"
DEFAULT_COMMAND = "twin-app bench --json"


def _number(value: object) -> str:
    """A figure's number as people read it: thousands separated, three significant digits below 1000."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _cell(str(value))
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    return f"{value:.3g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _clauses(note: str) -> list[str]:
    """A note split at its semicolons, those inside parentheses left alone."""
    out, depth, current = [], 0, []
    for ch in note:
        depth += (ch == "(") - (ch == ")")
        if ch == ";" and depth <= 0:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return [c for c in out if c]


def _details(figure: dict) -> str:
    """Triangles (and the baseline's), threads, offered load, then the note's first clause and any 'slower' clause."""
    parts = []
    if "triangles" in figure:
        tri = f"{figure['triangles']:,} triangles"
        if "baseline_triangles" in figure:
            tri += f" (baseline {figure['baseline_triangles']:,})"
        parts.append(tri)
    if "threads" in figure:
        parts.append(f"{figure['threads']} thread(s), baseline {figure.get('baseline_threads', '?')}")
    if "offered_per_s" in figure and figure.get("offered_per_s") is not None:
        parts.append(f"offered {_number(figure['offered_per_s'])}/s")
    if "with_overlays_ms" in figure:
        parts.append(f"{_number(figure['with_overlays_ms'])} ms with ground and labels")
    note = str(figure.get("note", ""))
    if note:
        clauses = _clauses(note)
        parts.append(clauses[0])
        parts.extend(c for c in clauses[1:] if c.startswith("slower"))
    return _cell("; ".join(parts))


def render(results: dict) -> str:
    """The markdown between the markers: command, conditions and one row per figure, in the JSON's order."""
    if not isinstance(results, dict) or not results:
        raise ValueError("not a bench result: expected one JSON object of figures")
    conditions = results.get(CONDITIONS) or {}
    figures = {k: v for k, v in results.items() if k != CONDITIONS}
    for name, figure in figures.items():
        if not isinstance(figure, dict) or "value" not in figure or "unit" not in figure:
            raise ValueError(f"figure {name!r} has no value and unit")
    command = conditions.get("command") or DEFAULT_COMMAND
    lines = [f"Measured with `{command}`"
             + (f" on {conditions['date']}" if conditions.get("date") else "") + ":", ""]
    if conditions:
        summary = conditions.get("value") or ", ".join(f"{k} {v}" for k, v in conditions.items())
        lines += [f"*Conditions: {_cell(str(summary))}.*", ""]
    lines += ["| figure | value | unit | baseline | ratio | triangles / notes |",
              "| --- | ---: | --- | ---: | ---: | --- |"]
    for name, figure in figures.items():
        ratio = figure.get("ratio")
        lines.append(f"| `{_cell(name)}` | {_number(figure['value'])} | {_cell(str(figure['unit']))} | "
                     f"{_number(figure.get('baseline')) if 'baseline' in figure else '–'} | "
                     f"{(_number(ratio) + '×') if ratio is not None else '–'} | {_details(figure)} |")
    return "\n".join(lines) + "\n"


def replace_between_markers(text: str, table: str) -> str:
    """`text` with everything between the markers replaced by `table`."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"the README needs the markers {START} and {END}, in that order")
    return text[:start + len(START)] + "\n" + table + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/bench_table.py", description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the output of twin-app bench --json")
    parser.add_argument("readme", type=Path, nargs="?", help="the README to update in place (else: print)")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text(encoding="utf-8"))
        table = render(results)
        if args.readme is None:
            sys.stdout.write(table)
            return 0
        text = args.readme.read_text(encoding="utf-8")
        args.readme.write_text(replace_between_markers(text, table), encoding="utf-8")
    except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        print(f"bench_table: error: {exc}", file=sys.stderr)
        return 2
    print(f"bench_table: {args.readme}: {len(results) - (CONDITIONS in results)} figures written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
