"""The engine through a real mosquitto: linked commands, retained alarms, operator actions, audit."""

from __future__ import annotations

import json
import time

import numpy as np
import paho.mqtt.client as mqtt
import pytest

from tests.telemetry.conftest import wait_for
from twin_app.telemetry.mqtt import parse_broker_url
from twin_app.telemetry.runtime import Runtime, build_runtime

ROOT = "mumianling/v1"


class Watcher:
    """A separate MQTT client that records what the engine publishes."""

    def __init__(self, port: int) -> None:
        self.messages: dict[str, dict | None] = {}
        self.commands: list[tuple[str, dict]] = []
        self.history: list[tuple[str, dict | None]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watcher-{time.time_ns()}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(f"{ROOT}/alarm/+", 1), (f"{ROOT}/dispatch/+", 1), (f"{ROOT}/cmd/+", 1),
                               (f"{ROOT}/action_result/+", 1)])
        self.client.loop_start()

    def _on_message(self, _c, _u, message) -> None:
        body = json.loads(message.payload) if message.payload else None
        if "/cmd/" in message.topic:
            self.commands.append((message.topic.rsplit("/", 1)[-1], body))
        else:
            self.messages[message.topic] = body
            self.history.append((message.topic, body))

    def action(self, verb: str, **body) -> None:
        body.setdefault("request", f"r-{time.time_ns()}")
        self.client.publish(f"{ROOT}/action/{verb}", json.dumps(body), qos=1)

    def stop(self) -> None:
        self.client.loop_stop()


@pytest.fixture
def service(small_index, mosquitto, tmp_path):
    runtime = build_runtime(small_index, parse_broker_url(mosquitto.url), folder=tmp_path / "engine", console="test")
    runtime.start()
    assert wait_for(lambda: runtime.link.state == "connected")
    yield runtime
    runtime.stop()


def _pump(service: Runtime):
    return service.step


def test_co_alarm_fans_on_ack_dispatch_and_close(service, mosquitto) -> None:
    watcher = Watcher(mosquitto.port)
    try:
        index = service.engine.index
        d = index.devices
        co = np.flatnonzero(d["device_id"].str.startswith("T02-B1-GZB-CO1-co").to_numpy())[0]
        device_id = str(d["device_id"].iat[co])
        pub = watcher.client
        for _ in range(8):  # CO at 80 ppm for longer than the 5 s on-delay
            pub.publish(f"{ROOT}/point/{device_id}", json.dumps({"ts": time.time(), "value": 80.0}))
            service.step()
            time.sleep(0.8)
        alarm_id = f"{device_id}:hi:1"
        topic = f"{ROOT}/alarm/{alarm_id}"
        assert wait_for(lambda: topic in watcher.messages, step=_pump(service))
        alarm = watcher.messages[topic]
        assert alarm["state"] == "unack_active" and alarm["priority"] == "high" and alarm["device_id"] == device_id
        assert alarm["proposed"] == {"party": "property_management", "unit": "PM-1", "deadline_min": 15.0}
        # the linked action: both exhaust fans of garage zone B, QoS 1, with the reason
        assert wait_for(lambda: len(watcher.commands) >= 2)
        fans = {target for target, body in watcher.commands if body["action"] == "on"}
        assert fans == {"T02-B1-GZB-FAN1-fan-1", "T02-B1-GZB-FAN2-fan-1"}
        assert all(alarm_id in body["reason"] for _, body in watcher.commands)
        # the operator acknowledges and dispatches through action/
        watcher.action("ack", operator="op-zhang", alarm_id=alarm_id)
        assert wait_for(lambda: watcher.messages[topic]["state"] == "ack_active", step=_pump(service))
        assert watcher.messages[topic]["ack_by"] == "op-zhang"
        watcher.action("dispatch", operator="op-zhang", alarm_id=alarm_id, unit="PM-1")
        assert wait_for(lambda: any(t.startswith(f"{ROOT}/dispatch/") for t in watcher.messages), step=_pump(service))
        order = next(v for t, v in watcher.messages.items() if t.startswith(f"{ROOT}/dispatch/"))
        assert order["unit"] == "PM-1" and order["party"] == "property_management"
        assert order["deadline_ts"] - order["created_ts"] == pytest.approx(15 * 60)
        # the unit reports back, the operator closes
        watcher.action("unit_status", operator="PM-1", order_id=order["id"], status="done",
                       result="fans running, CO 9 ppm")
        order_topic = f"{ROOT}/dispatch/{order['id']}"
        assert wait_for(lambda: watcher.messages[order_topic]["status"] == "done", step=_pump(service))
        watcher.action("close", operator="op-zhang", order_id=order["id"])
        # closed: published once as closed, then its retained topic is cleared (the record stays in the database)
        assert wait_for(lambda: watcher.messages[order_topic] is None, step=_pump(service))
        assert [b["status"] for t, b in watcher.history if t == order_topic and b][-1] == "closed"
        kpis = service.engine.kpis(time.time())
        # one incident, acknowledged and dispatched; it stays open while the CO is high
        assert kpis["incidents"] == 1 and kpis["mtta_s"] is not None and kpis["mttd_s"] is not None
        assert kpis["by_party"]["property_management"]["incidents"] == 1
        actions = [(e["operator"], e["action"]) for e in service.engine.audit.entries()]
        for step in (("system", "cmd:on"), ("op-zhang", "ack"), ("op-zhang", "dispatch"), ("PM-1", "unit_status"),
                     ("op-zhang", "close")):
            assert step in actions, (step, actions)
    finally:
        watcher.stop()


def test_bad_operator_input_is_refused_and_changes_nothing(service, mosquitto) -> None:
    watcher = Watcher(mosquitto.port)
    try:
        watcher.action("ack", operator="op-li", alarm_id="NO-SUCH-ALARM:hi", console="wall-2")
        watcher.action("dispatch", operator="op-li", alarm_id="NO-SUCH-ALARM:hi", unit="PM-1", console="wall-2")
        watcher.action("fly", operator="op-li", console="wall-2")
        watcher.client.publish(f"{ROOT}/action/ack", b"{not json")
        watcher.action("ack", alarm_id="x")  # no operator identity
        watcher.client.publish(f"{ROOT}/action/ack", json.dumps({"alarm_id": "x", "operator": "op-li"}))  # no request
        assert wait_for(lambda: len(service.engine.action_errors) >= 5, step=_pump(service))
        result_topic = f"{ROOT}/action_result/wall-2"
        assert wait_for(lambda: result_topic in watcher.messages)
        assert watcher.messages[result_topic]["ok"] is False
        assert any("no such alarm" in m for m in service.engine.action_errors)
        assert any("unknown action" in m for m in service.engine.action_errors)
        assert service.ingest.errors.get("bad_json", 0) >= 1
        assert any("operator" in m for m in service.engine.action_errors)
        assert any("request id" in m for m in service.engine.action_errors)
        assert service.engine.dispatcher.orders == {}
        refused = [e for e in service.engine.audit.entries() if e["outcome"].startswith("refused")]
        assert [e["operator"] for e in refused] == ["op-li", "op-li", "op-li", "?", "?"]  # no identity: "?"
    finally:
        watcher.stop()


def test_a_second_engine_on_the_same_folder_is_refused(small_index, tmp_path) -> None:
    from twin_app.core.errors import InputError

    first = build_runtime(small_index, None, folder=tmp_path)
    try:
        with pytest.raises(InputError, match="another engine already runs"):
            build_runtime(small_index, None, folder=tmp_path)
    finally:
        first.stop()
