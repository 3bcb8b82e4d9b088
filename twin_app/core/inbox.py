"""The one thread boundary: sources (MQTT, a recording) put typed messages in an `Inbox`; the engine drains it.

A source's thread only decodes and puts; the consuming thread (the console's GUI timer or the headless loop)
drains everything at once on its own schedule. The lock makes the empty -> non-empty wake-up exact: a put that
finds the inbox empty always notifies, and one drain takes everything put before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Readings:
    """Readings of registry rows, each with its own time stamp; `received` is the monotonic receive time."""

    rows: np.ndarray
    values: np.ndarray
    ts: np.ndarray
    received: float


@dataclass(frozen=True)
class GatewayStatus:
    gateway: str
    online: bool
    token: object = None


@dataclass(frozen=True)
class Event:
    """An event from a camera, a resident or grid staff (checked by the decoder); settled once durable."""

    body: dict
    token: object = None


@dataclass(frozen=True)
class Action:
    """An operator action; `token` lets the source confirm it to the broker once the engine made it durable."""

    verb: str
    body: dict
    token: object = None
    user: str | None = None  # the account the broker authenticated (the topic's last level, tied to it by the ACL)


@dataclass(frozen=True)
class Retained:
    """A retained publication read back: ``alarm``, ``dispatch`` (None body: removed), ``kpi``, ``action_result``."""

    channel: str
    name: str
    body: dict | None


@dataclass
class Drained:
    """Everything put since the last drain, grouped for the engine."""

    rows: np.ndarray
    values: np.ndarray
    ts: np.ndarray
    received: np.ndarray  # monotonic receive time of each reading's message
    status: list[tuple[str, bool]] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    alarms: list[tuple[str, dict | None]] = field(default_factory=list)  # retained alarm/ (None: removed)
    orders: list[tuple[str, dict | None]] = field(default_factory=list)  # retained dispatch/
    incidents: list[tuple[str, dict | None]] = field(default_factory=list)  # retained incident/
    actions: list[Action] = field(default_factory=list)
    results: list[tuple[str, dict]] = field(default_factory=list)  # action results (console, body)
    kpis: dict | None = None  # the engine's latest KPI summary
    tokens: list = field(default_factory=list)  # of events and status: settled once the step is durable
    messages: int = 0

    @classmethod
    def empty(cls) -> Drained:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0))


Message = Readings | GatewayStatus | Event | Action | Retained


class Inbox:
    """A queue of typed messages behind a lock.

    Parameters
    ----------
    notify
        Called (on the putting thread, outside the lock) when the inbox goes from empty to non-empty.
    """

    def __init__(self, notify: Callable[[], None] | None = None) -> None:
        self.notify = notify
        self._items: list[Message] = []
        self._lock = threading.Lock()

    def put(self, message: Message) -> None:
        with self._lock:
            was_empty = not self._items
            self._items.append(message)
        if was_empty and self.notify is not None:
            self.notify()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def drain(self) -> Drained:
        """Take everything put so far, grouped by kind, readings concatenated in arrival order."""
        with self._lock:
            items, self._items = self._items, []
        out = Drained.empty()
        out.messages = len(items)
        rows, values, ts, received = [], [], [], []
        for item in items:
            if isinstance(item, Readings):
                rows.append(item.rows)
                values.append(item.values)
                ts.append(item.ts)
                received.append(np.full(len(item.rows), item.received))
            elif isinstance(item, GatewayStatus):
                out.status.append((item.gateway, item.online))
                if item.token is not None:
                    out.tokens.append(item.token)
            elif isinstance(item, Event):
                out.events.append(item.body)
                if item.token is not None:
                    out.tokens.append(item.token)
            elif isinstance(item, Action):
                out.actions.append(item)
            elif item.channel == "alarm":
                out.alarms.append((item.name, item.body))
            elif item.channel == "dispatch":
                out.orders.append((item.name, item.body))
            elif item.channel == "incident":
                out.incidents.append((item.name, item.body))
            elif item.channel == "action_result" and item.body is not None:
                out.results.append((item.name, item.body))
            elif item.channel == "kpi":
                out.kpis = item.body
        if rows:
            out.rows = np.concatenate(rows).astype(np.int64)
            out.values = np.concatenate(values)
            out.ts = np.concatenate(ts)
            out.received = np.concatenate(received)
        return out
