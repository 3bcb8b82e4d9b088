"""Incidents in the engine: grouping, one order per incident, linked commands once, lost data, closure, restart."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin_app.core.database import EngineDatabase
from twin_app.core.engine import Engine
from twin_app.core.inbox import Action, Drained, Event, GatewayStatus, Inbox, Readings
from twin_app.core.incidents import kpis

from .test_engine import Port

T0 = 1_800_000_000.0


def _rows(index, prefix: str, kind: str | None = None) -> np.ndarray:
    devices = index.devices
    mask = devices["device_id"].str.startswith(prefix).to_numpy()
    if kind is not None:
        mask &= (devices["kind"] == kind).to_numpy()
    return np.flatnonzero(mask)


def _drain(*messages) -> Drained:
    inbox = Inbox()
    for message in messages:
        inbox.put(message)
    return inbox.drain()


def _reading(rows, value: float, t: float) -> Readings:
    rows = np.asarray(rows)
    return Readings(rows, np.full(len(rows), value), np.full(len(rows), t), 0.0)


def _act(engine: Engine, verb: str, t: float, **body) -> dict:
    request = f"r-{verb}-{t}-{len(engine.answers)}"
    engine.step(_drain(Action(verb, {"operator": "op-li", "console": "c1", "request": request, **body})), t)
    return engine.answers[request]


def _engine(index, tmp_path, port=None) -> Engine:
    return Engine(index, port=port or Port(), database=EngineDatabase(tmp_path / "engine.sqlite"), console="test")


def _retained(port: Port, prefix: str) -> dict[str, dict]:
    """The retained state a console would hold after everything the port published."""
    held: dict[str, dict] = {}
    for topic, payload, retain in port.sent:
        if topic.startswith(prefix) and retain:
            name = topic[len(prefix):]
            if payload is None:
                held.pop(name, None)
            else:
                held[name] = payload
    return held


def _garage_co(engine: Engine, index, t: float, tower: str = "T01") -> float:
    """Every CO detector of garage zone A rises past its limit and its rate of rise."""
    rows = _rows(index, f"{tower}-B1-GZA", "co")
    for k, value in enumerate((6.0, 6.0, 40.0, 90.0, 95.0, 100.0)):
        t += 3.0 if k else 0.0
        if k == 2:
            t += 30.0
        engine.step(_drain(_reading(rows, value, t)), t)
    return t


def test_garage_co_is_one_incident_with_each_fan_commanded_once(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    t = _garage_co(engine, small_index, T0)
    incidents = _retained(port, "incident/")
    assert len(incidents) == 1
    incident = next(iter(incidents.values()))
    alarms = _retained(port, "alarm/")
    assert len(alarms) >= 4 and {a["incident"] for a in alarms.values()} == {incident["id"]}
    assert incident["cause"] == "gas" and incident["priority"] == "high" and incident["state"] == "new"
    assert incident["title"].startswith("CO high") and "— T01 B1 Garage zone B1-A · 7 devices" in incident["title"]
    assert incident["party"] == "property_management" and incident["party_name"] == "Property management"
    fans = [c["device_id"] for c in incident["commands"]]
    assert fans and len(fans) == len(set(fans)) == len(_rows(small_index, "T01-B1-GZA-FAN", "fan"))
    sent = [topic for topic, _, _ in port.sent if topic.startswith("cmd/")]
    assert sorted(sent) == sorted(f"cmd/{f}" for f in fans)  # one command per fan, not one per detector
    assert incident["proposal"]["units"] == ["PM-1"] and incident["orders"] == []  # CO is not dispatched alone
    assert {d["kind"] for d in incident["devices"]} == {"co"} and incident["devices"][0]["unit"] == "ppm"
    # the fans report on: the commands are confirmed in the incident
    engine.step(_drain(_reading(_rows(small_index, "T01-B1-GZA-FAN", "fan"), 1.0, t + 2)), t + 2)
    incident = _retained(port, "incident/")[incident["id"]]
    assert {c["state"] for c in incident["commands"]} == {"confirmed"}
    assert any(e["what"] == "confirmed" for e in incident["timeline"])
    assert engine.kpis(t)["open_incidents"] == 1 and engine.incidents.flood(t) == "normal"


def test_incident_ack_dispatch_unit_reports_and_close(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    t = _garage_co(engine, small_index, T0)
    engine.step(_drain(_reading(_rows(small_index, "T01-B1-GZA-FAN", "fan"), 1.0, t)), t)  # the fans obey
    incident_id = next(iter(engine.incidents.incidents))
    assert _act(engine, "close", t + 1, incident_id=incident_id, result="x")["ok"] is False  # not acknowledged
    answer = _act(engine, "ack", t + 2, incident_id=incident_id)
    assert answer["ok"], answer
    incident = engine.incidents.incidents[incident_id]
    assert incident.state == "acknowledged" and incident.unacknowledged == 0 and incident.ack_by == "op-li"
    assert _act(engine, "ack", t + 3, incident_id=incident_id)["ok"] is False  # already acknowledged
    assert _act(engine, "dispatch", t + 4, incident_id=incident_id)["ok"]
    order = engine.dispatcher.open_order_of(incident_id)
    assert order is not None and order.units == ["PM-1"] and incident.state == "dispatched"
    again = _act(engine, "dispatch", t + 5, incident_id=incident_id)
    assert not again["ok"] and "already has the open order" in again["message"]
    assert _act(engine, "comment", t + 6, incident_id=incident_id, text="fans running, smell of exhaust")["ok"]
    _act(engine, "unit_status", t + 60, order_id=order.id, status="on_scene")
    assert incident.state == "on_scene"
    refused = _act(engine, "close", t + 61, incident_id=incident_id, result="done")
    assert not refused["ok"] and "still on_scene" in refused["message"]
    _act(engine, "unit_status", t + 300, order_id=order.id, status="done", result="car left running; CO now 8 ppm")
    assert incident.state == "resolved" and incident.result.startswith("car left")
    refused = _act(engine, "close", t + 301, incident_id=incident_id)
    assert not refused["ok"] and "still active" in refused["message"]  # the CO is still high
    rows = _rows(small_index, "T01-B1-GZA", "co")
    engine.step(_drain(_reading(rows, 8.0, t + 310)), t + 310)
    engine.step(_drain(_reading(rows, 8.0, t + 350)), t + 350)
    _act(engine, "ack", t + 351, incident_id=incident_id)  # the returns acknowledged, if any are left
    answer = _act(engine, "close", t + 352, incident_id=incident_id)
    assert answer["ok"], answer
    assert incident_id not in engine.incidents.incidents and incident_id not in _retained(port, "incident/")
    closed = [p for topic, p, _ in port.sent if topic == f"incident/{incident_id}" and p is not None][-1]
    assert closed["state"] == "closed" and closed["result"].startswith("car left")
    whats = [e["what"] for e in closed["timeline"]]
    for what in ("alarm", "command", "ack", "order", "comment", "unit", "result", "closed"):
        assert what in whats, what
    figures = engine.kpis(t + 400)
    assert figures["closed"] == 1 and figures["within_deadline"] == 1.0 and figures["mtta_s"] is not None
    assert figures["by_party"]["property_management"]["closed"] == 1
    assert engine.database.incident(incident_id)["state"] == "closed"


def test_smoke_spreading_up_a_tower_is_one_fire_with_two_engines(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    t = T0
    for k, storey in enumerate(("3F", "4F", "5F")):
        rows = _rows(small_index, f"T02-{storey}-SMK", "smoke")
        engine.step(_drain(_reading(rows, 0.3, t + 8 * k)), t + 8 * k)
        engine.step(_drain(_reading(rows, 0.3, t + 8 * k + 3)), t + 8 * k + 3)
    incidents = list(_retained(port, "incident/").values())
    assert len(incidents) == 1
    fire = incidents[0]
    assert fire["cause"] == "fire" and fire["storeys"] == ["3F", "4F", "5F"] and "3 storeys" in fire["title"]
    assert fire["state"] == "dispatched" and len(fire["orders"]) == 1
    orders = _retained(port, "dispatch/")
    assert len(orders) == 1 and sorted(next(iter(orders.values()))["units"]) == ["FB-1", "FB-2"]
    recalls = [topic for topic, _, _ in port.sent if topic.startswith("cmd/")]
    assert len(recalls) == len(set(recalls)) > 0  # each elevator recalled once


def test_two_places_two_incidents_and_no_unit_double_booked(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    t = T0
    for tower in ("T01", "T02"):
        rows = _rows(small_index, f"{tower}-3F-SMK1", "smoke")
        engine.step(_drain(_reading(rows, 0.3, t)), t)
        engine.step(_drain(_reading(rows, 0.3, t + 3)), t + 3)
        t += 5
    incidents = _retained(port, "incident/")
    assert len(incidents) == 2
    orders = list(_retained(port, "dispatch/").values())
    booked = [u for o in orders for u in o["units"]]
    assert len(booked) == len(set(booked))


def test_elevator_stuck_goes_to_the_elevator_crew(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    rows = _rows(small_index, "T01-1F-EL2-", "elevator")
    for dt in (0.0, 5.0, 11.0):
        engine.step(_drain(_reading(rows, 3.0, T0 + dt)), T0 + dt)
    (incident,) = engine.incidents.incidents.values()
    assert incident.cause == "elevator"
    answer = _act(engine, "dispatch", T0 + 12, incident_id=incident.id)
    assert answer["ok"], answer
    assert engine.dispatcher.open_order_of(incident.id).units == ["MT-2"]


def test_gateway_offline_is_a_lost_data_incident_naming_the_blind_detectors(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    gateway = str(small_index.devices["gateway"][small_index.devices["device_id"].str.startswith("T01-3F")].iloc[0])
    engine.step(_drain(GatewayStatus(gateway, True)), T0)
    engine.step(_drain(GatewayStatus(gateway, False)), T0 + 1)
    (incident,) = _retained(port, "incident/").values()
    assert incident["cause"] == "communication" and incident["detail"]["gateway"] == gateway
    assert incident["detail"]["blind_count"] > 0 and any("smoke" in d for d in incident["detail"]["blind"])
    assert incident["priority"] == "critical"  # the priority of the flats' smoke detectors it blinds
    assert incident["title"].startswith("Gateway offline")
    engine.step(_drain(GatewayStatus(gateway, True)), T0 + 30)
    assert engine.incidents.incidents[incident["id"]].active == 0


def test_resident_request_dispatched_to_community_staff_and_closed_with_result(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    devices = small_index.devices
    flat = str(devices["host_global_id"][devices["device_id"].str.startswith("T01-3F-A01")].iloc[0])
    event = {"id": "req-1", "ts": T0, "type": "resident_request", "host_global_id": flat,
             "text": "Water leaking from the bathroom ceiling", "contact": "resident:T01-3F-A01"}
    engine.step(_drain(Event(event)), T0)
    (incident,) = engine.incidents.incidents.values()
    assert incident.cause == "resident_request" and incident.detail["text"].startswith("Water leaking")
    assert _act(engine, "ack", T0 + 5, incident_id=incident.id)["ok"]
    assert _act(engine, "dispatch", T0 + 10, incident_id=incident.id)["ok"]
    order = engine.dispatcher.open_order_of(incident.id)
    assert order.party == "community_staff"
    _act(engine, "unit_status", T0 + 400, order_id=order.id, status="done", result="pipe fixed by the plumber")
    answer = _act(engine, "close", T0 + 410, incident_id=incident.id)
    assert answer["ok"], answer
    closed = [p for topic, p, _ in port.sent if topic == f"incident/{incident.id}" and p is not None][-1]
    assert closed["state"] == "closed" and closed["result"] == "pipe fixed by the plumber"
    assert kpis(engine._kpi_records.values(), T0 + 500)["requests_resolution_rate"] == 1.0
    engine.step(_drain(Event(event)), T0 + 600)  # the same request redelivered opens nothing
    assert engine.incidents.incidents == {}


def test_incidents_survive_a_restart_and_new_alarms_join_them(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    t = _garage_co(engine, small_index, T0)
    (incident_id,) = engine.incidents.incidents
    _act(engine, "ack", t + 1, incident_id=incident_id)
    engine.database.close()
    port = Port()
    again = _engine(small_index, tmp_path, port)
    assert again.restored["incidents"] == 1
    restored = again.incidents.incidents[incident_id]
    assert restored.state == "acknowledged" and len(restored.commands) > 0
    again.step(_drain(), t + 2)
    assert f"incident/{incident_id}" in {topic for topic, _, _ in port.sent}  # republished
    assert again.incidents.rate_per_10min(t + 2) == 1  # the flood rate survived too
    rows = _rows(small_index, "T01-B1-GZB", "co")  # another zone of the same storey
    for dt in (3.0, 6.0, 9.0):
        again.step(_drain(_reading(rows, 90.0, t + dt)), t + dt)
    assert list(again.incidents.incidents) == [incident_id]
    assert restored.unacknowledged > 0


def test_a_flood_of_alarms_in_one_place_is_not_an_incident_flood(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    rows = _rows(small_index, "T01-", "smoke")
    engine.step(_drain(_reading(rows, 0.3, T0)), T0)
    engine.step(_drain(_reading(rows, 0.3, T0 + 3)), T0 + 3)
    assert len(engine.alarms.alarms) >= 10 and engine.alarms.flood(T0 + 3) == "flood"
    assert len(engine.incidents.incidents) == 1 and engine.incidents.flood(T0 + 3) == "normal"


incident_bodies = st.dictionaries(
    st.sampled_from(["request", "operator", "console", "incident_id", "alarm_id", "alarm_ids", "order_id", "unit",
                     "units", "status", "result", "minutes", "reason", "text"]),
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
              st.sampled_from(["#", "a/b", "+", "\ud800", "x" * 3000, "PM-1", "FB-1", "REAL", "wall", "r-1"]),
              st.lists(st.sampled_from(["PM-1", "PM-1", "FB-2", "#", "XX", "\ud800"]), max_size=12)),
    max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.tuples(st.sampled_from(["ack", "comment", "shelve", "dispatch", "close", "unit_status"]),
                                  incident_bodies), min_size=1, max_size=6))
def test_hostile_incident_actions_never_break_it_nor_double_book_a_unit(small_index, actions) -> None:
    port = Port()
    engine = Engine(small_index, port=port)
    t = _garage_co(engine, small_index, T0)
    (real,) = engine.incidents.incidents
    for n, (verb, body) in enumerate(actions):
        body = {k: (real if v == "REAL" else v) for k, v in body.items()}
        engine.step(_drain(Action(verb, body)), t + n)
    for topic, payload, _ in port.sent:
        assert "#" not in topic and "+" not in topic and topic.count("/") == 1
        json.dumps(payload)
    booked = [u for o in engine.dispatcher.orders.values() if o.status in ("dispatched", "en_route", "on_scene",
                                                                             "escalated") for u in o.units]
    assert len(booked) == len(set(booked))
    for unit in engine.dispatcher.units.values():
        assert (unit.status == "available") == (unit.order is None)
    for incident in engine.incidents.incidents.values():
        assert incident.state in ("new", "acknowledged", "dispatched", "on_scene", "resolved")
        assert len([o for o in incident.order_status.values() if o in ("dispatched", "en_route", "on_scene")]) <= 1


def test_a_late_confirmation_clears_the_unconfirmed_command_and_the_incident_can_close(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    t = _garage_co(engine, small_index, T0)
    fans = _rows(small_index, "T01-B1-GZA-FAN", "fan")
    co = _rows(small_index, "T01-B1-GZA", "co")
    engine.step(_drain(_reading(co, 100.0, t + 25)), t + 25)
    engine.step(_drain(_reading(co, 100.0, t + 40)), t + 40)  # the fans did not answer within 30 s
    (incident,) = engine.incidents.incidents.values()
    unconfirmed = [engine.alarms.alarms[a] for a in incident.alarms
                   if a in engine.alarms.alarms and engine.alarms.alarms[a].condition == "action_unconfirmed"]
    assert len(unconfirmed) == len(fans) and all(a.active for a in unconfirmed)
    assert {c["state"] for c in incident.commands} == {"unconfirmed"}
    engine.step(_drain(_reading(fans, 1.0, t + 45)), t + 45)  # late, but running
    assert not any(a.active for a in unconfirmed) and {c["state"] for c in incident.commands} == {"confirmed"}
    engine.step(_drain(_reading(co, 8.0, t + 50)), t + 50)
    engine.step(_drain(_reading(co, 8.0, t + 90)), t + 90)
    assert _act(engine, "ack", t + 91, incident_id=incident.id)["ok"]
    answer = _act(engine, "close", t + 92, incident_id=incident.id, result="fans ran late; CO back to 8 ppm")
    assert answer["ok"], answer


def test_every_unit_of_an_order_stays_booked_across_a_restart(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    for k, storey in enumerate(("3F", "4F")):
        rows = _rows(small_index, f"T02-{storey}-SMK", "smoke")
        engine.step(_drain(_reading(rows, 0.3, T0 + 8 * k)), T0 + 8 * k)
        engine.step(_drain(_reading(rows, 0.3, T0 + 8 * k + 3)), T0 + 8 * k + 3)
    (order,) = engine.dispatcher.orders.values()
    assert sorted(order.units) == ["FB-1", "FB-2"]
    engine.database.close()
    again = _engine(small_index, tmp_path)
    assert {u: again.dispatcher.units[u].status for u in ("FB-1", "FB-2")} == {"FB-1": "dispatched",
                                                                               "FB-2": "dispatched"}
    assert again.dispatcher.propose(again.dispatcher.matrix["smoke"]).units == []  # none free for another fire


def test_a_fire_that_flares_up_again_reopens_its_incident_and_sends_units_again(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    rows = _rows(small_index, "T02-3F-SMK", "smoke")
    engine.step(_drain(_reading(rows, 0.3, T0)), T0)
    engine.step(_drain(_reading(rows, 0.3, T0 + 3)), T0 + 3)
    (incident,) = engine.incidents.incidents.values()
    (order,) = engine.dispatcher.orders.values()
    assert _act(engine, "ack", T0 + 10, incident_id=incident.id)["ok"]
    _act(engine, "unit_status", T0 + 200, order_id=order.id, status="done", result="burnt pan, smoke cleared")
    assert incident.state == "resolved"
    higher = _rows(small_index, "T02-5F-SMK", "smoke")
    engine.step(_drain(_reading(higher, 0.3, T0 + 300)), T0 + 300)
    engine.step(_drain(_reading(higher, 0.3, T0 + 303)), T0 + 303)
    assert incident.state == "dispatched" and incident.unacknowledged > 0 and incident.ack_ts is None
    assert len(incident.orders) == 2 and engine.dispatcher.open_order_of(incident.id) is not None
    assert any(e["text"].startswith("Reopened") for e in incident.timeline)


def test_an_alarm_whose_shelving_ends_after_its_incident_closed_gets_a_new_incident(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    leak = _rows(small_index, "T01-3F-A01", "water_leak")[:1]
    engine.step(_drain(_reading(leak, 1.0, T0)), T0)
    engine.step(_drain(_reading(leak, 1.0, T0 + 40)), T0 + 40)
    (incident,) = engine.incidents.incidents.values()
    assert _act(engine, "ack", T0 + 41, incident_id=incident.id)["ok"]
    assert _act(engine, "shelve", T0 + 42, incident_id=incident.id, reason="plumber on site", minutes=5)["ok"]
    engine.step(_drain(_reading(leak, 0.0, T0 + 50)), T0 + 50)
    engine.step(_drain(_reading(leak, 0.0, T0 + 90)), T0 + 90)
    assert _act(engine, "close", T0 + 91, incident_id=incident.id, result="pipe fixed")["ok"]
    engine.step(_drain(_reading(leak, 1.0, T0 + 120)), T0 + 120)  # it leaks again while shelved
    engine.step(_drain(_reading(leak, 1.0, T0 + 160)), T0 + 160)
    engine.step(_drain(_reading(leak, 1.0, T0 + 400)), T0 + 400)  # the shelving ends
    (again,) = engine.incidents.incidents.values()
    assert again.id != incident.id and again.unacknowledged == 1


def test_a_second_request_from_the_same_flat_keeps_its_text(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    devices = small_index.devices
    flat = str(devices["host_global_id"][devices["device_id"].str.startswith("T01-3F-A01")].iloc[0])
    for n, text in enumerate(("Neighbour's dog barking", "Smell of gas near the kitchen")):
        engine.step(_drain(Event({"id": f"req-{n}", "ts": T0 + n, "type": "resident_request", "host_global_id": flat,
                                  "text": text, "contact": "resident:T01-3F-A01"})), T0 + n)
    (incident,) = engine.incidents.incidents.values()
    texts = " ".join(e["text"] for e in incident.timeline)
    assert "dog barking" in texts and "Smell of gas" in texts
    assert incident.detail["more"][0]["text"] == "Smell of gas near the kitchen"


def test_a_flapping_gateway_counts_its_blind_detectors_once(small_index, tmp_path) -> None:
    engine = _engine(small_index, tmp_path)
    gateway = str(small_index.devices["gateway"][small_index.devices["device_id"].str.startswith("T01-3F")].iloc[0])
    engine.step(_drain(GatewayStatus(gateway, False)), T0)
    (incident,) = engine.incidents.incidents.values()
    count = incident.detail["blind_count"]
    for k in range(3):
        engine.step(_drain(GatewayStatus(gateway, True)), T0 + 10 + k * 20)
        engine.step(_drain(GatewayStatus(gateway, False)), T0 + 20 + k * 20)
    assert list(engine.incidents.incidents.values()) == [incident] and incident.detail["blind_count"] == count
