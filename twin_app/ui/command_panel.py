"""The command panel: the incident list and the dispatch board.

Both show the retained ``incident/``, ``alarm/`` and ``dispatch/`` topics, so every console shows the same thing;
operator actions go out on ``action/{verb}`` with the operator's identity, whoever runs the engine.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDockWidget,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twin_app.core import i18n
from twin_app.core.dispatch import read_units
from twin_app.core.errors import InputError
from twin_app.core.texts import (
    alarm_state_label,
    alarm_text,
    due_text,
    number,
    order_status_label,
    party_label,
    priority_label,
    state_label,
    unit_label,
)

PRIORITY_STYLE = {  # symbol, colour: priority never by colour alone
    "critical": ("◆◆", "#b2182b"), "high": ("◆", "#d55e00"), "medium": ("▲", "#b07800"), "low": ("●", "#0072b2"),
}
PRIORITY_ORDER = {"critical": 1, "high": 2, "medium": 3, "low": 4}
STANDING = ("unack_active", "ack_active", "unack_rtn")
MAX_ROWS = 300  # incidents drawn at once; the rest are counted above the list
MAX_CHILDREN = 50  # alarms listed under one incident
CLOSED_KEPT = 200  # closed incidents kept for the shift (shown with "Show closed")
REDRAW_INTERVAL_S = 0.5
OPEN_ORDERS = ("dispatched", "en_route", "on_scene", "escalated", "done")
FLOOD_PER_10MIN = 10  # EEMUA 191: ten or more new incidents per 10 minutes is a flood
ROLE = Qt.ItemDataRole.UserRole + 1


def _unit_names() -> dict[str, str]:
    try:
        return {u.id: u.name for u in read_units().values()}
    except InputError:
        return {}


UNIT_NAMES = _unit_names()


def unit_names(ids: list[str] | None) -> str:
    """'Property duty team 1, Property duty team 2' for unit ids (the id where the name is unknown)."""
    names = [unit_label(UNIT_NAMES[str(u)]) if str(u) in UNIT_NAMES else str(u) for u in ids or []]
    return QCoreApplication.translate("CommandPanel", ", ").join(names)


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
        item.setData(ROLE, data)
    return item


def priority_text(priority: object) -> tuple[str, str]:
    """('◆◆ Critical', colour) for a priority name."""
    symbol, colour = PRIORITY_STYLE.get(str(priority), ("?", "#444444"))
    return f"{symbol} {priority_label(priority)}", colour


def _searchable(incident: dict) -> str:
    """What the incident filter searches: the payload's fields and their labels in the operator's language."""
    raw = " ".join(str(incident.get(k, "")) for k in (
        "id", "title", "cause", "state", "priority", "building", "storey", "party", "party_name"))
    shown = " ".join((state_label(incident.get("state")), priority_label(incident.get("priority")),
                      party_label(incident.get("party"))))
    return f"{raw} {shown}".lower()


_DEVICES = re.compile(r" · (\d+) devices$")


def incident_title(incident: dict, alarms: dict[str, dict] | None = None) -> str:
    """The incident's title in the operator's language.

    The engine publishes it in English ("CO high 70.7 ppm — T05 B1 Garage zone B1-A · 3 devices"); in another
    language its lead alarm is said again from the alarm's kind, condition and value, and the device count
    translated. The place keeps its name from the model.
    """
    title = str(incident.get("title") or "")
    if not i18n.installed() or " — " not in title:
        return title
    head, where = title.split(" — ", 1)
    live = [a for a in ((alarms or {}).get(str(i)) for i in incident.get("alarms") or []) if a]
    lead = min(live, key=lambda a: (PRIORITY_ORDER.get(a.get("priority"), 9), a.get("condition") == "rate_of_rise",
                                    a.get("raised_ts") or 0.0), default=None)
    if lead is not None and lead.get("kind") and lead.get("condition"):
        head = alarm_text(str(lead["kind"]), str(lead["condition"]), lead.get("value"))
    many = _DEVICES.search(where)
    if many:
        where = where[:many.start()] + QCoreApplication.translate("CommandPanel", " · {count} devices").format(
            count=many.group(1))
    return f"{head} — {where}"


def incident_sort_key(incident: dict) -> tuple:
    """Priority by rank (not text), then unacknowledged first, then the oldest first."""
    return (PRIORITY_ORDER.get(incident.get("priority"), 9), 0 if (incident.get("unacknowledged") or 0) else 1,
            incident.get("created_ts") or 0.0)


def proposal_why(proposal: dict) -> str:
    """Why these units (or none) are proposed, in the operator's language.

    The engine says why in English; in another language it is said again from the proposal's party, deadline and
    units.
    """
    why = str(proposal.get("why") or "")
    if not i18n.installed():
        return why or QCoreApplication.translate("CommandPanel", "no unit free")
    party = party_label(proposal.get("party")) if proposal.get("party") else ""
    minutes = proposal.get("deadline_min")
    if proposal.get("units") and isinstance(minutes, (int, float)):
        return QCoreApplication.translate("CommandPanel", "{party} answers within {minutes} min").format(
            party=party, minutes=f"{minutes:g}")
    if party:
        return QCoreApplication.translate("CommandPanel", "no {party} unit can be proposed: dispatch by hand").format(
            party=party)
    return QCoreApplication.translate("CommandPanel", "no unit free")


def party_text(incident: dict, now: float) -> str:
    """'Property management — Property duty team 1 — due in 14:32', or the proposal before any order."""
    party = party_label(incident["party"]) if incident.get("party") else \
        (incident.get("party_name") or party_label(None))
    if incident.get("state") == "closed":
        return QCoreApplication.translate("CommandPanel", "{party} — closed").format(party=party)
    if incident.get("units"):
        due = due_text(incident.get("deadline_ts"), now) if incident.get("state") in ("dispatched", "on_scene") \
            else (state_label(incident.get("state")) if incident.get("state") else "")
        return f"{party} — {unit_names(incident.get('units'))} — {due}"
    proposal = incident.get("proposal") or {}
    if proposal.get("units"):
        return QCoreApplication.translate("CommandPanel", "→ {party}: propose {units}").format(
            party=party, units=unit_names(proposal.get("units")))
    return f"→ {party}: {proposal_why(proposal)}"


class IncidentDock(QDockWidget):
    """Standing incidents, most urgent first, each expanding to its alarms; acknowledge, dispatch, close here.

    Signals
    -------
    incident_selected
        The incident chosen (its payload).
    alarm_selected
        An alarm chosen inside an incident (its payload).
    action_requested
        (verb, body without the operator): an operator action to send.
    report_requested
        The id of the incident whose report the operator asked for.
    """

    incident_selected = Signal(dict)
    alarm_selected = Signal(dict)
    action_requested = Signal(str, dict)
    report_requested = Signal(str)

    COLUMNS = ("Priority", "State", "Raised", "Incident", "Responsible — due", "Alarms")  # the English headers

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incident-dock")
        self.clock: Callable[[], float] = time.time  # a replay sets its recording's clock
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.flood_banner = QLabel("")
        self.flood_banner.setStyleSheet("background:#b2182b; color:white; font-weight:bold; padding:4px;")
        self.flood_banner.hide()
        layout.addWidget(self.flood_banner)
        self.rate_label = QLabel("")  # new incidents and alarms in the last 10 minutes, always shown
        layout.addWidget(self.rate_label)
        self.more_label = QLabel("")  # in a flood: how many incidents the list does not show
        self.more_label.setStyleSheet("font-weight:bold; padding:2px;")
        self.more_label.hide()
        layout.addWidget(self.more_label)
        top = QHBoxLayout()
        self.filter_box = QLineEdit(body)
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.textChanged.connect(lambda _: self.redraw())
        self.closed_box = QCheckBox(body)
        self.closed_box.toggled.connect(lambda _: self.redraw())
        top.addWidget(self.filter_box, 1)
        top.addWidget(self.closed_box)
        layout.addLayout(top)
        self.tree = QTreeWidget(body)
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.itemSelectionChanged.connect(self._selected)
        for column, width in enumerate((120, 130, 80, 520, 420)):
            self.tree.setColumnWidth(column, width)
        layout.addWidget(self.tree)
        buttons = QHBoxLayout()
        self.ack_button = QPushButton(body)
        self.dispatch_button = QPushButton(body)
        self.comment_button = QPushButton(body)
        self.shelve_button = QPushButton(body)
        self.close_button = QPushButton(body)
        self.report_button = QPushButton(body)
        self.override_button = QPushButton(body)
        for button in (self.ack_button, self.dispatch_button, self.comment_button, self.shelve_button,
                       self.close_button, self.override_button, self.report_button):
            buttons.addWidget(button)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.dispatch_button.clicked.connect(self.dispatch_selected)
        self.comment_button.clicked.connect(self._comment)
        self.shelve_button.clicked.connect(self._shelve)
        self.close_button.clicked.connect(self._close)
        self.report_button.clicked.connect(self._report)
        self.override_button.clicked.connect(self._override)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.alarms: dict[str, dict] = {}
        self.incidents: dict[str, dict] = {}  # open ones, by id
        self.closed: OrderedDict[str, dict] = OrderedDict()  # closed this shift, newest last
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.redraw)
        self._last_redraw = 0.0
        self.retranslate()

    def retranslate(self) -> None:
        """Re-set the static texts in the language now installed (the rows follow at the next redraw)."""
        self.setWindowTitle(self.tr("Incidents"))
        self.filter_box.setPlaceholderText(self.tr("Filter: tower, storey, cause, party, state, priority…"))
        self.closed_box.setText(self.tr("Show closed"))
        self.tree.setHeaderLabels([self.tr("Priority"), self.tr("State"), self.tr("Raised"), self.tr("Incident"),
                                   self.tr("Responsible — due"), self.tr("Alarms")])
        self.ack_button.setText(self.tr("Acknowledge (A)"))
        self.dispatch_button.setText(self.tr("Dispatch proposed (D)"))
        self.comment_button.setText(self.tr("Comment…"))
        self.shelve_button.setText(self.tr("Shelve…"))
        self.close_button.setText(self.tr("Close incident…"))
        self.report_button.setText(self.tr("Report…"))
        self.override_button.setText(self.tr("Override…"))
        self.override_button.setToolTip(
            self.tr("Supervisors: command an actuator of the incident by hand (a linked action)"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        """A language switch at run time re-sets the static texts and redraws the rows."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.redraw()
        super().changeEvent(event)

    # -- data ---------------------------------------------------------------------------------------
    def update_data(self, alarms: list[tuple[str, dict | None]], incidents: list[tuple[str, dict | None]]) -> None:
        """Apply retained updates (None removes) and redraw, at most every REDRAW_INTERVAL_S in a flood."""
        apply_retained(self.alarms, alarms)
        for key, payload in incidents:
            if payload is not None and payload.get("state") == "closed":
                self.incidents.pop(key, None)
                self.closed[key] = payload
                self.closed.move_to_end(key)
                while len(self.closed) > CLOSED_KEPT:
                    self.closed.popitem(last=False)
            elif payload is None:
                self.incidents.pop(key, None)
            else:
                self.incidents[key] = payload
                self.closed.pop(key, None)
        if self._redraw_timer.isActive():
            return
        wait = REDRAW_INTERVAL_S - (time.monotonic() - self._last_redraw)
        if wait <= 0:
            self.redraw()
        else:
            self._redraw_timer.start(int(wait * 1000))

    def incident(self, incident_id: str) -> dict | None:
        """An open or recently closed incident's payload."""
        return self.incidents.get(incident_id) or self.closed.get(incident_id)

    def standing(self, filtered: bool = False) -> list[dict]:
        """Open incidents, most urgent first (priority rank, unacknowledged, oldest)."""
        shown = list(self.incidents.values())
        if filtered and self.closed_box.isChecked():
            shown += list(reversed(self.closed.values()))
        needle = self.filter_box.text().strip().lower() if filtered else ""
        if needle:
            shown = [i for i in shown if needle in _searchable(i)]
        return sorted(shown, key=lambda i: (i.get("state") == "closed", *incident_sort_key(i)))

    def rates(self, now: float) -> tuple[int, int]:
        """(new incidents, alarms raised) in the last 10 minutes."""
        incidents = sum(1 for i in (*self.incidents.values(), *self.closed.values())
                        if now - (i.get("created_ts") or 0) <= 600)
        alarms = sum(1 for a in self.alarms.values() if now - (a.get("raised_ts") or 0) <= 600)
        return incidents, alarms

    # -- drawing ------------------------------------------------------------------------------------
    def redraw(self) -> None:
        self._last_redraw = time.monotonic()
        now = self.clock()
        selected = self.selected_key()
        expanded = {self.tree.topLevelItem(i).data(0, ROLE) for i in range(self.tree.topLevelItemCount())
                    if self.tree.topLevelItem(i).isExpanded()}
        standing = self.standing(filtered=True)
        rows = standing[:MAX_ROWS]
        hidden = len(standing) - len(rows)
        more = self.tr("Showing the {shown} most urgent of {count} incidents: filter to narrow")
        self.more_label.setText(more.format(shown=len(rows), count=f"{len(standing):,}") if hidden else "")
        self.more_label.setVisible(hidden > 0)
        new, raised = self.rates(now)
        self.rate_label.setText(self.tr("New incidents in the last 10 min: {new} · alarms raised: {raised}").format(
            new=new, raised=raised))
        self.set_flood(self.tr("INCIDENT FLOOD: {new} new incidents in 10 minutes (EEMUA 191: 10 or more) — "
                               "{raised} alarms behind them").format(new=new, raised=raised)
                       if new >= FLOOD_PER_10MIN else "")
        self.tree.blockSignals(True)
        self.tree.clear()
        reselect = None
        for incident in rows:
            try:
                item = self._incident_item(incident, now)
            except (TypeError, ValueError, OverflowError, KeyError, AttributeError):
                item = QTreeWidgetItem([f"? {str(incident.get('id'))[:80]}"])  # a payload no decoder foresaw
                item.setData(0, ROLE, ("incident", str(incident.get("id"))))
            self.tree.addTopLevelItem(item)
            if item.data(0, ROLE) in expanded:
                item.setExpanded(True)
            if selected is not None:
                if item.data(0, ROLE) == selected:
                    reselect = item
                for c in range(item.childCount()):
                    if item.child(c).data(0, ROLE) == selected:
                        reselect = item.child(c)
                        item.setExpanded(True)
        if reselect is not None:
            reselect.setSelected(True)
            self.tree.setCurrentItem(reselect)
        self.tree.blockSignals(False)

    def _incident_item(self, incident: dict, now: float) -> QTreeWidgetItem:
        prio, colour = priority_text(incident.get("priority"))
        unack = int(incident.get("unacknowledged") or 0)
        state = state_label(incident.get("state"))
        raised = time.strftime("%H:%M:%S", time.localtime(incident.get("created_ts") or 0))
        count = int(incident.get("alarm_count") or len(incident.get("alarms") or []))
        alarms = (self.tr("{count} alarm") if count == 1 else self.tr("{count} alarms")).format(count=count) \
            + (self.tr(" · {count} unack").format(count=unack) if unack else "")
        item = QTreeWidgetItem([prio, ("● " if unack else "") + state, raised, incident_title(incident, self.alarms),
                                party_text(incident, now), alarms])
        item.setData(0, ROLE, ("incident", str(incident["id"])))
        item.setForeground(0, QColor(colour))
        bold = QFont(item.font(0))
        bold.setBold(True)
        item.setFont(0, bold)
        if unack:
            for column in (1, 3):
                item.setFont(column, bold)
        if incident.get("state") == "closed":
            for column in range(len(self.COLUMNS)):
                item.setForeground(column, QColor("#777777"))
        deadline = incident.get("deadline_ts")
        if deadline and incident.get("state") in ("dispatched", "on_scene") and deadline < now:
            item.setForeground(4, QColor("#b2182b"))
            item.setFont(4, bold)
        ids = list(incident.get("alarms") or [])
        for alarm_id in ids[:MAX_CHILDREN]:
            alarm = self.alarms.get(alarm_id)
            if alarm is None:
                continue
            item.addChild(self._alarm_item(alarm))
        if len(ids) > MAX_CHILDREN:
            item.addChild(QTreeWidgetItem(["", "", "", self.tr("… and {count} more alarms").format(
                count=len(ids) - MAX_CHILDREN)]))
        return item

    def _alarm_item(self, alarm: dict) -> QTreeWidgetItem:
        prio, colour = priority_text(alarm.get("priority"))
        unack = alarm.get("state") in ("unack_active", "unack_rtn")
        if alarm.get("kind") and alarm.get("condition"):  # said in this console's language
            text = alarm_text(str(alarm.get("kind")), str(alarm.get("condition")), alarm.get("value"))
        else:
            text = alarm.get("text") or alarm_text(str(alarm.get("kind")), str(alarm.get("condition")),
                                                   alarm.get("value"))
        source = alarm.get("device_id") or alarm.get("event_source") or ""
        child = QTreeWidgetItem([prio, ("● " if unack else "") + alarm_state_label(alarm.get("state", "")),
                                 time.strftime("%H:%M:%S", time.localtime(alarm.get("raised_ts") or 0)),
                                 f"{text} — {source}", "", ""])
        child.setData(0, ROLE, ("alarm", str(alarm["id"])))
        child.setForeground(0, QColor(colour))
        return child

    def set_flood(self, text: str) -> None:
        self.flood_banner.setText(text)
        self.flood_banner.setVisible(bool(text))

    # -- selection ----------------------------------------------------------------------------------
    def selected_key(self) -> tuple[str, str] | None:
        """('incident', id) or ('alarm', id) of the selected row."""
        items = self.tree.selectedItems()
        return items[0].data(0, ROLE) if items else None

    def selected_incident(self) -> dict | None:
        """The selected incident, or the incident of the selected alarm."""
        key = self.selected_key()
        if key is None:
            return None
        if key[0] == "incident":
            return self.incident(key[1])
        alarm = self.alarms.get(key[1]) or {}
        return self.incident(str(alarm.get("incident")))

    def select_incident(self, incident_id: str) -> bool:
        """Select an incident's row (False when there is none); a redraw held back in a flood is done first."""
        if self._redraw_timer.isActive():
            self._redraw_timer.stop()
            self.redraw()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, ROLE) == ("incident", incident_id):
                self.tree.setCurrentItem(item)
                return True
        return False

    def select_alarm(self, alarm_id: str) -> bool:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            for c in range(item.childCount()):
                if item.child(c).data(0, ROLE) == ("alarm", alarm_id):
                    item.setExpanded(True)
                    self.tree.setCurrentItem(item.child(c))
                    return True
        return False

    def _selected(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        if key[0] == "incident" and self.incident(key[1]) is not None:
            self.incident_selected.emit(self.incident(key[1]))
        elif key[0] == "alarm" and key[1] in self.alarms:
            self.alarm_selected.emit(self.alarms[key[1]])

    # -- actions ------------------------------------------------------------------------------------
    def acknowledge_selected(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        if key[0] == "alarm":
            alarm = self.alarms.get(key[1]) or {}
            if alarm.get("state") in ("unack_active", "unack_rtn"):
                self.action_requested.emit("ack", {"alarm_ids": [key[1]]})
        elif key[1] in self.incidents:
            self.action_requested.emit("ack", {"incident_id": key[1]})

    def dispatch_selected(self) -> None:
        incident = self.selected_incident()
        if incident is not None and incident.get("state") != "closed":
            self.action_requested.emit("dispatch", {"incident_id": incident["id"]})

    def _comment(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        text, ok = QInputDialog.getText(self, self.tr("Comment"), self.tr("Comment for the incident log:"))
        if ok and text.strip():
            name = "incident_id" if key[0] == "incident" else "alarm_id"
            self.action_requested.emit("comment", {name: key[1], "text": text})

    def _shelve(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        reason, ok = QInputDialog.getText(self, self.tr("Shelve"), self.tr("Reason (required):"))
        if not ok:
            return
        minutes, ok = QInputDialog.getInt(self, self.tr("Shelve"), self.tr("For how many minutes (at most 480)?"), 30,
                                          1, 480)
        if ok:
            name = "incident_id" if key[0] == "incident" else "alarm_id"
            self.action_requested.emit("shelve", {name: key[1], "reason": reason, "minutes": minutes})

    def close_selected(self, result: str) -> None:
        """Close the selected incident with its result (what was found and done)."""
        incident = self.selected_incident()
        if incident is not None and incident.get("state") != "closed":
            self.action_requested.emit("close", {"incident_id": incident["id"], "result": result})

    def _close(self) -> None:
        incident = self.selected_incident()
        if incident is None:
            return
        result, ok = QInputDialog.getText(self, self.tr("Close incident"), self.tr("Result (what was found and done):"),
                                          text=str(incident.get("result") or ""))
        if ok:
            self.close_selected(result)

    def _override(self) -> None:
        """A supervisor overrides one of the incident's linked actions (the engine checks the role)."""
        incident = self.selected_incident()
        devices = sorted({str(c.get("device_id")) for c in (incident or {}).get("commands") or []})
        if not devices:
            return
        title = self.tr("Override a linked action")
        device, ok = QInputDialog.getItem(self, title, self.tr("Actuator:"), devices, 0, False)
        if not ok:
            return
        commands = {self.tr("off"): "off", self.tr("on"): "on", self.tr("recall"): "recall"}  # shown -> sent
        shown, ok = QInputDialog.getItem(self, title, self.tr("Command:"), list(commands), 0, False)
        if not ok:
            return
        action = commands.get(shown, shown)
        reason, ok = QInputDialog.getText(self, title, self.tr("Reason (required):"))
        if ok and reason.strip():
            self.action_requested.emit("override", {"device_id": device, "action": action, "reason": reason})

    def _report(self) -> None:
        incident = self.selected_incident()
        if incident is not None:
            self.report_requested.emit(str(incident["id"]))


class DispatchDock(QDockWidget):
    """Open orders with their countdown, overdue first; unit reports and closing."""

    action_requested = Signal(str, dict)
    COLUMNS = ("Due in", "Incident", "Units", "Party", "Status")  # the English headers

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dispatch-dock")
        self.clock: Callable[[], float] = time.time  # a replay sets its recording's clock
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.table = _table(self.COLUMNS, body)
        self.table.setColumnWidth(1, 360)
        self.table.setColumnWidth(2, 260)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.status_buttons: dict[str, QPushButton] = {}
        for status in ("en_route", "on_scene", "done"):
            button = QPushButton(body)
            button.clicked.connect(lambda _=False, s=status: self._report(s))
            buttons.addWidget(button)
            self.status_buttons[status] = button
        layout.addLayout(buttons)
        self.kpi_label = QLabel("")
        self.kpi_label.setWordWrap(True)
        layout.addWidget(self.kpi_label)
        self.setWidget(body)
        self.orders: dict[str, dict] = {}
        self.titles: dict[str, str] = {}  # incident id -> title (from the incident list)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.redraw)
        self._tick.start()
        self._kpis: dict | None = None
        self.retranslate()

    def retranslate(self) -> None:
        """Re-set the static texts in the language now installed."""
        self.setWindowTitle(self.tr("Dispatch"))
        self.table.setHorizontalHeaderLabels([self.tr("Due in"), self.tr("Incident"), self.tr("Units"),
                                              self.tr("Party"), self.tr("Status")])
        self.status_buttons["en_route"].setText(self.tr("En route"))
        self.status_buttons["on_scene"].setText(self.tr("On scene"))
        self.status_buttons["done"].setText(self.tr("Done…"))
        if self._kpis is not None:
            self.show_kpis(self._kpis)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        """A language switch at run time re-sets the static texts and redraws the rows."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.redraw()
        super().changeEvent(event)

    def update_orders(self, changes: list[tuple[str, dict | None]]) -> None:
        """Apply retained order updates (None removes) and redraw."""
        apply_retained(self.orders, changes)
        self.redraw()

    def open_orders(self) -> list[dict]:
        now = self.clock()
        live = [o for o in self.orders.values() if o.get("status") in OPEN_ORDERS]
        return sorted(live, key=lambda o: (o["status"] == "done", o["deadline_ts"] > now, o["deadline_ts"]))

    @staticmethod
    def countdown(order: dict, now: float) -> str:
        left = order["deadline_ts"] - now
        sign = "-" if left < 0 else ""
        left = abs(left)
        return f"{sign}{int(left // 60):02d}:{int(left % 60):02d}"

    def redraw(self) -> None:
        now = self.clock()
        rows = self.open_orders()
        selected = self.selected_order()
        self.table.setRowCount(len(rows))
        for r, order in enumerate(rows):
            try:
                overdue = order["deadline_ts"] < now and order["status"] != "done"
                due = _item((self.tr("⚠ OVERDUE ") if overdue else "") + self.countdown(order, now), bold=overdue,
                            colour="#b2182b" if overdue else None, data=order["id"])
                incident = str(order.get("incident_id") or order.get("alarm_id") or "")
                status = order_status_label(order["status"])
                if order.get("escalated_to"):
                    status += f" → {party_label(order['escalated_to'])}"
                cells = [due, _item(self.titles.get(incident, incident)), _item(unit_names(order.get("units")
                                                                                          or [order["unit"]])),
                         _item(party_label(order.get("party"))), _item(status, bold=order["status"] == "escalated")]
            except (TypeError, ValueError, KeyError, OverflowError):
                cells = [_item(f"? {str(order.get('id'))[:60]}", data=order.get("id"))]
            for c, cell in enumerate(cells):
                self.table.setItem(r, c, cell)
            if selected is not None and order["id"] == selected["id"]:
                self.table.selectRow(r)

    def selected_order(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return self.orders.get(item.data(ROLE)) if item is not None else None

    def select_order(self, order_id: str) -> bool:
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.data(ROLE) == order_id:
                self.table.selectRow(r)
                return True
        return False

    def report_selected(self, status: str, result: str | None = None) -> None:
        """Send the selected order's unit report (en_route, on_scene, done with its result)."""
        order = self.selected_order()
        if order is None:
            return
        body = {"order_id": order["id"], "status": status}
        if result is not None:
            body["result"] = result
        self.action_requested.emit("unit_status", body)

    def _report(self, status: str) -> None:
        result = None
        if status == "done":
            result, ok = QInputDialog.getText(self, self.tr("Unit result"), self.tr("What did the unit find and do?"))
            if not ok:
                return
        self.report_selected(status, result)

    def show_kpis(self, kpis: dict) -> None:
        """The KPI line under the orders (its terms as a command center names them)."""
        self._kpis = kpis

        def fmt(v: object) -> str:
            if not isinstance(v, (int, float)):
                return "—"
            return f"{int(v // 60)}:{int(v % 60):02d}"

        within = kpis.get("within_deadline")
        yardstick = (kpis.get("yardstick") or {}).get("mttc_s", 900)
        requests = kpis.get("requests_resolution_rate")
        self.kpi_label.setText(self.tr(
            "KPIs (incidents, last 7 days): {incidents} incidents/h · {alarms} alarms/h · time to acknowledge {mtta} · "
            "to dispatch {mttd} · to close {mttc} (yardstick {yardstick}) · closed within deadline {within} · "
            "residents' requests resolved {requests}").format(
            incidents=kpis.get("incidents_per_hour", 0), alarms=kpis.get("alarms_per_hour", 0),
            mtta=fmt(kpis.get("mtta_s")), mttd=fmt(kpis.get("mttd_s")), mttc=fmt(kpis.get("mttc_s")),
            yardstick=fmt(yardstick),
            within="—" if not isinstance(within, (int, float)) else f"{within * 100:.0f} %",
            requests="—" if not isinstance(requests, (int, float)) else f"{requests * 100:.0f} %"))


def value_text(device: dict) -> str:
    """'70.7 ppm (limit 50)' for a device of an incident's payload."""
    limit = device.get("alarm_high") if device.get("alarm_high") is not None else device.get("alarm_low")
    text = number(device.get("value"), str(device.get("unit") or ""))
    if limit is None:
        return text
    return text + QCoreApplication.translate("CommandPanel", " (limit {limit})").format(limit=number(limit))
