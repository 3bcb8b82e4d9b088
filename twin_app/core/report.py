"""Incident reports for the shift handover and the shift log, as self-contained HTML.

The engine publishes incidents and dispatch orders as JSON dicts that come from outside the process (retained MQTT
messages, old payloads, hand-edited files). Every value taken from them is treated as untrusted: it is converted to
text, stripped of control characters and lone surrogates, shortened and HTML-escaped before it reaches the page.
A missing, ``None`` or malformed field is shown as "—"; nothing in a payload makes the report fail.

The document uses inline CSS only (no scripts, fonts, images or links to fetch), prints on A4, and is simple enough
for ``QTextDocument`` to lay out when it is exported to PDF.
"""

from __future__ import annotations

import html
import math
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

DASH = "—"
MAX_FIELD = 4000  # characters of one payload value shown; the rest is cut with an ellipsis
MAX_ROWS = 2000  # rows of one table (timeline, devices, ...) shown; the rest is counted

PRIORITY_STYLE = {  # symbol, colour, label: priority is never shown by colour alone
    "critical": ("◆◆", "#b2182b", "Critical"),
    "high": ("◆", "#d55e00", "High"),
    "medium": ("▲", "#b07800", "Medium"),
    "low": ("●", "#0072b2", "Low"),
}
STATE_NAMES = {
    "new": "New", "acknowledged": "Acknowledged", "dispatched": "Dispatched", "on_scene": "On scene",
    "resolved": "Resolved", "closed": "Closed",
}
ORDER_STATUS_NAMES = {
    "dispatched": "Dispatched", "en_route": "En route", "on_scene": "On scene", "escalated": "Escalated",
    "done": "Done", "cancelled": "Cancelled", "closed": "Closed",
}
COMMAND_STATE_NAMES = {"sent": "Sent", "confirmed": "Confirmed", "unconfirmed": "Not confirmed"}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CSS = """
@page { size: A4; margin: 15mm 14mm 18mm 14mm; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", "Microsoft YaHei", "DejaVu Sans", Arial, sans-serif;
       font-size: 9pt; color: #111111; }
h1 { font-size: 14pt; margin: 0 0 4pt 0; }
h2 { font-size: 11pt; margin: 10pt 0 3pt 0; border-bottom: 1px solid #888888; }
h3 { font-size: 9.5pt; margin: 6pt 0 2pt 0; }
table { border-collapse: collapse; margin: 2pt 0 4pt 0; }
th, td { border: 1px solid #999999; padding: 2pt 4pt; vertical-align: top; text-align: left; }
th { background-color: #eeeeee; font-weight: bold; }
table.facts th { width: 30%; }
.mono { font-family: "DejaVu Sans Mono", Consolas, monospace; }
.muted { color: #555555; }
.prio { font-weight: bold; }
.ok { color: #1a7a1a; font-weight: bold; }
.bad { color: #b2182b; font-weight: bold; }
.result { border: 1px solid #555555; padding: 4pt; background-color: #f6f6f6; }
.incident { page-break-before: always; }
.footer { margin-top: 10pt; font-size: 7.5pt; color: #555555; }
"""


# ---------------------------------------------------------------- safe values


def _clean(value: object) -> str:
    """`value` as printable text: no control characters or lone surrogates, at most `MAX_FIELD` characters."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float) and not math.isfinite(value):
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, int | float):
        text = _number(value)
    else:
        try:
            text = str(value)
        except Exception:  # a hostile __str__ must not stop the report
            text = ""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    text = _CONTROL.sub("\ufffd", text).strip()
    if len(text) > MAX_FIELD:
        text = text[:MAX_FIELD] + "…"
    return text


def esc(value: object) -> str:
    """`value` as HTML-escaped text, or "—" when it is missing or empty.

    Parameters
    ----------
    value
        Anything from a payload.

    Returns
    -------
    str
        Text safe to put into an element or a quoted attribute.
    """
    if value is None:
        return DASH
    text = _clean(value)
    return html.escape(text, quote=True) if text else DASH


def _get(data: object, key: str) -> Any:
    """`data[key]` when `data` is a dict, else None."""
    return data.get(key) if isinstance(data, dict) else None


def _dicts(value: object) -> list[dict]:
    """The dicts in `value` when it is a list or tuple; anything else gives none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list | tuple) else []


