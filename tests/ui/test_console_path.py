"""The console path in a real window: the engine steps off the GUI thread, the GUI stays responsive during a slow
step, stop() joins the step thread, the property panel reads the IFC file off the GUI thread."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from PySide6.QtCore import Qt, QTimer

from twin_app.core.state import DeviceState
from twin_app.ui.main_window import MainWindow


@pytest.fixture
def window(small_window):
    """The main window with the small district (tests/ui/conftest.py)."""
    return small_window


@pytest.fixture
def publisher(mosquitto):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


class Heartbeat:
    """A 5 ms timer on the GUI thread; the largest gap between its ticks is the longest GUI block."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000.0)
        self._last = now

    def stop(self) -> float:
        self.timer.stop()
        return max(self.gaps or [0.0])


def _smoke_row(window: MainWindow) -> tuple[int, str]:
    devices = window.devices.devices
    row = int(np.flatnonzero(devices["device_id"].str.startswith("T02-4F-A03-smoke").to_numpy())[0])
    return row, str(devices["device_id"].iat[row])


def _publish(client, device_id: str, value: float) -> None:
    client.publish("mumianling/v1/telemetry/T02-4F", json.dumps({"ts": time.time(), "ids": [device_id],
                                                                  "values": [value]}))


def test_the_engine_steps_off_the_gui_thread(qtbot, window, mosquitto, publisher) -> None:
    window.start_live(mosquitto.url)
    live = window.live
    qtbot.waitUntil(lambda: live.connection == "connected", timeout=10_000)
    step_threads: list[int] = []
    slot_threads: list[int] = []
    original = live.runtime.step

    def recording_step(now: float | None = None):
        step_threads.append(threading.get_ident())
        return original(now)

    live.runtime.step = recording_step
    live.step_applied.connect(lambda _result: slot_threads.append(threading.get_ident()))
    row, device_id = _smoke_row(window)
    room = int(window.devices.host_element[row])
    _publish(publisher, device_id, 0.3)
    qtbot.waitUntil(lambda: window.scene.element_state is not None
                    and window.scene.element_state[room] == DeviceState.ALARM, timeout=10_000)
    gui = threading.get_ident()
    assert step_threads and gui not in step_threads  # every step so far ran on the step thread
    assert slot_threads and set(slot_threads) == {gui}  # the window hears of each step on the GUI thread
    assert live.worker_steps >= 1 and live.steps >= live.worker_steps
    # apply() still steps at once on the calling thread and hands the result over before it returns
    seen: list[object] = []
    live.step_applied.connect(seen.append)
    result = live.apply()
    assert result is not None and seen[-1] is result and live.last_result is result
    assert step_threads[-1] == gui


def test_the_gui_stays_responsive_while_a_slow_step_runs(qtbot, window, mosquitto, publisher) -> None:
    window.start_live(mosquitto.url)
    live = window.live
    qtbot.waitUntil(lambda: live.connection == "connected", timeout=10_000)
    original = live.runtime.step
    slow: list[float] = []

    def slow_step(now: float | None = None):
        time.sleep(0.8)  # an engine step as slow as a busy incident hour on a slow disk
        slow.append(time.monotonic())
        return original(now)

    live.runtime.step = slow_step
    _, device_id = _smoke_row(window)
    beat = Heartbeat()
    for value in (0.3, 0.0, 0.3):
        _publish(publisher, device_id, value)
        qtbot.wait(900)
    worst = beat.stop()
    assert len(slow) >= 2  # the slow steps did run meanwhile
    # on the GUI thread, each step would block it 800 ms; the margin is for a busy 2-core test machine
    assert worst < 400.0, f"the GUI thread was blocked {worst:.0f} ms during 800 ms engine steps"


def test_stop_joins_the_step_thread(qtbot, window, mosquitto, publisher) -> None:
    window.start_live(mosquitto.url)
    live = window.live
    qtbot.waitUntil(lambda: live.connection == "connected", timeout=10_000)
    assert live.worker_alive
    original = live.runtime.step
    in_step = threading.Event()
    finished: list[bool] = []

    def slow_step(now: float | None = None):
        in_step.set()
        time.sleep(0.3)
        result = original(now)
        finished.append(True)
        return result

    live.runtime.step = slow_step
    _, device_id = _smoke_row(window)
    _publish(publisher, device_id, 0.3)
    assert in_step.wait(5.0)
    window.stop_live()  # mid-step: waits for the step, then closes the engine
    assert finished and not live.worker_alive
    assert not [t for t in threading.enumerate() if t.name == "engine-step"]
    assert live.apply() is None  # stopped: nothing steps any more
    live.stop()  # twice is harmless


