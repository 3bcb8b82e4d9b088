"""Training: a trainee's handling of a replayed recording scored against what the shift really did, as HTML.

A training session replays a recording into a training engine; the trainee handles the incidents it raises. Each
historic incident (the last payload of ``incident/{id}`` recorded between `started` and `ended`) is matched to at
most one incident of the training engine: the same cause, building and storey (or overlapping storeys), raised
within `MATCH_WINDOW_S` of each other, greedily in the historic incidents' creation order (each one takes the
unmatched trainee incident nearest in time). Historic incidents left without a partner are *missed*; trainee
incidents left over are *extra* and listed (they cost nothing).

Scoring, per historic incident (100 points at most)
---------------------------------------------------
========================================================================  ======
acknowledged (the trainee incident has an ``ack_ts``)                        20
acknowledged no slower than history, or within `QUICK_ACK_S` (60 s)          10
dispatched (``dispatched_ts``, else the first order's ``created_ts``)        20
right party (expected: the historic party, else its first order's party,     20
else the trainee incident's ``proposal.party``; when none is known, any
party chosen counts)
closed by the deadline (and by the end of the session); when no deadline     30
is known, closed by the end of the session
========================================================================  ======

A missed incident scores 0. The overall score is the mean over the historic incidents, rounded to one decimal;
without historic incidents it is None. The trainee's deadline is its own ``deadline_ts``, else its first order's,
else its creation plus the historic incident's deadline span, else its creation plus the proposal's
``deadline_min``.

Payloads come from a recording file and may be damaged: a missing field, a field of the wrong type, a time that is
not a finite number of epoch seconds or a non-dict entry is treated as missing; nothing in them makes a function
here raise. Every text from a payload is HTML-escaped in the report.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from twin_app.core.report import DASH, duration, esc, finite_number
from twin_app.core.texts import cause_label, party_label

MATCH_WINDOW_S = 120.0  # a trainee incident matches a historic one raised at most this far apart
QUICK_ACK_S = 60.0  # an acknowledgement this quick earns the speed points even when history was quicker
SAME_S = 1.0  # times closer than this are "the same"
POINTS = {"ack": 20, "ack_speed": 10, "dispatch": 20, "party": 20, "deadline": 30}
MAX_TS = 1e11  # epoch seconds beyond this (the year 5138) are damaged values, not times
MAX_CHART_ROWS = 200  # incidents drawn in the timeline chart; the rest are counted

_SHORT_TEXT = 90  # characters of an incident's name in the chart


# ---------------------------------------------------------------- safe values


def _get(data: object, key: str) -> Any:
    """`data[key]` when `data` is a dict, else None."""
    return data.get(key) if isinstance(data, dict) else None


def _ts(value: object) -> float | None:
    """`value` as epoch seconds, or None when it is not a plausible time."""
    out = finite_number(value)
    return out if out is not None and abs(out) <= MAX_TS else None


def _text(value: object) -> str:
    """`value` when it is a string, else ""."""
    return value if isinstance(value, str) else ""


def _opt_text(value: object) -> str | None:
    """`value` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def _dicts(value: object) -> list[dict]:
    """The dicts in `value` when it is a list or tuple; anything else gives none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list | tuple) else []


def _span(start: float | None, end: float | None) -> float | None:
    """Seconds from `start` to `end`, or None when either is unknown or `end` comes first."""
    if start is None or end is None or end < start:
        return None
    return end - start


def _cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- the model


@dataclass
class Response:
    """One side's handling of one incident, read from its last ``incident/{id}`` payload and its orders.

    Attributes
    ----------
    id, title, cause, building, storeys, place, priority
        What and where ("" or None when the payload lacks them; `title` falls back to the cause).
    party
        The party dispatched: the incident's ``party``, else its first order's.
    proposed_party
        The party of the incident's ``proposal`` (published while no order is open).
    created_ts, ack_ts, dispatched_ts, closed_ts, deadline_ts
        Epoch seconds on the recording clock, None when unknown. `dispatched_ts` falls back to the first order's
        creation and `deadline_ts` to the first order's deadline.
    """

    id: str = ""
    title: str = ""
    cause: str = ""
    building: str = ""
    storeys: list[str] = field(default_factory=list)
    place: str = ""
    priority: str | None = None
    party: str | None = None
    proposed_party: str | None = None
    created_ts: float | None = None
    ack_ts: float | None = None
    dispatched_ts: float | None = None
    closed_ts: float | None = None
    deadline_ts: float | None = None

    @property
    def ack_s(self) -> float | None:
        """Seconds from creation to acknowledgement, None if never."""
        return _span(self.created_ts, self.ack_ts)

    @property
    def dispatch_s(self) -> float | None:
        """Seconds from creation to dispatch, None if never."""
        return _span(self.created_ts, self.dispatched_ts)


@dataclass
class Item:
    """A historic incident and the trainee's incident matched to it, compared.

    Attributes
    ----------
    history, trainee
        Both sides.
    history_ack_s, trainee_ack_s, history_dispatch_s, trainee_dispatch_s
        Seconds from creation to acknowledgement and to dispatch, None if never.
    ack_vs_history, dispatch_vs_history
        "faster", "same" (within `SAME_S`) or "slower" than history; None when either side never did it.
    expected_party, chosen_party, right_party
        The party history sent (else the proposal's), the trainee's, and whether they agree (None when nothing
        was expected; False when the trainee chose none).
    deadline_ts, within_deadline, deadline_reason
        The trainee's deadline; whether the trainee incident was closed by it (None when no deadline is known
        and it was closed); "met", "late", "not closed" or "no deadline".
    points
        Points out of 100 (see the module's scoring table).
    remarks
        Short English remarks on each point.
    """

    history: Response
    trainee: Response
    history_ack_s: float | None = None
    trainee_ack_s: float | None = None
    ack_vs_history: str | None = None
    history_dispatch_s: float | None = None
    trainee_dispatch_s: float | None = None
    dispatch_vs_history: str | None = None
    expected_party: str | None = None
    chosen_party: str | None = None
    right_party: bool | None = None
    deadline_ts: float | None = None
    within_deadline: bool | None = None
    deadline_reason: str = ""
    points: int = 0
    remarks: list[str] = field(default_factory=list)


@dataclass
class TrainingScore:
    """A training session's result.

    Attributes
    ----------
    items
        The matched pairs, in the historic incidents' creation order.
    missed
        Historic incidents the trainee's engine raised no match for.
    extra
        Trainee incidents without a historic partner.
    score
        0..100, the mean of the historic incidents' points; None without historic incidents.
    started, ended
        The recording window (epoch seconds).
    remarks
        Remarks on the whole session.
    """

    items: list[Item] = field(default_factory=list)
    missed: list[Response] = field(default_factory=list)
    extra: list[Response] = field(default_factory=list)
    score: float | None = None
    started: float = 0.0
    ended: float = 0.0
    remarks: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The result as plain, JSON-serialisable data (finite numbers, strings, lists, dicts, None)."""
        return {"score": self.score, "started": self.started, "ended": self.ended, "remarks": list(self.remarks),
                "items": [asdict(i) for i in self.items], "missed": [asdict(r) for r in self.missed],
                "extra": [asdict(r) for r in self.extra]}


# ---------------------------------------------------------------- reading payloads


def _orders_of(incident: dict, orders: list[dict]) -> list[dict]:
    """The incident's orders (listed in its ``orders`` or naming it in ``incident_id``), oldest first."""
    listed = {o for o in incident.get("orders") or () if isinstance(o, str)} \
        if isinstance(incident.get("orders"), list | tuple) else set()
    own = _opt_text(incident.get("id"))
    mine = [o for o in orders if (isinstance(o.get("id"), str) and o["id"] in listed)
            or (own is not None and o.get("incident_id") == own)]
    return sorted(mine, key=lambda o: (_ts(o.get("created_ts")) is None, _ts(o.get("created_ts")) or 0.0))


def _storeys(incident: dict, place: object) -> list[str]:
    """Its storey and storeys (top level, else from ``place``), without blanks or repeats."""
    out: list[str] = []
    for source in (incident, place):
        candidates = [_get(source, "storey")]
        storeys = _get(source, "storeys")
        if isinstance(storeys, list | tuple):
            candidates.extend(storeys)
        for storey in candidates:
            if isinstance(storey, str) and storey.strip() and storey not in out:
                out.append(storey)
    return out


def _response(incident: dict, orders: list[dict]) -> Response:
    """A `Response` from an incident payload and all orders of its engine."""
    place = incident.get("place")
    mine = _orders_of(incident, orders)
    first = mine[0] if mine else {}
    cause = _text(incident.get("cause"))
    building = _text(incident.get("building")) or _text(_get(place, "building"))
    storeys = _storeys(incident, place)
    name = _text(incident.get("place_name")) or _text(_get(place, "name"))
    dispatched = _ts(incident.get("dispatched_ts"))
    deadline = _ts(incident.get("deadline_ts"))
    return Response(
        id=_text(incident.get("id")),
        title=_opt_text(incident.get("title")) or (cause_label(cause) if cause else ""),
        cause=cause, building=building, storeys=storeys,
        place=" ".join(p for p in (building, ", ".join(storeys), name) if p),
        priority=_opt_text(incident.get("priority")),
        party=_opt_text(incident.get("party")) or _opt_text(first.get("party")),
        proposed_party=_opt_text(_get(incident.get("proposal"), "party")),
        created_ts=_ts(incident.get("created_ts")), ack_ts=_ts(incident.get("ack_ts")),
        dispatched_ts=dispatched if dispatched is not None else _ts(first.get("created_ts")),
        closed_ts=_ts(incident.get("closed_ts")),
        deadline_ts=deadline if deadline is not None else _ts(first.get("deadline_ts")),
    )


def _latest(payloads: object) -> list[dict]:
    """The dict payloads, the last one of each id kept (in its first place)."""
    out: dict[object, dict] = {}
    for n, payload in enumerate(_dicts(payloads)):
        key = payload.get("id") if isinstance(payload.get("id"), str) and payload.get("id") else n
        out[key] = payload  # a repeated id keeps its first place
    return list(out.values())


def _matches(history: Response, trainee: Response) -> bool:
    """Same cause, building and storey (or overlapping storeys), raised within `MATCH_WINDOW_S`."""
    if history.created_ts is None or trainee.created_ts is None:
        return False
    if abs(history.created_ts - trainee.created_ts) > MATCH_WINDOW_S:
        return False
    if history.cause != trainee.cause or history.building != trainee.building:
        return False
    if not history.storeys and not trainee.storeys:
        return True
    return bool(set(history.storeys) & set(trainee.storeys))


def _compare(history: float | None, trainee: float | None) -> str | None:
    """"faster", "same" or "slower" for the trainee; None when either is unknown."""
    if history is None or trainee is None:
        return None
    if abs(trainee - history) < SAME_S:
        return "same"
    return "faster" if trainee < history else "slower"


def _time_remark(verb: str, history: float | None, trainee: float | None, vs: str | None) -> str:
    """'Acknowledged in 0:25, 0:15 faster than history (0:40)' and the like."""
    if trainee is None:
        return f"Not {verb}" + (f" (history: {duration(history)})" if history is not None else "")
    said = f"{verb.capitalize()} in {duration(trainee)}"
    if history is None or vs is None:
        return said + " (history: never)"
    if vs == "same":
        return said + ", as fast as history"
    return said + f", {duration(abs(trainee - history))} {vs} than history ({duration(history)})"


def _deadline_span(history: dict, past: Response, trainee: dict) -> float | None:
    """How long the trainee had: the historic deadline span, else the proposal's minutes."""
    span = _span(past.created_ts, past.deadline_ts)
    if span is not None:
        return span
    for source in (trainee, history):
        minutes = finite_number(_get(source.get("proposal"), "deadline_min"))
        if minutes is not None and 0 < minutes <= 1e6:
            return minutes * 60.0
    return None


def _item(history: dict, past: Response, trainee: dict, now: Response, ended: float) -> Item:
    """Compare one matched pair and give its points."""
    item = Item(past, now, history_ack_s=past.ack_s, trainee_ack_s=now.ack_s, history_dispatch_s=past.dispatch_s,
                trainee_dispatch_s=now.dispatch_s)
    item.ack_vs_history = _compare(item.history_ack_s, item.trainee_ack_s)
    item.dispatch_vs_history = _compare(item.history_dispatch_s, item.trainee_dispatch_s)
    points, remarks = 0, item.remarks
    remarks.append(_time_remark("acknowledged", item.history_ack_s, item.trainee_ack_s, item.ack_vs_history))
    if item.trainee_ack_s is not None:
        points += POINTS["ack"]
        if item.trainee_ack_s <= QUICK_ACK_S or item.ack_vs_history in ("faster", "same"):
            points += POINTS["ack_speed"]
    remarks.append(_time_remark("dispatched", item.history_dispatch_s, item.trainee_dispatch_s,
                                item.dispatch_vs_history))
    if item.trainee_dispatch_s is not None:
        points += POINTS["dispatch"]
    # the party
    item.expected_party = past.party or now.proposed_party
    item.chosen_party = now.party
    if item.expected_party is None:
        item.right_party = None
        if item.chosen_party is not None:
            points += POINTS["party"]
            remarks.append(f"Party {party_label(item.chosen_party)} (none known to compare with)")
    elif item.chosen_party is None:
        item.right_party = False
        remarks.append(f"No party chosen; expected {party_label(item.expected_party)}")
    else:
        item.right_party = item.chosen_party == item.expected_party
        if item.right_party:
            points += POINTS["party"]
            remarks.append(f"Right party: {party_label(item.chosen_party)}")
        else:
            remarks.append(f"Wrong party: {party_label(item.chosen_party)} instead of "
                           f"{party_label(item.expected_party)}")
    # the deadline
    span = _deadline_span(history, past, trainee)
    deadline = now.deadline_ts
    if deadline is None and now.created_ts is not None and span is not None:
        deadline = now.created_ts + span
    item.deadline_ts = deadline
    closed = now.closed_ts if now.closed_ts is not None and now.closed_ts <= ended else None
    if closed is None:
        item.within_deadline, item.deadline_reason = False, "not closed"
        remarks.append("Not closed by the end of the session")
    elif deadline is None:
        item.within_deadline, item.deadline_reason = None, "no deadline"
        points += POINTS["deadline"]
        remarks.append("Closed; no deadline known")
    elif closed <= deadline:
        item.within_deadline, item.deadline_reason = True, "met"
        points += POINTS["deadline"]
        remarks.append(f"Closed {duration(deadline - closed)} before the deadline")
    else:
        item.within_deadline, item.deadline_reason = False, "late"
        remarks.append(f"Closed {duration(closed - deadline)} after the deadline")
    item.points = points
    return item


def _window(started: object, ended: object, responses: Iterable[Response]) -> tuple[float, float]:
    """The recording window; damaged bounds are taken from the incidents' times."""
    start, end = _ts(started), _ts(ended)
    times = [t for r in responses for t in (r.created_ts, r.ack_ts, r.dispatched_ts, r.closed_ts) if t is not None]
    if start is None:
        start = min(times) if times else (end if end is not None else 0.0)
    if end is None:
        end = max([start, *times])
    return start, end


def score_training(history: list[dict], trainee: list[dict], started: float, ended: float,
                   history_orders: Iterable[dict] = (), trainee_orders: Iterable[dict] = ()) -> TrainingScore:
    """Score a trainee's incidents against the historic ones of the same recording window.

    Parameters
    ----------
    history
        The last known ``incident/{id}`` payload of each historic incident raised between `started` and `ended`.
    trainee
        The last payload of each incident the training engine raised.
    started, ended
        The recording window (epoch seconds on the recording clock, as all times here).
    history_orders, trainee_orders
        The ``dispatch/{id}`` payloads of either side, for the party and dispatch time when an incident lacks them.

    Returns
    -------
    TrainingScore
        The matched items, the missed and extra incidents and the overall score (see the module docstring).
    """
    past_orders = _dicts(list(history_orders) if isinstance(history_orders, Iterable) else [])
    own_orders = _dicts(list(trainee_orders) if isinstance(trainee_orders, Iterable) else [])
    past = [(p, _response(p, past_orders)) for p in _latest(history)]
    now = [(p, _response(p, own_orders)) for p in _latest(trainee)]
    start, end = _window(started, ended, [r for _, r in past + now])
    result = TrainingScore(started=start, ended=end)
    usable = [(p, r) for p, r in past if r.created_ts is not None]
    if len(usable) < len(past):
        result.remarks.append(f"{len(past) - len(usable)} historic incident(s) without a creation time ignored")
    usable.sort(key=lambda pr: pr[1].created_ts or 0.0)
    free = sorted(range(len(now)), key=lambda n: (now[n][1].created_ts is None, now[n][1].created_ts or 0.0))
    for payload, response in usable:
        candidates = [n for n in free if _matches(response, now[n][1])]
        if not candidates:
            result.missed.append(response)
            continue
        chosen = min(candidates, key=lambda n: abs((now[n][1].created_ts or 0.0) - (response.created_ts or 0.0)))
        free.remove(chosen)
        result.items.append(_item(payload, response, now[chosen][0], now[chosen][1], end))
    result.extra = [now[n][1] for n in free]
    if not usable:
        result.remarks.append("No historic incidents in the recording window: nothing to score against")
    else:
        total = sum(i.points for i in result.items)
        result.score = round(total / len(usable), 1)
        result.remarks.append(f"{len(usable)} historic incident(s): {len(result.items)} handled, "
                              f"{len(result.missed)} missed; {len(result.extra)} extra incident(s) raised")
    return result


# ---------------------------------------------------------------- the report


class _Clock:
    """Local times of epoch seconds in `tz` (the machine's zone when None)."""

    def __init__(self, tz: tzinfo | float | None) -> None:
        if isinstance(tz, tzinfo) or tz is None:
            self.tz = tz
        else:
            hours = finite_number(tz)
            if hours is None or abs(hours) >= 24:
                raise ValueError(f"tz must be a tzinfo, None or an offset in hours within ±24, got {tz!r}")
            self.tz = timezone(timedelta(hours=hours))

    def moment(self, ts: float | None) -> datetime | None:
        """`ts` as a local datetime, or None."""
        if ts is None:
            return None
        try:
            moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=ts)
            return moment.astimezone(self.tz) if self.tz is not None else moment.astimezone()
        except (OverflowError, ValueError, OSError):
            return None

    def clock(self, ts: float | None) -> str:
        """HH:MM:SS, or "—"."""
        moment = self.moment(ts)
        return moment.strftime("%H:%M:%S") if moment else DASH

    def date(self, ts: float | None) -> str:
        """YYYY-MM-DD, or "—"."""
        moment = self.moment(ts)
        return moment.strftime("%Y-%m-%d") if moment else DASH

    def zone(self, ts: float | None) -> str:
        """"UTC+08:00" for the offset at `ts`."""
        moment = self.moment(ts)
        offset = moment.utcoffset() if moment else None
        if offset is None:
            return "UTC"
        minutes = round(offset.total_seconds() / 60)
        sign = "+" if minutes >= 0 else "-"
        return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", "Microsoft YaHei", "DejaVu Sans", Arial, sans-serif;
       font-size: 9.5pt; color: #111111; margin: 12px; }