def _texts(value: object) -> list[object]:
    """The items of `value` when it is a list or tuple, `[value]` for a single scalar, `[]` for None."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [item for item in value if item is not None]
    return [value]


def finite_number(value: object) -> float | None:
    """`value` as a finite float, or None (bools, strings and NaN are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        out = float(value)
    except (OverflowError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _number(value: float) -> str:
    """A measured value without needless digits: 70.7, 8, 0.93, 1.2e+06."""
    out = finite_number(value)
    if out is None:
        return ""
    if out == int(out) and abs(out) < 1e15:
        return str(int(out))
    return f"{out:.6g}"


def _join(values: Iterable[object]) -> str:
    """Escaped values joined by commas, or "—"."""
    shown = [esc(v) for v in values]
    shown = [s for s in shown if s != DASH]
    return ", ".join(shown) if shown else DASH


# ---------------------------------------------------------------- times


class _Clock:
    """Formats epoch seconds in one fixed local offset (Shenzhen is UTC+8, without daylight saving)."""

    def __init__(self, tz_offset_h: float) -> None:
        offset = finite_number(tz_offset_h)
        if offset is None or abs(offset) >= 24:
            raise ValueError(f"tz_offset_h must be a number of hours between -24 and 24, got {tz_offset_h!r}")
        self.tz = timezone(timedelta(hours=offset))
        minutes = round(offset * 60)
        sign = "+" if minutes >= 0 else "-"
        hours, mins = divmod(abs(minutes), 60)
        self.label = f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")

    def moment(self, ts: object) -> datetime | None:
        """`ts` (epoch seconds) as a local datetime, or None when it is not a usable time."""
        seconds = finite_number(ts)
        if seconds is None:
            return None
        try:
            return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).astimezone(self.tz)
        except (OverflowError, ValueError, OSError):
            return None

    def date(self, ts: object) -> str:
        """YYYY-MM-DD, or "—"."""
        moment = self.moment(ts)
        return moment.strftime("%Y-%m-%d") if moment else DASH

    def clock(self, ts: object) -> str:
        """HH:MM:SS, or "—"."""
        moment = self.moment(ts)
        return moment.strftime("%H:%M:%S") if moment else DASH

    def full(self, ts: object) -> str:
        """YYYY-MM-DD HH:MM:SS, or "—"."""
        moment = self.moment(ts)
        return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else DASH

    def short(self, ts: object, day: str) -> str:
        """HH:MM:SS when `ts` falls on `day` (YYYY-MM-DD), else the date and time."""
        moment = self.moment(ts)
        if moment is None:
            return DASH
        return moment.strftime("%H:%M:%S" if moment.strftime("%Y-%m-%d") == day else "%Y-%m-%d %H:%M:%S")


def duration(seconds: object) -> str:
    """A duration as M:SS or H:MM:SS ("0:30", "12:05", "1:02:03"), or "—" when unknown or negative.

    Parameters
    ----------
    seconds
        Elapsed seconds.

    Returns
    -------
    str
        The formatted duration.
    """
    value = finite_number(seconds)
    if value is None or value < 0 or value > 1e9:
        return DASH
    total = round(value)
    hours, rest = divmod(total, 3600)
    mins, secs = divmod(rest, 60)
    return f"{hours}:{mins:02d}:{secs:02d}" if hours else f"{mins}:{secs:02d}"


def _between(start: object, end: object) -> str:
    """The duration from `start` to `end` (epoch seconds), or "—"."""
    a, b = finite_number(start), finite_number(end)
    return duration(b - a) if a is not None and b is not None else DASH


# ---------------------------------------------------------------- labels


def _label(value: object, names: dict[str, str]) -> str:
    """The readable, escaped name of a known code, or the escaped code itself."""
    if isinstance(value, str) and value in names:
        return html.escape(names[value])
    return esc(value)


def _cause(value: object) -> str:
    """A cause code made readable: "fall_detected" -> "Fall detected"."""
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("_", " ")
        return esc(text[:1].upper() + text[1:])
    return esc(value)


def _priority(value: object) -> str:
    """Priority as symbol, word and colour; an unknown priority as escaped text."""
    key = value.lower() if isinstance(value, str) else None
    if key in PRIORITY_STYLE:
        symbol, colour, name = PRIORITY_STYLE[key]
        return f'<span class="prio" style="color: {colour};">{symbol} {name}</span>'
    return esc(value)


def _place(place: object) -> str:
    """Building · storey · name of a place dict; a plain string as is."""
    if not isinstance(place, dict):
        return esc(place)
    parts = [esc(_get(place, "building"))]
    storeys = [s for s in _texts(_get(place, "storeys")) if not isinstance(s, dict | list)]
    storey = _get(place, "storey")
    if len(storeys) > 1:
        parts.append(_join(storeys))
    else:
        parts.append(esc(storey if storey is not None else (storeys[0] if storeys else None)))
    parts.append(esc(_get(place, "name")))
    shown = [p for p in parts if p != DASH]
    return " · ".join(shown) if shown else DASH


def _party(data: object) -> str:
    """The party's name, with its code when the two differ."""
    name, code = _get(data, "party_name"), _get(data, "party")
    if name in (None, "") or not _clean(name):
        return esc(code)
    if code in (None, "") or _clean(code) == _clean(name):
        return esc(name)
    return f'{esc(name)} <span class="muted">({esc(code)})</span>'


def _deadline(incident: dict, clock: _Clock, now: float) -> str:
    """The deadline and whether it was met: finished (resolved, else closed) before it or not."""
    deadline = finite_number(_get(incident, "deadline_ts"))
    if deadline is None:
        return DASH
    shown = clock.full(deadline)
    finished = finite_number(_get(incident, "resolved_ts"))
    if finished is None:
        finished = finite_number(_get(incident, "closed_ts"))
    if finished is not None:
        if finished <= deadline:
            return f'{shown} — <span class="ok">✔ met</span> ({duration(deadline - finished)} to spare)'
        return f'{shown} — <span class="bad">✘ missed</span> by {duration(finished - deadline)}'
    if now > deadline:
        return f'{shown} — <span class="bad">✘ overdue</span> by {duration(now - deadline)} (not resolved)'
    return f"{shown} — open, {duration(deadline - now)} left"


# ---------------------------------------------------------------- building blocks


def _facts(rows: list[tuple[str, str]]) -> str:
    """A two-column table of label and (already escaped) value."""
    body = "".join(f'<tr><th width="28%">{html.escape(label)}</th><td>{value}</td></tr>' for label, value in rows)
    return f'<table class="facts" width="100%" border="1" cellspacing="0" cellpadding="3">{body}</table>'


def _table(columns: tuple[str, ...], rows: list[list[str]], empty: str = "None recorded.") -> str:
    """A table of (already escaped) cells, "None recorded." when empty and a note when rows were cut."""
    if not rows:
        return f'<p class="muted">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    shown = rows[:MAX_ROWS]
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in shown)
    more = f'<p class="muted">… and {len(rows) - len(shown):,} more rows not shown.</p>' if len(rows) > MAX_ROWS else ""
    return (f'<table width="100%" border="1" cellspacing="0" cellpadding="3"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>{more}")


def _value_with_unit(value: object, unit: object) -> str:
    """"70.7 ppm", or "—" without a value."""
    shown = esc(value)
    if shown == DASH:
        return DASH
    unit_text = esc(unit)
    return shown if unit_text == DASH else f"{shown} {unit_text}"


def _devices(incident: dict) -> str:
    """The devices in alarm: id, kind, value and limits."""
    rows = []
    for device in _dicts(_get(incident, "devices")):
        kind = _get(device, "kind_name")
        if kind in (None, ""):
            kind = _get(device, "kind")
        unit = _get(device, "unit")
        rows.append([f'<span class="mono">{esc(_get(device, "device_id"))}</span>', esc(kind),
                     _value_with_unit(_get(device, "value"), unit),
                     _value_with_unit(_get(device, "alarm_low"), unit),
                     _value_with_unit(_get(device, "alarm_high"), unit)])
    return _table(("Device", "Kind", "Value", "Low limit", "High limit"), rows)


def _commands(incident: dict, clock: _Clock, day: str) -> str:
    """The device actions linked to the incident and their states."""
    rows = []
    for command in _dicts(_get(incident, "commands")):
        state = _get(command, "state")
        shown = _label(state, COMMAND_STATE_NAMES)
        if state == "confirmed":
            shown = f'<span class="ok">✔ {shown}</span>'
        elif state == "unconfirmed":
            shown = f'<span class="bad">✘ {shown}</span>'
        rows.append([f'<span class="mono">{esc(_get(command, "id"))}</span>',
                     f'<span class="mono">{esc(_get(command, "device_id"))}</span>', esc(_get(command, "action")),
                     shown, clock.short(_get(command, "sent_ts"), day), clock.short(_get(command, "done_ts"), day)])
    return _table(("Action", "Device", "Command", "State", "Sent", "Done"), rows)


def _orders_for(incident: dict, orders: list[dict] | None) -> tuple[list[dict], list[object]]:
    """The orders of this incident (by id list or incident_id) and the listed order ids no order was given for."""
    incident_id = _get(incident, "id")
    listed = [o for o in _texts(_get(incident, "orders")) if isinstance(o, str | int) and not isinstance(o, bool)]
    mine = [o for o in _dicts(orders)
            if _get(o, "id") in listed or (incident_id is not None and _get(o, "incident_id") == incident_id)]
    mine.sort(key=lambda o: (finite_number(_get(o, "created_ts")) is None, finite_number(_get(o, "created_ts")) or 0.0))
    found = {_get(o, "id") for o in mine if isinstance(_get(o, "id"), str | int)}
    return mine, [o for o in listed if o not in found]


def _order(order: dict, clock: _Clock, day: str) -> str:
    """One dispatch order: its facts, then its history of unit reports."""
    units = _texts(_get(order, "units")) or _texts(_get(order, "unit"))
    done, created = _get(order, "done_ts"), _get(order, "created_ts")
    facts = _facts([
        ("Status", _label(_get(order, "status"), ORDER_STATUS_NAMES)),
        ("Units", _join(u for u in units if not isinstance(u, dict | list))),
        ("Party", _party(order)),
        ("Dispatched by", esc(_get(order, "operator"))),
        ("Created", clock.short(created, day)),
        ("Deadline", clock.short(_get(order, "deadline_ts"), day)),
        ("Done", clock.short(done, day) + (f" (after {_between(created, done)})" if finite_number(done) else "")),
        ("Escalated to", esc(_get(order, "escalated_to"))),
        ("Result", esc(_get(order, "result"))),
    ])
    rows = [[clock.short(_get(step, "ts"), day), _label(_get(step, "status"), ORDER_STATUS_NAMES),
             esc(_get(step, "by")), esc(_get(step, "result"))] for step in _sorted(_dicts(_get(order, "history")))]
    return (f'<h3>Order <span class="mono">{esc(_get(order, "id"))}</span></h3>{facts}'
            + _table(("Time", "Status", "By", "Report"), rows, "No unit reports."))


def _orders(incident: dict, orders: list[dict] | None, clock: _Clock, day: str) -> str:
    """All orders of the incident; ids without an order dict are listed."""
    mine, missing = _orders_for(incident, orders)
    parts = [_order(o, clock, day) for o in mine]
    if missing:
        parts.append(f'<p class="muted">Orders without details in this report: {_join(missing)}</p>')
    return "".join(parts) if parts else '<p class="muted">No orders.</p>'


def _sorted(items: list[dict]) -> list[dict]:
    """Items in time order (stable); those without a time keep their order at the end."""
    return sorted(items, key=lambda i: (finite_number(_get(i, "ts")) is None, finite_number(_get(i, "ts")) or 0.0))


def _timeline(incident: dict, clock: _Clock, day: str) -> str:
    """The full timeline as a table."""
    rows = [[clock.short(_get(entry, "ts"), day), esc(_get(entry, "what")), esc(_get(entry, "text")),
             esc(_get(entry, "by"))] for entry in _sorted(_dicts(_get(incident, "timeline")))]
    return _table(("Time", "Event", "Text", "By"), rows, "No timeline entries.")


def _detail(incident: dict) -> str:
    """The event detail: reporter's text, contact, snapshot and detector confidence."""
    detail = _get(incident, "detail")
    if not isinstance(detail, dict):
        return '<p class="muted">No event detail.</p>' if detail in (None, "") else f"<p>{esc(detail)}</p>"
    confidence = finite_number(_get(detail, "confidence"))
    shown = f"{confidence * 100:.0f} %" if confidence is not None and 0 <= confidence <= 1 else esc(
        _get(detail, "confidence"))
    return _facts([
        ("Text", esc(_get(detail, "text"))),
        ("Contact", f'<span class="mono">{esc(_get(detail, "contact"))}</span>'),
        ("Snapshot", f'<span class="mono">{esc(_get(detail, "snapshot"))}</span>'),
        ("Confidence", shown),
    ])


def _proposal(incident: dict) -> str:
    """The dispatch the engine proposed, when there was one."""
    proposal = _get(incident, "proposal")
    if not isinstance(proposal, dict):
        return ""
    names = _texts(_get(proposal, "unit_names")) or _texts(_get(proposal, "units"))
    minutes = finite_number(_get(proposal, "deadline_min"))
    return "<h2>Proposed dispatch</h2>" + _facts([
        ("Party", _party(proposal)),
        ("Units", _join(n for n in names if not isinstance(n, dict | list))),
        ("Deadline", f"{_number(minutes)} min" if minutes is not None else esc(_get(proposal, "deadline_min"))),
        ("Why", esc(_get(proposal, "why"))),
    ])


def _times(incident: dict, clock: _Clock, day: str) -> str:
    """Raised, acknowledged, dispatched, resolved and closed, with the durations between them."""
    created = _get(incident, "created_ts")
    ack, dispatched = _get(incident, "ack_ts"), _get(incident, "dispatched_ts")
    resolved, closed = _get(incident, "resolved_ts"), _get(incident, "closed_ts")
    ack_by, closed_by = esc(_get(incident, "ack_by")), esc(_get(incident, "closed_by"))
    rows = [
        ("Raised", clock.short(created, day)),
        ("Acknowledged", clock.short(ack, day) + (f" by {ack_by}" if ack_by != DASH else "")),
        ("Dispatched", clock.short(dispatched, day)),
        ("Resolved", clock.short(resolved, day)),
        ("Closed", clock.short(closed, day) + (f" by {closed_by}" if closed_by != DASH else "")),
        ("Time to acknowledge", _between(created, ack)),
        ("Time to dispatch", _between(created, dispatched)),
        ("Time to resolve", _between(created, resolved)),
        ("Time to close", _between(created, closed)),
    ]
    return _facts(rows)


def _day(incident: dict, clock: _Clock, now: float) -> str:
    """The date (YYYY-MM-DD) the report's times are given on: the day the incident was raised."""
    for key in ("created_ts", "ack_ts", "closed_ts"):
        if clock.moment(_get(incident, key)) is not None:
            return clock.date(_get(incident, key))
    return clock.date(now)


def _body(incident: object, orders: list[dict] | None, clock: _Clock, now: float, new_page: bool = False) -> str:
    """One incident's report as an HTML fragment (no <html> or <head>), on a new page when `new_page`."""
    data = incident if isinstance(incident, dict) else {}
    day = _day(data, clock, now)
    counts = [f"{esc(_get(data, key))} {key}" for key in ("active", "unacknowledged") if esc(_get(data, key)) != DASH]
    alarms = [a for a in _texts(_get(data, "alarms")) if not isinstance(a, dict | list)]
    header = _facts([
        ("Incident", f'<span class="mono">{esc(_get(data, "id"))}</span>'),
        ("Priority", _priority(_get(data, "priority"))),
        ("State", _label(_get(data, "state"), STATE_NAMES)),
        ("Cause", _cause(_get(data, "cause"))),
        ("Place", _place(_get(data, "place"))),
        ("Party", _party(data)),
        ("Units", _join(u for u in _texts(_get(data, "units")) if not isinstance(u, dict | list))),
        ("Deadline", _deadline(data, clock, now)),
        ("First out", f'<span class="mono">{esc(_get(data, "first_out"))}</span>'),
        ("Alarms", f"{len(alarms)} linked" + (f" — {', '.join(counts)}" if counts else "")),
    ])
    result = esc(_get(data, "result"))
    heading = esc(_get(data, "title"))
    if heading == DASH:
        heading = f"Incident {esc(_get(data, 'id'))}"
    brk = ' class="incident" style="page-break-before: always;"' if new_page else ""
    return (
        f"<h1{brk}>{heading}</h1>"
        f'<p class="muted">Incident report — times are local ({clock.label}) on {html.escape(day)} unless a date is'
        f" given.</p>{header}"
        f"<h2>Times</h2>{_times(data, clock, day)}"
        f"<h2>Event detail</h2>{_detail(data)}"
        f"<h2>Devices in alarm</h2>{_devices(data)}"
        f"<h2>Linked actions</h2>{_commands(data, clock, day)}"
        f"{_proposal(data)}"
        f"<h2>Orders</h2>{_orders(data, orders, clock, day)}"
        f"<h2>Timeline</h2>{_timeline(data, clock, day)}"
        f'<h2>Result</h2><div class="result">{result}</div>'
    )


def _document(title: str, body: str, clock: _Clock, now: float) -> str:
    """A complete HTML document around `body` (title already plain text, escaped here)."""
    generated = f"{clock.full(now)} ({clock.label})"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>{body}"
        f'<p class="footer">Generated {html.escape(generated)} by the Mumianling command center console.</p>'
        "</body></html>\n"
    )