def test_the_property_panel_reads_off_the_gui_thread(qtbot, window) -> None:
    model = window.model
    panel = window.property_panel
    reader = window.properties
    assert reader is not None
    threads: list[int] = []
    original = reader.properties

    def slow_properties(global_id: str):
        threads.append(threading.get_ident())
        time.sleep(0.5)  # a huge file's first question
        return original(global_id)

    reader.properties = slow_properties
    rooms = model.of_class("IfcSpace")
    first, second = int(rooms[3]), int(rooms[10])
    started = time.perf_counter()
    window.select_element(first)
    window.select_element(second)  # the later selection wins over the one still being read
    took = time.perf_counter() - started
    assert took < 0.3, f"selecting took {took:.2f} s on the GUI thread"
    assert panel.loading
    texts = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert "Loading properties…" in texts and texts[0] == "Element"
    beat = Heartbeat()
    with qtbot.waitSignal(panel.properties_shown, timeout=10_000):
        pass
    assert beat.stop() < 400.0  # each read sleeps 500 ms on the worker
    assert not panel.loading
    assert threads and threading.get_ident() not in threads
    assert panel.value("Element", "GlobalId") == model.global_id[second]
    assert panel.value("Attributes", "Name") == model.name[second]
    texts = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert "Loading properties…" not in texts
    assert texts[0] == "Element" and texts[1] == "Attributes"  # the sets sit where the placeholder stood


def test_a_broken_property_read_is_shown_not_raised(qtbot, window) -> None:
    reader = window.properties

    def broken(global_id: str):
        raise ValueError("unreadable entity")

    reader.properties = broken
    window.select_element(int(window.model.of_class("IfcSpace")[0]))
    with qtbot.waitSignal(window.property_panel.properties_shown, timeout=10_000):
        pass
    assert "unreadable entity" in window.property_panel.value("Properties unavailable", "reason")


def test_results_merged_for_a_busy_window_keep_every_message_in_order() -> None:
    from twin_app.core.engine import StepResult
    from twin_app.ui.live import merge_results

    def step(n: int, state: int, kpis: dict | None) -> StepResult:
        states = np.full(3, state, dtype=np.uint8)
        return StepResult(n, states, states, states, np.full(n, 10.0 * n), events=[{"id": f"e{n}"}],
                          sent_ts=np.array([float(n)]), alarms=[(f"a{n}", {"n": n})], results=[("c", {"r": n})],
                          kpis=kpis, incidents=[("i1", {"n": n})])

    first, second, third = step(1, 1, {"k": 1}), step(2, 5, {"k": 2}), step(3, 4, None)
    assert merge_results([first]) is first
    merged = merge_results([first, second, third])
    assert merged.readings == 6 and (merged.device_state == 4).all()  # the last step's states
    assert [a for a, _ in merged.alarms] == ["a1", "a2", "a3"]
    assert [body["n"] for _, body in merged.incidents] == [1, 2, 3]  # a later payload of one incident wins
    assert [e["id"] for e in merged.events] == ["e1", "e2", "e3"] and len(merged.results) == 3
    assert merged.kpis == {"k": 2} and list(merged.sent_ts) == [1.0, 2.0, 3.0] and len(merged.latency_ms) == 6


def test_the_property_worker_ends_when_idle_and_starts_again(qtbot, window, monkeypatch) -> None:
    from twin_app.ui import property_panel

    monkeypatch.setattr(property_panel, "IDLE_EXIT_S", 0.2)
    panel = window.property_panel
    panel.worker.stop()
    assert not panel.worker.alive
    rooms = window.model.of_class("IfcSpace")
    window.select_element(int(rooms[1]))
    assert panel.worker.alive
    with qtbot.waitSignal(panel.properties_shown, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: not panel.worker.alive, timeout=5000)  # idle: the thread is gone
    window.select_element(int(rooms[2]))  # ... and the next selection starts it again
    assert panel.value("Element", "GlobalId") == window.model.global_id[int(rooms[2])]
    assert panel.value("Attributes", "Name") == window.model.name[int(rooms[2])]
