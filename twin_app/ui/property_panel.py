"""The property dock: what an engineer needs to know about the selected element.

The IFC file is opened and read on the panel's own worker thread, never on the GUI thread: the panel shows the
element's identity and devices at once, "Loading properties…" in place of its property sets, and the sets when
the worker has read them (a later selection wins over an earlier one still being read). The worker touches no Qt
object: the panel polls for its answer, so a window closed while a file is being read is never called back.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

from twin_app.bim.properties import PropertyReader
from twin_app.core.devices import DeviceIndex
from twin_app.core.model import DistrictModel
from twin_app.core.state import StateStore
from twin_app.core.texts import device_state_label

MAX_DEVICE_ROWS = 500
POLL_MS = 15  # how often the panel looks for the worker's answer while one is pending
WAIT_FOR_PROPERTIES_S = 30.0  # `value` and `sections` wait this long at most for properties still being read
EMPTY: dict = {"attributes": {}, "psets": {}, "qtos": {}}
IDLE_EXIT_S = 30.0  # the worker thread ends after this long without a request (the next one starts it again)


class PropertyWorker:
    """One thread reading properties off the GUI thread; it touches no Qt object (the panel polls `done`).

    Only one thread ever touches a `PropertyReader`'s IFC file here; a request superseded before it is read is
    skipped. The thread starts with the first request and ends when idle (`IDLE_EXIT_S`).
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[int, PropertyReader | None, str]] = queue.Queue()
        self._latest = 0
        self._latest_query = 0  # the newest request for an element's properties
        self._lock = threading.Lock()
        self.answers: dict[int, tuple[dict, str | None]] = {}  # request -> (properties, problem or None)
        self.done: dict[int, threading.Event] = {}
        self._thread: threading.Thread | None = None

    def request(self, reader: PropertyReader | None, global_id: str) -> int:
        """Queue a request (a reader and no GlobalId opens the file ahead); returns its number."""
        with self._lock:
            self._latest += 1
            number = self._latest
            if global_id:
                self._latest_query = number
            self.done = {n: e for n, e in self.done.items() if n >= number - 4}
            self.answers = {n: a for n, a in self.answers.items() if n >= number - 4}
            self.done[number] = threading.Event()
            self._jobs.put((number, reader, global_id))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="property-reader", daemon=True)
                self._thread.start()
        return number

    @property
    def alive(self) -> bool:
        """True while the worker thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def stop(self) -> None:
        """End the thread (after the request it is reading)."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._jobs.put((-1, None, ""))
        thread.join(timeout=10.0)

    def _run(self) -> None:
        while True:
            try:
                number, reader, global_id = self._jobs.get(timeout=IDLE_EXIT_S)
            except queue.Empty:
                with self._lock:  # a request puts its job under this lock: none is lost between here and the end
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            if number < 0:
                with self._lock:
                    self._thread = None
                return
            with self._lock:
                superseded = global_id != "" and number < self._latest_query
            answer: tuple[dict, str | None] = (EMPTY, "superseded")
            if reader is not None and not superseded:
                try:
                    if global_id:
                        answer = (reader.properties(global_id), None)
                    else:
                        reader.file  # noqa: B018 (opening the file ahead of the first question)
                        answer = (EMPTY, None)
                except Exception as exc:  # a broken file or property never takes the panel down
                    answer = (EMPTY, f"{type(exc).__name__}: {exc}")
            with self._lock:
                self.answers[number] = answer
                event = self.done.get(number)
            if event is not None:
                event.set()


def _live_text(value: float, unit: str, state: int, age_s: float | None) -> str:
    label = device_state_label(state)
    if not np.isfinite(value):
        return QCoreApplication.translate("PropertyPanel", "no reading yet · {state}").format(state=label)
    age = "" if age_s is None else " · " + QCoreApplication.translate("PropertyPanel", "{seconds} s ago").format(
        seconds=f"{age_s:.0f}")
    return f"{value:.4g} {unit} · {label}{age}"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return "—" if value is None else str(value)


