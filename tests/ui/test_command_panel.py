"""The command panel in real windows: the garage CO incident drill, and two consoles on one `twin-app serve`."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time

import paho.mqtt.client as mqtt
from PySide6.QtCore import Qt

from tests.telemetry.conftest import wait_for
from tests.ui.conftest import load_into
from twin_app.ui.app import configure_rendering
from twin_app.ui.main_window import MainWindow

ROOT = "mumianling/v1"




class Field:
    """The world outside the console: gateways, actuators and units, as a separate MQTT client.

    Actuators obey: a fan commanded ``on`` reports 1.0 on its point topic, as the real one would.
    """

    def __init__(self, port: int) -> None:
        self.commands: list[tuple[str, dict]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"field-{time.time_ns()}")
        self.client.on_message = self._on_command
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"{ROOT}/cmd/+", qos=1)
        self.client.loop_start()

    def _on_command(self, _client, _userdata, message) -> None:
        device, body = message.topic.rsplit("/", 1)[-1], json.loads(message.payload)
        self.commands.append((device, body))
        value = {"on": 1.0, "off": 0.0, "recall": 2.0}.get(body.get("action"))
        if value is not None:
            self.reading(device, value)

    def reading(self, device_id: str, value: float) -> None:
        self.client.publish(f"{ROOT}/point/{device_id}", json.dumps({"ts": time.time(), "value": value}))

    def readings(self, device_ids: list[str], value: float) -> None:
        for device_id in device_ids:
            self.reading(device_id, value)

    def action(self, verb: str, **body) -> None:
        body.setdefault("request", f"field-{time.time_ns()}")
        self.client.publish(f"{ROOT}/action/{verb}", json.dumps(body), qos=1)

    def stop(self) -> None:
        self.client.loop_stop()


def _console(qtbot, small_district, name: str) -> MainWindow:
    configure_rendering()
    win = MainWindow(size=(1500, 900))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    load_into(qtbot, win, small_district.ifc_path)
    win.setWindowTitle(name)
    return win


def _wait(qtbot, condition, seconds: float, feed=None) -> bool:
    """Wait for `condition`, the Qt events processed and `feed` (the field's readings) called every half second."""
    def step() -> None:
        if feed is not None:
            feed()
        qtbot.wait(500)

    return condition() or wait_for(condition, seconds, step)


def test_garage_co_drill(qtbot, small_district, mosquitto, tmp_path) -> None:
    window = _console(qtbot, small_district, "wall-1")
    field = Field(mosquitto.port)
    try:
        window.start_live(mosquitto.url, engine="local", operator="op-chen", console="wall-1",
                          data_dir=tmp_path / "engine")
        live = window.live
        dock = window.incident_dock
        qtbot.waitUntil(lambda: live.connection == "connected", timeout=10_000)
        devices = window.devices.devices
        co = devices.loc[devices["device_id"].str.startswith("T01-B1-GZA") & (devices["kind"] == "co"),
                         "device_id"].tolist()
        assert len(co) >= 5
        level = {"value": 85.0}

        def feed() -> None:
            field.readings(co, level["value"])  # every CO detector of the zone: the garage CO builds up

        started = time.monotonic()
        assert _wait(qtbot, lambda: any(i.get("alarm_count", 0) >= len(co) for i in dock.incidents.values()), 40,
                     feed), dock.incidents
        shown_after = time.monotonic() - started
        # one incident, not a row per alarm
        assert len(dock.incidents) == 1 and dock.tree.topLevelItemCount() == 1, dock.incidents
        incident = next(iter(dock.incidents.values()))
        assert incident["title"].startswith("CO high") and "T01 B1 Garage zone B1-A" in incident["title"]
        # the row expands to its alarms (the list redraws at most every 0.5 s)
        qtbot.waitUntil(lambda: dock.tree.topLevelItem(0).childCount() == dock.incidents[incident["id"]]
                        ["alarm_count"], timeout=5000)
        # the engine turned the zone's exhaust fans on once each; they obeyed: the incident shows them confirmed
        assert _wait(qtbot, lambda: {c["state"] for c in dock.incidents[incident["id"]]["commands"]} == {"confirmed"},
                     20, feed)
        fans = sorted(c["device_id"] for c in dock.incidents[incident["id"]]["commands"])
        assert fans == ["T01-B1-GZA-FAN1-fan-1", "T01-B1-GZA-FAN2-fan-1"]
        assert sorted(d for d, b in field.commands if b["action"] == "on") == fans
        # 1: the operator selects the incident: the view flies to the garage zone, the detail shows it
        assert dock.select_incident(incident["id"])
        model = window.model
        host = model.index_of(incident["host_global_id"])
        assert window.selected == host and model.name[model.storey[host]] == "B1"
        assert "CO high" in window.incident_detail.title.text()
        assert "✔ confirmed" in window.incident_detail.text.toPlainText()
        # 2: acknowledge the whole incident
        qtbot.mouseClick(dock.ack_button, Qt.MouseButton.LeftButton)
        assert _wait(qtbot, lambda: dock.incidents[incident["id"]]["state"] == "acknowledged", 10, feed)
        assert dock.incidents[incident["id"]]["ack_by"] == "op-chen"
        assert all(dock.alarms[a]["state"] == "ack_active" for a in incident["alarms"] if a in dock.alarms)
        # 3: dispatch the proposed unit (property management): one order
        dock.select_incident(incident["id"])
        qtbot.mouseClick(dock.dispatch_button, Qt.MouseButton.LeftButton)
        assert _wait(qtbot, lambda: len(window.dispatch_dock.open_orders()) == 1, 10, feed)
        order = window.dispatch_dock.open_orders()[0]
        assert order["units"] == ["PM-1"] and order["party"] == "property_management"
        assert order["incident_id"] == incident["id"]
        window.dispatch_dock.redraw()
        assert window.dispatch_dock.table.item(0, 0).text() in ("15:00", "14:59", "14:58")
        assert window.dispatch_dock.table.item(0, 2).text() == "Property duty team 1"
        # bad operator input: a second order for the same incident -> a clear message on this console
        window.send_action("dispatch", {"incident_id": incident["id"], "units": ["PM-2"]})
        qtbot.waitUntil(lambda: "open order" in window.last_refusal, timeout=5000)
        assert len(window.dispatch_dock.open_orders()) == 1
        assert window.error_dialog is not None and window.error_dialog.isVisible()
        window.error_dialog.close()
        # the unit reports done from the field; closing is refused while the CO is still high
        field.action("unit_status", operator="PM-1", order_id=order["id"], status="done",
                     result="car left running in B1-A; engine off, CO falling")
        assert _wait(qtbot, lambda: dock.incidents[incident["id"]]["state"] == "resolved", 10, feed)
        dock.select_incident(incident["id"])
        dock.close_selected("")
        qtbot.waitUntil(lambda: "still active" in window.last_refusal, timeout=5000)
        window.error_dialog.close()
        # the CO clears; the operator closes the incident; its result stays visible
        level["value"] = 8.0
        assert _wait(qtbot, lambda: dock.incidents[incident["id"]]["active"] == 0, 20, feed)
        dock.select_incident(incident["id"])
        dock.close_selected("")
        assert _wait(qtbot, lambda: incident["id"] in dock.closed, 10, feed)
        closed = dock.closed[incident["id"]]
        assert closed["state"] == "closed" and closed["result"].startswith("car left running")
        assert "car left running" in window.incident_detail.text.toPlainText()
        qtbot.waitUntil(lambda: "closed within deadline 100 %" in window.dispatch_dock.kpi_label.text(), timeout=5000)
        report = window.export_report(incident["id"], tmp_path / "report.html")
        assert "car left running" in report.read_text(encoding="utf-8")
        entries = [(e["operator"], e["action"], e["target"]) for e in live.engine.audit.entries()]
        assert ("system", "cmd:on", "T01-B1-GZA-FAN1-fan-1") in entries
        assert ("op-chen", "ack", incident["id"]) in entries
        assert ("op-chen", "dispatch", incident["id"]) in entries
        assert ("PM-1", "unit_status", order["id"]) in entries
        assert ("op-chen", "close", incident["id"]) in entries
        print(f"garage CO: 1 row, incident shown {shown_after:.1f} s after the first reading")
    finally:
        field.stop()
        window.close()
        gc.collect()


def test_two_consoles_on_one_serve_share_the_incident_list(qtbot, small_district, mosquitto, tmp_path) -> None:
    serve = subprocess.Popen([sys.executable, "-m", "twin_app", "serve", "--broker", mosquitto.url, "--ifc",
                              str(small_district.ifc_path), "--duration", "120", "--data-dir",
                              str(tmp_path / "serve-data")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    wall = _console(qtbot, small_district, "wall")
    desk = _console(qtbot, small_district, "desk")
    field = Field(mosquitto.port)
    try:
        wall.start_live(mosquitto.url, operator="op-wall", console="wall")  # remote: the incidents come from serve
        desk.start_live(mosquitto.url, operator="op-desk", console="desk")
        assert wall.live.mode == "remote" and wall.live.engine.rules is False
        qtbot.waitUntil(lambda: wall.live.connection == "connected" and desk.live.connection == "connected",
                        timeout=15_000)
        device_id = "T02-B2-SEP-H2S-h2s-1"
        assert _wait(qtbot, lambda: wall.incident_dock.incidents and desk.incident_dock.incidents, 60,
                     lambda: field.reading(device_id, 18.0))  # H2S in the septic tank room
        (incident,) = wall.incident_dock.incidents.values()
        assert incident["priority"] == "critical" and incident["cause"] == "gas"
        assert wall.critical_banner.isVisible() and "CRITICAL" in wall.critical_banner.text()
        assert desk.incident_dock.incidents[incident["id"]]["state"] == "new"
        wall.incident_dock.select_incident(incident["id"])
        qtbot.mouseClick(wall.incident_dock.ack_button, Qt.MouseButton.LeftButton)
        assert _wait(qtbot, lambda: desk.incident_dock.incidents[incident["id"]]["state"] == "acknowledged", 10,
                     lambda: field.reading(device_id, 18.0))
        assert desk.incident_dock.incidents[incident["id"]]["ack_by"] == "op-wall"
        qtbot.waitUntil(lambda: not desk.critical_banner.isVisible(), timeout=5000)
        # the engine's KPIs reach the remote consoles too (retained kpi/summary)
        qtbot.waitUntil(lambda: "time to acknowledge 0:" in desk.dispatch_dock.kpi_label.text(), timeout=10_000)
    finally:
        field.stop()
        serve.terminate()
        serve.wait(timeout=20)
        for win in (wall, desk):
            win.close()
        gc.collect()
