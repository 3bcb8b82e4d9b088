"""From MQTT messages to typed messages in the engine's inbox.

`Ingest.handle` runs on the network thread: it only decodes, maps device ids to registry rows and puts typed
messages (`twin_app.core.inbox`) in the inbox. The GUI (or the headless loop) drains the inbox and the engine
applies everything at once. Malformed or unknown input is counted per kind, logged once per kind with its topic,
and dropped; `handle` never raises.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pandas as pd

from twin_app.core.devices import DeviceIndex
from twin_app.core.inbox import Action, Event, GatewayStatus, Inbox, Readings, Retained
from twin_app.core.names import is_safe_name
from twin_app.telemetry.payloads import (
    PayloadError,
    decode_alarm,
    decode_batch,
    decode_event,
    decode_incident,
    decode_kpis,
    decode_object,
    decode_order,
    decode_point,
    decode_result,
    decode_status,
)

DEFAULT_ROOT = "mumianling/v1"
MAX_CACHED_GATEWAYS = 10_000
RETAINED_DECODERS = {"alarm": decode_alarm, "dispatch": decode_order, "incident": decode_incident}
log = logging.getLogger("twin_app.telemetry")


class Ingest:
    """Decodes messages under `root` and puts them in the inbox.

    Parameters
    ----------
    index
        Device ids are mapped to registry rows through it.
    inbox
        Where decoded messages go.
    root
        Topic root (``mumianling/v1`` by default).
    """

    def __init__(self, index: DeviceIndex, inbox: Inbox, root: str = DEFAULT_ROOT) -> None:
        self.index = index
        self.inbox = inbox
        self.root = root.rstrip("/")
        self._lock = threading.Lock()
        self.errors: dict[str, int] = {}
        self._logged: set[str] = set()
        self.messages = 0
        self.dropped_readings = 0
        # a gateway sends the same id list every time: its rows are looked up once
        self._rows_cache: dict[str, tuple[list[str], np.ndarray]] = {}
        gateways = index.devices["gateway"] if "gateway" in index.devices.columns else []
        self._gateways = set(map(str, gateways))
        codes, names = pd.factorize(pd.Series(gateways, dtype=str)) if len(gateways) else (np.zeros(0, int), [])
        self._gateway_of_row = np.asarray(codes)
        self._gateway_code = {str(g): i for i, g in enumerate(names)}
        # with logins, a gateway's batch may only hold its own devices (the ACL ties telemetry/{name} to its account)
        self.strict = False
        self.settle = None  # the source's confirmation of a message it need not keep (set by the source)

    def count_error(self, kind: str, topic: str, message: str) -> None:
        """Count a dropped input by kind; the first of each kind is logged with its topic."""
        with self._lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            first = kind not in self._logged
            self._logged.add(kind)
        if first:
            log.warning("dropped input (%s) on %s: %s", kind, topic, message)

    def handle(self, topic: str, payload: bytes, now: float | None = None, token: object = None,
               retained: bool = False) -> None:
        """Decode one message and put what is good in it in the inbox. Never raises.

        `token` identifies the message to its source (an action is confirmed to the broker once it is durable).
        A retained action is refused: it would be applied again at every reconnect.
        """
        now = time.time() if now is None else now
        received = time.monotonic()
        self.messages += 1
        put = self.inbox.put
        try:
            if not topic.startswith(self.root + "/"):
                raise PayloadError("unknown_topic", "outside the topic root")
            parts = topic[len(self.root) + 1:].split("/")
            if parts[0] == "action" and retained:
                raise PayloadError("retained_action", "an action published retained (it would be applied again at "
                                                      "every reconnect)")
            if parts[0] == "action" and (len(parts) == 3 or (len(parts) == 2 and parts[1])):
                # action/{verb}, or action/{verb}/{user}: the user the broker let write it
                if not all(is_safe_name(level) for level in parts[1:]):
                    raise PayloadError("bad_action", "the action's verb or user is not a valid name")
                user = parts[2] if len(parts) == 3 else None
                put(Action(parts[1], decode_object(payload, "bad_action", "an action"), token, user=user))
                token = None  # the engine settles it once durable
                return
            if len(parts) != 2 or not parts[1]:
                if parts[0] == "cmd":
                    return  # other components' topics
                raise PayloadError("unknown_topic", "expected {root}/{kind}/{name}")
            channel, name = parts
            if channel in ("alarm", "dispatch", "incident"):
                body = None  # an empty retained payload removes the alarm, order or incident
                if payload:
                    body = RETAINED_DECODERS[channel](payload)
                    if body["id"] != name:
                        raise PayloadError("bad_shape", f"{channel} payload: its id is not the topic's name")
                put(Retained(channel, name, body))
                return
            if channel in ("kpi", "action_result"):
                if payload:
                    put(Retained(channel, name, (decode_kpis if channel == "kpi" else decode_result)(payload)))
                return
            if channel == "telemetry":
                batch = decode_batch(payload, now)
                cached = self._rows_cache.get(name)
                if cached is not None and cached[0] == batch.ids:
                    rows = cached[1]
                else:
                    rows = self.index.rows_of_ids(batch.ids)
                    if name in self._gateways and len(self._rows_cache) < MAX_CACHED_GATEWAYS:
                        self._rows_cache[name] = (batch.ids, rows)  # only a gateway of the registry is kept
                good = (rows >= 0) & np.isfinite(batch.values)
                if self.strict:
                    code = self._gateway_code.get(name, -2)
                    foreign = good & (self._gateway_of_row[np.maximum(rows, 0)] != code)
                    if foreign.any():
                        self.count_error("foreign_device", topic, f"{int(foreign.sum())} reading(s) of devices of "
                                                                  "another gateway: dropped")
                        self.dropped_readings += int(foreign.sum())
                        good &= ~foreign
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
                    put(Readings(kept, batch.values[good], np.full(len(kept), batch.ts), received))
            elif channel == "point":
                value, ts = decode_point(payload, now)
                row = int(self.index.rows_of_ids([name])[0])
                if row < 0:
                    raise PayloadError("unknown_device", f"unknown device id {name[:60]!r}")
                put(Readings(np.array([row]), np.array([value]), np.array([ts]), received))
            elif channel == "status":
                put(GatewayStatus(name, decode_status(payload), token))
                token = None  # the engine settles it once durable
            elif channel == "event":
                event = decode_event(payload, now)
                if is_safe_name(name):
                    event["source"] = name  # the account the broker let write event/{name}
                put(Event(event, token))
                token = None
            elif channel == "cmd":
                return
            else:
                raise PayloadError("unknown_topic", f"unknown channel {channel[:40]!r}")
        except PayloadError as exc:
            self.count_error(exc.kind, topic, str(exc))
        except Exception as exc:  # never let a message stop ingest
            self.count_error("internal", topic, f"{type(exc).__name__}: {exc}")
        finally:
            if token is not None and self.settle is not None:
                self.settle(token)

    def error_count(self) -> int:
        with self._lock:
            return sum(self.errors.values())
