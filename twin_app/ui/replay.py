"""Replay and training in the console: a recording as the window's source, and its timeline dock.

`ReplayTelemetry` stands where `LiveTelemetry` stands for live data: the window draws its results the same
way. It has no MQTT client at all; in training, the trainee's actions go to the session's training engine.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from twin_app.core.engine import StepResult
from twin_app.core.i18n import QT_TRANSLATE_NOOP
from twin_app.telemetry.replay import MODES, Marker, ReplaySession

TICK_MS = 100
SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
STEP_JUMP_S = 10.0
MARKER_COLOURS = {"alarm": "#d7301f", "incident": "#9e0142", "command": "#2b8cbe", "dispatch": "#1a9850",
                  "action": "#969696"}
MARKER_LABELS = {  # English source texts, shown through translate("Replay", ...)
    "alarm": QT_TRANSLATE_NOOP("Replay", "alarm"), "incident": QT_TRANSLATE_NOOP("Replay", "incident"),
    "command": QT_TRANSLATE_NOOP("Replay", "linked action"), "dispatch": QT_TRANSLATE_NOOP("Replay", "dispatch"),
    "action": QT_TRANSLATE_NOOP("Replay", "operator action"),
}
MODE_LABELS = {  # the names of telemetry.replay.MODES, in the operator's language
    "as_recorded": QT_TRANSLATE_NOOP("Replay", "As it happened"),
    "re_evaluate": QT_TRANSLATE_NOOP("Replay", "Re-evaluated with today's rules"),
    "training": QT_TRANSLATE_NOOP("Replay", "Training"),
}


def marker_label(kind: str) -> str:
    """A marker's kind as the operator reads it."""
    found = MARKER_LABELS.get(kind)
    return QCoreApplication.translate("Replay", found) if found else kind


def mode_label(mode: str) -> str:
    """A replay mode as the operator reads it."""
    found = MODE_LABELS.get(mode)
    return QCoreApplication.translate("Replay", found) if found else MODES.get(mode, mode)


def clock_text(t: float, with_date: bool = False) -> str:
    """A recording time in the machine's local time."""
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def span_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class _Runtime:
    """What the window's status line asks of a runtime."""

    def __init__(self, name: str) -> None:
        self.url_display = QCoreApplication.translate("Replay", "recording {name}").format(name=name)


class ReplayTelemetry(QObject):
    """Plays a `ReplaySession` on a timer; the window draws each result as it draws live ones.

    Parameters
    ----------
    window
        The main window.
    session
        The recording and its engine.
    name
        What the status line calls the recording (its file name).
    """

    step_applied = Signal(object)  # StepResult
    unanswered_changed = Signal(int)  # never: a session answers at once
    reset = Signal()  # a seek: what the window holds is replaced by the next result
    moved = Signal(float)  # the recording's clock

    def __init__(self, window, session: ReplaySession, name: str) -> None:
        super().__init__(window)
        self.session = session
        self.name = name
        self.runtime = _Runtime(name)
        self.connection = "replay"
        self.operator = session.trainee if session.mode == "training" else "replay"
        self.scenario_text = ""
        self.answered: dict[str, dict] = {}
        self.last_result: StepResult | None = None
        self.speed = 1.0
        self.playing = False
        self.loop = False
        self._wall = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def engine(self):
        return self.session.engine

    @property
    def training(self) -> bool:
        return self.session.mode == "training"

    def clock(self) -> float:
        """The recording's clock: every time the window shows is on it."""
        return self.session.position

    def start(self) -> None:
        self._timer.start()
        self.seek(self.session.position)

    def stop(self) -> None:
        self.playing = False
        self._timer.stop()

    def play(self, on: bool = True) -> None:
        if on and self.session.position >= self.session.end and not self.training:
            self.seek(self.session.start)
        self.playing = on
        self._wall = time.monotonic()

    def _emit(self, result: StepResult) -> None:
        self.last_result = result
        self.step_applied.emit(result)
        self.moved.emit(self.session.position)

    def _tick(self) -> None:
        now = time.monotonic()
        elapsed, self._wall = now - self._wall, now
        if not self.playing:
            return
        session = self.session
        target = session.position + min(elapsed, 1.0) * self.speed
        if target >= session.end:
            if self.loop and not self.training:
                self.seek(session.start)
                return
            target = session.end
            self.playing = False
        self.advance_to(target)

    def advance_to(self, t: float) -> None:
        """Play up to `t` at once and show it (what one tick of the timer does)."""
        self.answered = {}
        self._emit(self.session.advance(t))

    def seek(self, t: float) -> None:
        """Show the full state at `t` (in training, only forward)."""
        self.answered = {}
        result = self.session.seek(t)
        if self.session.reset:
            self.session.reset = False
            self.reset.emit()
        self._emit(result)

    def step(self, seconds: float) -> None:
        self.seek(self.session.position + seconds)

    def jump(self, forward: bool, kinds: tuple[str, ...] = ("alarm", "incident")) -> Marker | None:
        """To the next (or previous) alarm or incident marker."""
        here = self.session.position
        chosen = [m for m in self.session.markers if m.kind in kinds]
        if forward:
            target = next((m for m in chosen if m.ts > here + 0.5), None)
        else:
            target = next((m for m in reversed(chosen) if m.ts < here - 0.5), None)
        if target is not None:
            self.seek(target.ts)
        return target

    def send_action(self, verb: str, body: dict) -> str:
        """A trainee's action goes to the training engine; outside training nothing is sent anywhere."""
        if not self.training:
            self.answered = {"replay": {"request": "replay", "verb": verb, "ok": False,
                                        "message": QCoreApplication.translate(
                                            "Replay", "this is a replay: actions are taken only in training")}}
            if self.session.last is not None:
                self._emit(self.session.last)  # the window says why nothing happened
            return "replay"
        answer = self.session.act(verb, body)
        self.answered = {str(answer.get("request")): answer}
        assert self.session.last is not None
        self._emit(self.session.last)
        return str(answer.get("request"))


