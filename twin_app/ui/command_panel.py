"""The command panel: the alarm list and the dispatch board.

Both show the retained ``alarm/`` and ``dispatch/`` topics, so every console shows the same thing; operator
actions go out on ``action/{verb}`` with the operator's identity, whoever runs the engine.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PRIORITY_STYLE = {  # symbol, colour: priority never by colour alone
    "critical": ("◆◆", "#b2182b"), "high": ("◆", "#d55e00"), "medium": ("▲", "#e69f00"), "low": ("●", "#0072b2"),
}
PRIORITY_ORDER = {"critical": 1, "high": 2, "medium": 3, "low": 4}
STANDING = ("unack_active", "ack_active", "unack_rtn")
MAX_ROWS = 300  # alarm rows drawn at once; the rest are counted above the list
REDRAW_INTERVAL_S = 0.5
OPEN_ORDERS = ("dispatched", "en_route", "on_scene", "escalated", "done")


def _table(columns: tuple[str, ...], parent: QWidget) -> QTableWidget:
    """A read-only table of whole-row selection with these column headers."""
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(columns)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    return table


def apply_retained(store: dict[str, dict], changes: list[tuple[str, dict | None]]) -> None:
    """Apply retained-topic updates to `store`: a payload replaces, None (an empty payload) removes."""
    for key, payload in changes:
        if payload is None:
            store.pop(key, None)
        else:
            store[key] = payload


def _item(text: str, bold: bool = False, colour: str | None = None, data: object = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if bold:
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    if colour:
        item.setForeground(QColor(colour))
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    return item


class AlarmDock(QDockWidget):
    """Standing alarms, most urgent first; acknowledge, shelve, comment and dispatch from here."""

    alarm_selected = Signal(dict)
    action_requested = Signal(str, dict)  # verb, body (without operator)

    COLUMNS = ("Priority", "State", "Raised", "Alarm", "Where", "Value", "First-out", "Proposed")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Alarms", parent)
        self.setObjectName("alarm-dock")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.flood_banner = QLabel("")
        self.flood_banner.setStyleSheet("background:#b2182b; color:white; font-weight:bold; padding:4px;")
        self.flood_banner.hide()
        layout.addWidget(self.flood_banner)
        self.more_label = QLabel("")  # in a flood: how many standing alarms the list does not show
        self.more_label.setStyleSheet("font-weight:bold; padding:2px;")
        self.more_label.hide()
        layout.addWidget(self.more_label)
        self.filter_box = QLineEdit(body)
        self.filter_box.setPlaceholderText("Filter alarms: tower, storey, kind, device, state, priority…")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.textChanged.connect(lambda _: self.redraw())
        layout.addWidget(self.filter_box)
        self.table = _table(self.COLUMNS, body)
        self.table.setSortingEnabled(True)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.setColumnWidth(1, 120)
        self.table.setColumnWidth(3, 360)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.ack_button = QPushButton("Acknowledge (A)")
        self.dispatch_button = QPushButton("Dispatch proposed (D)")
        self.shelve_button = QPushButton("Shelve…")
        self.comment_button = QPushButton("Comment…")
        for button in (self.ack_button, self.dispatch_button, self.shelve_button, self.comment_button):
            buttons.addWidget(button)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.dispatch_button.clicked.connect(self.dispatch_selected)
        self.shelve_button.clicked.connect(self._shelve)
        self.comment_button.clicked.connect(self._comment)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.alarms: dict[str, dict] = {}
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.redraw)
        self._last_redraw = 0.0

    def update_alarms(self, changes: list[tuple[str, dict | None]]) -> None:
        """Apply retained alarm updates (None removes) and redraw, at most every REDRAW_INTERVAL_S in a flood."""
        apply_retained(self.alarms, changes)
        if self._redraw_timer.isActive():
            return
        wait = REDRAW_INTERVAL_S - (time.monotonic() - self._last_redraw)
        if wait <= 0:
            self.redraw()
        else:
            self._redraw_timer.start(int(wait * 1000))

    def standing(self, filtered: bool = False) -> list[dict]:
        shown = [a for a in self.alarms.values() if a.get("state") in STANDING]
        needle = self.filter_box.text().strip().lower() if filtered else ""
        if needle:
            shown = [a for a in shown if needle in " ".join(str(a.get(k, "")) for k in (
                "id", "kind", "condition", "state", "priority", "building", "storey", "device_id")).lower()]
        return sorted(shown, key=lambda a: (PRIORITY_ORDER.get(a.get("priority"), 9), a.get("raised_ts") or 0))

    def redraw(self) -> None:
        self._last_redraw = time.monotonic()
        selected = {a["id"] for a in self.selected_alarms()}
        self.table.setSortingEnabled(False)
        standing = self.standing(filtered=True)
        rows = standing[:MAX_ROWS]  # the most urgent first: a list of thousands is read by nobody
        hidden = len(standing) - len(rows)
        self.more_label.setText(f"Showing the {len(rows)} most urgent of {len(standing):,} standing alarms: "
                                "filter to narrow" if hidden else "")
        self.more_label.setVisible(hidden > 0)
        self.table.setRowCount(len(rows))
        for r, alarm in enumerate(rows):
            try:
                self._draw_row(r, alarm, selected)
            except (TypeError, ValueError, OverflowError, KeyError):  # a payload no decoder foresaw: a plain row
                self.table.setItem(r, 0, _item(f"? {str(alarm.get('id'))[:80]}"))
        self.table.setSortingEnabled(True)

    def _draw_row(self, r: int, alarm: dict, selected: set[str]) -> None:
        """One alarm's row (its cells and its selection)."""
        symbol, colour = PRIORITY_STYLE.get(alarm.get("priority"), ("?", "#444"))
        unack = alarm["state"] in ("unack_active", "unack_rtn")
        raised = time.strftime("%H:%M:%S", time.localtime(alarm.get("raised_ts") or 0))
        where = " ".join(str(alarm.get(k)) for k in ("building", "storey") if alarm.get(k))
        value = alarm.get("value")
        proposed = alarm.get("proposed") or {}
        source = alarm.get("device_id") or alarm.get("event_source")
        what = f"{alarm.get('kind')} {alarm.get('condition')} · {source}"
        plan = f"{proposed.get('party', '')} {proposed.get('unit') or ''} {proposed.get('deadline_min', '')} min"
        cells = [
            _item(f"{symbol} {alarm.get('priority')}", bold=True, colour=colour,
                  data=PRIORITY_ORDER.get(alarm.get("priority"), 9)),
            _item(("● " if unack else "") + alarm["state"].replace("_", " "), bold=unack),
            _item(raised),
            _item(what + (" · chattering" if alarm.get("chattering") else ""), bold=unack),
            _item(where),
            _item("" if value is None else f"{value:.4g}"),
            _item("" if alarm.get("group") in (None, alarm["id"]) else f"↳ {alarm['group']}"),
            _item(plan),
        ]
        cells[0].setData(Qt.ItemDataRole.UserRole + 1, alarm["id"])
        for c, cell in enumerate(cells):
            self.table.setItem(r, c, cell)
        if alarm["id"] in selected:
            self.table.selectRow(r)

    def set_flood(self, text: str) -> None:
        self.flood_banner.setText(text)
        self.flood_banner.setVisible(bool(text))

    def selected_alarms(self) -> list[dict]:
        ids = []
        for index in self.table.selectionModel().selectedRows():
            item = self.table.item(index.row(), 0)
            if item is not None:
                ids.append(item.data(Qt.ItemDataRole.UserRole + 1))
        return [self.alarms[i] for i in ids if i in self.alarms]

    def select_alarm(self, alarm_id: str) -> bool:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole + 1) == alarm_id:
                self.table.selectRow(r)
                return True
        return False

    def _selected(self) -> None:
        chosen = self.selected_alarms()
        if len(chosen) == 1:
            self.alarm_selected.emit(chosen[0])

    def acknowledge_selected(self) -> None:
        ids = [a["id"] for a in self.selected_alarms() if a["state"] in ("unack_active", "unack_rtn")]
        if ids:
            self.action_requested.emit("ack", {"alarm_ids": ids})

    def dispatch_selected(self) -> None:
        for alarm in self.selected_alarms()[:1]:
            unit = (alarm.get("proposed") or {}).get("unit")
            self.action_requested.emit("dispatch", {"alarm_id": alarm["id"], **({"unit": unit} if unit else {})})

    def _shelve(self) -> None:
        chosen = self.selected_alarms()[:1]
        if not chosen:
            return
        reason, ok = QInputDialog.getText(self, "Shelve alarm", "Reason (required):")
        if not ok:
            return
        minutes, ok = QInputDialog.getInt(self, "Shelve alarm", "For how many minutes (at most 480)?", 30, 1, 480)
        if ok:
            self.action_requested.emit("shelve", {"alarm_id": chosen[0]["id"], "reason": reason, "minutes": minutes})

    def _comment(self) -> None:
        chosen = self.selected_alarms()[:1]
        if chosen:
            text, ok = QInputDialog.getText(self, "Comment", "Comment:")
            if ok:
                self.action_requested.emit("comment", {"alarm_id": chosen[0]["id"], "text": text})


