"""Replay and training on a recording: the engine's own code on recorded input, and nothing sent anywhere.

A `ReplaySession` feeds a recording into a fresh `Engine` as a source, on the recording's clock:

``as_recorded``
    "As it happened": the recorded telemetry drives the state store, and the alarms, incidents, orders and
    KPIs are those the engine published then (its recorded ``/output``), shown as they were.
``re_evaluate``
    Today's rules run on the recorded telemetry, gateway status and events; the engine's output comes back
    through a `LoopbackPort` and never leaves the process.
``training``
    As ``re_evaluate``, and the trainee acts on the engine's incidents as in live operation. The engine is a
    training engine: it has no live publisher (it refuses any port but a loopback) and no database.

The state at an instant is the recording's (the last keyframe at or before it plus the changes after it),
whether it is reached by playing through or by seeking.
"""

from __future__ import annotations

import bisect
import itertools
import time
from dataclasses import dataclass, field

import numpy as np

from twin_app.core.alarms import AlarmState
from twin_app.core.devices import DeviceIndex
from twin_app.core.dispatch import OPEN_ORDER
from twin_app.core.engine import Engine, LoopbackPort, NullPort, StepResult
from twin_app.core.errors import InputError
from twin_app.core.inbox import Action, Drained
from twin_app.core.state import DeviceState
from twin_app.telemetry.recording import RecordingReader, apply_changes

MODES = {"as_recorded": "As it happened", "re_evaluate": "Re-evaluated with today's rules", "training": "Training"}
STEP_S = 1.0  # the longest stretch of recording one engine step takes in (rules need their on-delays)
WARMUP_S = 600.0  # a re-evaluating seek runs the rules over this much recording before the instant
RETAINED = ("alarm", "dispatch", "incident")
SHOWN = {s.value for s in AlarmState if s is not AlarmState.NORMAL}  # the alarms a console lists


@dataclass(frozen=True)
class Marker:
    """Something worth jumping to on the timeline."""

    ts: float
    kind: str  # alarm, command, dispatch, incident, action
    text: str
    ref: str = ""


@dataclass
class Retained:
    """The retained topics a console holds at an instant: id -> last payload (alarms, orders, incidents)."""

    topics: dict[str, dict[str, dict]] = field(default_factory=lambda: {c: {} for c in RETAINED})
    kpis: dict | None = None
    last: dict[str, dict[str, dict]] = field(default_factory=lambda: {c: {} for c in RETAINED})  # cleared kept

    def put(self, channel: str, name: str, payload: dict | None) -> None:
        held = self.topics.get(channel)
        if held is None:
            return
        if payload is None:
            held.pop(name, None)
        else:
            held[name] = payload
            self.last[channel][name] = payload

    def take(self, back: Drained) -> None:
        """Keep what a loopback returned."""
        for channel, items in (("alarm", back.alarms), ("dispatch", back.orders), ("incident", back.incidents)):
            for name, payload in items:
                self.put(channel, name, payload)
        if back.kpis is not None:
            self.kpis = back.kpis