class TimelineBar(QWidget):
    """The recording's span with its markers and the cursor; click or drag to go to an instant."""

    sought = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start = self.end = 0.0
        self.position = 0.0
        self.markers: list[Marker] = []
        self.forward_only = False
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def _x(self, t: float) -> float:
        span = max(self.end - self.start, 1e-9)
        return 8 + (self.width() - 16) * (t - self.start) / span

    def time_at(self, x: float) -> float:
        fraction = min(max((x - 8) / max(self.width() - 16, 1), 0.0), 1.0)
        return self.start + fraction * (self.end - self.start)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        painter.fillRect(0, 0, w, h, QColor("#10151f"))
        bar = QRectF(8, h / 2 - 4, w - 16, 8)
        painter.fillRect(bar, QColor("#3a4556"))
        played = QRectF(8, h / 2 - 4, self._x(self.position) - 8, 8)
        painter.fillRect(played, QColor("#6baed6"))
        for marker in self.markers:
            x = self._x(marker.ts)
            colour = QColor(MARKER_COLOURS.get(marker.kind, "#ffffff"))
            painter.setPen(QPen(colour, 2))
            if marker.kind in ("alarm", "incident"):
                painter.drawLine(QPointF(x, 4), QPointF(x, h / 2 - 5))
            else:
                painter.drawLine(QPointF(x, h / 2 + 5), QPointF(x, h - 4))
        x = self._x(self.position)
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(QColor("white"))
        painter.drawLine(QPointF(x, 2), QPointF(x, h - 2))
        painter.drawPolygon(QPolygonF([QPointF(x - 6, 2), QPointF(x + 6, 2), QPointF(x, 10)]))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt)
        if event.button() == Qt.MouseButton.LeftButton:
            self.sought.emit(self.time_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt)
        t = self.time_at(event.position().x())
        near = [m for m in self.markers if abs(self._x(m.ts) - event.position().x()) <= 4]
        tip = clock_text(t) + "".join(f"\n{marker_label(m.kind)}: {m.text}" for m in near[:6])
        self.setToolTip(tip)
        if event.buttons() & Qt.MouseButton.LeftButton and not self.forward_only:
            self.sought.emit(t)


