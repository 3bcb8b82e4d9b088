"""Live telemetry in the console: the engine on the GUI thread's frame timer, a legend dock with filters.

The network thread only decodes and queues (see `twin_app.telemetry.ingest`); when its queue goes from
empty to non-empty it emits a queued signal, and the GUI thread applies everything pending at most once
per frame.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
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
from twin_app.core.state import STATE_LABELS, DeviceState
from twin_app.render.scene import HOST_SLOT, STATE_SLOT_RGB
from twin_app.telemetry.mqtt import EmbeddedBroker, make_client, parse_broker_url
from twin_app.telemetry.runtime import build_runtime
from twin_app.telemetry.runtime import data_dir as default_data_dir
from twin_app.telemetry.simulator import Simulator, SimulatorRunner

APPLY_INTERVAL_MS = 100
RESEND_AFTER_S = 3.0  # an action not answered by then is sent again with the same request id
# a symbol beside every colour: the legend never relies on hue alone (the 3D markers use the same shapes)
STATE_SYMBOL = {DeviceState.NO_DATA: "·", DeviceState.NORMAL: "●", DeviceState.STALE: "◌",
                DeviceState.OFFLINE: "✕", DeviceState.WARNING: "▲", DeviceState.ALARM: "■"}


def state_colour(state: DeviceState) -> QColor:
    slot = int(HOST_SLOT[state])
    rgb = STATE_SLOT_RGB.get(slot, (0.62, 0.78, 0.90))
    return QColor.fromRgbF(*rgb)


class LegendDock(QDockWidget):
    """State legend with counts, and filters by measurement kind and by state."""

    filters_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Live state", parent)
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
            box = QCheckBox(STATE_LABELS[state])
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
        layout.addWidget(QLabel("Measurement kind"))
        self.kind_box = QComboBox()
        self.kind_box.addItem("All kinds", None)
        self.kind_box.currentIndexChanged.connect(self.filters_changed)
        layout.addWidget(self.kind_box)
        self.sparkline = QLabel()
        self.sparkline.setMinimumHeight(90)
        self.sparkline_title = QLabel("Select an element for its live values")
        self.sparkline_title.setWordWrap(True)
        layout.addWidget(self.sparkline_title)
        layout.addWidget(self.sparkline)
        layout.addStretch(1)
        self.setWidget(body)

    def set_kinds(self, kinds: list[str]) -> None:
        self.kind_box.blockSignals(True)
        self.kind_box.clear()
        self.kind_box.addItem("All kinds", None)
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

    Operator actions are kept as pending until the engine answers on ``action_result/``; an unanswered action
    is sent again with the same request id (the engine applies a request once) and the window is told.

    Parameters
    ----------
    window
        The main window (its scene, status bar and property panel are updated on the GUI thread).
    index
        The registry joined to the model.
    broker_url
        A real broker; None starts the embedded broker and the simulator.
    """

    data_pending = Signal()
    connection_changed = Signal(str)
    step_applied = Signal(object)  # StepResult
    unanswered_changed = Signal(int)  # actions sent and not answered after RESEND_AFTER_S

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
        self.runtime = build_runtime(index, self.url, rules=local, folder=data_dir if local else None,
                                     console=self.console, notify=self.data_pending.emit, channels=channels,
                                     model=model)
        self.engine = self.runtime.engine
        self.link = self.runtime.link
        assert self.link is not None
        self.link.on_state = self.connection_changed.emit
        self.connection = "connecting"
        self.connection_changed.connect(self._on_connection)
        self.data_pending.connect(self._schedule, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.apply)
        self._last_apply = 0.0
        self.last_result: StepResult | None = None
        self.steps = 0
        self.pending: dict[str, dict] = {}  # request id -> {verb, payload, sent, first}
        self._stopped = False
        self.answered: dict[str, dict] = {}
        self._serial = 0
        self.unanswered = 0

    def start(self) -> None:
        self.runtime.start()
        if self.runner is not None:
            self.runner.start()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(1000)
        self._status_timer.timeout.connect(self.apply)  # stale and offline change with time alone
        self._status_timer.start()

    def stop(self) -> None:
        self._stopped = True
        self._timer.stop()
        if hasattr(self, "_status_timer"):
            self._status_timer.stop()
        if self.runner is not None:
            self.runner.stop()
            self.runner.client.loop_stop()
        self.runtime.stop()
        if self.broker is not None:
            self.broker.stop()
        if self._scratch is not None:
            self._scratch.cleanup()

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

    def _schedule(self) -> None:
        if self._timer.isActive():
            return
        wait = max(0, int(APPLY_INTERVAL_MS - (time.monotonic() - self._last_apply) * 1000))
        self._timer.start(wait)

    def apply(self) -> StepResult | None:
        """Apply what arrived (GUI thread), recolour the scene and refresh the status and legend."""
        if self._stopped:
            return None
        self._last_apply = time.monotonic()
        result = self.runtime.step()
        self.last_result = result
        self.steps += 1
        self._follow_up(result)
        self.step_applied.emit(result)
        return result
