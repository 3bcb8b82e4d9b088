"""Telemetry through a real mosquitto: batches, points, Last Will, reconnect, malformed input."""

from __future__ import annotations

import json
import time

import numpy as np
import paho.mqtt.client as mqtt

from tests.telemetry.conftest import wait_for
from twin_app.core.state import DeviceState
from twin_app.telemetry.mqtt import parse_broker_url
from twin_app.telemetry.runtime import Runtime, build_runtime

ROOT = "mumianling/v1"


def _publisher(broker, client_id: str = "test-publisher", will: tuple[str, str] | None = None) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.connect("127.0.0.1", broker.port, keepalive=2)
    client.loop_start()
    return client


def _engine(small_index, broker) -> Runtime:
    engine = build_runtime(small_index, parse_broker_url(broker.url), rules=False)
    engine.start()
    assert wait_for(lambda: engine.link.state == "connected"), engine.link.state
    return engine


def _device(index, kind: str, host_prefix: str) -> tuple[int, str]:
    d = index.devices
    row = int(np.flatnonzero((d["kind"] == kind).to_numpy() & d["device_id"].str.startswith(host_prefix).to_numpy())[0])
    return row, str(d["device_id"].iat[row])


def test_batch_and_point_colour_the_right_elements(small_index, mosquitto) -> None:
    engine = _engine(small_index, mosquitto)
    pub = _publisher(mosquitto)
    try:
        co_row, co_id = _device(small_index, "co", "T01-B1-GZA-CO1")
        temp_row, temp_id = _device(small_index, "temperature", "T02-3F-A01")
        payload = {"ts": time.time(), "ids": [co_id, temp_id], "values": [75.0, 23.5]}
        pub.publish(f"{ROOT}/telemetry/T01-B1", json.dumps(payload))
        hum_row, hum_id = _device(small_index, "humidity", "T02-3F-A01")
        pub.publish(f"{ROOT}/point/{hum_id}", "95")  # a bare number
        result = {}

        def step() -> None:
            result["r"] = engine.step()

        assert wait_for(lambda: engine.engine.store.readings >= 3, step=step)
        r = result["r"]
        assert engine.engine.store.value[co_row] == 75.0 and engine.engine.store.value[hum_row] == 95.0
        assert r.device_state[co_row] == DeviceState.ALARM
        assert r.device_state[temp_row] == DeviceState.NORMAL
        assert r.device_state[hum_row] == DeviceState.ALARM  # 95 %RH >= 90
        co_host = small_index.host_element[co_row]
        model = small_index.model
        assert r.element_state[co_host] == DeviceState.ALARM
        # rolled up to the storey and the tower; the other tower shows no alarm
        assert r.rolled_state[model.storey[co_host]] == DeviceState.ALARM
        assert r.rolled_state[model.building[co_host]] == DeviceState.ALARM
        other_tower = model.building[small_index.host_element[temp_row]]
        assert r.rolled_state[other_tower] == DeviceState.ALARM  # the humidity point is in T02 too
        untouched = int(small_index.host_element[_device(small_index, "temperature", "T01-5F-A01")[0]])
        assert r.element_state[untouched] == DeviceState.NO_DATA
    finally:
        pub.loop_stop()
        engine.stop()


def test_gateway_last_will_turns_its_devices_offline(small_index, mosquitto) -> None:
    engine = _engine(small_index, mosquitto)
    topic = f"{ROOT}/status/T01-3F"
    gateway = _publisher(mosquitto, "gateway-T01-3F", will=(topic, "offline"))
    try:
        gateway.publish(topic, "online", qos=1, retain=True).wait_for_publish(5)
        row, device_id = _device(small_index, "temperature", "T01-3F-A01")
        gateway.publish(f"{ROOT}/telemetry/T01-3F",
                        json.dumps({"ts": time.time(), "ids": [device_id], "values": [22.0]})).wait_for_publish(5)
        assert wait_for(lambda: engine.engine.store.readings >= 1, step=engine.step)
        assert engine.step().device_state[row] == DeviceState.NORMAL
        # the gateway dies without a clean disconnect: the broker publishes its Last Will
        gateway._sock.close()
        result = {}

        def step() -> None:
            result["r"] = engine.step()

        assert wait_for(lambda: "r" in result and result["r"].device_state[row] == DeviceState.OFFLINE,
                        timeout=15, step=step)
        r = result["r"]
        gateway_rows = np.flatnonzero(small_index.devices["gateway"].to_numpy() == "T01-3F")
        assert (r.device_state[gateway_rows] == DeviceState.OFFLINE).all()
        other = np.flatnonzero(small_index.devices["gateway"].to_numpy() == "T01-4F")
        assert not (r.device_state[other] == DeviceState.OFFLINE).any()
        storey = small_index.model.storey[small_index.host_element[row]]
        assert r.rolled_state[storey] == DeviceState.OFFLINE
    finally:
        gateway.loop_stop()
        engine.stop()


