"""Live state of every device, in numpy arrays indexed by registry row, and its roll-up to the model.

Everything on the hot path is vectorised: a batch of readings is one fancy-indexed write and one
vectorised threshold test; the roll-up is a segmented maximum over devices sorted by host.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd

from twin_app.core.devices import DeviceIndex
from twin_app.core.i18n import QT_TRANSLATE_NOOP

STALE_AFTER_PERIODS = 3.0  # a device is stale after missing this many report periods
MIN_STALE_S = 30.0  # ... and never sooner than this (gateways batch; networks jitter)


class DeviceState(IntEnum):
    """State classes, ordered by severity for the roll-up (worst wins)."""

    NO_DATA = 0
    NORMAL = 1
    STALE = 2
    OFFLINE = 3
    WARNING = 4
    ALARM = 5


# machine names (summaries, logs); the operator reads them through core.texts.device_state_label
STATE_LABELS = {
    DeviceState.NO_DATA: QT_TRANSLATE_NOOP("DeviceStates", "no data"),
    DeviceState.NORMAL: QT_TRANSLATE_NOOP("DeviceStates", "normal"),
    DeviceState.STALE: QT_TRANSLATE_NOOP("DeviceStates", "stale"),
    DeviceState.OFFLINE: QT_TRANSLATE_NOOP("DeviceStates", "offline"),
    DeviceState.WARNING: QT_TRANSLATE_NOOP("DeviceStates", "warning"),
    DeviceState.ALARM: QT_TRANSLATE_NOOP("DeviceStates", "alarm"),
}


def classify(values: np.ndarray, alarm_low: np.ndarray, warn_low: np.ndarray, warn_high: np.ndarray,
             alarm_high: np.ndarray) -> np.ndarray:
    """Value state of each reading against its limits (NaN limits never trip)."""
    with np.errstate(invalid="ignore"):
        alarm = (values >= alarm_high) | (values <= alarm_low)
        warning = (values >= warn_high) | (values <= warn_low)
    out = np.full(values.shape, DeviceState.NORMAL, dtype=np.uint8)
    out[warning] = DeviceState.WARNING
    out[alarm] = DeviceState.ALARM
    return out


class StateStore:
    """Last value, time, value state and gateway status of every device.

    Parameters
    ----------
    index
        The registry joined to the model; row ``i`` of every array is registry row ``i``.
    """

    def __init__(self, index: DeviceIndex) -> None:
        devices = index.devices
        n = len(devices)
        self.index = index
        self.value = np.full(n, np.nan)
        self.ts = np.zeros(n)  # 0: never reported
        self.value_state = np.zeros(n, dtype=np.uint8)
        self.limits = [devices[c].to_numpy(np.float64) for c in ("alarm_low", "warn_low", "warn_high", "alarm_high")]
        period = devices["period_s"].to_numpy(np.float64)
        # event-driven kinds (period 0) are never stale
        self.stale_after = np.where(np.isfinite(period) & (period > 0),
                                    np.maximum(period * STALE_AFTER_PERIODS, MIN_STALE_S), np.inf)
        codes, names = pd.factorize(devices["gateway"].astype(str))
        self.gateway_of = codes.astype(np.int32)
        self.gateway_names = list(names)
        self._gateway_code = {g: i for i, g in enumerate(self.gateway_names)}
        self.gateway_online = np.ones(len(self.gateway_names), dtype=bool)
        self.kind_codes, self.kind_names = pd.factorize(devices["kind"].astype(str))
        self.readings = 0
        self.last_ts = 0.0
        self._scratch = np.zeros(n, dtype=np.int64)
        self._history_rows = np.zeros(0, dtype=np.int64)
        self._history: list[tuple[float, np.ndarray]] = []
        self.history_length = 600

    @property
    def n_devices(self) -> int:
        return int(self.value.shape[0])

    def apply(self, rows: np.ndarray, values: np.ndarray, ts: np.ndarray | float) -> None:
        """Store a batch of readings (rows into the registry; unknown rows must be filtered out before)."""
        if len(rows) == 0:
            return
        ts_arr = np.broadcast_to(np.asarray(ts, dtype=np.float64), rows.shape)
        rows, values, ts_arr = self._newest_per_row(rows, values, ts_arr)
        # a late reading never overwrites a newer one
        newer = ts_arr >= self.ts[rows]
        if not newer.all():
            rows, values, ts_arr = rows[newer], values[newer], ts_arr[newer]
        self.value[rows] = values
        self.ts[rows] = ts_arr
        lo2, lo1, hi1, hi2 = (limit[rows] for limit in self.limits)
        self.value_state[rows] = classify(values, lo2, lo1, hi1, hi2)
        self.readings += len(rows)
        if len(ts_arr):
            self.last_ts = max(self.last_ts, float(ts_arr.max()))
        if len(self._history_rows):
            self._history.append((float(ts_arr.max()), self.value[self._history_rows].copy()))
            del self._history[:-self.history_length]

    def load(self, values: np.ndarray, ts: np.ndarray, online: np.ndarray | None = None) -> None:
        """Replace every device's value and time stamp (and the gateways' status): a replay's seek."""
        self.value[:] = values
        self.ts[:] = ts
        lo2, lo1, hi1, hi2 = self.limits
        self.value_state[:] = classify(self.value, lo2, lo1, hi1, hi2)
        reported = ts > 0
        self.value_state[~reported] = DeviceState.NO_DATA
        self.readings += int(reported.sum())
        self.last_ts = float(ts.max()) if len(ts) else 0.0
        if online is not None and len(online) == len(self.gateway_online):
            self.gateway_online[:] = online

    def _newest_per_row(self, rows: np.ndarray, values: np.ndarray,
                        ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Of several readings of one device in a batch, keep the newest by time stamp (arrival breaks ties).

        Linear when no device repeats (the usual batch): a scratch array marks each row's last position.
        """
        n = len(rows)
        position = np.arange(n)
        self._scratch[rows] = position
        if (self._scratch[rows] == position).all():
            return rows, values, ts
        order = np.lexsort((position, ts, rows))  # by row, then time stamp, then arrival
        ordered = rows[order]
        last = np.ones(n, dtype=bool)
        last[:-1] = ordered[:-1] != ordered[1:]
        keep = order[last]
        return rows[keep], values[keep], ts[keep]

    def gateway_code(self, gateway: str) -> int:
        """The gateway's index in `gateway_names` (-1 when no device of the registry uses it)."""
        return self._gateway_code.get(gateway, -1)

    def set_gateway(self, gateway: str, online: bool) -> bool:
        """Mark a gateway online or offline; False when the gateway is unknown."""
        code = self._gateway_code.get(gateway)
        if code is None:
            return False
        self.gateway_online[code] = online
        return True

    def states(self, now: float) -> np.ndarray:
        """Effective state of every device at time `now`: offline and stale override the value state."""
        state = self.value_state.copy()
        reported = self.ts > 0
        stale = reported & ((now - self.ts) > self.stale_after)
        state[stale] = DeviceState.STALE
        state[~self.gateway_online[self.gateway_of]] = DeviceState.OFFLINE
        return state

    def element_states(self, device_state: np.ndarray) -> np.ndarray:
        """Worst device state per element (its own devices), NO_DATA where it hosts none."""
        index = self.index
        n = index.model.n_elements
        out = np.zeros(n, dtype=np.uint8)
        order = index._order
        bounds = index._bounds
        sorted_state = device_state[order]
        counts = np.diff(bounds)
        hosts = np.flatnonzero(counts > 0)
        if len(hosts):
            out[hosts] = np.maximum.reduceat(sorted_state[bounds[0]:], bounds[hosts] - bounds[0])
        return out

    def rollup(self, element_state: np.ndarray) -> np.ndarray:
        """Push each element's state up to its storey and building (worst wins); returns a new array."""
        model = self.index.model
        out = element_state.copy()
        for column in (model.storey, model.building):
            has = (column >= 0) & (column != np.arange(model.n_elements))
            np.maximum.at(out, column[has], out[has])
        return out

    def watch(self, rows: np.ndarray) -> None:
        """Keep a history of these devices' values (for sparklines); replaces the previous watch."""
        self._history_rows = np.asarray(rows, dtype=np.int64)
        self._history = []

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, values[time, watched device]) since `watch` was called."""
        if not self._history:
            return np.zeros(0), np.zeros((0, len(self._history_rows)))
        times = np.array([t for t, _ in self._history])
        return times, np.stack([v for _, v in self._history])

    def counts(self, device_state: np.ndarray) -> dict[str, int]:
        """Number of devices in each state."""
        tally = np.bincount(device_state, minlength=len(DeviceState))
        return {STATE_LABELS[DeviceState(i)]: int(tally[i]) for i in range(len(DeviceState))}
