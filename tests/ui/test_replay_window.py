"""Replay and training in a real window: the recording drives the same panels as live data; training sends nothing."""

from __future__ import annotations

import gc
import time

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.conftest import REPLAY_T0
from tests.ui.test_command_panel import _console
from twin_app.core.state import DeviceState
from twin_app.ui.replay import ReplayTelemetry


@pytest.fixture
def console(qtbot, small_district):
    window = _console(qtbot, small_district, "replay")
    yield window
    window.close()
    gc.collect()


def test_replay_shows_what_was_seen_live_and_the_timeline_moves(qtbot, console, small_recording) -> None:
    path, live = small_recording
    window = console
    assert window.open_recording(path, "as_recorded")
    replay = window.live
    assert isinstance(replay, ReplayTelemetry) and window.timeline.isVisible()
    assert "REPLAY" in window.mode_banner.text() and "NOT LIVE" in window.mode_banner.text()
    assert not window.no_data_banner.isVisible()
    t = REPLAY_T0 + 150.0
    replay.seek(t)
    qtbot.wait(400)  # the panels redraw at most every few hundred ms
    seen = live[t]
    assert set(window.incident_dock.incidents) == set(seen["incidents"])
    standing = {k for k, a in window.incident_dock.alarms.items() if a.get("state") in seen["alarms"].values()}
    assert standing == set(seen["alarms"])
    counts = np.bincount(seen["device_state"], minlength=6)
    assert window.legend.count_labels[DeviceState.ALARM].text() == f"{int(counts[DeviceState.ALARM]):,}"
    assert window.incident_dock.clock() == pytest.approx(t)  # the recording's clock, wherever a time is shown
    assert time.strftime("%H:%M:%S", time.localtime(t)) in window.timeline.clock_label.text()
    # back to the start: nothing was standing yet, the panels are emptied, not merged
    replay.seek(REPLAY_T0 + 5.0)
    qtbot.wait(400)
    assert set(window.incident_dock.incidents) == set(live[REPLAY_T0 + 5.0]["incidents"]) == set()
    # a click on the timeline goes to that instant; the next-alarm button to the next alarm
    bar = window.timeline.bar
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(bar.width() // 2, bar.height() // 2))
    assert replay.session.position == pytest.approx(bar.time_at(bar.width() // 2), abs=1.0)
    replay.seek(REPLAY_T0)
    qtbot.mouseClick(window.timeline.next_button, Qt.MouseButton.LeftButton)
    first_alarm = min(m.ts for m in replay.session.markers if m.kind in ("alarm", "incident"))
    assert replay.session.position == pytest.approx(first_alarm)
    # play at x60: the clock runs and the incidents appear as they did
    window.timeline.speed_box.setCurrentIndex(window.timeline.speed_box.findData(60.0))
    qtbot.mouseClick(window.timeline.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: replay.session.position >= replay.session.end - 0.01, timeout=15_000)
    qtbot.waitUntil(lambda: set(window.incident_dock.incidents) == set(live[REPLAY_T0 + 199.0]["incidents"]),
                    timeout=5_000)
    assert not replay.playing and window.timeline.play_button.text() == "▶ Play"
    # replay takes no actions
    window.send_action("ack", {"incident_id": next(iter(window.incident_dock.incidents))})
    assert "only in training" in window.last_refusal


def test_training_sends_nothing_to_the_broker_and_is_scored(qtbot, console, small_recording, mosquitto,
                                                            tmp_path) -> None:
    path, _ = small_recording
    window = console
    window.start_live(mosquitto.url, engine="local", operator="op-li", console="wall", data_dir=tmp_path / "engine")
    qtbot.waitUntil(lambda: window.live.connection == "connected", timeout=10_000)
    assert window.open_recording(path, "training", trainee="trainee-wu")
    heard: list[tuple[str, bytes]] = []
    spy = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="spy")
    spy.on_message = lambda _c, _u, m: None if m.retain else heard.append((m.topic, m.payload))
    spy.connect("127.0.0.1", mosquitto.port)
    spy.subscribe("#", qos=1)
    spy.loop_start()
    try:
        replay = window.live
        assert replay.training and replay.engine.training
        assert "TRAINING" in window.mode_banner.text() and window.windowTitle().startswith("TRAINING")
        assert "#ff8c00" in window.central.styleSheet()
        assert not window.timeline.step_back.isEnabled()  # a trainee's clock never goes back
        replay.seek(REPLAY_T0 + 90.0)
        qtbot.waitUntil(lambda: bool(window.incident_dock.incidents), timeout=5_000)
        incident_id = sorted(window.incident_dock.incidents)[0]
        assert window.incident_dock.select_incident(incident_id)
        window.incident_dock.acknowledge_selected()
        window.incident_dock.dispatch_selected()
        qtbot.waitUntil(lambda: bool(window.dispatch_dock.orders), timeout=5_000)
        incident = window.incident_dock.incident(incident_id)
        assert incident["ack_by"] == "trainee-wu" and incident["state"] == "dispatched"
        replay.seek(REPLAY_T0 + 40.0)  # refused: the clock stays
        assert replay.session.position == pytest.approx(REPLAY_T0 + 90.0)
        assert replay.session.port.commands  # the linked actions went to the loopback, nowhere else
        qtbot.wait(2000)
        assert heard == []  # a separate client on '#' heard nothing from the training console
        report = window.finish_training(show=True, folder=tmp_path / "reports")
        assert report is not None and report.is_file()
        html = report.read_text()
        assert "<svg" in html and "trainee-wu" in html and "History" in html
        assert window.last_score.items and window.last_score.items[0].trainee_ack_s is not None
        assert window.training_dialog.isVisible() and window.training_dialog.charts
        window.training_dialog.close()
        window.back_to_live()
        assert window.live is not None and not isinstance(window.live, ReplayTelemetry)
        assert not window.mode_banner.isVisible() and window.central.styleSheet() == ""
    finally:
        spy.loop_stop()
        spy.disconnect()


def test_a_recording_of_another_district_is_refused_with_a_message(qtbot, small_district, tmp_path) -> None:
    from tests.ui.conftest import load_into
    from twin_app.ui.app import configure_rendering
    from twin_app.ui.main_window import MainWindow

    configure_rendering()
    window = MainWindow(size=(1200, 800))
    qtbot.addWidget(window)
    window.show()
    load_into(qtbot, window, small_district.ifc_path)
    junk = tmp_path / "junk.mcap"
    junk.write_bytes(b"\x89MCAP0\r\n" + b"\x00" * 64)
    assert not window.open_recording(junk)
    assert "junk.mcap" in window.error_dialog.text()
    assert window.live is None
    window.close()