class TimelineDock(QDockWidget):
    """Play, pause, speed, step, loop, jumps between alarms, and the timeline with its markers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline-dock")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        row = QHBoxLayout()
        self.mode_label = QLabel("")
        self.mode_label.setStyleSheet("font-weight:bold; padding:2px 8px;")
        self.back_button = QPushButton(body)
        self.step_back = QPushButton(body)
        self.play_button = QPushButton(body)
        self.play_button.setCheckable(True)
        self.step_forward = QPushButton(body)
        self.next_button = QPushButton(body)
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"×{speed:g}", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.loop_box = QCheckBox(body)
        self.end_button = QPushButton(body)
        self.end_button.setStyleSheet("background:#ff8c00; color:black; font-weight:bold; padding:4px 10px;")
        self.clock_label = QLabel("")
        font = QFont(self.clock_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.clock_label.setFont(font)
        self.speed_label = QLabel(body)
        for widget in (self.mode_label, self.back_button, self.step_back, self.play_button, self.step_forward,
                       self.next_button, self.speed_label, self.speed_box, self.loop_box):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.clock_label)
        row.addWidget(self.end_button)
        layout.addLayout(row)
        self.bar = TimelineBar(body)
        layout.addWidget(self.bar)
        self.legend = QLabel(body)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.legend)
        self.setWidget(body)
        self.replay: ReplayTelemetry | None = None
        self.retranslate()

    def retranslate(self) -> None:
        """Re-set the static texts in the language now installed."""
        self.setWindowTitle(self.tr("Replay"))
        self.back_button.setText(self.tr("◀◀ Alarm"))
        self.back_button.setToolTip(self.tr("Previous alarm or incident"))
        self.step_back.setText(self.tr("◀ {seconds} s").format(seconds=f"{STEP_JUMP_S:.0f}"))
        self.play_button.setText(self.tr("❚❚ Pause") if self.play_button.isChecked() else self.tr("▶ Play"))
        self.step_forward.setText(self.tr("{seconds} s ▶").format(seconds=f"{STEP_JUMP_S:.0f}"))
        self.next_button.setText(self.tr("Alarm ▶▶"))
        self.next_button.setToolTip(self.tr("Next alarm or incident"))
        self.speed_label.setText(self.tr("Speed"))
        self.loop_box.setText(self.tr("Loop"))
        self.end_button.setText(self.tr("End training and score"))
        self.legend.setText("  ".join(f"<span style='color:{MARKER_COLOURS[k]}'>▮</span> {marker_label(k)}"
                                      for k in MARKER_LABELS))
        if self.replay is not None:
            self.mode_label.setText(mode_label(self.replay.session.mode))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        """A language switch at run time re-sets the static texts."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def attach(self, replay: ReplayTelemetry) -> None:
        """Drive `replay` from the controls."""
        self.replay = replay
        session = replay.session
        self.bar.start, self.bar.end = session.start, session.end
        self.bar.markers = session.markers
        self.bar.forward_only = replay.training
        self.mode_label.setText(mode_label(session.mode))
        self.mode_label.setStyleSheet("font-weight:bold; padding:2px 8px; "
                                      + ("background:#ff8c00; color:black;" if replay.training else
                                         "background:#2b5c8a; color:white;"))
        for widget in (self.back_button, self.step_back, self.loop_box):
            widget.setEnabled(not replay.training)  # a trainee's clock only moves forward
        self.end_button.setVisible(replay.training)
        self.play_button.toggled.connect(self._play)
        self.step_back.clicked.connect(lambda: replay.step(-STEP_JUMP_S))
        self.step_forward.clicked.connect(lambda: replay.step(STEP_JUMP_S))
        self.back_button.clicked.connect(lambda: replay.jump(False))
        self.next_button.clicked.connect(lambda: replay.jump(True))
        self.speed_box.currentIndexChanged.connect(lambda _: setattr(replay, "speed", self.speed_box.currentData()))
        self.loop_box.toggled.connect(lambda on: setattr(replay, "loop", on))
        self.bar.sought.connect(replay.seek)
        replay.moved.connect(self.show_position)
        self.show_position(session.position)

    def _play(self, on: bool) -> None:
        if self.replay is not None:
            self.replay.play(on)
        self.play_button.setText(self.tr("❚❚ Pause") if on else self.tr("▶ Play"))

    def show_position(self, t: float) -> None:
        if self.replay is None:
            return
        session = self.replay.session
        self.bar.position = t
        self.bar.update()
        self.clock_label.setText(f"{clock_text(t, with_date=True)}   {span_text(t - session.start)} / "
                                 f"{span_text(session.end - session.start)}")
        if not self.replay.playing and self.play_button.isChecked():
            self.play_button.blockSignals(True)
            self.play_button.setChecked(False)
            self.play_button.setText(self.tr("▶ Play"))
            self.play_button.blockSignals(False)


def training_report_path(folder: Path, recording: Path, now: float | None = None) -> Path:
    """Where a training report is saved: one file per session, named after the recording and the time."""
    stamp = datetime.fromtimestamp(time.time() if now is None else now).strftime("%Y%m%d-%H%M%S")
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", recording.stem)[:60] or "recording"  # never a path or a device name
    return folder / f"training-{stem}-{stamp}.html"