class ReplaySession:
    """A recording replayed through the engine.

    Parameters
    ----------
    reader
        The recording.
    index
        The registry joined to the model; it must be the registry the recording was made with.
    mode
        ``as_recorded``, ``re_evaluate`` or ``training`` (see the module's docstring).
    trainee
        The name a trainee's actions are taken under.

    Raises
    ------
    InputError
        The recording was made with another registry.
    """

    def __init__(self, reader: RecordingReader, index: DeviceIndex, mode: str = "as_recorded",
                 trainee: str = "trainee", step_s: float = STEP_S) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        reader.check_registry(index)
        self.reader = reader
        self.index = index
        self.mode = mode
        self.trainee = trainee
        self.step_s = step_s
        self.start, self.end = reader.span
        self._json: dict[str, tuple[list[float], list[dict]]] = {}
        for channel in ("/status", "/event", "/action", "/output"):
            pairs = [(t, body) for t, body in reader.messages(channel) if isinstance(body, dict)]
            self._json[channel] = ([t for t, _ in pairs], [b for _, b in pairs])
        self.markers = self._markers()
        self.actions_taken: list[dict] = []  # the trainee's actions: {ts, verb, body}
        self._serial = itertools.count(1)
        self.position = self.start
        self.engine: Engine
        self.port: LoopbackPort | NullPort
        self.retained = Retained()
        self.last: StepResult | None = None
        self.reset = True  # the next result replaces what a console holds (after a seek)
        self.seek(self.start)

    # -- the recording's content ---------------------------------------------------------------------
    def _window(self, channel: str, after: float, until: float) -> list[dict]:
        times, bodies = self._json[channel]
        return bodies[bisect.bisect_right(times, after):bisect.bisect_right(times, until)]

    def _markers(self) -> list[Marker]:
        out: list[Marker] = []
        seen: set[str] = set()
        for t, body in zip(*self._json["/output"], strict=True):
            topic, payload = str(body.get("topic", "")), body.get("payload")
            channel, _, name = topic.partition("/")
            if not isinstance(payload, dict) or ((channel, name) in seen and channel != "cmd"):
                continue
            if channel == "incident":
                seen.add((channel, name))  # type: ignore[arg-type]
                out.append(Marker(t, "incident", str(payload.get("title") or name), name))
            elif channel == "alarm" and payload.get("state") == "unack_active":
                seen.add((channel, name))  # type: ignore[arg-type]
                out.append(Marker(t, "alarm", f"{payload.get('priority', '')} {name}".strip(), name))
            elif channel == "dispatch":
                seen.add((channel, name))  # type: ignore[arg-type]
                out.append(Marker(t, "dispatch", f"{payload.get('party', '')} {payload.get('unit', '')}".strip(),
                                  name))
            elif channel == "cmd":
                out.append(Marker(t, "command", f"{name} {payload.get('action', '')}".strip(), name))
        for t, body in zip(*self._json["/action"], strict=True):
            inner = body.get("body") if isinstance(body.get("body"), dict) else {}
            by = body.get("user") or inner.get("operator", "?")
            out.append(Marker(t, "action", f"{body.get('verb', '')} by {by}", str(inner.get("incident_id", ""))))
        return sorted(out, key=lambda m: m.ts)

    def history(self, until: float | None = None) -> tuple[list[dict], list[dict]]:
        """The last recorded payload of every incident and order (``as it happened``) up to `until`."""
        until = self.end if until is None else until
        incidents: dict[str, dict] = {}
        orders: dict[str, dict] = {}
        for t, body in zip(*self._json["/output"], strict=True):
            if t > until:
                break
            channel, _, name = str(body.get("topic", "")).partition("/")
            payload = body.get("payload")
            if isinstance(payload, dict):
                if channel == "incident":
                    incidents[name] = payload
                elif channel == "dispatch":
                    orders[name] = payload
        return list(incidents.values()), list(orders.values())

    # -- the engine ----------------------------------------------------------------------------------
    def _fresh_engine(self) -> None:
        self.retained = Retained()
        if self.mode == "as_recorded":
            self.port = NullPort()
            self.engine = Engine(self.index, port=self.port, rules=False, console="replay")
        else:
            self.port = LoopbackPort()
            self.engine = Engine(self.index, port=self.port, rules=True, console=self.mode,
                                 training=self.mode == "training")

    def _drained(self, after: float, until: float) -> Drained:
        """What the recording holds in (after, until], as the inbox would have drained it."""
        parts: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]] = []
        for channel, _, message in self.reader.between({"/telemetry", "/refresh", "/keyframe"}, after, until):
            if channel == "/keyframe":
                values, ts, _ = message  # type: ignore[misc]
                self.engine.store.load(values, ts)  # the exact state then; the changes after it follow
                parts.clear()
            elif channel == "/refresh":
                rows, stamps = message  # type: ignore[misc]
                parts.append((rows, None, stamps))
            else:
                parts.append(message)  # type: ignore[arg-type]
        drained = Drained.empty()
        if parts:
            # each device's newest reading in the slice: its last change's value (or the value it holds), the
            # time stamp of its last change or refresh
            store = self.engine.store
            rows = np.unique(np.concatenate([p[0] for p in parts]))
            rows = rows[(rows >= 0) & (rows < store.n_devices)]
            values, ts = store.value.copy(), store.ts.copy()
            apply_changes(values, ts, parts)
            fresh = rows[ts[rows] > store.ts[rows]]
            drained.rows, drained.values, drained.ts = fresh, values[fresh], ts[fresh]
            drained.received = np.full(len(fresh), time.monotonic())
        drained.status = [(str(b.get("gateway")), bool(b.get("online"))) for b in self._window("/status", after, until)]
        if self.mode == "as_recorded":
            for body in self._window("/output", after, until):
                channel, _, name = str(body.get("topic", "")).partition("/")
                payload = body.get("payload") if isinstance(body.get("payload"), dict) else None
                if channel in RETAINED:
                    self.retained.put(channel, name, payload)
                    {"alarm": drained.alarms, "dispatch": drained.orders,
                     "incident": drained.incidents}[channel].append((name, payload))
                elif channel == "kpi" and payload is not None:
                    drained.kpis = self.retained.kpis = payload
        else:
            drained.events = list(self._window("/event", after, until))
        return drained

    def _step(self, drained: Drained, now: float) -> StepResult:
        result = self.engine.step(drained, now)
        if isinstance(self.port, LoopbackPort):
            back = self.port.take()
            self.retained.take(back)
            result.alarms, result.orders, result.incidents = back.alarms, back.orders, back.incidents
            result.results, result.kpis = back.results, back.kpis
        return result

    def advance(self, until: float) -> StepResult:
        """Play from the current position up to `until` (at most the recording's end)."""
        until = min(max(until, self.position), self.end)
        steps: list[StepResult] = []
        t = self.position
        while True:
            nxt = until if self.mode == "as_recorded" else min(until, t + self.step_s)
            steps.append(self._step(self._drained(t, nxt), nxt))
            t = nxt
            if t >= until:
                break
        self.position = until
        result = steps[-1]
        if len(steps) > 1:  # what the sub-steps returned, in order, for the console
            result.alarms = [a for s in steps for a in s.alarms]
            result.orders = [o for s in steps for o in s.orders]
            result.incidents = [i for s in steps for i in s.incidents]
            result.results = [r for s in steps for r in s.results]
            result.readings = sum(s.readings for s in steps)
            result.kpis = next((s.kpis for s in reversed(steps) if s.kpis is not None), None)
        self.last = result
        return result

    def seek(self, t: float) -> StepResult:
        """The full state at instant `t`; the next result replaces what a console holds.

        In training the clock only moves forward (a trainee's actions cannot be taken back).
        """
        t = min(max(t, self.start), self.end)
        if self.mode == "training" and hasattr(self, "engine"):
            return self.advance(t)  # never back: advance stays where it is when t is behind
        self._fresh_engine()
        if self.mode == "as_recorded":
            values, ts = self.reader.state_at(t)
            self.engine.store.load(values, ts, self.reader.online_at(t))
            for channel, name, payload in self._retained_at(t):
                self.retained.put(channel, name, payload)
            self.position = t
            result = self._step(Drained.empty(), t)
        else:
            begin = max(self.start, t - WARMUP_S)
            values, ts = self.reader.state_at(begin)
            self.engine.store.load(values, ts, self.reader.online_at(begin))
            self.position = begin
            result = self.advance(t)
        result.alarms = list(self.retained.topics["alarm"].items())
        result.orders = list(self.retained.topics["dispatch"].items())
        result.incidents = list(self.retained.topics["incident"].items())
        result.kpis = self.retained.kpis
        self.reset = True
        self.last = result
        return result

    def _retained_at(self, t: float) -> list[tuple[str, str, dict | None]]:
        held: dict[tuple[str, str], dict | None] = {}
        times, bodies = self._json["/output"]
        for body in bodies[:bisect.bisect_right(times, t)]:
            channel, _, name = str(body.get("topic", "")).partition("/")
            payload = body.get("payload") if isinstance(body.get("payload"), dict) else None
            if channel in RETAINED:
                held[(channel, name)] = payload
            elif channel == "kpi" and payload is not None:
                self.retained.kpis = payload
        return [(c, n, p) for (c, n), p in held.items() if p is not None]

    # -- training -----------------------------------------------------------------------------------
    def act(self, verb: str, body: dict) -> dict:
        """A trainee's action, applied by the training engine at the current position; returns its answer.

        Raises
        ------
        InputError
            Outside training (a replay as it happened or re-evaluated takes no actions).
        """
        if self.mode != "training":
            raise InputError("replay", "actions are taken only in training")
        request = f"training-{next(self._serial)}"
        payload = {**body, "operator": self.trainee, "console": "training", "request": request,
                   "ts": self.position}
        drained = Drained.empty()
        drained.actions = [Action(verb, payload)]
        self.actions_taken.append({"ts": self.position, "verb": verb, "body": dict(body)})
        result = self._step(drained, self.position)
        self.last = result
        answer = next((b for _, b in result.results if b.get("request") == request), None)
        return answer or {"request": request, "verb": verb, "ok": False, "message": "no answer"}

    def trainee_incidents(self) -> tuple[list[dict], list[dict]]:
        """The training engine's incidents and orders as last published (closed ones included)."""
        return self._published("incident"), self._published("dispatch")

    def _published(self, channel: str) -> list[dict]:
        return list(self.retained.last[channel].values())  # a closed incident's last payload included

    # -- without a window ------------------------------------------------------------------------------
    def state_json(self) -> dict:
        """The state at the current position: device states, standing alarms, incidents, open orders."""
        result = self.last if self.last is not None else self.seek(self.position)
        counts = np.bincount(result.device_state, minlength=len(DeviceState))
        alarms = []
        for name, payload in sorted(self.retained.topics["alarm"].items()):
            if payload.get("state") not in SHOWN:
                continue
            entry = {"id": name, "state": payload.get("state"), "priority": payload.get("priority")}
            if payload.get("device_id") is not None:
                entry["device_id"] = payload.get("device_id")
            else:
                entry["event_source"] = payload.get("event_source")
            alarms.append(entry)
        incidents = [{"id": name, "state": p.get("state"), "priority": p.get("priority"), "cause": p.get("cause"),
                      "title": p.get("title"), "party": p.get("party")}
                     for name, p in sorted(self.retained.topics["incident"].items()) if p.get("state") != "closed"]
        orders = [{"id": name, "status": p.get("status"), "party": p.get("party"), "unit": p.get("unit"),
                   "units": p.get("units") if isinstance(p.get("units"), list) else [p.get("unit")],
                   "incident_id": p.get("incident_id"), "deadline_ts": p.get("deadline_ts")}
                  for name, p in sorted(self.retained.topics["dispatch"].items()) if p.get("status") in OPEN_ORDER]
        return {"time": round(self.position, 3), "offset_s": round(self.position - self.start, 3),
                "mode": self.mode, "device_states": {DeviceState(i).name.lower(): int(counts[i])
                                                     for i in range(len(DeviceState))},
                "alarms": alarms, "incidents": incidents, "orders": orders}
