"""Training scores: matching historic and trainee incidents, each compared field, the score, the HTML report."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta, timezone
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin_app.core.training import Item, Response, TrainingScore, score_training, training_report_html

T = 1764087000.0  # 2025-11-26 00:10:00 in Shenzhen (UTC+8)
STARTED, ENDED = T - 300, T + 1800
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;"\'</td></svg>'


def _incident(id_: str, cause: str, building: str, storey: str, created: float, *, ack: float | None = None,
              dispatched: float | None = None, closed: float | None = None, party: str | None = None,
              deadline: float | None = None, storeys: list[str] | None = None, orders: list[str] | None = None,
              title: str = "", place_name: str = "", proposal: dict | None = None) -> dict:
    """An ``incident/{id}`` payload as the engine publishes it (offsets in seconds from `created`)."""
    state = "closed" if closed is not None else "dispatched" if dispatched is not None else \
        "acknowledged" if ack is not None else "new"
    payload = {
        "id": id_, "cause": cause, "title": title or f"{cause} — {building} {storey}", "priority": "high",
        "state": state, "created_ts": created, "ack_ts": None if ack is None else created + ack,
        "ack_by": "Li Wei" if ack is not None else None,
        "dispatched_ts": None if dispatched is None else created + dispatched, "on_scene_ts": None,
        "resolved_ts": None if closed is None else created + closed - 60,
        "closed_ts": None if closed is None else created + closed, "closed_by": "Li Wei" if closed else None,
        "result": "Fans ran; CO back below 25 ppm" if closed else None, "party": party,
        "party_name": None, "deadline_ts": deadline, "building": building, "storey": storey,
        "storeys": storeys if storeys is not None else [storey], "place_name": place_name, "orders": orders or [],
        "timeline": [{"ts": created, "what": "alarm", "text": "CO high 70.7 ppm", "by": None}],
        "place": {"building": building, "storey": storey, "storeys": storeys or [storey], "name": place_name},
    }
    if proposal is not None:
        payload["proposal"] = proposal
    return payload


def _order(id_: str, incident: str, party: str, created: float, deadline: float | None = None) -> dict:
    """A ``dispatch/{id}`` payload."""
    return {"id": id_, "incident_id": incident, "unit": "PM-1", "units": ["PM-1"], "party": party,
            "deadline_ts": deadline, "status": "done", "created_ts": created, "operator": "Li Wei",
            "result": "done", "done_ts": created + 300}


# history: a garage CO incident (ack +40 s, dispatch +90 s, closed +600 s), a fire over two storeys, a water leak
# the trainee misses, and an elevator incident whose party is known only from its order
H_GARAGE = _incident("I1-garage", "gas", "T05", "B1", T, ack=40, dispatched=90, closed=600,
                     party="property_management", deadline=T + 900, orders=["D-h1"],
                     title="CO high 70.7 ppm — T05 B1 Garage zone B1-A", place_name="Garage zone B1-A")
H_FIRE = _incident("I2-fire", "fire", "T03", "3F", T + 300, ack=20, dispatched=30, closed=1200, party="fire_brigade",
                   deadline=T + 900, storeys=["3F", "4F"])
H_WATER = _incident("I3-water", "water", "T01", "B2", T + 600, ack=60, dispatched=120, closed=900,
                    party="maintenance", deadline=T + 2400)
H_LIFT = _incident("I4-lift", "elevator", "T02", "1F", T + 900, ack=30, dispatched=100, closed=800,
                   orders=["D-h4"], deadline=T + 2100)
HISTORY = [H_GARAGE, H_FIRE, H_WATER, H_LIFT]
HISTORY_ORDERS = [_order("D-h1", "I1-garage", "property_management", T + 90, T + 900),
                  _order("D-h4", "I4-lift", "maintenance", T + 1000, T + 2100)]

# the trainee: faster on the garage (no deadline on the payload: the historic 15 minutes apply), slower and not
# closed on the fire, the wrong party in the lift, nothing for the water leak, and two extra incidents
TR_GARAGE = _incident("X1", "gas", "T05", "B1", T + 5, ack=25, dispatched=60, closed=500, party="property_management",
                      title="CO high 68.0 ppm — T05 B1 Garage zone B1-A", place_name="Garage zone B1-A")
TR_FIRE = _incident("X2", "fire", "T03", "4F", T + 400, ack=90, dispatched=150, party="fire_brigade",
                    deadline=T + 1000, storeys=["4F", "5F"])
TR_LIFT = _incident("X3", "elevator", "T02", "1F", T + 880, ack=45, dispatched=100, closed=700, orders=["D-x3"],
                    deadline=T + 880 + 1200)
TR_WATER_ELSEWHERE = _incident("X4", "water", "T11", "B2", T + 610, ack=10)
TR_LATE_GAS = _incident("X5", "gas", "T05", "B1", T + 1500, ack=5)
TRAINEE = [TR_GARAGE, TR_FIRE, TR_LIFT, TR_WATER_ELSEWHERE, TR_LATE_GAS]
TRAINEE_ORDERS = [_order("D-x3", "X3", "police", T + 980, T + 2080)]


def _score() -> TrainingScore:
    return score_training(HISTORY, TRAINEE, STARTED, ENDED, HISTORY_ORDERS, TRAINEE_ORDERS)


def _by_history(score: TrainingScore) -> dict[str, Item]:
    return {item.history.id: item for item in score.items}


# ---------------------------------------------------------------- matching


def test_matching_missed_and_extra() -> None:
    score = _score()
    pairs = {item.history.id: item.trainee.id for item in score.items}
    assert pairs == {"I1-garage": "X1", "I2-fire": "X2", "I4-lift": "X3"}
    assert [item.history.id for item in score.items] == ["I1-garage", "I2-fire", "I4-lift"]  # creation order
    assert [m.id for m in score.missed] == ["I3-water"]
    assert sorted(e.id for e in score.extra) == ["X4", "X5"]
    assert (score.started, score.ended) == (STARTED, ENDED)


def test_matching_needs_cause_building_storey_and_time() -> None:
    base = _incident("H", "gas", "T05", "B1", T)
    for other in (_incident("X", "water", "T05", "B1", T),  # another cause
                  _incident("X", "gas", "T06", "B1", T),  # another building
                  _incident("X", "gas", "T05", "B2", T),  # another storey
                  _incident("X", "gas", "T05", "B1", T + 121),  # too late
                  _incident("X", "gas", "T05", "B1", T - 121)):  # too early
        score = score_training([base], [other], STARTED, ENDED)
        assert not score.items and [m.id for m in score.missed] == ["H"] and [e.id for e in score.extra] == ["X"]
    for other in (_incident("X", "gas", "T05", "B1", T + 120), _incident("X", "gas", "T05", "B1", T - 120),
                  _incident("X", "gas", "T05", "B3", T, storeys=["B3", "B1"])):  # overlapping storeys
        assert [i.trainee.id for i in score_training([base], [other], STARTED, ENDED).items] == ["X"]


def test_matching_is_greedy_by_creation_time_and_one_to_one() -> None:
    history = [_incident("H2", "gas", "T05", "B1", T + 60), _incident("H1", "gas", "T05", "B1", T)]
    trainee = [_incident("X2", "gas", "T05", "B1", T + 130), _incident("X1", "gas", "T05", "B1", T + 50),
               _incident("X3", "gas", "T05", "B1", T + 55)]
    score = score_training(history, trainee, STARTED, ENDED)
    # H1 (first raised) takes the nearest, X1; H2 then takes the nearest left, X3; X2 is extra
    assert [(i.history.id, i.trainee.id) for i in score.items] == [("H1", "X1"), ("H2", "X3")]
    assert [e.id for e in score.extra] == ["X2"] and not score.missed


def test_a_repeated_payload_counts_once_with_its_last_version() -> None:
    older = _incident("H1", "gas", "T05", "B1", T, ack=40)
    newer = _incident("H1", "gas", "T05", "B1", T, ack=40, dispatched=90, closed=600)
    score = score_training([older, newer], [TR_GARAGE], STARTED, ENDED)
    assert len(score.items) == 1 and not score.missed
    assert score.items[0].history.closed_ts == T + 600


# ---------------------------------------------------------------- fields


def test_faster_trainee_on_the_garage() -> None:
    item = _by_history(_score())["I1-garage"]
    assert (item.history_ack_s, item.trainee_ack_s, item.ack_vs_history) == (40, 25, "faster")
    assert (item.history_dispatch_s, item.trainee_dispatch_s, item.dispatch_vs_history) == (90, 60, "faster")
    assert (item.expected_party, item.chosen_party, item.right_party) == ("property_management",) * 2 + (True,)
    # no deadline on the trainee's payload: its creation plus the historic 15 minutes
    assert item.deadline_ts == T + 5 + 900
    assert (item.within_deadline, item.deadline_reason) == (True, "met")
    assert item.points == 100
    assert item.history.title == "CO high 70.7 ppm — T05 B1 Garage zone B1-A"
    assert item.history.place == "T05 B1 Garage zone B1-A"
    assert item.remarks == ["Acknowledged in 0:25, 0:15 faster than history (0:40)",
                            "Dispatched in 1:00, 0:30 faster than history (1:30)",
                            "Right party: Property management", "Closed 6:40 before the deadline"]


def test_slower_trainee_who_never_closed_the_fire() -> None:
    item = _by_history(_score())["I2-fire"]
    assert (item.history_ack_s, item.trainee_ack_s, item.ack_vs_history) == (20, 90, "slower")
    assert (item.history_dispatch_s, item.trainee_dispatch_s, item.dispatch_vs_history) == (30, 150, "slower")
    assert item.right_party is True
    assert item.deadline_ts == T + 1000  # the trainee's own deadline comes first
    assert (item.within_deadline, item.deadline_reason) == (False, "not closed")
    assert item.points == 20 + 0 + 20 + 20 + 0  # acknowledged, but slower than history and after 60 s
    assert "Acknowledged in 1:30, 1:10 slower than history (0:20)" in item.remarks
    assert "Not closed by the end of the session" in item.remarks


def test_wrong_party_from_the_orders_and_a_slower_but_quick_ack() -> None:
    item = _by_history(_score())["I4-lift"]
    # the historic incident names no party: its order does; the trainee's party is its first order's
    assert (item.expected_party, item.chosen_party, item.right_party) == ("maintenance", "police", False)
    assert (item.ack_vs_history, item.dispatch_vs_history) == ("slower", "same")
    assert "Wrong party: Police instead of Maintenance" in item.remarks
    assert "Dispatched in 1:40, as fast as history" in item.remarks
    assert (item.within_deadline, item.deadline_reason) == (True, "met")
    assert item.points == 20 + 10 + 20 + 0 + 30  # 45 s is slower than history's 30 s, but within 60 s


def test_score_is_the_mean_over_historic_incidents() -> None:
    score = _score()
    assert [i.points for i in score.items] == [100, 60, 80]
    assert score.score == (100 + 60 + 0 + 80) / 4 == 60.0  # the missed water leak scores 0
    assert any("4 historic incident(s): 3 handled, 1 missed; 2 extra" in r for r in score.remarks)


def test_closed_late_and_closed_after_the_session() -> None:
    late = _incident("X", "gas", "T05", "B1", T + 5, ack=25, dispatched=60, closed=1000, party="property_management")
    item = score_training([H_GARAGE], [late], STARTED, ENDED).items[0]
    assert (item.within_deadline, item.deadline_reason, item.points) == (False, "late", 70)
    assert "Closed 1:40 after the deadline" in item.remarks
    after = _incident("X", "gas", "T05", "B1", T + 5, closed=ENDED - T + 10)
    item = score_training([H_GARAGE], [after], STARTED, ENDED).items[0]
    assert (item.within_deadline, item.deadline_reason) == (False, "not closed")


def test_untouched_incident_and_the_proposal_as_the_expected_party() -> None:
    past = _incident("H", "gas", "T05", "B1", T, closed=300)  # history: no party, no order
    untouched = _incident("X", "gas", "T05", "B1", T + 2,
                          proposal={"party": "property_management", "units": ["PM-1"], "deadline_min": 15})
    score = score_training([past], [untouched], STARTED, ENDED)
    item = score.items[0]
    assert (item.trainee_ack_s, item.ack_vs_history, item.trainee_dispatch_s) == (None, None, None)
    assert (item.expected_party, item.chosen_party, item.right_party) == ("property_management", None, False)
    assert item.deadline_ts == T + 2 + 15 * 60  # no deadline anywhere but in the proposal
    assert item.points == 0 and score.score == 0.0
    assert item.remarks[:3] == ["Not acknowledged", "Not dispatched", "No party chosen; expected Property management"]


def test_dispatch_time_from_the_first_order() -> None:
    own = _incident("X", "gas", "T05", "B1", T + 5, ack=20, orders=["D2", "D1"])
    orders = [_order("D2", "X", "police", T + 200), _order("D1", "X", "property_management", T + 65)]
    item = score_training([H_GARAGE], [own], STARTED, ENDED, HISTORY_ORDERS, orders).items[0]
    assert item.trainee_dispatch_s == 60 and item.chosen_party == "property_management" and item.right_party


def test_no_history_scores_nothing() -> None:
    score = score_training([], [TR_GARAGE], STARTED, ENDED)
    assert score.score is None and not score.items and not score.missed
    assert [e.id for e in score.extra] == ["X1"]
    assert any("No historic incidents" in r for r in score.remarks)
    assert "nothing to score" in training_report_html(score, "Drill", "Wang Fang", tz=8)


def test_to_json_is_plain_json() -> None:
    data = json.loads(json.dumps(_score().to_json(), allow_nan=False))
    assert data["score"] == 60.0 and data["started"] == STARTED and data["ended"] == ENDED
    assert data["items"][0]["history"]["id"] == "I1-garage" and data["items"][0]["trainee"]["id"] == "X1"
    assert data["items"][0]["within_deadline"] is True and data["items"][0]["deadline_reason"] == "met"
    assert [m["id"] for m in data["missed"]] == ["I3-water"]
    assert sorted(e["id"] for e in data["extra"]) == ["X4", "X5"]


def test_response_durations() -> None:
    response = Response(created_ts=T, ack_ts=T + 40, dispatched_ts=T - 5)
    assert response.ack_s == 40 and response.dispatch_s is None  # a dispatch before creation is damaged


# ---------------------------------------------------------------- the report


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def _report(title: str = "Garage CO drill", trainee: str = "Wang Fang 王芳") -> str:
    return training_report_html(_score(), title, trainee, tz=8)


def test_report_header_and_table() -> None:
    page = _report()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "Garage CO drill" in page and "Wang Fang 王芳" in page
    assert "2025-11-26 00:05:00 – 00:40:00 (UTC+08:00)" in page
    assert "60 / 100" in page
    assert "CO high 70.7 ppm — T05 B1 Garage zone B1-A" in page
    assert "0:40 / 0:25" in page and "1:30 / 1:00" in page  # history / trainee
    assert "Property management / Property management" in page and "Maintenance / Police" in page
    assert "✔" in page and "✘" in page and "not closed" in page and "missed" in page
    tags = _Tags()
    tags.feed(page)
    assert tags.tags.count("tr") == 1 + 4 + 5 + 1 + 2  # header facts; incidents (head + 4); extras (head + 2)
    assert not {"script", "img", "link", "iframe"} & set(tags.tags)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_report_timeline_chart() -> None:
    page = _report()
    svg = page[page.index("<svg"): page.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag.endswith("svg")
    # one block of two lanes per incident: 3 matched, 1 missed, 2 extra
    assert svg.count('class="lane-label">History</text>') == 6 and svg.count('class="lane-label">Trainee</text>') == 6
    # bars: 4 historic and 5 trainee incidents; the fire and the extra incidents are open at the session end
    assert len(re.findall(r'<rect class="bar', svg)) == 9
    assert len(re.findall(r'<rect class="bar open"', svg)) == 3
    assert svg.count('class="ack"') == 4 + 5 and svg.count('class="dispatch"') == 4 + 3
    assert svg.count('class="deadline"') == 4 + 3  # history's 4 and the matched trainee incidents' 3
    assert "missed — not raised" in svg and "not in history" in svg
    assert "Acknowledged" in svg and "Dispatched" in svg and "Deadline" in svg  # the legend
    ticks = re.findall(r">(\d\d:\d\d:\d\d)</text>", svg)
    assert "00:10:00" in ticks and len(set(ticks)) >= 4


def test_report_escapes_hostile_payloads() -> None:
    hostile = copy.deepcopy(H_GARAGE)
    hostile.update(title=HOSTILE, place_name=HOSTILE, party=HOSTILE, id=HOSTILE)
    trainee = copy.deepcopy(TR_GARAGE)
    trainee.update(title=HOSTILE, party=HOSTILE + "x")
    extra = copy.deepcopy(TR_LATE_GAS)
    extra.update(title=HOSTILE, storey=HOSTILE, building=HOSTILE, party=HOSTILE)
    score = score_training([hostile], [trainee, extra], STARTED, ENDED)
    page = training_report_html(score, HOSTILE, HOSTILE, tz=timezone(timedelta(hours=8)))
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    tags = _Tags()
    tags.feed(page)
    assert not {"script", "img"} & set(tags.tags)
    ET.fromstring(page[page.index("<svg"): page.index("</svg>") + len("</svg>")])


def test_report_rejects_an_impossible_time_zone() -> None:
    with pytest.raises(ValueError):
        training_report_html(_score(), "Drill", "Wang Fang", tz=25)


# ---------------------------------------------------------------- damaged payloads

_KEYS = ("id", "cause", "title", "priority", "state", "created_ts", "ack_ts", "dispatched_ts", "closed_ts",
         "deadline_ts", "party", "building", "storey", "storeys", "place_name", "place", "orders", "proposal",
         "timeline", "incident_id", "unit", "units", "status", "operator", "done_ts")
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
            | st.sampled_from([HOSTILE, "gas", "T05", "B1", "fire_brigade", "\ud800", "\x00"])
            | st.floats(min_value=T - 400, max_value=T + 2000))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=4), inner, max_size=3),
                       max_leaves=10)
_DAMAGE = st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=4), _VALUES, max_size=8)


@st.composite
def _payloads(draw: st.DrawFn, bases: list[dict]) -> list[object]:
    """Realistic payloads with damaged or removed fields, arbitrary dicts and non-dicts."""
    out: list[object] = []
    for base in draw(st.lists(st.sampled_from(bases), max_size=4)):
        payload = copy.deepcopy(base)
        for key in draw(st.lists(st.sampled_from(sorted(payload)), max_size=4)):
            payload.pop(key, None)
        payload.update(draw(_DAMAGE))
        out.append(payload)
    out += draw(st.lists(_DAMAGE | _VALUES, max_size=3))
    return draw(st.permutations(out))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=_payloads(HISTORY), trainee=_payloads(TRAINEE), history_orders=_payloads(HISTORY_ORDERS),
       trainee_orders=_payloads(TRAINEE_ORDERS),
       started=st.just(STARTED) | st.floats(), ended=st.just(ENDED) | st.floats())
def test_damaged_payloads_never_raise(history: list, trainee: list, history_orders: list, trainee_orders: list,
                                      started: float, ended: float) -> None:
    score = score_training(history, trainee, started, ended, history_orders, trainee_orders)
    assert score.score is None or 0 <= score.score <= 100
    assert all(0 <= item.points <= 100 for item in score.items)
    json.dumps(score.to_json(), allow_nan=False)
    page = training_report_html(score, HOSTILE, HOSTILE, tz=8)
    assert "<svg" in page or "No incidents to draw" in page
    assert "<script" not in page
