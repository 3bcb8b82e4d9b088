"""Live telemetry in a real window: a real broker colours the model; the embedded default runs by itself."""

from __future__ import annotations

import json
import time

import numpy as np
import paho.mqtt.client as mqtt
import pytest

from twin_app.core.state import DeviceState
from twin_app.render.scene import N_SHADES


@pytest.fixture
def window(small_window):
    """The main window with the small district (tests/ui/conftest.py)."""
    return small_window


def test_a_published_alarm_colours_its_room_and_tower(qtbot, window, mosquitto) -> None:
    window.start_live(mosquitto.url)
    live = window.live
    qtbot.waitUntil(lambda: live.connection == "connected", timeout=10_000)
    devices = window.devices.devices
    row = int(np.flatnonzero(devices["device_id"].str.startswith("T02-4F-A03-smoke").to_numpy())[0])
    device_id = str(devices["device_id"].iat[row])
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    try:
        with qtbot.waitSignal(window.telemetry_drawn, timeout=15_000):
            pub.publish("mumianling/v1/telemetry/T02-4F",
                        json.dumps({"ts": time.time(), "ids": [device_id], "values": [0.3]}))
        room = int(window.devices.host_element[row])
        model = window.model
        scene = window.scene
        assert scene.element_state[room] == DeviceState.ALARM
        assert scene.rolled_state[model.building[room]] == DeviceState.ALARM
        # the façade of that storey carries the alarm colour in the district view
        structure = scene.layers[next(c for c in scene.layers if c.name == "STRUCTURE")]
        facade = np.flatnonzero(model.storey[structure.mesh.cell_element] == model.storey[room])
        assert (structure.slots[facade] == 4).any()
        assert "marker-alarm" in window.plotter.actors  # a shape, not only a colour
        assert window.legend.count_labels[DeviceState.ALARM].text() == "1"
        assert "connected" in window.live_label.text() and "1 alarm" in window.live_label.text()
        # the room itself, once its storey is opened, is drawn in the alarm slot
        window.select_element(room, fly=True)
        qtbot.waitUntil(lambda: window.property_panel.live_text(device_id) is not None
                        and "alarm" in window.property_panel.live_text(device_id), timeout=5000)
        spaces = scene.layers[next(c for c in scene.layers if c.name == "SPACES")]
        cells = np.flatnonzero(spaces.mesh.cell_element[spaces.visible] == room)
        colour = np.asarray(spaces.polydata.cell_data["colour"])[cells]
        assert (colour // N_SHADES == 4).all()
        # filters: only temperature devices -> the smoke alarm is filtered away
        index = window.legend.kind_box.findData("temperature")
        window.legend.kind_box.setCurrentIndex(index)
        assert window.legend.count_labels[DeviceState.ALARM].text() == "0"
    finally:
        pub.loop_stop()


def test_embedded_broker_and_simulator_by_default(qtbot, window) -> None:
    window.start_live(None, scenario="garage_co", rate=1.0)
    live = window.live
    assert live.broker is not None and live.runner is not None
    qtbot.waitUntil(lambda: live.engine.store.readings >= window.devices.n_devices, timeout=30_000)
    # the CO in the garage rises 4 ppm/s: an alarm within about 15 s
    qtbot.waitUntil(lambda: live.last_result is not None
                    and (live.last_result.device_state == DeviceState.ALARM).any(), timeout=40_000)
    alarms = np.flatnonzero(live.last_result.device_state == DeviceState.ALARM)
    kinds = set(window.devices.devices["kind"].iloc[alarms])
    assert kinds == {"co"}
    assert "readings/s" in window.live_label.text()


def test_an_unreachable_broker_is_reported_not_blocking(qtbot, window) -> None:
    """The console keeps running with a warning while paho keeps trying to connect."""
    window.start_live("mqtt://127.0.0.1:9")  # nothing listens on the discard port
    assert window.live is not None
    qtbot.waitUntil(lambda: window.live.connection.startswith("disconnected")
                    or window.live.connection == "connecting", timeout=5000)
    window.live.apply()
    assert "no data yet" in window.live_label.text()
