"""The telemetry engine without a window: MQTT in, state store and roll-up out.

`twin-app serve` runs it alone; the console runs it on the GUI thread's frame timer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from twin_app.core.devices import DeviceIndex
from twin_app.core.state import DeviceState, StateStore
from twin_app.telemetry.ingest import Ingest
from twin_app.telemetry.mqtt import BrokerUrl, TelemetryClient


@dataclass
class StepResult:
    """What one engine step applied and what the district looks like after it."""

    readings: int
    device_state: np.ndarray
    element_state: np.ndarray
    rolled_state: np.ndarray
    latency_ms: np.ndarray  # receive -> applied, per message batch
    events: list[dict] = field(default_factory=list)
    sent_ts: np.ndarray = field(default_factory=lambda: np.zeros(0))  # distinct time stamps applied
    alarms: list = field(default_factory=list)  # (alarm id, payload or None) from alarm/
    orders: list = field(default_factory=list)  # (order id, payload or None) from dispatch/
    actions: list = field(default_factory=list)  # (verb, body) from action/
    results: list = field(default_factory=list)  # (console, body) from action_result/
    kpis: dict | None = None  # from kpi/summary


class TelemetryEngine:
    """Ingest, state and roll-up for one model and registry.

    Parameters
    ----------
    index
        The registry joined to the model.
    url
        The broker; None for an engine fed by `Ingest.handle` directly (tests, replay).
    """

    def __init__(self, index: DeviceIndex, url: BrokerUrl | None, notify=None, channels: tuple[str, ...] = ()) -> None:
        self.index = index
        self.store = StateStore(index)
        root = url.root if url is not None else "mumianling/v1"
        self.ingest = Ingest(index, root=root, notify=notify)
        self.client = TelemetryClient(url, self.ingest, channels=channels) if url is not None else None
        self.started = time.monotonic()
        self._window: list[tuple[float, int]] = []

    @property
    def url_display(self) -> str:
        return self.client.url.display if self.client is not None else "(no broker)"

    def start(self) -> None:
        if self.client is not None:
            self.client.start()

    def stop(self) -> None:
        if self.client is not None:
            self.client.stop()

    def step(self, now: float | None = None) -> StepResult:
        """Apply everything received since the last step and recompute the states."""
        now = time.time() if now is None else now
        drained = self.ingest.drain()
        for gateway, online in drained.status:
            self.store.set_gateway(gateway, online)
        self.store.apply(drained.rows, drained.values, drained.ts)
        applied = time.monotonic()
        latency = (applied - np.unique(drained.received)) * 1000.0 if len(drained.received) else np.zeros(0)
        device_state = self.store.states(now)
        element_state = self.store.element_states(device_state)
        rolled = self.store.rollup(element_state)
        self._window.append((applied, len(drained.rows)))
        self._window = [(t, n) for t, n in self._window if applied - t <= 5.0]
        return StepResult(len(drained.rows), device_state, element_state, rolled, latency, drained.events,
                          np.unique(drained.ts), drained.alarms, drained.orders, drained.actions,
                          drained.results, drained.kpis)

    def readings_per_s(self) -> float:
        """Readings applied per second over the last 5 s."""
        if len(self._window) < 2:
            return 0.0
        span = self._window[-1][0] - self._window[0][0]
        return sum(n for _, n in self._window[1:]) / span if span > 0 else 0.0

    def data_age_s(self, now: float | None = None) -> float | None:
        """Seconds since the newest reading's time stamp, None before any reading."""
        if self.store.last_ts <= 0:
            return None
        return max(0.0, (time.time() if now is None else now) - self.store.last_ts)

    def summary(self, result: StepResult) -> dict:
        """Counts for status lines and logs."""
        counts = self.store.counts(result.device_state)
        buildings = self.index.model.of_class("IfcBuilding")
        worst = {str(self.index.model.name[b]): DeviceState(int(result.rolled_state[b])).name.lower()
                 for b in buildings}
        return {"devices": counts, "buildings": worst, "readings_per_s": round(self.readings_per_s(), 1),
                "errors": dict(self.ingest.errors)}
