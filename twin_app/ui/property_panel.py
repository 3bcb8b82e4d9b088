"""The property dock: what an engineer needs to know about the selected element."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

from twin_app.bim.properties import PropertyReader
from twin_app.core.devices import DeviceIndex
from twin_app.core.model import DistrictModel
from twin_app.core.state import STATE_LABELS, DeviceState, StateStore

MAX_DEVICE_ROWS = 500


def _live_text(value: float, unit: str, state: int, age_s: float | None) -> str:
    if not np.isfinite(value):
        return f"no reading yet · {STATE_LABELS[DeviceState(state)]}"
    age = "" if age_s is None else f" · {age_s:.0f} s ago"
    return f"{value:.4g} {unit} · {STATE_LABELS[DeviceState(state)]}{age}"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return "—" if value is None else str(value)


class PropertyPanel(QDockWidget):
    """Identity, attributes, property sets, quantities and devices of the selected element."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Properties", parent)
        self.setObjectName("property-dock")
        self.clock: Callable[[], float] = time.time  # a replay sets its recording's clock
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Property", "Value"])
        self.tree.setColumnWidth(0, 220)
        self.tree.setAlternatingRowColors(True)
        self.setWidget(self.tree)
        self.setMinimumWidth(380)
        self.sections: dict[str, QTreeWidgetItem] = {}
        self.watched_rows = np.zeros(0, dtype=np.int64)
        self._device_items: dict[int, tuple[QTreeWidgetItem, str]] = {}

    def _section(self, title: str, rows: dict[str, object], expanded: bool = True) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title, ""])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        for key, value in rows.items():
            child = QTreeWidgetItem(item, [str(key), _fmt(value)])
            child.setToolTip(1, _fmt(value))
        item.setExpanded(expanded)
        self.sections[title] = item
        return item

    def value(self, section: str, key: str) -> str | None:
        """The text shown for `key` under `section` (for tests and copy-paste), None when absent."""
        item = self.sections.get(section)
        if item is None:
            return None
        for i in range(item.childCount()):
            if item.child(i).text(0) == key:
                return item.child(i).text(1)
        return None

    def show_element(self, model: DistrictModel, index: int, properties: PropertyReader | None,
                     devices: DeviceIndex | None) -> None:
        """Fill the panel for element `index` (-1 clears it)."""
        self.tree.clear()
        self.sections = {}
        self._device_items = {}
        if index < 0:
            return
        building, storey = int(model.building[index]), int(model.storey[index])
        self._section("Element", {
            "IFC class": model.ifc_class[index],
            "Name": model.name[index],
            "Long name": model.long_name[index],
            "GlobalId": model.global_id[index],
            "Building": model.label(building) if building >= 0 else None,
            "Storey": model.label(storey) if storey >= 0 else None,
        })
        if properties is not None:
            try:
                info = properties.properties(str(model.global_id[index]))
            except Exception as exc:  # a broken property never takes the panel down
                self._section("Properties unavailable", {"reason": f"{type(exc).__name__}: {exc}"})
                info = {"attributes": {}, "psets": {}, "qtos": {}}
            if info["attributes"]:
                self._section("Attributes", info["attributes"])
            for name, props in info["psets"].items():
                self._section(name, props)
            for name, quantities in info["qtos"].items():
                self._section(f"{name} (quantities)", quantities)
        if devices is not None:
            rows = devices.devices_of(index)
            title = f"Devices ({len(rows)})"
            section = self._section(title, {}, expanded=len(rows) <= 40)
            registry_rows = devices.rows_of(index)[:MAX_DEVICE_ROWS]
            for registry_row, row in zip(registry_rows, rows.head(MAX_DEVICE_ROWS).itertuples(index=False),
                                         strict=True):
                limits = [f"{label} {_fmt(v)}" for label, v in (("≤", row.alarm_low), ("<", row.warn_low),
                                                                 (">", row.warn_high), ("≥", row.alarm_high))
                          if not (isinstance(v, float) and math.isnan(v))]
                text = f"{row.kind} [{row.unit or '-'}]" + (f"  alarm/warn {' '.join(limits)}" if limits else "")
                child = QTreeWidgetItem(section, [str(row.device_id), text])
                child.setData(0, Qt.ItemDataRole.UserRole, str(row.device_id))
                self._device_items[int(registry_row)] = (child, text)
            if len(rows) > MAX_DEVICE_ROWS:
                QTreeWidgetItem(section, [f"… {len(rows) - MAX_DEVICE_ROWS} more", ""])

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
