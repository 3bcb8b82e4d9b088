"""Incident reports and the shift log: content, times, escaping of hostile payloads, missing fields."""

from __future__ import annotations

import copy
import html
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin_app.core.report import duration, esc, incident_report_html, shift_log_html

T = 1764087000.0  # 2025-11-26 00:10:00 in Shenzhen (UTC+8)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;"\'</td></table>'

INCIDENT = {
    "id": "I1764087000-0001", "state": "closed", "priority": "high", "cause": "gas",
    "title": "CO high 70.7 ppm — T05 B1 Garage zone B1-A",
    "place": {"building": "T05", "storey": "B1", "storeys": ["B1"], "name": "Garage zone B1-A 地下车库",
              "host_global_id": "2O2Fr$t4X7Zf8NOew3FLOH"},
    "first_out": "T05-B1-GZA-CO1-co-1:hi:1", "alarms": ["T05-B1-GZA-CO1-co-1:hi:1", "T05-B1-GZA-CO2-co-1:hi:1"],
    "devices": [{"device_id": "T05-B1-GZA-CO1-co-1", "kind": "co", "kind_name": "CO", "unit": "ppm", "value": 70.7,
                 "alarm_high": 50.0, "alarm_low": None}],
    "unacknowledged": 0, "active": 0, "party": "property_management", "party_name": "Property management",
    "deadline_ts": T + 900, "orders": ["D1764087010-0001", "D-missing"], "units": ["PM-1"],
    "commands": [{"id": "C1a2b", "device_id": "T05-B1-GZA-FAN1-fan-1", "action": "on", "state": "confirmed",
                  "sent_ts": T + 1, "done_ts": T + 4},
                 {"id": "C1a2c", "device_id": "T05-B1-GZA-FAN2-fan-1", "action": "on", "state": "unconfirmed",
                  "sent_ts": T + 1, "done_ts": None}],
    "timeline": [{"ts": T + 30, "what": "ack", "text": "Acknowledged", "by": "Li Wei 李伟"},
                 {"ts": T, "what": "alarm", "text": "CO high 70.7 ppm — T05-B1-GZA-CO1-co-1", "by": None},
                 {"ts": T + 610, "what": "resolved", "text": "Fans ran", "by": "PM-1"},
                 {"ts": T + 700, "what": "close", "text": "Closed", "by": "Li Wei 李伟"}],
    "created_ts": T, "ack_by": "Li Wei 李伟", "ack_ts": T + 30, "dispatched_ts": T + 70, "resolved_ts": T + 610,
    "closed_ts": T + 700, "closed_by": "Zhang Min",
    "result": "Fans ran, CO back to 8 ppm; no vehicle left running",
    "detail": {"text": "Water leaking from the ceiling", "contact": "resident:T03-12F-A03",
               "snapshot": "snapshot://T08/cam/20261125T161000Z.jpg", "confidence": 0.93},
    "proposal": {"party": "property_management", "party_name": "Property management", "units": ["PM-1"],
                 "unit_names": ["Property duty team 1"], "deadline_min": 15, "why": "CO in a garage"},
}
ORDERS = [
    {"id": "D1764087010-0001", "incident_id": "I1764087000-0001", "alarm_id": "T05-B1-GZA-CO1-co-1:hi:1",
     "unit": "PM-1", "units": ["PM-1"], "party": "property_management", "deadline_ts": T + 970, "status": "done",
     "created_ts": T + 70, "operator": "Li Wei 李伟", "result": "CO back to 8 ppm after 9 minutes",
     "done_ts": T + 610, "escalated_to": None,
     "history": [{"ts": T + 70, "status": "dispatched", "by": "Li Wei 李伟"},
                 {"ts": T + 400, "status": "on_scene", "by": "PM-1"},
                 {"ts": T + 610, "status": "done", "by": "PM-1", "result": "Unit report: fans ran"}]},
    {"id": "D-other", "incident_id": "I-someone-else", "status": "done", "result": "NOT THIS INCIDENT"},
]


