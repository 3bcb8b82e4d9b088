"""The figures the video wall shows at a glance, and when each one is abnormal.

Pure data: the console gathers incidents, orders, KPIs and device states as the engine publishes them, and
`wall_figures` reduces them to a dozen numbers; `tile_levels` says which of them an operator must look at
(ISA-101: colour only for the abnormal). The UI formats and draws them (``twin_app.ui.kpi_overlay``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin_app.core.dispatch import OPEN_ORDER
from twin_app.core.incidents import COMMON_DEADLINE_S
from twin_app.core.state import DeviceState

PRIORITIES = ("critical", "high", "medium", "low")
NOT_ONLINE = (DeviceState.NO_DATA, DeviceState.STALE, DeviceState.OFFLINE)  # states of devices we cannot see
DATA_AGE_WARNING_S = 10.0  # the newest reading is older than this: the picture may be out of date (amber)
DATA_AGE_ALARM_S = 60.0  # ... older than this: the wall shows the past (red)
ONLINE_WARNING = 0.95  # less than this share of the devices reports: amber
ONLINE_ALARM = 0.80  # ... less than this: red
WITHIN_DEADLINE_WARNING = 0.90  # less than this share of incidents closed within their deadline: amber
HANDLING_WARNING_S = COMMON_DEADLINE_S  # mean time to close over the yardstick (15 minutes): amber

TILES = ("critical", "high", "medium", "low", "open_orders", "overdue_orders", "mean_handling",
         "within_deadline", "devices_online", "data_age")
LEVELS = ("normal", "low", "medium", "high", "critical", "warning", "alarm")


@dataclass(frozen=True)
class WallFigures:
    """What the wall shows.

    Attributes
    ----------
    critical, high, medium, low
        Standing (not closed) incidents of each priority.
    open_orders, overdue_orders
        Orders a unit still works on (or that escalated); those of them past their deadline.
    mean_handling_s
        Mean time from first alarm to closure (the engine's ``mttc_s``), None before any closure.
    within_deadline
        Share (0..1) of closed incidents closed within their deadline, None before any.
    devices_online
        Share (0..1) of devices that report (not offline, stale or without data), None without devices.
    devices_total
        Number of devices in the registry.
    data_age_s
        Seconds since the newest reading, None before any reading.
    unacknowledged
        Standing incidents no operator has acknowledged yet.
    """

    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    open_orders: int = 0
    overdue_orders: int = 0
    mean_handling_s: float | None = None
    within_deadline: float | None = None
    devices_online: float | None = None
    devices_total: int = 0
    data_age_s: float | None = None
    unacknowledged: int = 0

    @property
    def incidents(self) -> int:
        """All standing incidents."""
        return self.critical + self.high + self.medium + self.low


def _number(value: object) -> float | None:
    """A finite float, or None for anything else (missing keys, None, NaN, text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def wall_figures(incidents: list[dict], orders: list[dict], kpis: dict | None, device_states: np.ndarray,
                 data_age_s: float | None, now: float) -> WallFigures:
    """Reduce the console's retained state to the wall's figures.

    Parameters
    ----------
    incidents
        Incident payloads as published on ``incident/{id}`` (``priority`` a name, ``state``); closed ones are
        skipped, so the console may pass open and recently closed ones alike.
    orders
        Order payloads as published on ``dispatch/{id}`` (``status``, ``deadline_ts``).
    kpis
        The engine's KPIs (``Engine.kpis`` / ``StepResult.kpis``), or None before the first.
    device_states
        Effective state of every device (`DeviceState` codes, ``StepResult.device_state``).
    data_age_s
        Seconds since the newest reading (``Engine.data_age_s``), None before any.
    now
        Unix time, for overdue orders.

    Returns
    -------
    WallFigures
        Malformed entries (not a dict, unknown priority, no deadline) are skipped, never raised.
    """
    counts = dict.fromkeys(PRIORITIES, 0)
    unacknowledged = 0
    for incident in incidents:
        if not isinstance(incident, dict) or incident.get("state") == "closed" or incident.get("open") is False:
            continue
        priority = incident.get("priority")
        if priority in counts:
            counts[priority] += 1
            unacknowledged += bool(incident.get("unacknowledged"))
    open_orders = overdue = 0
    for order in orders:
        if not isinstance(order, dict) or order.get("status") not in OPEN_ORDER:
            continue
        open_orders += 1
        deadline = _number(order.get("deadline_ts"))
        if deadline is not None and now > deadline:
            overdue += 1
    kpis = kpis if isinstance(kpis, dict) else {}
    within = _number(kpis.get("within_deadline"))
    states = np.asarray(device_states)
    total = int(states.size)
    online = None
    if total:
        tally = np.bincount(states.astype(np.intp, copy=False), minlength=max(int(s) for s in NOT_ONLINE) + 1)
        online = float(total - sum(int(tally[int(s)]) for s in NOT_ONLINE)) / total
    age = _number(data_age_s)
    return WallFigures(
        **counts, open_orders=open_orders, overdue_orders=overdue, mean_handling_s=_number(kpis.get("mttc_s")),
        within_deadline=None if within is None else min(max(within, 0.0), 1.0), devices_online=online,
        devices_total=total, data_age_s=None if age is None else max(age, 0.0), unacknowledged=unacknowledged)


def tile_levels(figures: WallFigures) -> dict[str, str]:
    """How abnormal each tile is: one of `LEVELS` for each name of `TILES`.

    Incident tiles take their priority's level when any incident of it stands; the others are ``normal``,
    ``warning`` (amber) or ``alarm`` (red) against the thresholds of this module. A figure not known yet is
    normal, except the data age: no reading at all while devices exist is an alarm.
    """
    levels = {p: (p if getattr(figures, p) > 0 else "normal") for p in PRIORITIES}
    levels["open_orders"] = "normal"
    levels["overdue_orders"] = "alarm" if figures.overdue_orders > 0 else "normal"
    handling = figures.mean_handling_s
    levels["mean_handling"] = "warning" if handling is not None and handling > HANDLING_WARNING_S else "normal"
    within = figures.within_deadline
    levels["within_deadline"] = "warning" if within is not None and within < WITHIN_DEADLINE_WARNING else "normal"
    online = figures.devices_online
    levels["devices_online"] = ("normal" if online is None or online >= ONLINE_WARNING
                                else "warning" if online >= ONLINE_ALARM else "alarm")
    age = figures.data_age_s
    if age is None:
        levels["data_age"] = "alarm" if figures.devices_total else "normal"
    else:
        levels["data_age"] = "alarm" if age > DATA_AGE_ALARM_S else "warning" if age > DATA_AGE_WARNING_S \
            else "normal"
    return levels