# ---------------------------------------------------------------- public API


def incident_report_html(incident: dict, orders: list[dict] | None = None, generated_ts: float | None = None,
                         tz_offset_h: float = 8.0) -> str:
    """A complete, self-contained HTML report of one incident for the handover and the shift log.

    Parameters
    ----------
    incident
        The incident dict as published on ``incident/{id}``; any field may be missing, None or malformed.
    orders
        Dispatch orders (``dispatch/{id}``); those listed in the incident's ``orders`` or naming it in
        ``incident_id`` are shown with their history. None shows only the order ids.
    generated_ts
        When the report was made (epoch seconds); now when None. Open deadlines are judged against it.
    tz_offset_h
        Local time offset from UTC in hours; Shenzhen is +8.

    Returns
    -------
    str
        An HTML document with inline CSS, every payload value escaped.

    Raises
    ------
    ValueError
        When `tz_offset_h` is not between -24 and 24 hours.
    """
    clock = _Clock(tz_offset_h)
    now = finite_number(generated_ts)
    now = time.time() if now is None else now
    data = incident if isinstance(incident, dict) else {}
    title = f"Incident report {_clean(_get(data, 'id')) or DASH}"
    return _document(title, _body(data, orders, clock, now), clock, now)


def shift_log_html(incidents: list[dict], orders: list[dict] | None = None, generated_ts: float | None = None,
                   tz_offset_h: float = 8.0, title: str = "Shift log") -> str:
    """A shift log: a summary table of several incidents, then each incident's report on its own page.

    Parameters
    ----------
    incidents
        Incident dicts; non-dicts are skipped.
    orders
        Dispatch orders of all incidents; each report picks its own.
    generated_ts
        When the log was made (epoch seconds); now when None.
    tz_offset_h
        Local time offset from UTC in hours; Shenzhen is +8.
    title
        The log's heading.

    Returns
    -------
    str
        An HTML document with inline CSS, every payload value escaped.
    """
    clock = _Clock(tz_offset_h)
    now = finite_number(generated_ts)
    now = time.time() if now is None else now
    items = _dicts(incidents)
    rows = []
    for item in items:
        day = clock.date(_get(item, "created_ts"))
        rows.append([
            f'<span class="mono">{esc(_get(item, "id"))}</span>', _priority(_get(item, "priority")),
            _label(_get(item, "state"), STATE_NAMES), esc(_get(item, "title")), _place(_get(item, "place")),
            clock.full(_get(item, "created_ts")), clock.short(_get(item, "closed_ts"), day),
            _between(_get(item, "created_ts"), _get(item, "ack_ts")), _deadline(item, clock, now),
        ])
    heading = _clean(title) or "Shift log"
    summary = (f"<h1>{html.escape(heading)}</h1>"
               f'<p class="muted">{len(items)} incidents — times are local ({clock.label}).</p>'
               + _table(("Incident", "Priority", "State", "Title", "Place", "Raised", "Closed", "To ack", "Deadline"),
                        rows, "No incidents in this shift."))
    bodies = "".join(_body(item, orders, clock, now, new_page=True) for item in items)
    return _document(heading, summary + bodies, clock, now)