class DispatchDock(QDockWidget):
    """Open orders with their countdown, overdue first; unit reports and closing."""

    action_requested = Signal(str, dict)
    COLUMNS = ("Due in", "Order", "Unit", "Party", "Status", "Alarm")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Dispatch", parent)
        self.setObjectName("dispatch-dock")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.table = _table(self.COLUMNS, body)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        for label, status in (("En route", "en_route"), ("On scene", "on_scene"), ("Done…", "done")):
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, s=status: self._report(s))
            buttons.addWidget(button)
        close = QPushButton("Close incident")
        close.clicked.connect(self._close)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.kpi_label = QLabel("")
        self.kpi_label.setWordWrap(True)
        layout.addWidget(self.kpi_label)
        self.setWidget(body)
        self.orders: dict[str, dict] = {}
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.redraw)
        self._tick.start()

    def update_orders(self, changes: list[tuple[str, dict | None]]) -> None:
        """Apply retained order updates (None removes) and redraw."""
        apply_retained(self.orders, changes)
        self.redraw()

    def open_orders(self) -> list[dict]:
        now = time.time()
        live = [o for o in self.orders.values() if o.get("status") in OPEN_ORDERS]
        return sorted(live, key=lambda o: (o["status"] == "done", o["deadline_ts"] > now, o["deadline_ts"]))

    @staticmethod
    def countdown(order: dict, now: float) -> str:
        left = order["deadline_ts"] - now
        sign = "-" if left < 0 else ""
        left = abs(left)
        return f"{sign}{int(left // 60):02d}:{int(left % 60):02d}"

    def redraw(self) -> None:
        now = time.time()
        rows = self.open_orders()
        selected = {self.table.item(i.row(), 1).text() for i in self.table.selectionModel().selectedRows()
                    if self.table.item(i.row(), 1) is not None}
        self.table.setRowCount(len(rows))
        for r, order in enumerate(rows):
            overdue = order["deadline_ts"] < now and order["status"] != "done"
            due = _item(("⚠ OVERDUE " if overdue else "") + self.countdown(order, now), bold=overdue,
                        colour="#b2182b" if overdue else None)
            cells = [due, _item(order["id"]), _item(order["unit"]), _item(order["party"]),
                     _item(order["status"] + (f" → {order['escalated_to']}" if order.get("escalated_to") else ""),
                           bold=order["status"] == "escalated"),
                     _item(order["alarm_id"])]
            for c, cell in enumerate(cells):
                self.table.setItem(r, c, cell)
            if order["id"] in selected:
                self.table.selectRow(r)

    def selected_order(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.orders.get(self.table.item(rows[0].row(), 1).text())

    def _report(self, status: str) -> None:
        order = self.selected_order()
        if order is None:
            return
        body = {"order_id": order["id"], "status": status}
        if status == "done":
            result, ok = QInputDialog.getText(self, "Unit result", "What did the unit find and do?")
            if not ok:
                return
            body["result"] = result
        self.action_requested.emit("unit_status", body)

    def _close(self) -> None:
        order = self.selected_order()
        if order is not None:
            self.action_requested.emit("close", {"order_id": order["id"]})

    def show_kpis(self, kpis: dict) -> None:
        def fmt(v, unit=" s"):
            return "—" if v is None else f"{v}{unit}"

        within = kpis.get("within_deadline")
        self.kpi_label.setText(
            f"KPIs: {kpis.get('alarms_per_hour', 0)} alarms/h · time to acknowledge {fmt(kpis.get('mtta_s'))} · "
            f"to dispatch {fmt(kpis.get('mttd_s'))} · handling {fmt(kpis.get('handling_s'))} · within deadline "
            f"{'—' if within is None else f'{within * 100:.0f} %'}")