def test_reconnects_after_the_broker_restarts(small_index, mosquitto) -> None:
    engine = _engine(small_index, mosquitto)
    try:
        assert engine.link.connects == 1
        mosquitto.stop()
        assert wait_for(lambda: engine.link.state.startswith("disconnected"), timeout=10)
        mosquitto.start()
        assert wait_for(lambda: engine.link.connects == 2, timeout=30), engine.link.state
        pub = _publisher(mosquitto)
        row, device_id = _device(small_index, "co", "T02-B2-GZB-CO2")
        pub.publish(f"{ROOT}/point/{device_id}", json.dumps({"ts": time.time(), "value": 12.0}))
        assert wait_for(lambda: engine.engine.store.value[row] == 12.0, step=engine.step)
        pub.loop_stop()
    finally:
        engine.stop()


def test_malformed_messages_are_counted_and_good_data_keeps_flowing(small_index, mosquitto) -> None:
    engine = _engine(small_index, mosquitto)
    pub = _publisher(mosquitto)
    try:
        row, device_id = _device(small_index, "co", "T01-B2-GZC-CO3")
        bad = [
            ("telemetry/T01-B2", b"{not json"),
            ("telemetry/T01-B2", json.dumps({"ts": 1, "ids": [device_id], "values": [1, 2]}).encode()),
            ("telemetry/T01-B2", json.dumps({"ts": "yesterday", "ids": [device_id], "values": [1]}).encode()),
            ("telemetry/T01-B2", json.dumps({"ts": time.time(), "ids": ["NO-SUCH-DEVICE"], "values": [1]}).encode()),
            ("telemetry/T01-B2", b'{"ts": 1e9, "ids": ["' + device_id.encode() + b'"], "values": [NaN]}'),
            ("point/NO-SUCH-DEVICE", b"3"),
            ("status/T01-B2", b"maybe"),
            ("event/cam-1", b'{"type": "fall_detected"}'),
            ("telemetry/T01-B2", b"x" * (5 * 1024 * 1024)),
        ]
        for topic, payload in bad:
            pub.publish(f"{ROOT}/{topic}", payload)
        pub.publish(f"{ROOT}/point/{device_id}", json.dumps({"ts": time.time(), "value": 44.0}))
        assert wait_for(lambda: engine.engine.store.value[row] == 44.0, step=engine.step, timeout=15)
        errors = engine.ingest.errors
        for kind in ("bad_json", "length_mismatch", "bad_ts", "unknown_device", "non_finite", "bad_status",
                     "bad_event", "too_large"):
            assert errors.get(kind, 0) >= 1, (kind, errors)
    finally:
        pub.loop_stop()
        engine.stop()


def test_the_simulator_obeys_commands_after_a_broker_restart_once_per_id(small_index, mosquitto) -> None:
    from twin_app.telemetry.mqtt import make_client
    from twin_app.telemetry.simulator import Simulator, SimulatorRunner

    sim = Simulator(small_index.devices)
    client = make_client(parse_broker_url(mosquitto.url), "simulator-under-test")
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    runner = SimulatorRunner(sim, client)
    runner.listen_for_commands()
    row, fan = _device(small_index, "fan", "T01-B1-GZA-FAN1")
    try:
        mosquitto.stop()
        assert wait_for(lambda: not client.is_connected(), timeout=10)
        mosquitto.start()
        assert wait_for(client.is_connected, timeout=30)
        time.sleep(0.5)  # its subscription is renewed on the reconnect
        pub = _publisher(mosquitto, "engine-stand-in")
        command = {"id": "C-1", "ts": time.time(), "action": "on", "reason": "test"}
        pub.publish(f"{ROOT}/cmd/{fan}", json.dumps(command), qos=1)
        assert wait_for(lambda: sim.overrides.get(row) == 1.0, timeout=10)
        sim.overrides[row] = 0.0  # someone switched it off by hand: the same command again changes nothing
        pub.publish(f"{ROOT}/cmd/{fan}", json.dumps(command), qos=1).wait_for_publish(5)
        time.sleep(1.0)
        assert sim.overrides[row] == 0.0
        pub.loop_stop()
    finally:
        client.loop_stop()
