"""The command panel in real windows: the garage CO drill, and two consoles on one `twin-app serve`."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time

import numpy as np
import paho.mqtt.client as mqtt
from PySide6.QtCore import Qt

from tests.ui.conftest import load_into
from twin_app.ui.app import configure_rendering
from twin_app.ui.main_window import MainWindow

ROOT = "mumianling/v1"




class Field:
    """The world outside the console: gateways, actuators and units, as a separate MQTT client."""

    def __init__(self, port: int) -> None:
        self.commands: list[tuple[str, dict]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"field-{time.time_ns()}")
        self.client.on_message = lambda _c, _u, m: self.commands.append(
            (m.topic.rsplit("/", 1)[-1], json.loads(m.payload)))
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"{ROOT}/cmd/+", qos=1)
        self.client.loop_start()

    def reading(self, device_id: str, value: float) -> None:
        self.client.publish(f"{ROOT}/point/{device_id}", json.dumps({"ts": time.time(), "value": value}))

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


def test_garage_co_drill(qtbot, small_district, mosquitto, tmp_path) -> None:
    window = _console(qtbot, small_district, "wall-1")
    field = Field(mosquitto.port)
    try:
        window.start_live(mosquitto.url, engine="local", operator="op-chen", console="wall-1",
                          data_dir=tmp_path / "engine")
        live = window.live
        qtbot.waitUntil(lambda: live.connection == "connected", timeout=10_000)
        device_id = "T01-B1-GZA-CO2-co-1"
        deadline = time.monotonic() + 30
        while not window.alarm_dock.standing() and time.monotonic() < deadline:
            field.reading(device_id, 85.0)  # the garage CO builds up
            qtbot.wait(500)
        alarm = window.alarm_dock.standing()[0]
        assert alarm["id"] == f"{device_id}:hi:1" and alarm["state"] == "unack_active"
        # the engine turned the zone's exhaust fans on (seen by the field, not the console)
        qtbot.waitUntil(lambda: {t for t, b in field.commands if b["action"] == "on"} ==
                        {"T01-B1-GZA-FAN1-fan-1", "T01-B1-GZA-FAN2-fan-1"}, timeout=5000)
        model = window.model
        # 1: the operator selects the alarm: the view flies to the garage
        assert window.alarm_dock.select_alarm(alarm["id"])
        host = model.index_of(alarm["host_global_id"])
        assert window.selected == host and model.name[model.storey[host]] == "B1"
        focal = np.array(window.plotter.camera.focal_point)
        box = model.element_bounds(host)
        assert np.linalg.norm(focal - (box[:3] + box[3:]) / 2) < 1.0
        # 2: acknowledge
        qtbot.mouseClick(window.alarm_dock.ack_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.alarm_dock.alarms[alarm["id"]]["state"] == "ack_active", timeout=5000)
        assert window.alarm_dock.alarms[alarm["id"]]["ack_by"] == "op-chen"
        # 3: dispatch the proposed unit (property management)
        window.alarm_dock.select_alarm(alarm["id"])
        qtbot.mouseClick(window.alarm_dock.dispatch_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(window.dispatch_dock.open_orders()) == 1, timeout=5000)
        order = window.dispatch_dock.open_orders()[0]
        assert order["unit"] == "PM-1" and order["party"] == "property_management"
        window.dispatch_dock.redraw()
        countdown = window.dispatch_dock.table.item(0, 0).text()
        assert countdown in ("15:00", "14:59", "14:58"), countdown
        # bad operator input: the busy unit again -> a clear message on this console, nothing changes
        window.send_action("dispatch", {"alarm_id": alarm["id"], "unit": "PM-1"})
        qtbot.waitUntil(lambda: "busy" in window.last_refusal, timeout=5000)
        assert "PM-1" in window.last_refusal and len(window.dispatch_dock.open_orders()) == 1
        assert window.error_dialog is not None and window.error_dialog.isVisible()
        window.error_dialog.close()
        # the unit reports done from the field; the KPIs follow
        field.action("unit_status", operator="PM-1", order_id=order["id"], status="done",
                     result="exhaust fans on, CO 12 ppm, no casualties")
        qtbot.waitUntil(lambda: window.dispatch_dock.orders[order["id"]]["status"] == "done", timeout=5000)
        qtbot.waitUntil(lambda: "within deadline 100 %" in window.dispatch_dock.kpi_label.text(), timeout=5000)
        entries = [(e["operator"], e["action"], e["target"]) for e in live.engine.audit.entries()]
        assert ("system", "cmd:on", "T01-B1-GZA-FAN1-fan-1") in entries
        assert ("op-chen", "ack", alarm["id"]) in entries
        assert ("op-chen", "dispatch", alarm["id"]) in entries
        assert ("PM-1", "unit_status", order["id"]) in entries
    finally:
        field.stop()
        window.close()
        gc.collect()


def test_two_consoles_on_one_serve_share_the_alarm_list(qtbot, small_district, mosquitto, tmp_path) -> None:
    serve = subprocess.Popen([sys.executable, "-m", "twin_app", "serve", "--broker", mosquitto.url, "--ifc",
                              str(small_district.ifc_path), "--duration", "120", "--data-dir",
                              str(tmp_path / "serve-data")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    wall = _console(qtbot, small_district, "wall")
    desk = _console(qtbot, small_district, "desk")
    field = Field(mosquitto.port)
    try:
        wall.start_live(mosquitto.url, operator="op-wall", console="wall")  # remote: the alarms come from serve
        desk.start_live(mosquitto.url, operator="op-desk", console="desk")
        assert wall.live.mode == "remote" and wall.live.engine.rules is False
        qtbot.waitUntil(lambda: wall.live.connection == "connected" and desk.live.connection == "connected",
                        timeout=15_000)
        device_id = "T02-B2-SEP-H2S-h2s-1"
        deadline = time.monotonic() + 60
        while not (wall.alarm_dock.standing() and desk.alarm_dock.standing()) and time.monotonic() < deadline:
            field.reading(device_id, 18.0)  # H2S in the septic tank room
            qtbot.wait(500)
        alarm_id = f"{device_id}:hi:1"
        assert wall.alarm_dock.alarms[alarm_id]["priority"] == "critical"
        assert desk.alarm_dock.alarms[alarm_id]["state"] == "unack_active"
        wall.alarm_dock.select_alarm(alarm_id)
        qtbot.mouseClick(wall.alarm_dock.ack_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: desk.alarm_dock.alarms[alarm_id]["state"] == "ack_active", timeout=10_000)
        assert desk.alarm_dock.alarms[alarm_id]["ack_by"] == "op-wall"
        # the engine's KPIs reach the remote consoles too (retained kpi/summary)
        qtbot.waitUntil(lambda: "time to acknowledge" in desk.dispatch_dock.kpi_label.text()
                        and "— s" not in desk.dispatch_dock.kpi_label.text().split("to dispatch")[0], timeout=10_000)
    finally:
        field.stop()
        serve.terminate()
        serve.wait(timeout=20)
        for win in (wall, desk):
            win.close()
        gc.collect()
