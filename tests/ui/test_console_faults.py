"""A real console under faults: an engine that does not answer, hostile retained topics, an alarm flood."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import paho.mqtt.client as mqtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ui.conftest import load_into

ROOT = "mumianling/v1"
HOSTILE_MESSAGES = int(os.environ.get("TWIN_APP_DRILL_MESSAGES", "400"))


class Client:
    """A separate MQTT client recording the actions it sees."""

    def __init__(self, port: int) -> None:
        self.actions: list[dict] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{time.time_ns()}")
        self.client.on_message = lambda _c, _u, m: self.actions.append(json.loads(m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"{ROOT}/action/+", qos=1)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(f"{ROOT}/{topic}", payload, qos=1, retain=retain).wait_for_publish(5)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_an_unanswered_action_is_shown_and_sent_again_until_the_engine_answers(qtbot, window, small_district,
                                                                                mosquitto, tmp_path) -> None:
    load_into(qtbot, window, small_district.ifc_path)
    probe = Client(mosquitto.port)
    window.start_live(mosquitto.url, operator="op-wu", console="desk-3")  # remote: the engine is a serve
    serve = None
    try:
        qtbot.waitUntil(lambda: window.live.connection == "connected", timeout=10_000)
        window.send_action("ack", {"alarm_id": "T01-B1-GZA-CO1-co-1:hi:1"})
        # no engine runs: the operator sees that nothing answered, and the console keeps sending the same request
        qtbot.waitUntil(lambda: window.unanswered_label.isVisible(), timeout=10_000)
        assert "not answered" in window.unanswered_label.text()
        qtbot.waitUntil(lambda: len(probe.actions) >= 2, timeout=10_000)
        assert len({a["request"] for a in probe.actions}) == 1
        serve = subprocess.Popen([sys.executable, "-m", "twin_app", "serve", "--broker", mosquitto.url, "--ifc",
                                  str(small_district.ifc_path), "--data-dir", str(tmp_path / "serve")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the engine comes up and answers (a refusal: there is no such alarm); the warning goes away
        qtbot.waitUntil(lambda: bool(window.last_refusal), timeout=60_000)
        assert "no such alarm" in window.last_refusal
        qtbot.waitUntil(lambda: not window.unanswered_label.isVisible(), timeout=10_000)
        assert window.live.pending == {}
    finally:
        if serve is not None:
            serve.terminate()
            serve.wait(timeout=20)
        probe.stop()
        window.stop_live()


junk = st.one_of(
    st.binary(max_size=40),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                  lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                  max_leaves=10).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"id": st.just("A-1"), "state": st.sampled_from(["unack_active", "bogus", 3]),
                           "priority": st.sampled_from(["high", None, ["x"]]),
                           "raised_ts": st.one_of(st.floats(), st.text(max_size=3)),
                           "proposed": st.one_of(st.none(), st.text(max_size=3), st.dictionaries(
                               st.sampled_from(["party", "unit", "deadline_min"]),
                               st.integers() | st.text(max_size=3))),
                           "deadline_ts": st.one_of(st.floats(), st.text(max_size=3)),
                           "status": st.sampled_from(["done", "dispatched", 7]),
                           "unit": st.one_of(st.text(max_size=3), st.integers()),
                           "ok": st.one_of(st.booleans(), st.text(max_size=2))}).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"id": st.just("I-1"), "state": st.sampled_from(["new", "closed", "bogus", 3]),
                           "priority": st.sampled_from(["critical", None, ["x"]]),
                           "cause": st.one_of(st.just("gas"), st.integers()),
                           "title": st.one_of(st.text(max_size=5), st.integers(), st.none()),
                           "alarms": st.one_of(st.lists(st.text(max_size=3), max_size=3), st.text(max_size=3)),
                           "timeline": st.one_of(st.lists(st.integers(), max_size=2), st.none()),
                           "created_ts": st.one_of(st.floats(), st.text(max_size=3)),
                           "unacknowledged": st.one_of(st.integers(), st.text(max_size=2))}).map(
        lambda v: json.dumps(v).encode()),
)


def test_hostile_retained_topics_do_not_blind_the_console(qtbot, window, small_district, mosquitto) -> None:
    load_into(qtbot, window, small_district.ifc_path)
    probe = Client(mosquitto.port)
    window.start_live(mosquitto.url, operator="op-wu", console="desk-4")
    try:
        qtbot.waitUntil(lambda: window.live.connection == "connected", timeout=10_000)
        topics = ["alarm/A-1", "dispatch/A-1", "kpi/summary", "action_result/desk-4", "alarm/x", "dispatch/y",
                  "incident/I-1", "incident/z"]

        @settings(max_examples=HOSTILE_MESSAGES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(topic=st.sampled_from(topics), payload=junk, retain=st.booleans())
        def publish(topic: str, payload: bytes, retain: bool) -> None:
            probe.publish(topic, payload, retain)

        publish()
        good = {"id": "T01-B1-GZA-CO1-co-1:hi:1", "state": "unack_active", "priority": "high", "kind": "co",
                "condition": "hi", "raised_ts": time.time(), "device_id": "T01-B1-GZA-CO1-co-1", "value": 90.0}
        probe.publish(f"alarm/{good['id']}", json.dumps({**good, "incident": "I-7"}).encode(), retain=True)
        incident = {"id": "I-7", "state": "new", "priority": "high", "cause": "gas", "title": "CO high 90 ppm — T01 B1",
                    "alarms": [good["id"]], "unacknowledged": 1, "created_ts": time.time(),
                    "host_global_id": "nowhere"}
        probe.publish("incident/I-7", json.dumps(incident).encode(), retain=True)
        dock = window.incident_dock
        qtbot.waitUntil(lambda: good["id"] in dock.alarms and "I-7" in dock.incidents, timeout=10_000)
        qtbot.waitUntil(lambda: dock.tree.topLevelItemCount() >= 1, timeout=5_000)
        assert dock.select_incident("I-7")  # its row is drawn even when the list's redraw is held back
        assert "CO high 90 ppm" in window.incident_detail.title.text()
        errors = window.live.runtime.errors()
        assert sum(errors.values()) > 0  # the junk was counted, not shown
        assert all(isinstance(a.get("state"), str) for a in dock.alarms.values())
        assert all(isinstance(i.get("state"), str) for i in dock.incidents.values())
    finally:
        for topic in ("alarm/A-1", "dispatch/A-1", "kpi/summary", "alarm/x", "dispatch/y", "incident/I-1",
                      "incident/z", "incident/I-7", "alarm/T01-B1-GZA-CO1-co-1:hi:1"):
            probe.publish(topic, b"", retain=True)
        probe.stop()
        window.stop_live()


def test_a_flood_of_1000_alarms_is_grouped_into_incidents_and_keeps_the_window_responsive(qtbot, window, small_district,
                                                                                 mosquitto, tmp_path) -> None:
    import threading

    import numpy as np
    from PySide6.QtCore import QTimer

    from twin_app.core.alarms import DEFAULT_ON_DELAY_S, ON_DELAY_S
    from twin_app.ui.command_panel import MAX_ROWS, PRIORITY_ORDER

    load_into(qtbot, window, small_district.ifc_path)
    window.start_live(mosquitto.url, engine="local", operator="op-wu", console="wall-9", data_dir=tmp_path / "engine")
    devices = window.live.index.devices
    kinds = devices["kind"].astype(str).to_numpy()
    high = devices["alarm_high"].to_numpy(np.float64)
    quick = np.array([ON_DELAY_S.get(k, DEFAULT_ON_DELAY_S) <= 5.0 for k in kinds])
    rows = np.flatnonzero(np.isfinite(high) & quick & ~np.isin(kinds, ("fan", "pump", "elevator")))[:1000]
    assert len(rows) == 1000
    ids = devices["device_id"].astype(str).to_numpy()[rows].tolist()
    values = (high[rows] * 2.0 + 1.0).tolist()
    gaps: list[float] = []
    last = {"t": time.monotonic()}

    def probe() -> None:  # the GUI thread's longest block: the gap between two 10 ms ticks
        now = time.monotonic()
        gaps.append(now - last["t"])
        last["t"] = now

    ticker = QTimer()
    ticker.setInterval(10)
    ticker.timeout.connect(probe)
    stop = threading.Event()
    publisher = Client(mosquitto.port)

    def flood() -> None:  # 1/10 of the flood a second for 10 s, then the same values again every 2 s
        for second in range(10):
            chunk = slice(second * 100, (second + 1) * 100)
            publisher.publish("telemetry/flood", json.dumps({"ts": time.time(), "ids": ids[chunk],
                                                              "values": values[chunk]}).encode())
            if stop.wait(1.0):
                return
        while not stop.wait(2.0):
            publisher.publish("telemetry/flood", json.dumps({"ts": time.time(), "ids": ids,
                                                              "values": values}).encode())

    thread = threading.Thread(target=flood, daemon=True)
    try:
        qtbot.waitUntil(lambda: window.live.connection == "connected", timeout=10_000)
        ticker.start()
        thread.start()
        engine = window.live.engine
        qtbot.waitUntil(lambda: sum(1 for a in engine.alarms.alarms.values() if a.condition == "hi") >= 1000,
                        timeout=60_000)
        dock = window.incident_dock
        qtbot.waitUntil(lambda: sum(1 for a in dock.alarms.values() if a.get("condition") == "hi") >= 1000,
                        timeout=20_000)
        # the alarms are grouped: far fewer incidents than alarms, each alarm in one of them
        incidents = dict(dock.incidents)
        assert 10 <= len(incidents) < 300 and sum(len(i["alarms"]) for i in incidents.values()) >= 1000
        qtbot.waitUntil(lambda: dock.tree.topLevelItemCount() == min(len(dock.standing(True)), MAX_ROWS),
                        timeout=5_000)
        assert dock.flood_banner.isVisible() and "INCIDENT FLOOD" in dock.flood_banner.text()
        ranks = [PRIORITY_ORDER[i["priority"]] for i in dock.standing(True)]
        assert ranks == sorted(ranks)  # critical, high, medium, low by rank, not by text
        ticker.stop()
        gaps_ms = np.array(gaps[5:]) * 1000.0
        print(f"flood of 1,000 alarms: longest GUI block {gaps_ms.max():.0f} ms, median tick {np.median(gaps_ms):.0f} "
              f"ms, longest engine step {engine.max_step_s * 1000:.0f} ms over {engine.steps} steps")
    finally:
        stop.set()
        thread.join(timeout=5)
        ticker.stop()
        publisher.stop()
        window.stop_live()
