"""Live telemetry in the console: the engine steps on its own thread, the GUI thread only draws; a legend dock.

The network thread only decodes and queues (see `twin_app.telemetry.ingest`); when its queue goes from
empty to non-empty it wakes the engine's step thread, which drains it at most once per `APPLY_INTERVAL_MS`
(and at least once a second: stale and offline change with time alone). Each `StepResult` goes to the GUI
thread through a queued signal; the GUI thread follows up the pending actions and emits `step_applied`.
No Qt object is touched on the step thread.

One thread steps the engine at a time (`LiveTelemetry.lock`). The GUI thread holds the lock while it hands
results to `step_applied`, so the window reads the engine as the last step left it; it never waits for the lock
there: when the step thread is mid-step, the results go over after that step (the step thread signals again and
leaves the GUI thread `YIELD_S` to take them before its next step). The step thread runs while the GUI thread
renders, and at most `MAX_AHEAD` results wait for the GUI thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from twin_app.core.devices import DeviceIndex
from twin_app.core.engine import StepResult
from twin_app.core.names import safe_name
from twin_app.core.state import DeviceState
from twin_app.core.texts import device_state_label
from twin_app.render.scene import HOST_SLOT, STATE_SLOT_RGB
from twin_app.telemetry.mqtt import EmbeddedBroker, make_client, parse_broker_url
from twin_app.telemetry.runtime import build_runtime
from twin_app.telemetry.runtime import data_dir as default_data_dir
from twin_app.telemetry.simulator import Simulator, SimulatorRunner

APPLY_INTERVAL_MS = 100  # at most one engine step per interval while data keeps coming
STATUS_INTERVAL_S = 1.0  # a step at least this often without data (stale and offline change with time alone)
JOIN_TIMEOUT_S = 10.0
MAX_AHEAD = 2  # results waiting for the GUI thread before the step thread waits (a slow GUI gets bigger steps)
YIELD_S = 0.03  # the step thread leaves the GUI thread this long to take a result before it steps again
RESEND_AFTER_S = 3.0  # an action not answered by then is sent again with the same request id
# a symbol beside every colour: the legend never relies on hue alone (the 3D markers use the same shapes)
STATE_SYMBOL = {DeviceState.NO_DATA: "·", DeviceState.NORMAL: "●", DeviceState.STALE: "◌",
                DeviceState.OFFLINE: "✕", DeviceState.WARNING: "▲", DeviceState.ALARM: "■"}



def state_colour(state: DeviceState) -> QColor:
    slot = int(HOST_SLOT[state])
    rgb = STATE_SLOT_RGB.get(slot, (0.62, 0.78, 0.90))
    return QColor.fromRgbF(*rgb)


def merge_results(results: list[StepResult]) -> StepResult:
    """Several engine steps as one: the last step's states, every step's readings, events and messages in order.

    The window draws the district once for what several steps brought while it was busy (a frame, a dialog).
    """
    if len(results) == 1:
        return results[0]
    last = results[-1]
    kpis = next((r.kpis for r in reversed(results) if r.kpis is not None), None)

    def joined(name: str) -> list:
        return [item for r in results for item in getattr(r, name)]

    return dataclasses.replace(
        last, readings=sum(r.readings for r in results),
        latency_ms=np.concatenate([r.latency_ms for r in results]),
        sent_ts=np.unique(np.concatenate([r.sent_ts for r in results])),
        events=joined("events"), alarms=joined("alarms"), orders=joined("orders"), results=joined("results"),
        changed=joined("changed"), incidents=joined("incidents"), kpis=kpis)


class LegendDock(QDockWidget):
    """State legend with counts, and filters by measurement kind and by state."""

    filters_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QCoreApplication.translate("LegendDock", "Live state"), parent)
        self.setObjectName("legend-dock")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        grid = QGridLayout()
        self.count_labels: dict[DeviceState, QLabel] = {}
        self.state_boxes: dict[DeviceState, QCheckBox] = {}
        for row, state in enumerate(reversed(DeviceState)):
            swatch = QLabel(STATE_SYMBOL[state])
            colour = state_colour(state)
            text = "white" if colour.lightnessF() < 0.55 else "black"
            swatch.setStyleSheet(f"background:{colour.name()}; color:{text}; font-weight:bold; padding:2px 6px;")
            swatch.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box = QCheckBox(device_state_label(state))
            box.setChecked(True)
            box.toggled.connect(self.filters_changed)
            count = QLabel("0")
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(swatch, row, 0)
            grid.addWidget(box, row, 1)
            grid.addWidget(count, row, 2)
            self.count_labels[state] = count
            self.state_boxes[state] = box
        layout.addLayout(grid)
        self.kind_label = QLabel(self.tr("Measurement kind"))
        layout.addWidget(self.kind_label)
        self.kind_box = QComboBox()
        self.kind_box.addItem(self.tr("All kinds"), None)
        self.kind_box.currentIndexChanged.connect(self.filters_changed)
        layout.addWidget(self.kind_box)
        self.sparkline = QLabel()
        self.sparkline.setMinimumHeight(90)
        self.sparkline_title = QLabel(self.tr("Select an element for its live values"))
        self.sparkline_title.setWordWrap(True)
        layout.addWidget(self.sparkline_title)
        layout.addWidget(self.sparkline)
        layout.addStretch(1)
        self.setWidget(body)

    def retranslate(self) -> None:
        """The dock's static texts in the language now installed."""
        self.setWindowTitle(self.tr("Live state"))
        for state, box in self.state_boxes.items():
            box.setText(device_state_label(state))
        self.kind_label.setText(self.tr("Measurement kind"))
        self.kind_box.setItemText(0, self.tr("All kinds"))

    def set_kinds(self, kinds: list[str]) -> None:
        self.kind_box.blockSignals(True)
        self.kind_box.clear()
        self.kind_box.addItem(self.tr("All kinds"), None)
        for kind in sorted(kinds):
            self.kind_box.addItem(kind, kind)
        self.kind_box.blockSignals(False)

    def selected_kind(self) -> str | None:
        return self.kind_box.currentData()

    def shown_states(self) -> np.ndarray:
        """Boolean per `DeviceState`: shown by the state filter."""
        return np.array([self.state_boxes[s].isChecked() for s in DeviceState])

    def set_counts(self, counts: np.ndarray) -> None:
        for state, label in self.count_labels.items():
            label.setText(f"{int(counts[state]):,}")

    def draw_sparkline(self, times: np.ndarray, values: np.ndarray, names: list[str]) -> None:
        """Last minutes of the watched devices' values, one line each (normalised per device)."""
        width, height = max(self.sparkline.width(), 200), 90
        pixmap = QPixmap(width, height)
        pixmap.fill(QColor("#10151f"))
        if len(times) >= 2 and values.size:
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            palette = ["#56b4e9", "#e69f00", "#009e73", "#f0e442", "#cc79a7", "#d55e00"]
            span = max(times[-1] - times[0], 1e-6)
            xs = (times - times[0]) / span * (width - 8) + 4
            for j in range(min(values.shape[1], len(palette))):
                column = values[:, j]
                finite = np.isfinite(column)
                if finite.sum() < 2:
                    continue
                lo, hi = np.nanmin(column), np.nanmax(column)
                ys = height - 6 - (column - lo) / (hi - lo if hi > lo else 1.0) * (height - 12)
                painter.setPen(QPen(QColor(palette[j]), 2))
                pts = [(float(x), float(y)) for x, y, ok in zip(xs, ys, finite, strict=True) if ok]
                for (x0, y0), (x1, y1) in itertools.pairwise(pts):
                    painter.drawLine(int(x0), int(y0), int(x1), int(y1))
            painter.end()
        self.sparkline.setPixmap(pixmap)


