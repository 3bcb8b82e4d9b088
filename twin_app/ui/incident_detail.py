"""An incident's detail: what, where, who answers and by when, linked actions, orders, devices, timeline, trend."""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QDockWidget, QLabel, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from twin_app.core.i18n import QT_TRANSLATE_NOOP
from twin_app.core.texts import cause_label, due_text, kind_label, number, order_status_label, state_label
from twin_app.ui.command_panel import (
    incident_title,
    party_text,
    priority_text,
    proposal_why,
    unit_names,
    value_text,
)

PALETTE = ("#56b4e9", "#e69f00", "#009e73", "#f0e442", "#cc79a7", "#d55e00")
TIMELINE_WHAT = {  # the kinds of timeline entries (machine names in the payload), as the operator reads them
    "ack": QT_TRANSLATE_NOOP("IncidentDetail", "acknowledged"), "alarm": QT_TRANSLATE_NOOP("IncidentDetail", "alarm"),
    "cleared": QT_TRANSLATE_NOOP("IncidentDetail", "cleared"), "closed": QT_TRANSLATE_NOOP("IncidentDetail", "closed"),
    "command": QT_TRANSLATE_NOOP("IncidentDetail", "linked action"),
    "comment": QT_TRANSLATE_NOOP("IncidentDetail", "comment"), "event": QT_TRANSLATE_NOOP("IncidentDetail", "event"),
    "order": QT_TRANSLATE_NOOP("IncidentDetail", "order"), "result": QT_TRANSLATE_NOOP("IncidentDetail", "result"),
    "shelve": QT_TRANSLATE_NOOP("IncidentDetail", "shelved"), "state": QT_TRANSLATE_NOOP("IncidentDetail", "state"),
    "confirmed": QT_TRANSLATE_NOOP("IncidentDetail", "confirmed"),
    "unconfirmed": QT_TRANSLATE_NOOP("IncidentDetail", "not confirmed"),
}
ACTION_WORD = {  # actuator commands (machine names), as the operator reads them
    "on": QT_TRANSLATE_NOOP("IncidentDetail", "on"), "off": QT_TRANSLATE_NOOP("IncidentDetail", "off"),
    "recall": QT_TRANSLATE_NOOP("IncidentDetail", "recall"),
}
TIMELINE_SHOWN = 60  # newest entries shown in the dock (the report has them all)
COMMAND_STATE = {  # English source texts, shown through QCoreApplication.translate("IncidentDetail", ...)
    "sent": QT_TRANSLATE_NOOP("IncidentDetail", "… sent, waiting for the actuator"),
    "confirmed": QT_TRANSLATE_NOOP("IncidentDetail", "✔ confirmed"),
    "unconfirmed": QT_TRANSLATE_NOOP("IncidentDetail", "✘ NOT confirmed"),
}


def _e(value: object) -> str:
    return html.escape(str(value)) if value not in (None, "") else "—"


def _word(table: dict[str, str], key: object) -> str:
    """A machine word of the payload in the operator's language (as it is when unknown)."""
    found = table.get(str(key))
    return QCoreApplication.translate("IncidentDetail", found) if found else str(key or "")


def _clock(ts: object) -> str:
    return time.strftime("%H:%M:%S", time.localtime(float(ts))) if isinstance(ts, (int, float)) else "—"