class PropertyPanel(QDockWidget):
    """Identity, attributes, property sets, quantities and devices of the selected element.

    The property sets are read off the GUI thread (see the module's docstring); `loading` is True meanwhile and
    `properties_shown` is emitted when they are in the panel.
    """

    properties_shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QCoreApplication.translate("PropertyPanel", "Properties"), parent)
        self.setObjectName("property-dock")
        self.clock: Callable[[], float] = time.time  # a replay sets its recording's clock
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("Property"), self.tr("Value")])
        self.tree.setColumnWidth(0, 220)
        self.tree.setAlternatingRowColors(True)
        self.setWidget(self.tree)
        self.setMinimumWidth(380)
        self._sections: dict[str, QTreeWidgetItem] = {}
        self.watched_rows = np.zeros(0, dtype=np.int64)
        self._device_items: dict[int, tuple[QTreeWidgetItem, str]] = {}
        self.worker = PropertyWorker()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_answer)
        self._pending: tuple[int, QTreeWidgetItem] | None = None  # (request, the "Loading properties…" row)
        self._prefetched: PropertyReader | None = None

    @property
    def loading(self) -> bool:
        """True while the selected element's properties are being read."""
        return self._pending is not None

    @property
    def sections(self) -> dict[str, QTreeWidgetItem]:
        """Top-level rows by title, once the properties still being read are in (waits for them)."""
        self.wait_loaded()
        return self._sections

    def wait_loaded(self, timeout_s: float = WAIT_FOR_PROPERTIES_S) -> bool:
        """Put the properties still being read into the panel as soon as they are read; False on timeout."""
        if self._pending is None:
            return True
        number = self._pending[0]
        event = self.worker.done.get(number)
        if event is None or not event.wait(timeout_s):
            return False
        self._fill(number)
        return True

    def prefetch(self, properties: PropertyReader | None) -> None:
        """Open the model's IFC file on the worker ahead of the first selection (once per reader)."""
        if properties is not None and properties is not self._prefetched:
            self._prefetched = properties
            self.worker.request(properties, "")

    def shutdown(self) -> None:
        """End the worker thread (the window is closing)."""
        self._pending = None
        self._poll.stop()
        self.worker.stop()

    def retranslate(self) -> None:
        """The dock's title and headers in the language now installed (the rows follow the next selection)."""
        self.setWindowTitle(self.tr("Properties"))
        self.tree.setHeaderLabels([self.tr("Property"), self.tr("Value")])

    def _section(self, title: str, rows: dict[str, object], expanded: bool = True,
                 position: int | None = None) -> QTreeWidgetItem:
        if position is None:
            item = QTreeWidgetItem(self.tree, [title, ""])
        else:
            item = QTreeWidgetItem([title, ""])
            self.tree.insertTopLevelItem(position, item)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        for key, value in rows.items():
            child = QTreeWidgetItem(item, [str(key), _fmt(value)])
            child.setToolTip(1, _fmt(value))
        item.setExpanded(expanded)
        self._sections[title] = item
        return item

    def value(self, section: str, key: str) -> str | None:
        """The text shown for `key` under `section` (for tests and copy-paste), None when absent.

        Waits for the properties still being read.
        """
        item = self.sections.get(section)
        if item is None:
            return None
        for i in range(item.childCount()):
            if item.child(i).text(0) == key:
                return item.child(i).text(1)
        return None

    def show_element(self, model: DistrictModel, index: int, properties: PropertyReader | None,
                     devices: DeviceIndex | None) -> None:
        """Fill the panel for element `index` (-1 clears it); its property sets follow from the worker."""
        self.tree.clear()
        self._sections = {}
        self._device_items = {}
        self._pending = None
        if index < 0:
            return
        building, storey = int(model.building[index]), int(model.storey[index])
        self._section(self.tr("Element"), {
            self.tr("IFC class"): model.ifc_class[index],
            self.tr("Name"): model.name[index],
            self.tr("Long name"): model.long_name[index],
            "GlobalId": model.global_id[index],
            self.tr("Building"): model.label(building) if building >= 0 else None,
            self.tr("Storey"): model.label(storey) if storey >= 0 else None,
        })
        if properties is not None:
            self._prefetched = properties
            number = self.worker.request(properties, str(model.global_id[index]))
            placeholder = QTreeWidgetItem(self.tree, [self.tr("Loading properties…"), ""])
            self._pending = (number, placeholder)
            self._poll.start()
        if devices is not None:
            rows = devices.devices_of(index)
            title = self.tr("Devices ({count})").format(count=len(rows))
            section = self._section(title, {}, expanded=len(rows) <= 40)
            registry_rows = devices.rows_of(index)[:MAX_DEVICE_ROWS]
            for registry_row, row in zip(registry_rows, rows.head(MAX_DEVICE_ROWS).itertuples(index=False),
                                         strict=True):
                limits = [f"{label} {_fmt(v)}" for label, v in (("≤", row.alarm_low), ("<", row.warn_low),
                                                                 (">", row.warn_high), ("≥", row.alarm_high))
                          if not (isinstance(v, float) and math.isnan(v))]
                text = f"{row.kind} [{row.unit or '-'}]" + ("  " + self.tr("alarm/warn {limits}").format(
                    limits=" ".join(limits)) if limits else "")
                child = QTreeWidgetItem(section, [str(row.device_id), text])
                child.setData(0, Qt.ItemDataRole.UserRole, str(row.device_id))
                self._device_items[int(registry_row)] = (child, text)
            if len(rows) > MAX_DEVICE_ROWS:
                QTreeWidgetItem(section, [self.tr("… {count} more").format(count=len(rows) - MAX_DEVICE_ROWS), ""])

    def _check_answer(self) -> None:
        """The poll timer: put the answer in once the worker has it."""
        if self._pending is None:
            self._poll.stop()
            return
        event = self.worker.done.get(self._pending[0])
        if event is None or event.is_set():
            self._fill(self._pending[0])

    def _fill(self, number: int) -> None:
        """Put the worker's answer to request `number` where "Loading properties…" stands (GUI thread)."""
        if self._pending is None or self._pending[0] != number:
            return
        _, placeholder = self._pending
        self._pending = None
        self._poll.stop()
        info, problem = self.worker.answers.get(number, (EMPTY, self.tr("no answer")))
        position = self.tree.indexOfTopLevelItem(placeholder)
        if position >= 0:
            self.tree.takeTopLevelItem(position)
        else:
            position = self.tree.topLevelItemCount()
        if problem is not None:
            self._section(self.tr("Properties unavailable"), {self.tr("reason"): problem}, position=position)
            position += 1
        if info["attributes"]:
            self._section(self.tr("Attributes"), info["attributes"], position=position)
            position += 1
        for name, props in info["psets"].items():
            self._section(name, props, position=position)
            position += 1
        for name, quantities in info["qtos"].items():
            self._section(f"{name} (quantities)", quantities, position=position)
            position += 1
        self.properties_shown.emit()

    def show_live(self, store: StateStore, device_state: np.ndarray) -> None:
        """Put each listed device's live value and state beside it."""
        now = self.clock()
        units = store.index.devices["unit"]
        for row, (item, limits_text) in self._device_items.items():
            ts = store.ts[row]
            live = _live_text(store.value[row], str(units.iat[row]), int(device_state[row]),
                              now - ts if ts > 0 else None)
            item.setText(1, live)
            item.setToolTip(1, f"{live}\n{limits_text}")

    def live_text(self, device_id: str) -> str | None:
        """The value column shown for a device (for tests)."""
        for item, _ in self._device_items.values():
            if item.text(0) == device_id:
                return item.text(1)
        return None