h1 { font-size: 15pt; margin: 0 0 4pt 0; }
h2 { font-size: 11.5pt; margin: 12pt 0 4pt 0; border-bottom: 1px solid #888888; }
table { border-collapse: collapse; width: 100%; margin: 2pt 0 6pt 0; }
th, td { border: 1px solid #999999; padding: 3pt 5pt; vertical-align: top; text-align: left; }
th { background-color: #eeeeee; }
tr { page-break-inside: avoid; }
table.facts { width: auto; }
table.facts th { width: 12em; }
.muted { color: #555555; }
.ok { color: #1a7a1a; font-weight: bold; }
.bad { color: #b2182b; font-weight: bold; }
.score { font-size: 13pt; font-weight: bold; }
.chart { width: 100%; height: auto; page-break-inside: auto; }
svg text { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
"""

HISTORY_COLOUR = "#0072b2"  # blue and orange: told apart by most colour-blind readers and named in the lane labels
TRAINEE_COLOUR = "#e69f00"
DEADLINE_COLOUR = "#b2182b"
MARK_COLOUR = "#222222"
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _mark(ok: bool | None, yes: str, no: str, unknown: str = DASH) -> str:
    """'✔ yes' in green, '✘ no' in red, or the unknown text."""
    if ok is None:
        return html.escape(unknown)
    return f'<span class="ok">✔ {html.escape(yes)}</span>' if ok else f'<span class="bad">✘ {html.escape(no)}</span>'


def _what(response: Response) -> str:
    """The incident's title, with its cause and place below."""
    sub = " · ".join(p for p in (cause_label(response.cause) if response.cause else "", response.place) if p)
    return f"{esc(response.title)}" + (f'<br><span class="muted">{esc(sub)}</span>' if sub else "")


def _versus(history: float | None, trainee: float | None, vs: str | None) -> str:
    """'0:40 / 0:25 ✔ faster'."""
    shown = f"{duration(history) if history is not None else 'never'} / " \
            f"{duration(trainee) if trainee is not None else 'never'}"
    if vs is None:
        return html.escape(shown)
    return f"{html.escape(shown)} " + _mark(vs != "slower", vs, vs)


def _row(item: Item | None, missed: Response | None) -> list[str]:
    """One table row: a matched pair, or a missed historic incident."""
    if item is None:
        past = missed or Response()
        return [_what(past), _versus(past.ack_s, None, None), _versus(past.dispatch_s, None, None),
                f"{esc(party_label(past.party))} / —", '<span class="bad">✘ missed</span>', "0",
                "Missed: the trainee's engine raised no matching incident"]
    party = f"{esc(party_label(item.expected_party))} / {esc(party_label(item.chosen_party))}"
    if item.right_party is not None:
        party += " " + _mark(item.right_party, "", "")
    deadline = {"met": _mark(True, "met", ""), "late": _mark(False, "", "late"),
                "not closed": _mark(False, "", "not closed")}.get(item.deadline_reason, esc(item.deadline_reason))
    return [_what(item.history), _versus(item.history_ack_s, item.trainee_ack_s, item.ack_vs_history),
            _versus(item.history_dispatch_s, item.trainee_dispatch_s, item.dispatch_vs_history), party, deadline,
            str(item.points), "<br>".join(esc(r) for r in item.remarks)]


def _table(columns: tuple[str, ...], rows: list[list[str]], empty: str) -> str:
    """A table of already escaped cells, or a muted note when there are none."""
    if not rows:
        return f'<p class="muted">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<table border="1" cellspacing="0" cellpadding="3"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _step(span: float) -> float:
    """A tick step giving at most about 8 ticks over `span` seconds."""
    for step in _NICE_STEPS:
        if span / step <= 8:
            return float(step)
    return float(math.ceil(span / 8 / 86400) * 86400)


class _Chart:
    """The incident timeline as inline SVG: per incident a History and a Trainee lane over one time axis."""

    WIDTH = 1000.0
    LEFT = 150.0  # the lane labels
    RIGHT = 36.0
    TOP = 62.0  # legend and the upper tick labels
    BLOCK = 64.0  # one incident: its name and two lanes
    LANE = 18.0

    def __init__(self, score: TrainingScore, clock: _Clock) -> None:
        self.clock = clock
        self.start, self.end = score.started, max(score.ended, score.started)
        rows: list[tuple[Response | None, Response | None]] = [(i.history, i.trainee) for i in score.items]
        rows += [(m, None) for m in score.missed] + [(None, e) for e in score.extra]
        rows.sort(key=lambda r: next((s.created_ts for s in r if s is not None and s.created_ts is not None), 0.0))
        self.rows = rows
        self.deadlines = {id(i.trainee): i.deadline_ts for i in score.items}
        span = max(self.end - self.start, 60.0)
        lo, hi = self.start, self.end
        for side in (s for r in rows for s in r if s is not None):
            for t in (side.created_ts, side.ack_ts, side.dispatched_ts, side.closed_ts, self._deadline(side)):
                if t is not None and self.start - span <= t <= self.end + span:
                    lo, hi = min(lo, t), max(hi, t)
        self.lo, self.hi = lo, hi if hi > lo else lo + 60.0

    def _deadline(self, side: Response) -> float | None:
        return self.deadlines.get(id(side), side.deadline_ts)

    def x(self, ts: float) -> float:
        """The x of a time, clamped to the plot."""
        width = self.WIDTH - self.LEFT - self.RIGHT
        share = min(max((ts - self.lo) / (self.hi - self.lo), 0.0), 1.0)
        return self.LEFT + share * width

    def _inside(self, ts: float | None) -> bool:
        return ts is not None and self.lo <= ts <= self.hi

    def _lane(self, side: Response | None, y: float, colour: str, label: str, absent: str) -> str:
        """One lane: its label, the bar from raised to closed (or the session end), the marks and the deadline."""
        parts = [f'<text x="{self.LEFT - 8:.1f}" y="{y + 13:.1f}" text-anchor="end" font-size="11" '
                 f'class="lane-label">{label}</text>',
                 f'<line x1="{self.LEFT:.1f}" y1="{y + self.LANE:.1f}" x2="{self.WIDTH - self.RIGHT:.1f}" '
                 f'y2="{y + self.LANE:.1f}" stroke="#dddddd" stroke-width="0.5"/>']
        if side is None or side.created_ts is None:
            parts.append(f'<text x="{self.LEFT + 6:.1f}" y="{y + 13:.1f}" font-size="10.5" font-style="italic" '
                         f'fill="#555555" class="absent">{html.escape(absent)}</text>')
            return "".join(parts)
        mid = y + self.LANE / 2
        closed = side.closed_ts is not None and side.closed_ts <= self.end
        end = side.closed_ts if closed and side.closed_ts is not None else self.end
        x0, x1 = self.x(side.created_ts), self.x(max(end, side.created_ts))
        tip = (f"{self.clock.clock(side.created_ts)} raised → "
               + (f"{self.clock.clock(side.closed_ts)} closed" if closed else "not closed by the session end"))
        style = (f'fill="{colour}" fill-opacity="0.8" stroke="{colour}"' if closed else
                 f'fill="{colour}" fill-opacity="0.25" stroke="{colour}" stroke-dasharray="4 2"')
        parts.append(f'<rect class="bar{"" if closed else " open"}" x="{x0:.1f}" y="{mid - 5:.1f}" '
                     f'width="{max(x1 - x0, 2.0):.1f}" height="10" {style} stroke-width="1">'
                     f"<title>{esc(tip)}</title></rect>")
        if self._inside(side.ack_ts) and side.ack_ts is not None:
            parts.append(f'<circle class="ack" cx="{self.x(side.ack_ts):.1f}" cy="{mid:.1f}" r="5" fill="#ffffff" '
                         f'stroke="{MARK_COLOUR}" stroke-width="2"><title>Acknowledged '
                         f"{esc(self.clock.clock(side.ack_ts))}</title></circle>")
        if self._inside(side.dispatched_ts) and side.dispatched_ts is not None:
            cx = self.x(side.dispatched_ts)
            parts.append(f'<polygon class="dispatch" points="{cx:.1f},{mid - 6:.1f} {cx + 6:.1f},{mid:.1f} '
                         f'{cx:.1f},{mid + 6:.1f} {cx - 6:.1f},{mid:.1f}" fill="{MARK_COLOUR}">'
                         f"<title>Dispatched {esc(self.clock.clock(side.dispatched_ts))}</title></polygon>")
        deadline = self._deadline(side)
        if self._inside(deadline) and deadline is not None:
            dx = self.x(deadline)
            parts.append(f'<line class="deadline" x1="{dx:.1f}" y1="{y - 1:.1f}" x2="{dx:.1f}" '
                         f'y2="{y + self.LANE + 1:.1f}" stroke="{DEADLINE_COLOUR}" stroke-width="2" '
                         f'stroke-dasharray="4 2"><title>Deadline {esc(self.clock.clock(deadline))}</title></line>')
        return "".join(parts)

    def _legend(self) -> str:
        """Colours, bars, marks and the deadline line, explained."""
        y = 14.0
        entries = [
            f'<rect x="0" y="{y - 9}" width="22" height="10" fill="{HISTORY_COLOUR}" fill-opacity="0.8"/>'
            f'<text x="28" y="{y}" font-size="10.5">History</text>',
            f'<rect x="0" y="{y - 9}" width="22" height="10" fill="{TRAINEE_COLOUR}" fill-opacity="0.8"/>'
            f'<text x="28" y="{y}" font-size="10.5">Trainee (bar: raised → closed)</text>',
            f'<rect x="0" y="{y - 9}" width="22" height="10" fill="#888888" fill-opacity="0.25" stroke="#888888" '
            f'stroke-dasharray="4 2"/><text x="28" y="{y}" font-size="10.5">Not closed by the session end</text>',
            f'<circle cx="8" cy="{y - 4}" r="5" fill="#ffffff" stroke="{MARK_COLOUR}" stroke-width="2"/>'
            f'<text x="20" y="{y}" font-size="10.5">Acknowledged</text>',
            f'<polygon points="8,{y - 10} 14,{y - 4} 8,{y + 2} 2,{y - 4}" fill="{MARK_COLOUR}"/>'
            f'<text x="20" y="{y}" font-size="10.5">Dispatched</text>',
            f'<line x1="8" y1="{y - 11}" x2="8" y2="{y + 3}" stroke="{DEADLINE_COLOUR}" stroke-width="2" '
            f'stroke-dasharray="4 2"/><text x="16" y="{y}" font-size="10.5">Deadline</text>',
        ]
        widths = (80, 200, 200, 110, 95, 80)
        out, x = [], 0.0
        for entry, width in zip(entries, widths, strict=True):
            out.append(f'<g transform="translate({x:.0f},0)">{entry}</g>')
            x += width
        return f'<g class="legend">{"".join(out)}</g>'

    def _axis(self, bottom: float) -> str:
        """Grid lines and HH:MM:SS tick labels above and below the lanes; the session's start and end."""
        step = _step(self.hi - self.lo)
        first = math.ceil(self.lo / step) * step
        parts = []
        tick = first
        while tick <= self.hi + 1e-6 and len(parts) < 40:
            x = self.x(tick)
            label = esc(self.clock.clock(tick))
            parts.append(f'<line class="tick" x1="{x:.1f}" y1="{self.TOP - 6:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
                         f'stroke="#cccccc" stroke-width="0.7"/>'
                         f'<text x="{x:.1f}" y="{self.TOP - 10:.1f}" text-anchor="middle" font-size="10">{label}</text>'
                         f'<text x="{x:.1f}" y="{bottom + 14:.1f}" text-anchor="middle" font-size="10">{label}</text>')
            tick += step
        for ts, name in ((self.start, "session start"), (self.end, "session end")):
            x = self.x(ts)
            parts.append(f'<line class="session" x1="{x:.1f}" y1="{self.TOP - 6:.1f}" x2="{x:.1f}" '
                         f'y2="{bottom:.1f}" stroke="#555555" stroke-width="1"><title>{name} '
                         f"{esc(self.clock.clock(ts))}</title></line>")
        return f'<g class="axis">{"".join(parts)}</g>'

    def svg(self) -> str:
        """The chart; a note instead when there is nothing to draw."""
        if not self.rows:
            return '<p class="muted">No incidents to draw.</p>'
        shown = self.rows[:MAX_CHART_ROWS]
        bottom = self.TOP + self.BLOCK * len(shown)
        height = bottom + 24
        blocks = []
        for n, (past, own) in enumerate(shown):
            y = self.TOP + n * self.BLOCK
            name = next((s for s in (past, own) if s is not None), Response())
            words = " — ".join(p for p in (name.title, name.place if name.place not in name.title else "") if p)
            blocks.append(
                f'<g class="incident"><text x="4" y="{y + 12:.1f}" font-size="11" font-weight="bold">'
                f"{esc(_cut(words, _SHORT_TEXT) or name.id)}</text>"
                + self._lane(past, y + 18, HISTORY_COLOUR, "History", "not in history")
                + self._lane(own, y + 18 + self.LANE + 4, TRAINEE_COLOUR, "Trainee", "missed — not raised")
                + "</g>")
        more = (f'<p class="muted">… and {len(self.rows) - len(shown)} more incidents not drawn.</p>'
                if len(self.rows) > len(shown) else "")
        return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.WIDTH:.0f} {height:.0f}" '
                f'width="100%" role="img" aria-label="Incident timeline, history and trainee">'
                f"<title>Incident timeline: history and trainee</title>"
                f'<rect x="0" y="0" width="{self.WIDTH:.0f}" height="{height:.0f}" fill="#ffffff"/>'
                f"{self._legend()}{self._axis(bottom)}{''.join(blocks)}</svg>{more}")


def training_report_html(score: TrainingScore, title: str, trainee: str, tz: tzinfo | float | None = None) -> str:
    """A standalone HTML training report: header, one row per historic incident and the timeline chart.

    Parameters
    ----------
    score
        The result of `score_training`.
    title
        The report's heading (the training scenario).
    trainee
        The trainee's name.
    tz
        The local time zone of the times shown: a `tzinfo`, an offset in hours (Shenzhen is 8), or None for the
        machine's zone.

    Returns
    -------
    str
        An HTML document with inline CSS and an inline SVG chart; no scripts or external resources.

    Raises
    ------
    ValueError
        When `tz` is a number of hours outside ±24.
    """
    clock = _Clock(tz)
    start, end = score.started, score.ended
    day, end_day = clock.date(start), clock.date(end)
    window = (f"{html.escape(day)} {html.escape(clock.clock(start))} – "
              + (f"{html.escape(end_day)} " if end_day != day else "")
              + f"{html.escape(clock.clock(end))} ({html.escape(clock.zone(start))})")
    shown_score = f"{score.score:g} / 100" if score.score is not None else "— (nothing to score)"
    header = (
        f"<h1>{esc(title)}</h1>"
        '<table class="facts" border="1" cellspacing="0" cellpadding="3">'
        f"<tr><th>Trainee</th><td>{esc(trainee)}</td></tr>"
        f"<tr><th>Training session</th><td>{window}</td></tr>"
        f'<tr><th>Score</th><td class="score">{html.escape(shown_score)}</td></tr>'
        f"<tr><th>Incidents</th><td>{len(score.items) + len(score.missed)} in history: {len(score.items)} handled, "
        f"{len(score.missed)} missed; {len(score.extra)} extra</td></tr>"
        f"<tr><th>Remarks</th><td>{'<br>'.join(esc(r) for r in score.remarks) or DASH}</td></tr></table>"
    )
    ordered: list[tuple[float, Item | None, Response | None]] = \
        [(i.history.created_ts or 0.0, i, None) for i in score.items] + \
        [(m.created_ts or 0.0, None, m) for m in score.missed]
    ordered.sort(key=lambda entry: entry[0])
    rows = [_row(item, missed) for _, item, missed in ordered]
    table = _table(("Incident", "To acknowledge (history / trainee)", "To dispatch (history / trainee)",
                    "Party (expected / chosen)", "Deadline", "Points", "Remarks"), rows,
                   "No historic incidents in the recording window.")
    extra = _table(("Incident", "Raised", "Acknowledged", "Dispatched", "Party", "Closed"),
                   [[_what(e), html.escape(clock.clock(e.created_ts)), html.escape(clock.clock(e.ack_ts)),
                     html.escape(clock.clock(e.dispatched_ts)), esc(party_label(e.party)),
                     html.escape(clock.clock(e.closed_ts))] for e in score.extra],
                   "None: every trainee incident matched a historic one.")
    body = (f"{header}<h2>Incidents</h2>{table}"
            f'<h2>Timeline</h2><p class="muted">Times are local ({html.escape(clock.zone(start))}).</p>'
            f"{_Chart(score, clock).svg()}<h2>Incidents in training that history did not have</h2>{extra}"
            '<p class="muted">Scoring per historic incident: acknowledged 20, acknowledged no slower than history or '
            "within 60 s 10, dispatched 20, right party 20, closed within the deadline 30; a missed incident scores "
            "0. The score is the mean over the historic incidents.</p>")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>{body}</body></html>\n")