class TrendWidget(QWidget):
    """The devices in alarm over the last minutes: time axis, unit, and the alarm limits drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.times = np.zeros(0)
        self.values = np.zeros((0, 0))
        self.names: list[str] = []
        self.unit = ""
        self.limits: list[tuple[str, float]] = []

    def set_series(self, times: np.ndarray, values: np.ndarray, names: list[str], unit: str,
                   limits: list[tuple[str, float]]) -> None:
        """Series to draw: values[time, device], one name per device, limits as (label, value)."""
        self.times, self.values, self.names, self.unit, self.limits = times, values, names, unit, limits
        self.update()

    def paintEvent(self, _event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#10151f"))
        font = QFont(painter.font())
        font.setPointSize(9)
        painter.setFont(font)
        left, right, top, bottom = 76, 12, 10, 34
        plot = QRectF(left, top, max(10, self.width() - left - right), max(10, self.height() - top - bottom))
        painter.setPen(QPen(QColor("#8899aa"), 1))
        painter.drawRect(plot)
        finite = self.values[np.isfinite(self.values)] if self.values.size else np.zeros(0)
        if len(self.times) < 2 or not finite.size:
            painter.setPen(QColor("#cccccc"))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter,
                             self.tr("Collecting the live values of the devices in alarm…"))
            painter.end()
            return
        lo, hi = float(finite.min()), float(finite.max())
        for _, limit in self.limits:
            lo, hi = min(lo, limit), max(hi, limit)
        pad = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 1.0)
        lo, hi = lo - pad, hi + pad
        t0, t1 = float(self.times[0]), float(self.times[-1])
        span = max(t1 - t0, 1e-6)

        def x(t: float) -> float:
            return plot.left() + (t - t0) / span * plot.width()

        def y(v: float) -> float:
            return plot.bottom() - (v - lo) / (hi - lo) * plot.height()

        painter.setPen(QColor("#cccccc"))
        for k in range(3):  # value axis: three ticks with the unit
            v = lo + (hi - lo) * k / 2
            painter.drawText(QRectF(0, y(v) - 8, left - 4, 16), Qt.AlignmentFlag.AlignRight,
                             number(v, self.unit))
        for k, align in enumerate((Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignHCenter,
                                   Qt.AlignmentFlag.AlignRight)):  # time axis: start, middle, end, inside the plot
            t = t0 + span * k / 2
            box = QRectF(x(t) - 80 * k / 2, plot.bottom() + 2, 80, 14)
            painter.drawText(box, align, _clock(t))
        painter.drawText(QRectF(plot.left(), plot.bottom() + 16, plot.width(), 14), Qt.AlignmentFlag.AlignHCenter,
                         self.tr("time (last {minutes} min)").format(minutes=max(1, round(span / 60))))
        for label, limit in self.limits:
            painter.setPen(QPen(QColor("#ff6b6b"), 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(plot.left(), y(limit)), QPointF(plot.right(), y(limit)))
            painter.drawText(QRectF(plot.right() - 150, y(limit) - 15, 146, 14), Qt.AlignmentFlag.AlignRight,
                             f"{label} {number(limit, self.unit)}")
        for j in range(self.values.shape[1]):
            column = self.values[:, j]
            ok = np.isfinite(column)
            if ok.sum() < 2:
                continue
            painter.setPen(QPen(QColor(PALETTE[j % len(PALETTE)]), 2))
            painter.drawPolyline(QPolygonF([QPointF(x(float(t)), y(float(v)))
                                            for t, v in zip(self.times[ok], column[ok], strict=True)]))
        shown = self.names[:len(PALETTE)]
        if shown:  # legend on a dark box, over the lines
            width = max(painter.fontMetrics().horizontalAdvance(n) for n in shown) + 10
            painter.fillRect(QRectF(plot.left() + 2, plot.top() + 2, width, 13 * len(shown) + 4),
                             QColor(16, 21, 31, 220))
        for j, name in enumerate(shown):
            painter.setPen(QColor(PALETTE[j % len(PALETTE)]))
            painter.drawText(QPointF(plot.left() + 6, plot.top() + 14 + 13 * j), name)
        painter.end()


class IncidentDetailDock(QDockWidget):
    """The selected incident, whole: the operator runs it from here and the command panel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incident-detail-dock")
        self.clock: Callable[[], float] = time.time  # a replay sets its recording's clock
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel(body)
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-size:15pt; font-weight:bold; padding:4px;")
        layout.addWidget(self.title)
        self.trend_title = QLabel("")
        layout.addWidget(self.trend_title)
        self.trend = TrendWidget(body)
        layout.addWidget(self.trend)
        self.text = QTextBrowser(body)
        self.text.setOpenLinks(False)
        layout.addWidget(self.text, 1)
        self.setWidget(body)
        self.incident: dict | None = None
        self.alarms: dict[str, dict] = {}  # the alarm payloads by id (the window may share the incident list's)
        self._shown: tuple = (None, {}, None)
        self.retranslate()
        self.show_incident(None, {})

    def retranslate(self) -> None:
        """Re-set the static texts in the language now installed and redraw the incident shown."""
        self.setWindowTitle(self.tr("Incident"))
        incident, orders, live_value = self._shown
        self.show_incident(incident, orders, live_value)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        """A language switch at run time redraws in the new language."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def show_incident(self, incident: dict | None, orders: dict[str, dict],
                      live_value: Callable[[str], float | None] | None = None) -> None:
        """Draw an incident (None clears); `live_value` gives a device's value now, from this console's state."""
        self.incident = incident
        self._shown = (incident, orders, live_value)
        shown = incident is not None and bool(incident.get("devices"))  # a trend only of devices in alarm
        self.trend.setVisible(shown)
        self.trend_title.setVisible(shown)
        if incident is None:
            self.title.setText(self.tr("Select an incident"))
            self.text.setHtml("")
            return
        try:
            self._draw(incident, orders, live_value or (lambda _d: None))
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:  # an odd payload
            self.text.setPlainText(self.tr("This incident's payload cannot be shown whole ({error}).").format(
                error=type(exc).__name__))

    def _draw(self, incident: dict, orders: dict[str, dict], live_value: Callable[[str], float | None]) -> None:
        now = self.clock()
        label = {  # the fixed words of the page (tr() outside the f-strings, where lupdate finds them)
            "responsible": self.tr("Responsible:"), "proposed": self.tr("Proposed:"), "result": self.tr("Result:"),
            "confidence": self.tr("Confidence"), "report": self.tr("Report"), "linked": self.tr("Linked actions"),
            "actuator": self.tr("Actuator"), "command": self.tr("Command"), "state": self.tr("State"),
            "actuator_now": self.tr("Actuator now"), "devices": self.tr("Devices in alarm"), "kind": self.tr("Kind"),
            "device": self.tr("Device"), "last": self.tr("Last published"), "now": self.tr("Now"),
            "cameras": self.tr("Cameras covering the place"),
        }
        prio, colour = priority_text(incident.get("priority"))
        self.title.setText(f"{prio} · {incident_title(incident, self.alarms) or incident.get('id')}")
        self.title.setStyleSheet(f"font-size:15pt; font-weight:bold; padding:4px; color:{colour};")
        state = state_label(incident.get("state"))
        unack = int(incident.get("unacknowledged") or 0)
        unack_text = (" — <b style='color:#b2182b'>" + self.tr("{count} unacknowledged").format(count=unack)
                      + "</b>") if unack else ""
        head = self.tr("{state} · {cause} · raised {time} · id {id}").format(
            state=f"<b>{_e(state)}</b>{unack_text}", cause=_e(cause_label(str(incident.get("cause")))),
            time=_clock(incident.get("created_ts")), id=_e(incident.get("id")))
        parts = [f"<p>{head}</p>",
                 f"<p><b>{label['responsible']}</b> {_e(party_text(incident, now))}</p>"]
        proposal = incident.get("proposal") or {}
        if proposal and not incident.get("units"):
            parts.append(f"<p><b>{label['proposed']}</b> {_e(unit_names(proposal.get('units')))} — "
                         f"{_e(proposal_why(proposal))}</p>")
        if incident.get("result"):
            parts.append(f"<p style='background:#1f3b24; padding:4px'><b>{label['result']}</b> "
                         f"{_e(incident['result'])}</p>")
        detail = incident.get("detail") or {}
        if detail:
            rows = []
            for key, name in (("text", self.tr("Says")), ("contact", self.tr("Contact")),
                              ("snapshot", self.tr("Camera snapshot")), ("reporter", self.tr("Reported by")),
                              ("device_id", self.tr("Camera")), ("gateway", self.tr("Gateway"))):
                if detail.get(key):
                    rows.append(f"<tr><td><b>{name}</b></td><td>{_e(detail[key])}</td></tr>")
            if isinstance(detail.get("confidence"), (int, float)):
                rows.append(f"<tr><td><b>{label['confidence']}</b></td>"
                            f"<td>{detail['confidence'] * 100:.0f} %</td></tr>")
            if detail.get("blind"):
                blind = ", ".join(_e(d) for d in list(detail["blind"])[:20])
                blind_label = self.tr("Blind detectors ({count})").format(count=_e(detail.get("blind_count")))
                rows.append(f"<tr><td><b>{blind_label}</b></td><td>{blind}</td></tr>")
            parts.append(f"<h3>{label['report']}</h3><table cellpadding=2>" + "".join(rows) + "</table>")
        commands = incident.get("commands") or []
        if commands:
            rows = []
            for command in commands:
                live = live_value(str(command.get("device_id")))
                actuator = {1.0: self.tr("running / on"), 0.0: self.tr("off"), 2.0: self.tr("recalled")}.get(
                    live, number(live)) if live is not None else self.tr("no report")
                found = COMMAND_STATE.get(str(command.get("state")))
                state = QCoreApplication.translate("IncidentDetail", found) if found else _e(command.get("state"))
                action = _word(ACTION_WORD, command.get("action"))
                rows.append(f"<tr><td>{_e(command.get('device_id'))}</td><td>{_e(action)}</td>"
                            f"<td>{state}</td><td>{_e(actuator)}</td></tr>")
            parts.append(f"<h3>{label['linked']}</h3><table cellpadding=2><tr><th>{label['actuator']}"
                         f"</th><th>{label['command']}</th><th>{label['state']}</th>"
                         f"<th>{label['actuator_now']}</th></tr>" + "".join(rows) + "</table>")
        for order_id in incident.get("orders") or []:
            order = orders.get(order_id)
            if order is None:
                parts.append("<p>" + self.tr("Order {id}: closed").format(id=_e(order_id)) + "</p>")
                continue
            history = "".join(f"<li>{_clock(h.get('ts'))} {_e(order_status_label(h.get('status', '')))}"
                              f"{' — ' + _e(h.get('result')) if h.get('result') else ''}"
                              f"{' (' + _e(h.get('by')) + ')' if h.get('by') else ''}</li>"
                              for h in order.get("history") or [] if isinstance(h, dict))
            heading = self.tr("Order {id} — {units}").format(
                id=_e(order_id), units=_e(unit_names(order.get("units") or [order.get("unit")])))
            parts.append(f"<h3>{heading}</h3><p>{_e(order_status_label(order.get('status')))} · "
                         f"{_e(due_text(order.get('deadline_ts'), now))}</p><ul>{history}</ul>"
                         + (f"<p><b>{label['result']}</b> {_e(order['result'])}</p>" if order.get("result")
                            else ""))
        timeline = [e for e in incident.get("timeline") or [] if isinstance(e, dict)]
        rows = "".join(f"<tr><td>{_clock(e.get('ts'))}</td><td>{_e(_word(TIMELINE_WHAT, e.get('what')))}</td>"
                       f"<td>{_e(e.get('text'))}</td>"
                       f"<td>{_e(e.get('by')) if e.get('by') else ''}</td></tr>"
                       for e in reversed(timeline[-TIMELINE_SHOWN:]))
        entries = (self.tr("Timeline ({count} entry, newest first)") if len(timeline) == 1 else
                   self.tr("Timeline ({count} entries, newest first)")).format(count=len(timeline))
        parts.append(f"<h3>{entries}</h3><table cellpadding=2>{rows}</table>")
        devices = incident.get("devices") or []
        if devices:
            rows = []
            for device in devices[:20]:
                live = live_value(str(device.get("device_id")))
                now_value = number(live, str(device.get("unit") or "")) if live is not None else "—"
                rows.append(f"<tr><td>{_e(kind_label(str(device.get('kind'))))}</td><td>{_e(device.get('device_id'))}"
                            f"</td><td>{_e(value_text(device))}</td><td><b>{_e(now_value)}</b></td></tr>")
            parts.append(f"<h3>{label['devices']}</h3><table cellpadding=2><tr><th>{label['kind']}</th>"
                         f"<th>{label['device']}</th><th>{label['last']}</th><th>{label['now']}</th>"
                         "</tr>" + "".join(rows) + "</table>")
        cameras = incident.get("cameras") or []
        if cameras:
            parts.append(f"<h3>{label['cameras']}</h3><p>" + ", ".join(_e(c) for c in cameras)
                         + "</p>")
        self.text.setHtml("".join(parts))

    def set_trend(self, times: np.ndarray, values: np.ndarray, devices: list[dict]) -> None:
        """The trend of the incident's devices in alarm (their order in `devices` is the columns')."""
        unit = str(devices[0].get("unit") or "") if devices else ""
        limits = []
        if devices:
            for key, label in (("alarm_high", self.tr("alarm high")), ("alarm_low", self.tr("alarm low"))):
                value = devices[0].get(key)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    limits.append((label, float(value)))
        names = [str(d.get("device_id")) for d in devices]
        kind = kind_label(str(devices[0].get("kind"))) if devices else ""
        self.trend_title.setText(self.tr("Trend: {kind} of {count} device(s) in alarm").format(
            kind=kind, count=len(devices)) if devices else "")
        self.trend.set_series(times, values, names, unit, limits)