class LiveTelemetry(QObject):
    """Runs an engine runtime for the window; optionally an embedded broker and simulator.

    The engine steps on a worker thread (see the module's docstring); `apply` steps it at once on the calling
    thread (tests, a forced refresh). Operator actions are kept as pending until the engine answers on
    ``action_result/``; an unanswered action is sent again with the same request id (the engine applies a
    request once) and the window is told.

    Parameters
    ----------
    window
        The main window (its scene, status bar and property panel are updated on the GUI thread).
    index
        The registry joined to the model.
    broker_url
        A real broker; None starts the embedded broker and the simulator.
    """

    data_pending = Signal()  # the inbox went from empty to non-empty (emitted on the network thread)
    connection_changed = Signal(str)
    step_applied = Signal(object)  # StepResult, on the GUI thread
    unanswered_changed = Signal(int)  # actions sent and not answered after RESEND_AFTER_S
    _results_ready = Signal()  # the step thread queued results (delivered on the GUI thread)

    def __init__(self, window, index: DeviceIndex, broker_url: str | None, scenario: str = "none",
                 rate: float = 0.2, engine: str | None = None, operator: str = "operator",
                 console: str = "console", data_dir: Path | None = None, events_per_hour: float = 0.0,
                 model: dict | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.index = index
        self.operator = operator
        self.console = safe_name(console, "--console")
        self.mode = engine or ("local" if broker_url is None else "remote")
        if self.mode not in ("local", "remote"):
            raise ValueError(f"engine must be local or remote, got {self.mode!r}")
        self.broker: EmbeddedBroker | None = None
        self.runner: SimulatorRunner | None = None
        self.scenario_text = ""
        self._scratch: tempfile.TemporaryDirectory | None = None
        if broker_url is None:
            self.broker = EmbeddedBroker()
            broker_url = self.broker.start()
            url = parse_broker_url(broker_url)
            sim = Simulator(index.devices)
            self.scenario_text = sim.start_scenarios(scenario, time.time())
            client = make_client(url, f"twin-app-simulator-{id(self) % 10000}")
            client.connect(url.host, url.port)
            client.loop_start()
            self.runner = SimulatorRunner(sim, client, root=url.root, rate=rate, events_per_hour=events_per_hour)
            if data_dir is None:  # a fresh embedded district: its engine starts fresh too
                self._scratch = tempfile.TemporaryDirectory(prefix="twin_app_engine_")
                data_dir = Path(self._scratch.name)
        self.url = parse_broker_url(broker_url)
        if self.url.username:  # logged in: the account is the operator (the engine takes it from the broker)
            self.operator = self.url.username
        channels = ("alarm", "dispatch", "incident", "action_result", "kpi")
        local = self.mode == "local"
        if local and data_dir is None:
            data_dir = default_data_dir() / f"console-{self.console}"
        self.lock = threading.RLock()  # held while the engine steps and while a result is handed to the window
        self._wake = threading.Event()  # data arrived (or stop)
        self._taken = threading.Condition()  # notified when the GUI thread has taken the queued results
        self._ready: deque[StepResult] = deque()
        self._worker: threading.Thread | None = None
        self._stopped = False
        self.runtime = build_runtime(index, self.url, rules=local, folder=data_dir if local else None,
                                     console=self.console, notify=self._on_data, channels=channels,
                                     model=model)
        self.engine = self.runtime.engine
        self.link = self.runtime.link
        assert self.link is not None
        self.link.on_state = self.connection_changed.emit
        self.connection = "connecting"
        self.connection_changed.connect(self._on_connection)
        self._results_ready.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._last_apply = 0.0
        self.last_result: StepResult | None = None
        self.steps = 0
        self.worker_steps = 0  # of `steps`, those the step thread ran
        self.merged_steps = 0  # steps handed to the window together with a later one (a busy GUI thread)
        self.deliveries: deque[tuple[float, float]] = deque(maxlen=2000)  # GUI thread (start, end) perf_counter
        self.max_step_ms = 0.0  # the longest engine step so far (off the GUI thread unless `apply` ran it)
        self.step_times: deque[tuple[float, float, int]] = deque(maxlen=2000)  # (wall ms, CPU ms, readings)
        self.pending: dict[str, dict] = {}  # request id -> {verb, payload, sent, first}
        self.answered: dict[str, dict] = {}
        self._serial = 0
        self.unanswered = 0

    def start(self) -> None:
        """Connect, start the simulator (embedded) and the step thread.

        What is loaded by now (the model, the registry, the scene, the docks: long-lived objects) is moved out of
        the cyclic collector's reach (`gc.freeze`) until `stop`: the GUI thread's full collections then look at
        what live telemetry creates only (full district: the worst collection 0.3-0.5 s before, 15-40 ms after).
        """
        gc.freeze()
        self.runtime.start()
        if self.runner is not None:
            self.runner.start()
        self._worker = threading.Thread(target=self._run, name="engine-step", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Stop the simulator, join the step thread, then close the engine (its database, recording, link)."""
        if self._stopped:
            return
        self._stopped = True
        self._wake.set()
        with self._taken:
            self._taken.notify_all()
        if self.runner is not None:
            self.runner.stop()
            self.runner.client.loop_stop()
        if self._worker is not None:
            self._worker.join(timeout=JOIN_TIMEOUT_S)
            if self._worker.is_alive():  # a step hung (a full disk...): never close the database under it
                with self.lock:
                    pass
        self._ready.clear()
        gc.unfreeze()  # what the session held can be collected again (on the GUI thread's collector)
        self.runtime.stop()
        if self.broker is not None:
            self.broker.stop()
        if self._scratch is not None:
            self._scratch.cleanup()

    @property
    def worker_alive(self) -> bool:
        """True while the step thread runs."""
        return self._worker is not None and self._worker.is_alive()

    def _on_data(self) -> None:
        """The inbox went from empty to non-empty (network thread): wake the step thread."""
        self._wake.set()
        with contextlib.suppress(RuntimeError):  # the console is being torn down
            self.data_pending.emit()

    def _run(self) -> None:
        """The step thread: step when data is pending (or a second has passed), hand the result to the GUI thread."""
        interval = APPLY_INTERVAL_MS / 1000.0
        while not self._stopped:
            self._wake.wait(STATUS_INTERVAL_S)
            if self._stopped:
                break
            rest = self._last_apply + interval - time.monotonic()
            if rest > 0 and self._wake.is_set():
                time.sleep(rest)  # at most one step per interval: what arrives meanwhile goes in the same step
            with self._taken:  # the GUI thread's turn to take what is queued, then at most MAX_AHEAD wait for it
                self._taken.wait_for(lambda: self._stopped or not self._ready, timeout=YIELD_S)
                self._taken.wait_for(lambda: self._stopped or len(self._ready) < MAX_AHEAD)
            if self._stopped:
                break
            self._wake.clear()
            with self.lock:
                if self._stopped:
                    break
                self._step()
                self.worker_steps += 1
            try:
                self._results_ready.emit()
            except RuntimeError:  # the console's QObject is gone: nothing left to hand the result to
                break

    def _step(self) -> StepResult:
        """One engine step, queued for the window (with `lock` held)."""
        self._last_apply = time.monotonic()
        started, cpu = time.perf_counter(), time.thread_time()
        result = self.runtime.step()
        wall_ms = (time.perf_counter() - started) * 1000.0
        self.max_step_ms = max(self.max_step_ms, wall_ms)
        self.step_times.append((wall_ms, (time.thread_time() - cpu) * 1000.0, result.readings))
        self._ready.append(result)
        return result

    def _deliver(self) -> None:
        """GUI thread: hand every queued result to the window, in the order the engine produced them."""
        if not self._ready or not self.lock.acquire(blocking=False):
            return  # nothing queued, or mid-step: the step thread signals again after it
        started = time.perf_counter()
        try:
            taken: list[StepResult] = []
            while self._ready and not self._stopped:
                taken.append(self._ready.popleft())
            if taken:
                result = merge_results(taken)  # the window draws once for what came while it was busy
                self.last_result = result
                self.steps += len(taken)
                self.merged_steps += len(taken) - 1
                self._follow_up(result)
                self.step_applied.emit(result)
        finally:
            if self._stopped:
                self._ready.clear()
            self.lock.release()
            with self._taken:
                self._taken.notify_all()
            self.deliveries.append((started, time.perf_counter()))

    def send_action(self, verb: str, body: dict) -> str:
        """Publish an operator action with the operator's identity; returns its request id (kept until answered)."""
        self._serial += 1
        request = f"{self.console}-{int(time.time() * 1000)}-{self._serial}"
        payload = {**body, "operator": self.operator, "console": self.console, "request": request,
                   "ts": time.time()}
        self.pending[request] = {"verb": verb, "payload": payload, "sent": time.monotonic(),
                                 "first": time.monotonic()}
        self._publish_action(verb, payload)
        return request

    def _publish_action(self, verb: str, payload: dict) -> None:
        """On ``action/{verb}/{user}`` when logged in (the broker lets each account write only under its own name)."""
        assert self.link is not None
        user = self.url.username
        self.link.publish(f"action/{verb}/{user}" if user else f"action/{verb}", payload, qos=1)

    def _follow_up(self, result: StepResult) -> None:
        """Answered actions leave the pending list; unanswered ones are sent again (same request id)."""
        self.answered = {}  # this console's own requests answered in this step
        for console, body in result.results:
            if console == self.console and body.get("request") in self.pending:
                self.answered[body["request"]] = body
                self.pending.pop(body["request"], None)
        now = time.monotonic()
        late = 0
        for pending in self.pending.values():
            if now - pending["sent"] >= RESEND_AFTER_S:
                pending["sent"] = now
                self._publish_action(pending["verb"], pending["payload"])
            if now - pending["first"] >= RESEND_AFTER_S:
                late += 1
        if late != self.unanswered:
            self.unanswered = late
            self.unanswered_changed.emit(late)

    def _on_connection(self, state: str) -> None:
        self.connection = state

    def apply(self) -> StepResult | None:
        """Step the engine now on the calling thread (the GUI thread) and hand the result to the window at once.

        Results the step thread produced before are handed over with it (merged, see `merge_results`); returns
        what the window was given, None once stopped.
        """
        if self._stopped:
            return None
        with self.lock:
            self._step()
            self._deliver()
            return self.last_result
