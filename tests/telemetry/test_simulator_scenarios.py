"""Placed, combined scenarios and the simulator's events (AI cameras, residents, grid staff)."""

from __future__ import annotations

import re
import time

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
import pytest

from tests.telemetry.conftest import wait_for
from twin_app.core.names import SAFE_NAME
from twin_app.core.registry import read_registry
from twin_app.telemetry.mqtt import make_client, parse_broker_url
from twin_app.telemetry.payloads import decode_event
from twin_app.telemetry.simulator import (
    DAY_EVENTS,
    EVENT_SCENARIOS,
    SCENARIOS,
    Simulator,
    SimulatorRunner,
    parse_scenarios,
)

ROOT = "mumianling/v1"
NOW = 1_780_000_000.0  # a fixed clock: values and events are reproducible
TOWERS = [f"T{i:02d}" for i in range(1, 20)]


class FakeClient:
    """Records what a runner publishes."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes | str, int, bool]] = []

    def publish(self, topic: str, payload: bytes | str, qos: int = 0, retain: bool = False) -> None:
        self.messages.append((topic, payload, qos, retain))

    def is_connected(self) -> bool:
        return True

    def on(self, channel: str) -> list[tuple[str, bytes | str, int, bool]]:
        return [m for m in self.messages if m[0].startswith(f"{ROOT}/{channel}/")]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """12 towers of 13 storeys (plus B1, B2): enough for T12 and the 12F smoke start."""
    from twin_app.bim.generate import generate_district

    generated = generate_district(tmp_path_factory.mktemp("scenarios"), towers=12, storeys=13)
    return read_registry(generated.registry_path)


@pytest.fixture(scope="module")
def small_devices(small_district) -> pd.DataFrame:
    return read_registry(small_district.registry_path)


def _code(device_id: str) -> str:
    return device_id.split("-")[2]


# -- parsing ----------------------------------------------------------------------------------------
def test_parse_placed_combined_and_plain_scenarios() -> None:
    assert parse_scenarios("garage_co@T12,smoke_tower@T03,object_thrown@T08", TOWERS) == [
        ("garage_co", "T12"), ("smoke_tower", "T03"), ("object_thrown", "T08")]
    assert parse_scenarios("garage_co", TOWERS) == [("garage_co", None)]
    assert parse_scenarios(" fall @ t05 , grid_report ", TOWERS) == [("fall", "T05"), ("grid_report", None)]
    assert parse_scenarios("none", TOWERS) == []
    assert parse_scenarios("", TOWERS) == []
    assert {"gateway_silent", "object_thrown", "fall", "garbage_exposed", "fire_lane_blocked", "resident_request",
            "grid_report", "garage_co", "septic_h2s", "smoke_tower", "elevator_stuck", "gateway_offline",
            "none"} == set(SCENARIOS)


def test_parse_refuses_an_unknown_name_naming_it_and_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown scenario 'garage_c0'.*'garage_c0@T12'.*known: none, garage_co"):
        parse_scenarios("smoke_tower@T03,garage_c0@T12", TOWERS)


def test_parse_refuses_an_unknown_tower_naming_it_and_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown tower 'T25' in 'garage_co@T25'; known towers: T01, T02"):
        parse_scenarios("garage_co@T25", TOWERS)
    with pytest.raises(ValueError, match="cannot be placed"):
        parse_scenarios("none@T01", TOWERS)


def test_start_scenario_refuses_an_unknown_tower_and_keeps_its_default(small_devices) -> None:
    sim = Simulator(small_devices)
    with pytest.raises(ValueError, match="unknown tower 'T09'"):
        sim.start_scenario("garage_co", NOW, "T09")
    with pytest.raises(ValueError, match="unknown scenario"):
        sim.start_scenarios("garage_co,flood", NOW)
    assert sim.default_tower() == "T02"  # towers[min(4, n - 1)]: T05 in the full district
    assert "T02 B1-A" in sim.start_scenario("garage_co", NOW)
    assert sim.start_scenarios("none", NOW) == "no incident"


# -- incidents in the right places ----------------------------------------------------------------------
def test_combined_scenarios_drive_the_right_devices_in_the_right_towers(district) -> None:
    sim = Simulator(district)
    text = sim.start_scenarios("garage_co@T12,smoke_tower@T03", NOW)
    assert "garage zone T12 B1-A" in text and "tower T03 from 12F" in text
    ids = district["device_id"].astype(str)
    building = district["building"].astype(str).to_numpy()
    kind = district["kind"].astype(str).to_numpy()
    alarm_high = district["alarm_high"].to_numpy(np.float64)
    garage_co = ids.str.contains("-GZ", regex=False).to_numpy() & (kind == "co")
    driven_co = ids.str.startswith("T12-B1-GZA").to_numpy() & (kind == "co")
    smoke = kind == "smoke"
    storey = pd.to_numeric(district["storey"].astype(str).str.rstrip("F"), errors="coerce").to_numpy()
    driven_smoke = smoke & (building == "T03") & (storey >= 12)
    assert driven_co.sum() >= 4 and driven_smoke.sum() >= 2

    before = sim.values(NOW - 1.0)
    assert (before[garage_co | smoke] < alarm_high[garage_co | smoke]).all()
    later = sim.values(NOW + 40.0)
    assert (later[driven_co] > alarm_high[driven_co]).all()
    assert (later[driven_smoke] > alarm_high[driven_smoke]).all()
    others = (garage_co & ~driven_co) | (smoke & ~driven_smoke)
    assert (later[others] < alarm_high[others]).all()


def test_smoke_starts_in_the_middle_of_a_low_tower(small_devices) -> None:
    sim = Simulator(small_devices)
    assert "tower T01 from 3F" in sim.start_scenario("smoke_tower", NOW, "T01")
    assert sim.incidents[-1].rows.size > 0


# -- events ---------------------------------------------------------------------------------------------
def _events(client: FakeClient) -> list[tuple[str, dict]]:
    out = []
    for topic, payload, qos, retain in client.on("event"):
        assert qos == 1 and retain is False
        source = topic.rsplit("/", 1)[-1]
        assert SAFE_NAME.fullmatch(source)
        out.append((source, decode_event(payload.encode() if isinstance(payload, str) else payload, NOW)))
    return out


def test_event_scenarios_publish_one_valid_contract_event_each_on_the_next_tick(district) -> None:
    sim = Simulator(district)
    client = FakeClient()
    runner = SimulatorRunner(sim, client)
    names = list(EVENT_SCENARIOS)
    text = sim.start_scenarios(",".join(f"{name}@T08" for name in names), NOW)
    assert text.count("tower T08") == len(names)
    runner.tick(0, NOW + 0.5)
    events = _events(client)
    assert [e["type"] for _, e in events] == [EVENT_SCENARIOS[n] for n in names]
    assert runner.events_published == len(names) and sim.pending_events() == 0
    runner.tick(1, NOW + 1.0)
    assert len(client.on("event")) == len(names)  # once only

    devices = district.set_index("device_id")
    hosts = district.drop_duplicates("host_global_id").set_index("host_global_id")
    by_type = {e["type"]: (source, e) for source, e in events}
    for event_type in ("object_thrown_from_height", "fall_detected", "garbage_exposed", "fire_lane_blocked"):
        source, event = by_type[event_type]
        camera = event["device_id"]
        assert source == "ai_camera"
        assert devices.loc[camera, "kind"] == "camera" and devices.loc[camera, "building"] == "T08"
        assert 0.8 <= event["confidence"] <= 0.99
        assert re.fullmatch(rf"snapshot://T08/{camera}/\d{{8}}T\d{{6}}Z\.jpg", event["snapshot"])
        assert event["ts"] == NOW and SAFE_NAME.fullmatch(event["id"])
    thrown = by_type["object_thrown_from_height"][1]["device_id"]
    assert devices.loc[thrown, "storey"] == "1F" and _code(thrown) in ("LOB", "STR", "COR")
    assert _code(by_type["fall_detected"][1]["device_id"]) in ("LOB", "COR")
    for event_type in ("garbage_exposed", "fire_lane_blocked"):
        camera = by_type[event_type][1]["device_id"]
        assert devices.loc[camera, "storey"] == "1F" or _code(camera).startswith("GZ")

    source, request = by_type["resident_request"]
    assert source == "resident_app" and "device_id" not in request
    flat = hosts.loc[request["host_global_id"]]
    assert flat["building"] == "T08" and re.fullmatch(r"A\d\d", _code(flat["device_id"]))
    assert int(str(flat["storey"]).rstrip("F")) >= 2
    assert request["contact"] == f"resident:T08-{flat['storey']}-{_code(flat['device_id'])}"
    assert len(request["text"]) > 10 and not re.search(r"\d{6,}", request["contact"] + request["text"])

    source, report = by_type["grid_report"]
    assert source == "grid_staff" and re.fullmatch(r"grid-[A-Z]", report["reporter"]) and report["text"]
    place = hosts.loc[report["host_global_id"]]
    assert place["building"] == "T08" and re.match(r"(COR|LOB|GZ)", _code(place["device_id"]))


def test_event_ids_are_unique_safe_names(district) -> None:
    sim = Simulator(district)
    ids = [sim.make_event(name, "T04", NOW)[1]["id"] for _ in range(100) for name in EVENT_SCENARIOS]
    assert len(set(ids)) == len(ids)
    assert all(SAFE_NAME.fullmatch(i) for i in ids)


def test_an_event_scenario_started_later_waits_for_its_time(small_devices) -> None:
    sim = Simulator(small_devices)
    client = FakeClient()
    runner = SimulatorRunner(sim, client)
    sim.start_scenario("fall", NOW + 10.0, "T01")
    runner.tick(0, NOW)
    assert client.on("event") == [] and sim.pending_events() == 1
    runner.tick(1, NOW + 10.0)
    assert [e["type"] for _, e in _events(client)] == ["fall_detected"]


def test_queue_refuses_an_unsafe_source(small_devices) -> None:
    sim = Simulator(small_devices)
    with pytest.raises(ValueError, match="not a safe name"):
        sim.queue_event("ai/camera#", {"id": "ev-1"})


# -- gateways -------------------------------------------------------------------------------------------
def test_gateway_silent_stops_telemetry_without_an_offline_status(small_devices) -> None:
    sim = Simulator(small_devices)
    client = FakeClient()
    runner = SimulatorRunner(sim, client, rate=1.0)
    text = sim.start_scenario("gateway_silent", NOW, "T01")
    (gateway,) = sim.silent_gateways
    assert gateway.startswith("T01-") and gateway in text and not sim.offline_gateways
    runner.announce()
    for tick in range(10):
        runner.tick(tick, NOW + tick * 0.5)
    telemetry = {m[0].rsplit("/", 1)[-1] for m in client.on("telemetry")}
    assert gateway not in telemetry and len(telemetry) == len(sim.gateway_names) - 1
    status = {m[0].rsplit("/", 1)[-1]: m[1] for m in client.on("status")}
    assert status[gateway] == "online" and "offline" not in status.values()
    # gateway_offline in the same tower goes to another gateway, announced
    sim.start_scenario("gateway_offline", NOW, "T01")
    assert sim.offline_gateways and not sim.offline_gateways & sim.silent_gateways


# -- the simulated day ----------------------------------------------------------------------------------
def _day(devices: pd.DataFrame, seed: int, ticks: int) -> list[tuple[str, dict]]:
    sim = Simulator(devices)
    client = FakeClient()
    runner = SimulatorRunner(sim, client, events_per_hour=7200.0, seed=seed)  # one event a tick on average
    for tick in range(ticks):
        runner.tick(tick, NOW + tick * runner.tick_s)
    return _events(client)


def test_events_per_hour_gives_about_that_rate_reproducibly(small_devices) -> None:
    events = _day(small_devices, seed=3, ticks=1000)
    assert 880 <= len(events) <= 1120  # Poisson mean 1000, sd 32
    types = pd.Series([e["type"] for _, e in events]).value_counts(normalize=True)
    assert set(types.index) == set(DAY_EVENTS)
    assert 0.35 < types["resident_request"] < 0.55 and 0.05 < types["fire_lane_blocked"] < 0.15
    assert {s for s, _ in events} == {"ai_camera", "resident_app", "grid_staff"}
    assert {e["host_global_id"] for _, e in events if "host_global_id" in e} <= set(small_devices["host_global_id"])
    again = _day(small_devices, seed=3, ticks=200)
    assert [e["type"] for _, e in again] == [e["type"] for _, e in events[:len(again)]]
    quiet = SimulatorRunner(Simulator(small_devices), FakeClient())
    assert quiet.events_per_hour == 0.0
    with pytest.raises(ValueError, match="events_per_hour"):
        SimulatorRunner(Simulator(small_devices), FakeClient(), events_per_hour=-1.0)


# -- through a real broker ------------------------------------------------------------------------------
def test_events_arrive_on_event_source_through_mosquitto(small_devices, mosquitto) -> None:
    received: list[mqtt.MQTTMessage] = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="event-listener")
    sub.on_message = lambda _c, _u, message: received.append(message)
    sub.connect("127.0.0.1", mosquitto.port)
    sub.subscribe(f"{ROOT}/event/#", qos=1)
    sub.loop_start()
    client = make_client(parse_broker_url(mosquitto.url), "simulator-events")
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        assert wait_for(client.is_connected)
        time.sleep(0.3)  # the subscription is in place
        sim = Simulator(small_devices)
        runner = SimulatorRunner(sim, client)
        now = time.time()
        sim.start_scenarios("fall@T02,resident_request@T01", now)
        runner.tick(0, now)
        assert wait_for(lambda: len(received) >= 2, timeout=10)
        topics = sorted(m.topic for m in received)
        assert topics == [f"{ROOT}/event/ai_camera", f"{ROOT}/event/resident_app"]
        events = {m.topic: decode_event(m.payload, now) for m in received}
        assert events[f"{ROOT}/event/ai_camera"]["type"] == "fall_detected"
        assert events[f"{ROOT}/event/ai_camera"]["device_id"].startswith("T02-")
        assert events[f"{ROOT}/event/resident_app"]["contact"].startswith("resident:T01-")
        assert not any(m.retain for m in received)
    finally:
        client.loop_stop()
        sub.loop_stop()