def _text(document: str) -> str:
    """The visible text of an HTML document, with whitespace collapsed."""
    body = re.sub(r"<style>.*?</style>", "", document, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


class _Tags(HTMLParser):
    """Collects the start tags and their attributes of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(document: str) -> _Tags:
    parser = _Tags()
    parser.feed(document)
    parser.close()
    return parser


def test_report_holds_everything_for_the_handover() -> None:
    doc = incident_report_html(INCIDENT, ORDERS, generated_ts=T + 3600)
    assert doc.startswith("<!DOCTYPE html>") and doc.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in doc and "@page { size: A4" in doc
    text = _text(doc)
    for expected in ("CO high 70.7 ppm — T05 B1 Garage zone B1-A", "I1764087000-0001", "◆ High", "Closed", "Gas",
                     "T05 · B1 · Garage zone B1-A 地下车库", "Property management", "✔ met",
                     "Water leaking from the ceiling", "resident:T03-12F-A03",
                     "snapshot://T08/cam/20261125T161000Z.jpg", "93 %", "T05-B1-GZA-CO1-co-1", "70.7 ppm",
                     "50 ppm", "T05-B1-GZA-FAN1-fan-1", "✔ Confirmed", "✘ Not confirmed", "Property duty team 1",
                     "D1764087010-0001", "On scene", "Unit report: fans ran", "CO back to 8 ppm after 9 minutes",
                     "D-missing", "Fans ran, CO back to 8 ppm; no vehicle left running", "Zhang Min"):
        assert expected in text, expected
    assert "NOT THIS INCIDENT" not in text  # another incident's order is not shown


def test_times_are_shenzhen_local_with_the_date_once() -> None:
    text = _text(incident_report_html(INCIDENT, ORDERS, generated_ts=T + 3600))
    assert "UTC+8" in text and "2025-11-26" in text
    assert "Raised 00:10:00" in text and "Acknowledged 00:10:30 by Li Wei 李伟" in text
    assert "Time to acknowledge 0:30" in text and "Time to dispatch 1:10" in text and "Time to close 11:40" in text
    assert "00:10:00 alarm CO high" in text  # the timeline is sorted by time, shown as HH:MM:SS
    assert text.index("00:10:00 alarm") < text.index("00:10:30 ack")
    assert "Generated 2025-11-26 01:10:00 (UTC+8)" in text
    utc = _text(incident_report_html(INCIDENT, ORDERS, generated_ts=T + 3600, tz_offset_h=0))
    assert "Raised 16:10:00" in utc and "UTC+0" in utc and "2025-11-25" in utc
    with pytest.raises(ValueError, match="tz_offset_h"):
        incident_report_html(INCIDENT, tz_offset_h=30)


def test_a_time_on_another_day_shows_its_date() -> None:
    incident = dict(INCIDENT, closed_ts=T + 86400)
    assert "Closed 2025-11-27 00:10:00 by Zhang Min" in _text(incident_report_html(incident, ORDERS, generated_ts=T))


def test_deadline_missed_overdue_and_open() -> None:
    missed = _text(incident_report_html(dict(INCIDENT, resolved_ts=T + 1000), generated_ts=T))
    assert "✘ missed by 1:40" in missed
    unresolved = dict(INCIDENT, resolved_ts=None, closed_ts=None, state="dispatched")
    assert "✘ overdue by 1:00:00" in _text(incident_report_html(unresolved, generated_ts=T + 4500))
    assert "open, 10:00 left" in _text(incident_report_html(unresolved, generated_ts=T + 300))


def test_priorities_carry_a_symbol_not_only_a_colour() -> None:
    for priority, symbol in (("critical", "◆◆ Critical"), ("high", "◆ High"), ("medium", "▲ Medium"),
                             ("low", "● Low")):
        assert symbol in _text(incident_report_html(dict(INCIDENT, priority=priority), generated_ts=T))


def test_durations() -> None:
    assert duration(30) == "0:30" and duration(725) == "12:05" and duration(3723) == "1:02:03"
    assert duration(-1) == duration(None) == duration("5") == duration(float("nan")) == "—"


def test_hostile_strings_are_escaped_everywhere() -> None:
    def poison(value: object) -> object:
        if isinstance(value, str):
            return value + HOSTILE
        if isinstance(value, dict):
            return {k: poison(v) for k, v in value.items()}
        if isinstance(value, list):
            return [poison(v) for v in value]
        return value

    incident = poison(copy.deepcopy(INCIDENT))
    orders = [poison(o) for o in copy.deepcopy(ORDERS)]
    orders[0]["id"] = INCIDENT["orders"][0]  # still matched to the incident
    for doc in (incident_report_html(incident, orders, generated_ts=T), shift_log_html([incident], orders, T)):
        assert "<script" not in doc.lower() and "<img" not in doc.lower()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in doc
        tags = _tags(doc).tags
        assert {tag for tag, _ in tags} <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                                             "table", "thead", "tbody", "tr", "th", "td", "span", "div"}
        assert not any(name.startswith("on") for _, attrs in tags for name, _ in attrs)
        assert HOSTILE in _text(doc)  # shown as the text it is


def test_missing_and_malformed_fields_show_a_dash() -> None:
    for incident in ({}, {"id": None, "place": None, "devices": None, "timeline": None, "detail": None},
                     {"place": "T05", "devices": ["x", 3, None], "timeline": [None, {"ts": "soon"}], "orders": 7,
                      "commands": {"a": 1}, "priority": 5, "state": ["x"], "deadline_ts": float("inf"),
                      "created_ts": 1e300, "ack_ts": -1e300, "detail": "just text", "proposal": [],
                      "title": "", "result": float("nan"), "alarms": "one"}):
        doc = incident_report_html(incident, orders=[None, "x", {"id": None}], generated_ts=T)  # type: ignore[list-item]
        text = _text(doc)
        assert "—" in text and "Times" in text and "Timeline" in text
    assert "Priority — " in _text(incident_report_html({}, generated_ts=T))
    assert incident_report_html(None, None, None)  # type: ignore[arg-type]
    assert esc(None) == esc("") == esc("   ") == "—"
    assert esc("\ud800x\x00") == "?x\ufffd"  # lone surrogates and control characters cannot break the file


def test_shift_log_summarises_then_reports_each_incident() -> None:
    second = dict(INCIDENT, id="I1764090000-0002", priority="critical", title="Smoke T03 12F", state="dispatched",
                  resolved_ts=None, closed_ts=None)
    doc = shift_log_html([INCIDENT, second, "junk"], ORDERS, generated_ts=T + 3600)  # type: ignore[list-item]
    text = _text(doc)
    assert "2 incidents" in text and "◆◆ Critical" in text and "Smoke T03 12F" in text
    assert text.index("Shift log") < text.index("Incident report") and doc.count("page-break-before: always") == 3
    assert "No incidents in this shift." in _text(shift_log_html([], generated_ts=T))


def test_report_module_stays_pure_python() -> None:
    code = ("import sys, twin_app.core.report\n"
            "bad = [m for m in ('PySide6', 'vtk', 'paho') if m in sys.modules]\nsys.exit(1 if bad else 0)\n")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


_KEYS = st.sampled_from(["id", "state", "priority", "cause", "title", "place", "first_out", "alarms", "devices",
                         "unacknowledged", "active", "party", "party_name", "deadline_ts", "orders", "units",
                         "commands", "timeline", "created_ts", "ack_by", "ack_ts", "dispatched_ts", "resolved_ts",
                         "closed_ts", "closed_by", "result", "detail", "proposal", "building", "storey", "storeys",
                         "name", "device_id", "kind", "kind_name", "unit", "value", "alarm_high", "alarm_low",
                         "action", "sent_ts", "done_ts", "ts", "what", "text", "by", "contact", "snapshot",
                         "confidence", "unit_names", "deadline_min", "why", "incident_id", "status", "operator",
                         "history", "escalated_to", "created_ts"]) | st.text(max_size=8)
_TEXTS = st.text(max_size=40) | st.sampled_from([HOSTILE, "<script>", "<SCRIPT src=//x>", "</td><script>", "&lt;",
                                                  "critical", "closed", "\ud800", "\x00"])
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | _TEXTS)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6),
                       max_leaves=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incident=st.dictionaries(_KEYS, _VALUES, max_size=20), orders=st.none() | st.lists(_VALUES, max_size=3),
       now=st.none() | st.floats() | st.integers(), offset=st.sampled_from([8.0, 0, -5.5, 5.75]))
def test_random_payloads_never_crash_nor_inject_markup(incident: dict, orders: list | None, now: float | None,
                                                        offset: float) -> None:
    for doc in (incident_report_html(incident, orders, now, offset), shift_log_html([incident, incident], orders,
                                                                                       now, offset)):
        assert "<script" not in doc.lower()
        doc.encode("utf-8")  # always writable as UTF-8
        assert not any(name.startswith("on") for _, attrs in _tags(doc).tags for name, _ in attrs)
