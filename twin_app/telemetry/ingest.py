"""From MQTT messages to batches for the state store.

`Ingest.handle` runs on the network thread: it only decodes, maps device ids to registry rows and queues.
The GUI (or the headless engine) drains the queue and applies everything at once. Malformed or unknown
input is counted per kind, logged once per kind with its topic, and dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from twin_app.core.devices import DeviceIndex
from twin_app.telemetry.payloads import (
    PayloadError,
    decode_batch,
    decode_event,
    decode_object,
    decode_point,
    decode_status,
)

DEFAULT_ROOT = "mumianling/v1"
log = logging.getLogger("twin_app.telemetry")


@dataclass
class Drained:
    """Everything received since the last drain."""

    rows: np.ndarray
    values: np.ndarray
    ts: np.ndarray
    received: np.ndarray  # monotonic receive time of each reading's message
    status: list[tuple[str, bool]] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    alarms: list[tuple[str, dict | None]] = field(default_factory=list)  # retained alarm/ (None: removed)
    orders: list[tuple[str, dict | None]] = field(default_factory=list)  # retained dispatch/
    actions: list[tuple[str, dict]] = field(default_factory=list)  # operator actions (verb, body)
    results: list[tuple[str, dict]] = field(default_factory=list)  # action results (console, body)
    kpis: dict | None = None  # the engine's latest KPI summary
    messages: int = 0


class Ingest:
    """Decodes messages under `root` and queues them for the state store.

    Parameters
    ----------
    index
        Device ids are mapped to registry rows through it.
    root
        Topic root (``mumianling/v1`` by default).
    notify
        Called (on the network thread) when the queue goes from empty to non-empty.
    """

    def __init__(self, index: DeviceIndex, root: str = DEFAULT_ROOT, notify: Callable[[], None] | None = None) -> None:
        self.index = index
        self.root = root.rstrip("/")
        self.notify = notify
        self._pending: deque = deque()
        self._lock = threading.Lock()
        self.errors: dict[str, int] = {}
        self._logged: set[str] = set()
        self.messages = 0
        self.dropped_readings = 0
        # a gateway sends the same id list every time: its rows are looked up once
        self._rows_cache: dict[str, tuple[list[str], np.ndarray]] = {}

    def count_error(self, kind: str, topic: str, message: str) -> None:
        """Count a dropped input by kind; the first of each kind is logged with its topic."""
        with self._lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            first = kind not in self._logged
            self._logged.add(kind)
        if first:
            log.warning("dropped input (%s) on %s: %s", kind, topic, message)

    def _queue(self, item: tuple) -> None:
        was_empty = not self._pending
        self._pending.append(item)
        if was_empty and self.notify is not None:
            self.notify()

    def handle(self, topic: str, payload: bytes, now: float | None = None) -> None:
        """Decode one message and queue what is good in it. Never raises."""
        now = time.time() if now is None else now
        received = time.monotonic()
        self.messages += 1
        try:
            if not topic.startswith(self.root + "/"):
                raise PayloadError("unknown_topic", "outside the topic root")
            parts = topic[len(self.root) + 1:].split("/")
            if len(parts) != 2 or not parts[1]:
                if parts[0] == "cmd":
                    return  # other components' topics
                raise PayloadError("unknown_topic", "expected {root}/{kind}/{name}")
            channel, name = parts
            if channel in ("alarm", "dispatch"):
                body = None  # an empty retained payload removes the alarm or order
                if payload:
                    body = decode_object(payload, what=f"{channel} payload")
                    if not isinstance(body.get("id"), str):
                        raise PayloadError("bad_shape", f"{channel} payload must be an object with an id")
                self._queue((channel, name, body))
                return
            if channel in ("kpi", "action_result"):
                self._queue((channel, name, decode_object(payload, what=f"{channel} payload")))
                return
            if channel == "action":
                body = decode_object(payload, "bad_action", "an action")
                if not isinstance(body.get("operator"), str) or not body["operator"].strip():
                    raise PayloadError("bad_action", "an action needs the operator's identity")
                self._queue(("action", name, body))
                return
            if channel == "telemetry":
                batch = decode_batch(payload, now)
                cached = self._rows_cache.get(name)
                if cached is not None and cached[0] == batch.ids:
                    rows = cached[1]
                else:
                    rows = self.index.rows_of_ids(batch.ids)
                    self._rows_cache[name] = (batch.ids, rows)
                good = (rows >= 0) & np.isfinite(batch.values)
                unknown = int((rows < 0).sum())
                bad_values = int((~np.isfinite(batch.values) & (rows >= 0)).sum())
                if unknown:
                    self.count_error("unknown_device", topic, f"{unknown} unknown device id(s), e.g. "
                                                         f"{batch.ids[int(np.flatnonzero(rows < 0)[0])][:60]!r}")
                if bad_values:
                    self.count_error("non_finite", topic, f"{bad_values} value(s) not finite")
                self.dropped_readings += unknown + bad_values
                if good.any():
                    kept = rows[good]
                    self._queue(("readings", kept, batch.values[good], np.full(len(kept), batch.ts), received))
            elif channel == "point":
                value, ts = decode_point(payload, now)
                row = int(self.index.rows_of_ids([name])[0])
                if row < 0:
                    raise PayloadError("unknown_device", f"unknown device id {name[:60]!r}")
                self._queue(("readings", np.array([row]), np.array([value]), np.array([ts]), received))
            elif channel == "status":
                self._queue(("status", name, decode_status(payload)))
            elif channel == "event":
                self._queue(("event", decode_event(payload, now)))
            elif channel == "cmd":
                return
            else:
                raise PayloadError("unknown_topic", f"unknown channel {channel!r}")
        except PayloadError as exc:
            self.count_error(exc.kind, topic, str(exc))
        except Exception as exc:  # never let a message stop ingest
            self.count_error("internal", topic, f"{type(exc).__name__}: {exc}")

    def drain(self) -> Drained:
        """Take everything queued so far (called from the consuming thread)."""
        rows, values, ts, received = [], [], [], []
        out = Drained(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0))
        while True:
            try:
                item = self._pending.popleft()
            except IndexError:
                break
            out.messages += 1
            if item[0] == "readings":
                rows.append(item[1])
                values.append(item[2])
                ts.append(item[3])
                received.append(np.full(len(item[1]), item[4]))
            elif item[0] == "status":
                out.status.append((item[1], item[2]))
            elif item[0] == "event":
                out.events.append(item[1])
            elif item[0] == "alarm":
                out.alarms.append((item[1], item[2]))
            elif item[0] == "dispatch":
                out.orders.append((item[1], item[2]))
            elif item[0] == "action_result":
                out.results.append((item[1], item[2]))
            elif item[0] == "kpi":
                out.kpis = item[2]
            else:
                out.actions.append((item[1], item[2]))
        if rows:
            out.rows = np.concatenate(rows).astype(np.int64)
            out.values = np.concatenate(values)
            out.ts = np.concatenate(ts)
            out.received = np.concatenate(received)
        return out

    def error_count(self) -> int:
        with self._lock:
            return sum(self.errors.values())
