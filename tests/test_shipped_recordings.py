"""Each shipped incident recording replays, through the replay session and `twin-app replay`, to its alarms and orders.

Crosses layers (the district variant is loaded with the BIM loader), so it sits at the top of `tests/`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.telemetry.test_incident_recordings import EXPECTED, SHIPPED
from twin_app.replay_cli import load_district_index
from twin_app.telemetry.incident_recordings import DISTRICT, NAMES
from twin_app.telemetry.recording import RecordingReader
from twin_app.telemetry.replay import ReplaySession


@pytest.fixture(scope="module")
def variant_index():
    return load_district_index(DISTRICT)


@pytest.mark.parametrize("name", NAMES)
def test_replayed_as_it_happened_shows_the_alarms_and_orders(name: str, variant_index) -> None:
    cause, priority, party, units, _ = EXPECTED[name]
    session = ReplaySession(RecordingReader(SHIPPED / f"{name}.mcap"), variant_index)
    first = next(m for m in session.markers if m.kind == "incident")
    session.seek(first.ts + 30.0)
    state = session.state_json()
    assert [i["cause"] for i in state["incidents"]] == [cause]
    assert state["incidents"][0]["priority"] == priority
    assert state["alarms"] and all(a["state"] in ("unack_active", "ack_active", "unack_rtn") for a in state["alarms"])
    history, orders = session.history()
    assert [i["cause"] for i in history] == [cause] and history[0]["state"] == "closed"
    assert {o["party"] for o in orders} == {party} and sorted(u for o in orders for u in o["units"]) == sorted(units)
    session.seek(session.end)  # closed and cleared: nothing standing at the end
    assert session.state_json()["incidents"] == [] and session.state_json()["orders"] == []


@pytest.mark.parametrize("name", NAMES)
def test_re_evaluated_with_todays_rules_raises_the_same_incident_and_commands(name: str, variant_index) -> None:
    cause, priority, _, _, commands = EXPECTED[name]
    session = ReplaySession(RecordingReader(SHIPPED / f"{name}.mcap"), variant_index, mode="re_evaluate")
    session.advance(session.end)
    incidents = sorted(session.retained.topics["incident"].values(), key=lambda i: i["created_ts"])
    history, _ = session.history()
    # the historic incident first; the recorded telemetry (deadband changes) may trip a rule live did not
    assert (incidents[0]["cause"], incidents[0]["building"]) == (cause, history[0]["building"])
    assert incidents[0]["priority"] == priority
    sent = [(device, (payload or {}).get("action")) for device, payload in session.port.commands]
    for prefix, action, count in commands:
        assert sum(1 for d, a in sent if d.startswith(prefix) and a == action) == count, sent


def test_twin_app_replay_json_on_a_shipped_recording(variant_index) -> None:
    run = subprocess.run([sys.executable, "-m", "twin_app", "replay", str(SHIPPED / "garage_co.mcap"), "--at", "110",
                          "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    state = json.loads(run.stdout)
    assert [i["cause"] for i in state["incidents"]] == ["gas"]
    assert sum(state["device_states"].values()) == variant_index.n_devices


def test_a_trainee_who_handles_the_garage_incident_in_time_scores_full_marks(variant_index) -> None:
    from twin_app.core.training import score_training

    session = ReplaySession(RecordingReader(SHIPPED / "garage_co.mcap"), variant_index, mode="training",
                            trainee="trainee-wu")
    session.advance(session.start + 100.0)
    incident = next(i for i in session.retained.topics["incident"].values() if i["cause"] == "gas")
    for at, verb, body in ((100.0, "ack", {"incident_id": incident["id"]}),
                           (150.0, "dispatch", {"incident_id": incident["id"]}),
                           (400.0, "unit_status", {"status": "on_scene"}),
                           (480.0, "unit_status", {"status": "done", "result": "Van engine switched off"}),
                           (500.0, "close", {"incident_id": incident["id"], "result": "Garage ventilated"})):
        session.advance(session.start + at)
        if verb == "unit_status":
            body["order_id"] = next(iter(session.retained.last["dispatch"]))
        assert session.act(verb, body)["ok"], verb
    history, history_orders = session.history()
    trainee, trainee_orders = session.trainee_incidents()
    score = score_training(history, trainee, session.start, session.end, history_orders, trainee_orders)
    item = score.items[0]
    assert item.right_party and item.within_deadline and item.trainee_ack_s == pytest.approx(
        session.start + 100.0 - incident["created_ts"])
    assert item.points == 100 and not score.missed
