"""The engine: live state, alarm rules, linked actions, dispatch and operator actions, in pure Python.

A source (live MQTT, a recording) fills an `Inbox`; the engine drains it on its own schedule (`Engine.step`) and
says what must go out through a `Port` (the MQTT link is one; a recorder and a training sandbox are others).
With an `EngineDatabase` the state is durable: every step's changes are committed in one transaction before
anything is published or any operator action is answered, and a restarted engine takes everything back.

Every message is handled under a guard: what fails is counted, logged once per kind and, for an operator action,
answered on ``action_result/``; nothing a message holds can end the process.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from twin_app.core.actions import CONFIRM_AFTER_S, ActuatorIndex, Command, linked_commands
from twin_app.core.alarms import Alarm, AlarmState, AlarmSystem, Priority, priority_for
from twin_app.core.audit import AuditLog, clean
from twin_app.core.database import Changes, EngineDatabase
from twin_app.core.devices import DeviceIndex
from twin_app.core.dispatch import OPEN_ORDER, Dispatcher, Order, Responsibility, order_from_json
from twin_app.core.errors import InputError
from twin_app.core.inbox import Action, Drained
from twin_app.core.incidents import STANDING, Incident, IncidentBook, Place, kpi_record, kpis
from twin_app.core.names import is_safe_name, safe_name, short_text
from twin_app.core.roles import DESCRIPTION, allowed
from twin_app.core.state import DeviceState, StateStore
from twin_app.core.texts import alarm_text, kind_label, party_label

log = logging.getLogger("twin_app.engine")
SYSTEM = "system"
MAX_FUTURE_S = 300.0  # a reading stamped further ahead than this is refused (clock skew)
MAX_AGE_S = 86400.0  # ... and one older than this
KPI_PERIOD_S = 2.0
ANSWERS_KEPT = 20_000  # answered request ids remembered in memory (a redelivery comes within minutes)
ANSWERS_KEPT_S = 2 * 86400.0  # ... and in the database
VERBS = ("ack", "shelve", "unshelve", "suppress", "out_of_service", "comment", "dispatch", "unit_status", "close",
         "override")
OVERRIDE_ACTIONS = ("on", "off", "recall")
UNIT_REPORTS = ("en_route", "on_scene", "done", "cancelled")
INCIDENT_VERBS = ("ack", "comment", "shelve", "dispatch", "close")
DEVICES_SHOWN = 50  # devices in alarm listed in an incident's payload
CAMERAS_SHOWN = 6
EVENT_DETAIL = ("text", "contact", "snapshot", "detail", "reporter", "source")  # free texts an event may carry
EVENTS_KEPT = 20  # further events of an incident kept with their texts (all are in its timeline)
BLIND_KEPT = 200  # blind detectors named in an incident
ALARMS_SHOWN = 500  # alarm ids in an incident's payload (alarm_count has them all)


class Port(Protocol):
    """Where the engine's output goes (topics are relative to the root, e.g. ``alarm/ID``)."""

    def publish(self, topic: str, payload: dict | None, retain: bool = False) -> object:
        """Send (QoS 1); returns a token for `delivered`."""

    def delivered(self, token: object) -> bool:
        """True once the publication with this token reached the broker."""

    def settle(self, token: object) -> None:
        """An input message (an operator action) is durable: the source may confirm it to the broker."""


class NullPort:
    """A port that drops everything (an engine fed and read in-process: tests, replay)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict | None, bool]] = []

    def publish(self, topic: str, payload: dict | None, retain: bool = False) -> object:
        self.sent.append((topic, payload, retain))
        return len(self.sent)

    def delivered(self, token: object) -> bool:
        return True

    def settle(self, token: object) -> None:
        return None


class LoopbackPort:
    """A port whose publications never leave the process (replay and training).

    What the engine publishes comes back through `take` as the input of a console's next step, as a broker
    would have returned it; commands to equipment are kept in `commands` and go nowhere.
    """

    def __init__(self) -> None:
        self._back = Drained.empty()
        self.commands: list[tuple[str, dict | None]] = []
        self.published = 0

    def publish(self, topic: str, payload: dict | None, retain: bool = False) -> object:
        channel, _, name = topic.partition("/")
        back = self._back
        if channel == "alarm":
            back.alarms.append((name, payload))
        elif channel == "dispatch":
            back.orders.append((name, payload))
        elif channel == "incident":
            back.incidents.append((name, payload))
        elif channel == "action_result" and payload is not None:
            back.results.append((name, payload))
        elif channel == "kpi":
            back.kpis = payload
        elif channel == "cmd":
            self.commands.append((name, payload))
        self.published += 1
        return self.published

    def delivered(self, token: object) -> bool:
        return True

    def settle(self, token: object) -> None:
        return None

    def take(self) -> Drained:
        """What was published since the last call (alarms, orders, incidents, results, KPIs)."""
        out, self._back = self._back, Drained.empty()
        return out


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
    alarms: list = field(default_factory=list)  # (alarm id, payload or None) read back from alarm/
    orders: list = field(default_factory=list)  # (order id, payload or None) from dispatch/
    results: list = field(default_factory=list)  # (console, body) from action_result/
    kpis: dict | None = None  # from kpi/summary
    changed: list[Alarm] = field(default_factory=list)  # alarms this engine changed (rules on)
    incidents: list = field(default_factory=list)  # (incident id, payload or None) from incident/


@dataclass
class PendingCommand:
    """A linked command waiting for its actuator to report the commanded state."""

    command: Command
    id: str
    sent_ts: float
    alarm_id: str
    confirmed: bool = False
    delivered: bool = False
    token: object = None
    restored: bool = False  # taken back after a restart: its confirmation time starts again then
    grace_from: float | None = None
    unconfirmed: bool = False  # its alarm was raised; still watched: a late confirmation clears the alarm

    def to_record(self) -> dict:
        c = self.command
        return {"id": self.id, "sent_ts": self.sent_ts, "alarm_id": self.alarm_id, "confirmed": self.confirmed,
                "delivered": self.delivered, "device_id": c.device_id, "row": c.row, "action": c.action,
                "reason": c.reason, "confirm_value": c.confirm_value, "done": self.confirmed,
                "unconfirmed": self.unconfirmed}

    @classmethod
    def from_record(cls, r: dict) -> PendingCommand:
        command = Command(r["device_id"], int(r["row"]), r["action"], r["reason"], float(r["confirm_value"]))
        return cls(command, r["id"], float(r["sent_ts"]), r["alarm_id"], bool(r["confirmed"]), bool(r["delivered"]),
                   unconfirmed=bool(r.get("unconfirmed", False)))


def _target(body: dict) -> str:
    """What an action names (for the audit of a refusal)."""
    found = next((body.get(k) for k in ("incident_id", "alarm_id", "order_id", "device_id") if body.get(k)), "?")
    return str(found)[:200]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


class Engine:
    """The command center's engine for one model and registry.

    Parameters
    ----------
    index
        The registry joined to the model.
    port
        Where publications go (None: nowhere).
    database
        The durable state (None: in memory only); restored at once when it holds state.
    rules
        False for a console that shows another engine's alarms: state and roll-up only.
    audit
        The audit log; by default the database's (or none without a database).
    training
        A training engine: its port can only be a `LoopbackPort` or a `NullPort`, now and later, so that
        nothing a trainee does can reach the broker or equipment.
    """

    def __init__(self, index: DeviceIndex, port: Port | None = None, database: EngineDatabase | None = None,
                 rules: bool = True, audit: AuditLog | None = None, dispatcher: Dispatcher | None = None,
                 console: str = "engine", max_future_s: float = MAX_FUTURE_S, max_age_s: float = MAX_AGE_S,
                 accounts: Callable[[str], str | None] | None = None, training: bool = False) -> None:
        self.training = training
        if training and database is not None:
            raise RuntimeError("a training engine keeps nothing in an engine's database")
        self.index = index
        self.accounts = accounts  # user -> role (None: unknown or disabled); None: no logins, names as given
        self.port: Port = port if port is not None else NullPort()
        self.database = database
        self.rules = rules
        self.store = StateStore(index)
        self.max_future_s = max_future_s
        self.max_age_s = max_age_s
        self.errors: dict[str, int] = {}
        self._logged: set[str] = set()
        self.started = time.time()
        self._window: deque[tuple[float, int]] = deque()
        self.steps = 0
        self.max_step_s = 0.0
        self.worst_step: dict[str, float] = {}  # milliseconds per part of the longest step
        self._parts: dict[str, float] = {}
        self.alarms = AlarmSystem(self.store)
        self.dispatcher = dispatcher or Dispatcher()
        self.actuators = ActuatorIndex(index) if rules else None
        self.audit = audit if audit is not None else (AuditLog(database, console) if database is not None else None)
        self.pending: dict[str, PendingCommand] = {}
        self.raised_times: deque[float] = deque()
        self.answers: OrderedDict[str, dict] = OrderedDict()  # request id -> the answer given (idempotent)
        self.action_errors: deque[str] = deque(maxlen=100)  # the latest refusals, for status lines and tests
        self._kpi_published = 0.0
        self._kpi_dirty = True
        self._republish = False
        self._changes = Changes()
        self._outbox: list[tuple[str, dict | None, bool, str | None]] = []
        self._settle: list[object] = []
        self._unsaved: tuple | None = None
        self._saved_serial = 0
        self._saved_activation = 0.0
        self._saved_activation_at = 0.0
        self.client_id: str | None = None
        self.restored: dict[str, int] = {}  # what a restart took back, by kind
        self.incidents = IncidentBook(self._place)
        self._touched: dict[str, Incident] = {}  # incidents changed in this step (published after the commit)
        self._gateway_changes: list[tuple[str, bool]] = []
        self._details: dict[str, dict] = {}  # alarm id -> what its incident must say (event text, blind detectors)
        self._origin: dict[str, str] = {}  # unconfirmed-command alarm id -> the incident that sent the command
        self._kpi_records: dict[str, dict] = {}  # incident id -> its KPI record (the last week)
        self._saved_incident_serial = 0
        self._cameras = self._camera_index() if rules else {}
        self._busy: Counter | None = None
        self._places: dict[int, Place] = {}
        self._acting_role: str | None = None  # the role of the account whose action is being applied
        self._acting_console: str | None = None  # the console it came from (the audit says so)
        devices = index.devices
        self._device_units = devices["unit"].astype(str).to_numpy() if "unit" in devices else None
        if database is not None:
            self.restore()

    @property
    def port(self) -> Port:
        """Where publications go."""
        return self._port

    @port.setter
    def port(self, port: Port) -> None:
        if self.training and not isinstance(port, LoopbackPort | NullPort):
            raise RuntimeError(f"a training engine has no live publisher: {type(port).__name__} refused")
        self._port = port

    # -- durability ---------------------------------------------------------------------------------
    def restore(self) -> None:
        """Take back the state of the database; everything retained is republished at the first step."""
        assert self.database is not None
        snap = self.database.load(ANSWERS_KEPT_S)
        self.alarms.restore([Alarm.from_record(record) for record in snap.alarms])
        for key, n in snap.occurrences.items():
            self.alarms.occurrences[key] = max(self.alarms.occurrences.get(key, 0), int(n))
        orders = [order_from_json(o) for o in snap.orders]
        self.dispatcher.restore(orders, snap.units, int(snap.meta.get("serial", 0) or 0))
        incidents = [Incident.from_record(record) for record in snap.incidents]
        self.incidents.restore(incidents, int(snap.meta.get("incident_serial", 0) or 0))
        self._saved_incident_serial = self.incidents.serial
        self._kpi_records = dict(snap.kpi_log)
        for record in snap.commands:
            pending = PendingCommand.from_record(record)
            pending.restored = True
            self.pending[pending.id] = pending
        self.answers = OrderedDict(list(snap.requests.items())[-ANSWERS_KEPT:])
        self.raised_times = deque(float(t) for t in snap.meta.get("raised_times", []) or [])
        self.alarms.activation_times.extend(float(t) for t in snap.meta.get("activation_times", []) or [])
        self.incidents.created_times.extend(float(t) for t in snap.meta.get("incident_times", []) or [])
        client_id = snap.meta.get("client_id")
        if not isinstance(client_id, str):
            client_id = f"twin-app-engine-{uuid.uuid4().hex[:12]}"
            self.database.commit(Changes(meta={"client_id": client_id}))
        self.client_id = client_id
        self.restored = {"alarms": len(snap.alarms), "orders": len(orders), "commands": len(snap.commands),
                         "requests": len(snap.requests), "incidents": len(incidents)}
        self._republish = True
        log.info("engine state restored from %s: %s", self.database.path, self.restored)

    # -- errors -------------------------------------------------------------------------------------
    def count_error(self, kind: str, where: str, message: str, n: int = 1) -> None:
        """Count dropped input by kind; the first of each kind is logged with where it came from."""
        self.errors[kind] = self.errors.get(kind, 0) + n
        if kind not in self._logged:
            self._logged.add(kind)
            log.warning("dropped input (%s) on %s: %s", kind, where, message)

    def _guard(self, where: str, work: Callable[[], object]) -> object:
        """Run one piece of work; an exception is counted and logged, never raised."""
        try:
            return work()
        except InputError as exc:
            self.count_error("refused", where, str(exc))
        except Exception as exc:
            self.count_error("internal", where, f"{type(exc).__name__}: {exc}")
            log.exception("engine: error while handling %s", where)
        return None

    # -- the step -----------------------------------------------------------------------------------
    def step(self, drained: Drained, now: float | None = None) -> StepResult:
        """Apply everything drained from the inbox: state, roll-up, and (rules on) alarms and actions."""
        started = time.perf_counter()
        now = time.time() if now is None else now
        store = self.store
        for gateway, online in drained.status:
            code = store.gateway_code(gateway)
            if code < 0:
                self.count_error("unknown_gateway", f"status/{gateway[:60]}", "no device of the registry uses it")
                continue
            if bool(store.gateway_online[code]) != online and self.rules:
                self._gateway_changes.append((gateway, online))
            store.set_gateway(gateway, online)
        rows, values, ts, received = self._in_time(drained, now)
        self.store.apply(rows, values, ts)
        applied = time.monotonic()
        latency = (applied - np.unique(received)) * 1000.0 if len(received) else np.zeros(0)
        device_state = self.store.states(now)
        element_state = self.store.element_states(device_state)
        rolled = self.store.rollup(element_state)
        self._window.append((applied, len(rows)))
        while self._window and applied - self._window[0][0] > 5.0:
            self._window.popleft()
        changed: list[Alarm] = []
        self._parts = {"start": started, "state": time.perf_counter()}
        if self.rules:
            changed = self._alarm_step(drained, device_state, now)
        else:
            for token in drained.tokens:
                self._guard("settle", lambda t=token: self.port.settle(t))
        self.steps += 1
        seconds = time.perf_counter() - started
        if seconds > self.max_step_s:
            self.max_step_s = seconds
            marks = [(k, v) for k, v in self._parts.items() if k != "changed"]
            self.worst_step = {k: round((v - p) * 1000.0, 1) for (_, p), (k, v) in itertools.pairwise(marks)}
            self.worst_step["alarms_changed"] = self._parts.get("changed", 0)
            self.worst_step["readings"] = len(rows)
        return StepResult(len(rows), device_state, element_state, rolled, latency, drained.events,
                          np.unique(ts), drained.alarms, drained.orders, drained.results, drained.kpis, changed,
                          drained.incidents)

    def _in_time(self, drained: Drained, now: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Readings whose time stamp is plausible; the rest is refused and counted, never stored."""
        ts = drained.ts
        ok = (ts <= now + self.max_future_s) & (ts >= now - self.max_age_s)
        if ok.all():
            return drained.rows, drained.values, ts, drained.received
        bad = int((~ok).sum())
        self.count_error("bad_ts", "telemetry", f"{bad} reading(s) stamped more than {self.max_future_s:.0f} s ahead "
                                                f"or {self.max_age_s:.0f} s behind the engine's clock", bad)
        return drained.rows[ok], drained.values[ok], ts[ok], drained.received[ok]

    def _alarm_step(self, drained: Drained, device_state: np.ndarray, now: float) -> list[Alarm]:
        changed: dict[str, Alarm] = {}
        self._changes = Changes()
        self._outbox = []
        self._settle = []
        if self.audit is not None and self.database is not None:
            self.audit.buffer = []
        if self._republish:
            self._republish = False
            for alarm in list(self.alarms.alarms.values()):
                changed[alarm.id] = alarm
            for order in list(self.dispatcher.orders.values()):
                self._publish_order(order)
            for incident in self.incidents.incidents.values():
                self._touch(incident)
            self._resend_undelivered_commands(now)
        for name, body in drained.alarms:
            self._guard(f"alarm/{name[:60]}", lambda n=name, b=body: self._retained_alarm(n, b))
        for name, body in drained.orders:
            self._guard(f"dispatch/{name[:60]}", lambda n=name, b=body: self._retained_order(n, b))
        for name, body in drained.incidents:
            self._guard(f"incident/{name[:60]}", lambda n=name, b=body: self._retained_incident(n, b))
        for gateway, online in self._gateway_changes:
            alarm = self._guard(f"status/{gateway[:60]}", lambda g=gateway, o=online: self._gateway_alarm(g, o, now))
            if isinstance(alarm, Alarm):
                changed[alarm.id] = alarm
        self._gateway_changes = []
        for event in drained.events:
            alarm = self._guard("event", lambda e=event: self._event(e, now))
            if isinstance(alarm, Alarm):
                changed[alarm.id] = alarm
        self._parts["before_rules"] = time.perf_counter()
        evaluated = self._guard("rules", lambda: self.alarms.evaluate(now, device_state)) or []
        self._parts["rules"] = time.perf_counter()
        for alarm in evaluated:
            changed[alarm.id] = alarm
        for alarm in list(changed.values()):
            if alarm.state == AlarmState.UNACK_ACTIVE and not alarm.handled:  # once per occurrence
                alarm.handled = True
                self.raised_times.append(now)
                self._changes.meta["raised_times"] = None  # written below
                self._guard(f"incident of {alarm.id}", lambda a=alarm: self._incident_of(a, now))
        for alarm in self._guard("confirmations", lambda: self._confirmations(now)) or []:
            changed[alarm.id] = alarm
        # active and standing, yet in no incident (an unconfirmed command; shelving that ended after its incident
        # closed; an older database): it gets one
        for alarm in list(changed.values()):
            if alarm.active and alarm.state in STANDING and alarm.id not in self.incidents.of_alarm:
                alarm.handled = True
                self._guard(f"incident of {alarm.id}", lambda a=alarm: self._incident_of(a, now))
        for order in self._guard("escalation", lambda: self.dispatcher.overdue(now)) or []:
            self._record(SYSTEM, "escalate", order.id, {"status": "dispatched"}, order.to_json())
            self._publish_order(order)
        for action in drained.actions:
            for alarm in self.apply_action(action, now):
                changed[alarm.id] = alarm
        self._settle.extend(drained.tokens)  # events and status: confirmed to the broker once written
        self._guard("incidents", lambda: self._incident_step(changed.values(), now))
        for alarm in changed.values():
            self._send(f"alarm/{alarm.id}", self._alarm_json(alarm))
            if alarm.finished:  # the occurrence is over: its retained topic is cleared, its record stays
                self._send(f"alarm/{alarm.id}", None)
        self._parts["actions"] = time.perf_counter()
        self._commit(changed.values(), now)
        self._parts["commit"] = time.perf_counter()
        for alarm in changed.values():
            self.alarms.forget(alarm)
        self._flush(bool(changed), now)
        self._parts["publish"] = time.perf_counter()
        self._parts["changed"] = len(changed)
        return list(changed.values())

    def _commit(self, changed, now: float) -> None:
        """Write the step's changes durably (before anything goes out); what the database refused is held."""
        changes = self._changes
        for alarm in changed:
            changes.alarms[alarm.id] = {**alarm.to_record(), "live": not alarm.finished}
            changes.occurrences[alarm.key] = self.alarms.occurrences.get(alarm.key, alarm.occurrence)
        if self.incidents.serial != self._saved_incident_serial:
            changes.meta["incident_serial"] = self._saved_incident_serial = self.incidents.serial
        while self.raised_times and now - self.raised_times[0] > 3600.0:
            self.raised_times.popleft()
        if "raised_times" in changes.meta:
            changes.meta["raised_times"] = list(self.raised_times)
        if "incident_times" in changes.meta:
            self.incidents.rate_per_10min(now)  # drops what is older than 10 minutes
            changes.meta["incident_times"] = list(self.incidents.created_times)
        activations = self.alarms.activation_times
        if activations and activations[-1] > self._saved_activation and now - self._saved_activation_at >= 5.0:
            # the flood rate of the last 10 minutes survives a restart (written at most every 5 s)
            self._saved_activation, self._saved_activation_at = activations[-1], now
            self.alarms.rate_per_10min(now)  # drops what is older than 10 minutes
            changes.meta["activation_times"] = list(activations)
        if self.dispatcher.serial != self._saved_serial:
            changes.meta["serial"] = self._saved_serial = self.dispatcher.serial
        audit = []
        if self.audit is not None and self.audit.buffer is not None:
            audit, self.audit.buffer = self.audit.buffer, None
        if self.database is None:
            return
        if self._unsaved is not None:  # an earlier step could not be written: it goes first, in this transaction
            earlier, earlier_audit, earlier_outbox, earlier_settle = self._unsaved
            earlier.merge(changes)
            changes, audit = earlier, earlier_audit + audit
            self._outbox = earlier_outbox + self._outbox
            self._settle = earlier_settle + self._settle
            self._unsaved = None
        try:
            self.database.commit(changes, audit)
        except Exception as exc:
            # disk full, say: alarms, orders and commands still go out (an alarm is never hidden), but no operator
            # action is answered or confirmed to the broker until the step is written (retried every step)
            answers = [item for item in self._outbox if item[0].startswith("action_result/")]
            self._unsaved = (changes, audit, answers, self._settle)
            self._outbox = [item for item in self._outbox if not item[0].startswith("action_result/")]
            self._settle = []
            self.count_error("database", str(self.database.path), f"the step could not be written: {exc}")

    def _flush(self, changed: bool, now: float) -> None:
        """Publish what the committed step says: alarms, orders, commands, answers; then settle actions."""
        port = self.port
        for topic, payload, retain, command in self._outbox:
            token = self._guard(topic, lambda t=topic, p=payload, r=retain: port.publish(t, p, retain=r))
            if command is not None and command in self.pending:
                self.pending[command].token = token
        for token in self._settle:
            self._guard("settle", lambda t=token: port.settle(t))
        self._kpi_dirty |= changed or bool(self._settle)
        if self._kpi_dirty and now - self._kpi_published >= KPI_PERIOD_S:
            summary = {**self.kpis(now), "ts": now, "flood": self.incidents.flood(now),
                       "rate_per_10min": self.incidents.rate_per_10min(now),
                       "alarm_rate_per_10min": self.alarms.rate_per_10min(now)}
            self._guard("kpi/summary", lambda: port.publish("kpi/summary", summary, retain=True))
            self._kpi_published, self._kpi_dirty = now, False

    def _send(self, topic: str, payload: dict | None, retain: bool = True, command: str | None = None) -> None:
        self._outbox.append((topic, payload, retain, command))

    def _alarm_json(self, alarm: Alarm) -> dict:
        payload = alarm.to_json()
        host = alarm.host_element
        model = self.index.model
        if host >= 0:
            payload["building"] = str(model.name[model.building[host]]) if model.building[host] >= 0 else None
            payload["storey"] = str(model.name[model.storey[host]]) if model.storey[host] >= 0 else None
        rule = self.dispatcher.responsibility(alarm)
        units = self.dispatcher.propose(rule).units
        payload["proposed"] = {"party": rule.party, "unit": units[0].id if units else None,
                               "deadline_min": rule.deadline_min}
        payload["incident"] = self.incidents.of_alarm.get(alarm.id)
        payload["text"] = alarm_text(alarm.kind, alarm.condition, alarm.value)
        return payload

    def _publish_order(self, order: Order) -> None:
        ended = order.status in ("closed", "cancelled")
        self._changes.orders[order.id] = {**order.to_json(), "open": not ended}
        self._busy = None
        incident = self.incidents.incidents.get(order.incident_id)
        if incident is not None:
            incident.order_status[order.id] = order.status
            self._touch(incident)
        for unit_id in order.units or [order.unit]:  # every unit of the order (a fire takes two engines)
            unit = self.dispatcher.units.get(unit_id)
            if unit is not None:
                self._changes.units[unit.id] = (unit.status, unit.order)
        self._send(f"dispatch/{order.id}", order.to_json())
        if ended:  # published once as it ended, then its retained topic is cleared; its record stays
            self._send(f"dispatch/{order.id}", None)
            self.dispatcher.orders.pop(order.id, None)

    def _record(self, operator: str, action: str, target: str, before: object, after: object,
                outcome: str = "ok") -> None:
        if self.audit is not None:
            self.audit.record(operator, action, target, before, after, outcome, console=self._acting_console)

    def _retained_alarm(self, name: str, body: dict | None) -> None:
        """A retained ``alarm/`` topic that no live alarm of this engine backs is cleared."""
        if body is not None and name not in self.alarms.alarms and is_safe_name(name):
            self.count_error("stale_retained", f"alarm/{name}", "a retained alarm this engine does not hold: cleared")
            self._send(f"alarm/{name}", None)

    def _retained_order(self, name: str, body: dict | None) -> None:
        if body is not None and name not in self.dispatcher.orders and is_safe_name(name):
            self.count_error("stale_retained", f"dispatch/{name}", "a retained order this engine does not hold")
            self._send(f"dispatch/{name}", None)

    def _event(self, event: dict, now: float) -> Alarm | None:
        event_id = safe_name(event.get("id"), "event id")
        ts = float(event.get("ts") or now)
        if not now - self.max_age_s <= ts <= now + self.max_future_s:
            self.count_error("bad_ts", f"event/{event_id}", "event stamped too far from the engine's clock")
            return None
        model = self.index.model
        if isinstance(event.get("host_global_id"), str):
            host = model.index_of(event["host_global_id"][:64])
        else:
            row = int(self.index.rows_of_ids([str(event.get("device_id"))[:200]])[0])
            host = int(self.index.host_element[row]) if row >= 0 else -1
        if host < 0:
            self.count_error("unknown_event_source", "event", f"event {event_id} names no known device or element")
            return None
        detail = {"type": str(event.get("type")), "confidence": event.get("confidence")}
        for key in EVENT_DETAIL:
            if event.get(key) is not None:
                try:
                    detail[key] = short_text(event.get(key), f"event {event_id}: {key}", limit=1000)
                except InputError as exc:  # the event stands; only its bad field is dropped
                    self.count_error("bad_event_field", f"event/{event_id}", str(exc))
        if event.get("device_id") is not None:
            detail["device_id"] = str(event["device_id"])[:200]
        alarm = self.alarms.raise_event({**event, "id": event_id}, host, str(model.global_id[host]), now)
        if alarm is not None and not alarm.handled:
            self._details[alarm.id] = detail
        return alarm

    def _linked_actions(self, alarm: Alarm, incident: Incident, now: float) -> None:
        """The commands an alarm calls for, each sent once per incident (five CO detectors: each fan once)."""
        assert self.actuators is not None
        sent = {(c["device_id"], c["action"]) for c in incident.commands}
        for command in linked_commands(alarm, self.actuators):
            if (command.device_id, command.action) in sent:
                continue
            sent.add((command.device_id, command.action))
            pending = PendingCommand(command, f"C{uuid.uuid4().hex[:12]}", now, alarm.id)
            self.pending[pending.id] = pending
            self._changes.commands[pending.id] = pending.to_record()
            self._send(f"cmd/{command.device_id}", self._command_json(pending), retain=False, command=pending.id)
            self._record(SYSTEM, f"cmd:{command.action}", command.device_id, None,
                         {"id": pending.id, "alarm": alarm.id, "incident": incident.id})
            incident.commands.append({"id": pending.id, "device_id": command.device_id, "action": command.action,
                                      "row": command.row,
                                      "kind": str(self.alarms.kinds[command.row]), "state": "sent", "sent_ts": now,
                                      "done_ts": None, "reason": command.reason})
            incident.note(now, "command", f"{kind_label(str(self.alarms.kinds[command.row]))} {command.device_id} "
                                          f"commanded {command.action}", SYSTEM)

    @staticmethod
    def _command_json(pending: PendingCommand) -> dict:
        return {"id": pending.id, "ts": pending.sent_ts, "action": pending.command.action,
                "reason": pending.command.reason, "alarm_id": pending.alarm_id}

    def _resend_undelivered_commands(self, now: float) -> None:
        """After a restart: commands the broker never took are sent again with their own id (actuators dedupe)."""
        for pending in self.pending.values():
            if not pending.delivered and not pending.confirmed:
                self._send(f"cmd/{pending.command.device_id}", self._command_json(pending), retain=False,
                           command=pending.id)

    def _confirmations(self, now: float) -> list[Alarm]:
        """A command is confirmed when its actuator reports the commanded state; else its own alarm rises."""
        changed = []
        store = self.store
        for pending in list(self.pending.values()):
            if not pending.delivered and pending.token is not None and self.port.delivered(pending.token):
                pending.delivered = True
                self._changes.commands[pending.id] = pending.to_record()
            if pending.confirmed:
                continue
            row = pending.command.row
            # a restored command gets its full confirmation time after the restart
            if pending.restored and pending.grace_from is None:
                pending.grace_from = now
            deadline = (pending.grace_from or pending.sent_ts) + CONFIRM_AFTER_S
            key = f"{pending.command.device_id}:action_unconfirmed"
            if store.ts[row] >= pending.sent_ts and store.value[row] == pending.command.confirm_value:
                pending.confirmed = True
                self._record(SYSTEM, "cmd:confirmed", pending.command.device_id, None, {"id": pending.id})
                self._command_state(pending, "confirmed", now)
                if pending.unconfirmed:  # late, but done: its alarm returns to normal
                    alarm = self.alarms.raise_condition(key, pending.command.device_id, "action_unconfirmed",
                                                        str(self.alarms.kinds[row]), Priority.HIGH, -1, "", False, now)
                    if alarm is not None:
                        changed.append(alarm)
            elif now > deadline and not pending.unconfirmed:
                host = int(self.index.host_element[row])
                alarm = self.alarms.raise_condition(
                    key, pending.command.device_id, "action_unconfirmed", str(self.alarms.kinds[row]), Priority.HIGH,
                    host, str(self.alarms.host_global_ids[row]), True, now)
                pending.unconfirmed = True  # raised once; still watched
                self._changes.commands[pending.id] = pending.to_record()
                incident = self._command_state(pending, "unconfirmed", now)
                if alarm is not None:
                    changed.append(alarm)
                    if incident is not None:
                        self._origin[alarm.id] = incident.id
            if pending.confirmed:
                self._changes.commands[pending.id] = pending.to_record()
                del self.pending[pending.id]
        return changed

    def _command_state(self, pending: PendingCommand, state: str, now: float) -> Incident | None:
        """A linked command of an incident is confirmed or unconfirmed: its entry and timeline say so."""
        incident = self.incidents.incidents.get(self.incidents.of_alarm.get(pending.alarm_id, ""))
        if incident is None:
            return None
        for entry in incident.commands:
            if entry["id"] == pending.id:
                entry["state"], entry["done_ts"] = state, now
        what = "confirmed" if state == "confirmed" else "NOT confirmed: its own alarm is raised"
        incident.note(now, state, f"{pending.command.device_id} {pending.command.action} {what}", SYSTEM)
        self._touch(incident)
        return incident

    # -- incidents ----------------------------------------------------------------------------------
    def _place(self, element: int, global_id: str) -> Place:
        """The place of a host element, named (cached: the model does not change)."""
        if element < 0:
            return Place(-1, global_id, "", "", "")
        place = self._places.get(element)
        if place is None:
            place = self._places[element] = self._name_place(element)
        return place

    def _name_place(self, element: int) -> Place:
        model = self.index.model
        building = int(model.building[element])
        storey = int(model.storey[element])
        if str(model.ifc_class[element]) != "IfcSpace" and storey >= 0:
            element = self._space_around(element, storey)  # a sensor's place is the room or zone it is in
        named = element not in (building, storey) and str(model.ifc_class[element]) != "IfcSite"
        return Place(element, str(model.global_id[element]), str(model.name[building]) if building >= 0 else "",
                     str(model.name[storey]) if storey >= 0 else "",
                     (str(model.long_name[element]) or str(model.name[element])) if named else "")

    def _space_around(self, element: int, storey: int) -> int:
        """The space of the storey whose box holds the element's centre (the element itself when none does)."""
        model = self.index.model
        boxes = model.element_boxes()
        box = boxes[element]
        if np.isnan(box[0]):
            return element
        centre = (box[:3] + box[3:]) / 2.0
        spaces = np.flatnonzero((model.storey == storey) & (model.ifc_class == "IfcSpace"))
        inside = spaces[np.all((boxes[spaces, :3] <= centre) & (centre <= boxes[spaces, 3:]), axis=1)]
        if not len(inside):
            return element
        volume = np.prod(boxes[inside, 3:] - boxes[inside, :3], axis=1)
        return int(inside[int(np.argmin(volume))])  # the smallest: a room inside a zone

    def _camera_index(self) -> dict[str, list[str]]:
        """Camera device ids by host GlobalId and by building/storey (the cameras that cover a place)."""
        devices = self.index.devices
        cameras = devices[devices["kind"].astype(str) == "camera"]
        out: dict[str, list[str]] = {}
        for device, host, building, storey in zip(cameras["device_id"].astype(str), cameras["host_global_id"].astype(
                str), cameras["building"].astype(str), cameras["storey"].astype(str), strict=True):
            out.setdefault(host, []).append(device)
            out.setdefault(f"{building}|{storey}", []).append(device)
        return out

    def _touch(self, incident: Incident) -> None:
        self._touched[incident.id] = incident

    def _rule(self, incident: Incident) -> Responsibility:
        return self.dispatcher.matrix.get(incident.rule or "*", self.dispatcher.matrix["*"])

    def _gateway_alarm(self, gateway: str, online: bool, now: float) -> Alarm | None:
        """A gateway offline is lost data: an alarm naming the detectors it blinds, at their priority."""
        if not is_safe_name(gateway):
            self.count_error("bad_gateway", "status", "a gateway name that is not a valid name")
            return None
        store = self.store
        rows = np.flatnonzero(store.gateway_of == store.gateway_code(gateway))
        if not len(rows):
            return None
        blind = rows[self.alarms.stale_watch[rows]]  # detectors whose silence is dangerous
        ids = self.alarms.device_ids
        priority = min((priority_for(str(self.alarms.kinds[r]), str(ids[r])) for r in blind), default=Priority.LOW)
        model = self.index.model
        host = int(self.index.host_element[rows[0]])
        storey = int(model.storey[host]) if host >= 0 else -1
        element = storey if storey >= 0 else host
        alarm = self.alarms.raise_condition(f"gateway:{gateway}:offline", gateway, "offline", "gateway", priority,
                                            element, str(model.global_id[element]) if element >= 0 else "",
                                            not online, now)
        if alarm is not None and not online:
            alarm.is_device = False
            self._details[alarm.id] = {"gateway": gateway, "devices": len(rows), "blind_count": len(blind),
                                       "blind": [str(ids[r]) for r in blind[:DEVICES_SHOWN]]}
        return alarm

    def _incident_of(self, alarm: Alarm, now: float) -> None:
        """A newly raised alarm joins its incident (or opens one); linked actions and automatic dispatch follow."""
        origin = self.incidents.incidents.get(self._origin.pop(alarm.id, ""))
        if origin is not None:
            self.incidents.join(alarm, origin, now)
            incident, created = origin, False
        else:
            incident, created = self.incidents.attach(alarm, now)
        reopened = not created and incident.state == "resolved"
        if reopened:  # it flared up again: acknowledged anew, and dispatched anew where the matrix says so
            incident.ack_by = incident.ack_ts = incident.resolved_ts = None
            incident.state = "new"
            incident.note(now, "state", "Reopened: a new alarm after it was resolved", SYSTEM)
        detail = self._details.pop(alarm.id, None)
        if detail is not None:
            self._merge_detail(incident, alarm, detail, now)
        if alarm.condition == "stale":  # a dark gateway: its silent detectors are the blind ones
            self._merge_detail(incident, alarm, {"blind": [alarm.source], "blind_count": 1}, now)
        if created:
            self._changes.meta["incident_times"] = None  # written at the commit: the flood rate survives a restart
            rule = self.dispatcher.responsibility(alarm)
            incident.rule = rule.match
            incident.party = rule.party
            incident.deadline_ts = now + rule.deadline_min * 60.0
            self._record(SYSTEM, "incident", incident.id, None, {"cause": incident.cause, "first_out": alarm.id})
        self._touch(incident)
        self._linked_actions(alarm, incident, now)
        self._auto_dispatch(incident, now, reopened)

    @staticmethod
    def _merge_detail(incident: Incident, alarm: Alarm, detail: dict, now: float) -> None:
        """What an event or a blind gateway says joins the incident's detail; nothing earlier is lost."""
        if "blind" in detail:
            held = incident.detail if incident.detail is not None and "blind" in incident.detail else None
            if held is None:
                incident.detail = {**(incident.detail or {}), **detail, "gateways": {}}
                held = incident.detail
            else:
                held["blind"] = list(dict.fromkeys(held["blind"] + detail["blind"]))[:BLIND_KEPT]
            gateway = detail.get("gateway")
            if gateway:  # counted once per gateway, however often it goes offline again
                held.setdefault("gateways", {})[gateway] = detail["blind_count"]
            # each gateway counted once however often it goes offline; a dark gateway's detectors one by one
            held["blind_count"] = max(sum(held.get("gateways", {}).values()), len(held["blind"]))
            return
        if incident.detail is None:
            incident.detail = dict(detail)
        else:  # a second event at the same place: its text is kept too
            incident.detail.setdefault("more", [])
            if len(incident.detail["more"]) < EVENTS_KEPT:
                incident.detail["more"].append(dict(detail))
        text = detail.get("text") or detail.get("detail")
        if text:
            extra = f" ({detail['contact']})" if detail.get("contact") else ""
            incident.note(now, "event", f"{kind_label(alarm.kind)}: {text}{extra}", detail.get("reporter"))

    def _busy_elsewhere(self, incident: Incident) -> bool:
        """Another open incident of the same cause in the same tower already has units: this may be a duplicate."""
        if self._busy is None:  # (cause, tower) -> incidents with an open order, counted once per order change
            self._busy = Counter()
            for order in self.dispatcher.orders.values():
                other = self.incidents.incidents.get(order.incident_id)
                if other is not None and order.status in OPEN_ORDER:
                    self._busy[(other.cause, other.building)] += 1
        mine = 1 if self.dispatcher.open_order_of(incident.id) is not None else 0
        return self._busy[(incident.cause, incident.building)] > mine

    def _auto_dispatch(self, incident: Incident, now: float, reopened: bool = False) -> None:
        """Where the matrix says so, units go without waiting: once per incident, reinforced once it is confirmed."""
        rule = self._rule(incident)
        if not rule.auto:
            return
        confirmed = len(incident.sources) >= 2
        order = self.dispatcher.open_order_of(incident.id)
        if order is None:
            if incident.orders and not reopened:  # its order is done: no second order by itself
                return
            proposal = self.dispatcher.propose(rule, confirmed, self._busy_elsewhere(incident))
            if proposal.units:
                order = self.dispatcher.dispatch(incident.id, incident.first_out, [u.id for u in proposal.units],
                                                 SYSTEM, now, rule)
                self._order_made(incident, order, SYSTEM, now, proposal.why)
        elif confirmed and len(order.units) < rule.confirmed_units:
            proposal = self.dispatcher.propose(rule, True, False, have=len(order.units))
            if proposal.units:
                self.dispatcher.reinforce(order, [u.id for u in proposal.units], SYSTEM, now)
                names = ", ".join(self.dispatcher.units[u.id].name for u in proposal.units)
                incident.units = list(order.units)
                incident.note(now, "order", f"Reinforced: {names} ({proposal.why})", SYSTEM)
                self._record(SYSTEM, "reinforce", incident.id, None, order.to_json())
                self._publish_order(order)

    def _order_made(self, incident: Incident, order: Order, by: str, now: float, why: str) -> None:
        incident.orders.append(order.id)
        incident.units = list(order.units)
        incident.order_status[order.id] = order.status
        incident.party, incident.deadline_ts = order.party, order.deadline_ts
        if incident.dispatched_ts is None:
            incident.dispatched_ts = now
        names = ", ".join(self.dispatcher.units[u].name for u in order.units if u in self.dispatcher.units)
        incident.note(now, "order", f"{party_label(order.party)} — {names} dispatched, order {order.id}, "
                                    f"due in {(order.deadline_ts - now) / 60.0:.0f} min ({why})", by)
        self._record(by, "dispatch", incident.id, None, order.to_json())
        self._publish_order(order)
        self._touch(incident)

    def _incident_step(self, changed, now: float) -> None:
        """Alarms that changed touch their incidents; returns are noted; touched incidents are published."""
        book = self.incidents
        for alarm in changed:
            incident = book.incidents.get(book.of_alarm.get(alarm.id, ""))
            if incident is None:
                continue
            if alarm.rtn_ts == now and not alarm.active:
                incident.note(now, "cleared", f"{alarm_text(alarm.kind, alarm.condition)} cleared — {alarm.source}")
            self._touch(incident)
        for incident in book.idle_resolved(now):
            book.close(incident, SYSTEM, now, "closed by the system: cleared and acknowledged an hour ago, no order")
            self._record(SYSTEM, "close", incident.id, {"state": "resolved"}, {"state": "closed"})
            self._touch(incident)
        touched, self._touched = list(self._touched.values()), {}
        for incident in touched:
            book.refresh(incident, self.alarms.alarms, now)
            self._publish_incident(incident)

    def _publish_incident(self, incident: Incident) -> None:
        record = incident.to_record()
        self._changes.incidents[incident.id] = {**record, "open": not incident.closed}
        self._kpi_records[incident.id] = self._changes.kpi_log[incident.id] = kpi_record(incident)
        self._send(f"incident/{incident.id}", self._incident_json(incident))
        if incident.closed:  # published once as closed, then its retained topic is cleared; its record stays
            self._send(f"incident/{incident.id}", None)

    def _incident_json(self, incident: Incident) -> dict:
        """The retained ``incident/{id}`` payload: everything a console shows of it."""
        out = incident.to_record()
        for private in ("key", "order_status", "rule"):
            out.pop(private, None)
        out["priority"] = incident.priority.name.lower()
        out["party_name"] = party_label(incident.party)
        out["alarm_count"] = len(incident.alarms)
        out["alarms"] = incident.alarms[-ALARMS_SHOWN:]  # the newest; all of them are in the database record
        out["place"] = {"building": incident.building, "storey": incident.storey, "storeys": incident.storeys,
                        "name": incident.place_name, "host_global_id": incident.host_global_id}
        out["devices"] = self._devices_in_alarm(incident)
        store = self.store
        for entry in out["commands"]:
            row = int(entry.get("row", -1))
            entry["live_value"] = float(store.value[row]) if 0 <= row < len(store.value) and store.ts[row] > 0 else None
        if not incident.closed and self.dispatcher.open_order_of(incident.id) is None:
            rule = self._rule(incident)
            out["proposal"] = self.dispatcher.propose(rule, len(incident.sources) >= 2,
                                                      self._busy_elsewhere(incident)).to_json()
            out["proposal"]["party_name"] = party_label(rule.party)
        cameras = self._cameras.get(incident.host_global_id, []) + \
            self._cameras.get(f"{incident.building}|{incident.storey}", [])
        out["cameras"] = list(dict.fromkeys(cameras))[:CAMERAS_SHOWN]
        return out

    def _devices_in_alarm(self, incident: Incident) -> list[dict]:
        rows_of: dict[str, int] = {}
        for alarm in (self.alarms.alarms.get(i) for i in incident.alarms):
            if alarm is not None and alarm.is_device and alarm.source not in rows_of:
                rows_of[alarm.source] = alarm.row
                if len(rows_of) >= DEVICES_SHOWN:
                    break
        unknown = [d for d, r in rows_of.items() if r < 0]  # alarms restored from an older record
        if unknown:
            rows_of.update(zip(unknown, (int(r) for r in self.index.rows_of_ids(unknown)), strict=True))
        store, system = self.store, self.alarms
        out = []
        for device, row in rows_of.items():
            if row < 0:
                continue
            kind = str(system.kinds[row])
            value = float(store.value[row]) if store.ts[row] > 0 else None
            out.append({"device_id": device, "kind": kind, "kind_name": kind_label(kind),
                        "unit": str(self._device_units[row]) if self._device_units is not None else "",
                        "value": value, "alarm_high": _finite(system.alarm_high[row]),
                        "alarm_low": _finite(system.alarm_low[row])})
        return out

    def _retained_incident(self, name: str, body: dict | None) -> None:
        if body is not None and name not in self.incidents.incidents and is_safe_name(name):
            self.count_error("stale_retained", f"incident/{name}", "a retained incident this engine does not hold")
            self._send(f"incident/{name}", None)

    # -- operator actions ---------------------------------------------------------------------------
    def apply_action(self, action: Action, now: float) -> list[Alarm]:
        """Apply one operator action; answered on ``action_result/{console}`` once durable, at most once applied.

        A request id already answered is answered again the same way and changes nothing.
        """
        try:
            return self._apply_action(action, now)
        finally:
            self._acting_console = self._acting_role = None

    def _apply_action(self, action: Action, now: float) -> list[Alarm]:
        body, verb = action.body, action.verb
        self._settle.append(action.token)
        console = body.get("console", "console") if isinstance(body, dict) else None
        self._acting_console = console if is_safe_name(console) else None
        if not is_safe_name(console):
            self.count_error("bad_console", f"action/{verb[:40]}", "an action whose console name is not valid "
                                                                   "(it cannot be answered)")
            self._record("?", verb[:40], "?", None, None, outcome="refused: invalid console name")
            return []
        request = body.get("request")
        if not isinstance(request, str) or not 0 < len(request) <= 200 or not request.isprintable() \
                or clean(request) != request:
            message = (f"action/{verb[:40]}: every action needs a request id: a \"request\" field, text of at most 200 "
                       "characters")
            self.action_errors.append(message)
            self._record(action.user or "?", verb[:40], _target(body), None, None, outcome="refused: no request id")
            self._answer(console, None, verb, False, message)
            return []
        # one account's request id never answers (nor blocks) another account's action
        key = f"{action.user}/{request}" if action.user is not None else request
        previous = self.answers.get(key)
        if previous is None and self.database is not None:  # beyond what memory keeps
            previous = self._guard("answers", lambda: self.database.answer(key))  # type: ignore[union-attr]
        if previous is not None:
            self._send(f"action_result/{console}", previous, retain=False)
            return []
        operator = action.user if self.accounts is not None else body.get("operator")
        try:
            operator = self._identity(action, body.get("operator"))
            changed = self._apply(verb, body, operator, now)
        except InputError as exc:
            self.action_errors.append(str(exc))
            log.warning("refused %s by %s: %s", verb[:40], str(operator)[:40], exc)
            self._record(action.user or (str(operator)[:100] if isinstance(operator, str) else "?"), verb[:40],
                         _target(body), None, None, outcome=f"refused: {exc.what}")
            self._answer(console, request, verb, False, str(exc), key)
            return []
        except Exception as exc:  # a bug must not end the engine: refuse and say so
            self.count_error("internal", f"action/{verb[:40]}", f"{type(exc).__name__}: {exc}")
            log.exception("engine: error while applying %s", verb[:40])
            self._answer(console, request, verb, False,
                         f"internal error ({type(exc).__name__}): the action may not have been applied", key)
            return []
        self._answer(console, request, verb, True, "done", key)
        return changed

    def _identity(self, action: Action, claimed: object) -> str:
        """Who acts: the account the broker authenticated, allowed by its role; without logins, the name given.

        With an account store (`accounts`), an action counts only on ``action/{verb}/{user}`` (the broker's ACL lets
        each account write only under its own name) and the operator is that user, whatever the payload claims.
        """
        verb = action.verb
        if self.accounts is None:  # no logins (the embedded default, a lab): the topic's user, else the payload's
            return short_text(action.user or claimed, "operator", limit=100, required=True)
        user = action.user
        if user is None:
            raise InputError(f"action/{verb[:40]}", "logins are required: publish on action/{verb}/{your user "
                                                    "name} as that user")
        try:
            role = self.accounts(user)
        except Exception as exc:
            raise InputError("the user store", f"cannot be read ({type(exc).__name__}): refused") from None
        if role is None:
            raise InputError(f"user {user}", "unknown or disabled account")
        if not allowed(role, verb):
            article = "an" if role[:1] in "aeiou" else "a"
            raise InputError(f"user {user}", f"{article} {role} may not {verb} ({DESCRIPTION.get(role, role)})")
        self._acting_role = role
        return user

    def _answer(self, console: str, request: str | None, verb: str, ok: bool, message: str,
                key: str | None = None) -> None:
        """Answer on ``action_result/{console}``; kept under `key` (the account and the request id) when given."""
        answer = {"request": request, "verb": verb[:40], "ok": ok, "message": message}
        if request is not None:
            key = key or request
            self.answers[key] = answer
            while len(self.answers) > ANSWERS_KEPT:
                self.answers.popitem(last=False)
            self._changes.requests[key] = (time.time(), answer)
        self._send(f"action_result/{console}", answer, retain=False)

    @staticmethod
    def _text(body: dict, key: str, where: str, required: bool = True) -> str:
        """An id from an action (alarm, order, unit): a safe name, else refused."""
        value = body.get(key)
        if value is None and not required:
            return ""
        return safe_name(value, f"{where}: {key}")

    def _apply(self, verb: str, body: dict, operator: str, now: float) -> list[Alarm]:
        system = self.alarms
        if verb not in VERBS:
            raise InputError(f"action {verb[:40]}", f"unknown action ({', '.join(VERBS)})")
        if verb in INCIDENT_VERBS and body.get("incident_id") is not None:
            return self._incident_action(verb, body, operator, now)
        if verb == "ack":
            ids = body.get("alarm_ids") or [body.get("alarm_id")]
            if not isinstance(ids, list) or not ids or not all(is_safe_name(i) for i in ids) or len(ids) > 10000:
                raise InputError("ack", "alarm_ids must be a list of alarm ids")
            ids = list(dict.fromkeys(ids))  # an id twice is acknowledged once
            for alarm_id in ids:  # check all first: a bad id in the list changes nothing
                state = system.get(alarm_id).state
                if state not in (AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN):
                    raise InputError(f"alarm {alarm_id}", f"cannot be acknowledged in state {state.value}")
            out = []
            for alarm_id in ids:
                before = system.alarms[alarm_id].state.value
                alarm = system.acknowledge(alarm_id, operator, now)
                self._record(operator, "ack", alarm_id, {"state": before}, {"state": alarm.state.value})
                out.append(alarm)
            self._acknowledged(out, operator, now)
            return out
        if verb in ("unit_status", "close"):
            return self._order_action(verb, body, operator, now)
        if verb == "override":
            return self._override(body, operator, now)
        alarm = system.get(self._text(body, "alarm_id", verb))
        if verb == "shelve":
            minutes = body.get("minutes")
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes):
                raise InputError("shelve", "minutes must be a number")
            reason = short_text(body.get("reason"), "shelve reason", limit=500)
            before = alarm.state.value
            system.shelve(alarm.id, operator, reason, now + 60.0 * minutes, now)
            self._record(operator, "shelve", alarm.id, {"state": before},
                         {"state": alarm.state.value, "until": alarm.shelved_until, "reason": alarm.shelve_reason})
        elif verb == "unshelve":
            system.unshelve(alarm.id, now)
            self._record(operator, "unshelve", alarm.id, {"state": "shelved"}, {"state": alarm.state.value})
        elif verb in ("suppress", "out_of_service"):
            on = body.get("on", True)
            if not isinstance(on, bool):
                raise InputError(verb, "on must be true or false")
            before = alarm.state.value
            (system.suppress if verb == "suppress" else system.out_of_service)(alarm.id, on, now)
            self._record(operator, verb, alarm.id, {"state": before}, {"state": alarm.state.value})
        elif verb == "comment":
            system.comment(alarm.id, operator, short_text(body.get("text"), "comment"), now)
            self._record(operator, "comment", alarm.id, None, {"text": alarm.comments[-1]["text"]})
            incident = self.incidents.incidents.get(self.incidents.of_alarm.get(alarm.id, ""))
            if incident is not None:
                incident.note(now, "comment", f"{alarm.source}: {alarm.comments[-1]['text']}", operator)
                self._touch(incident)
        else:  # dispatch: the alarm's incident gets the order
            incident = self.incidents.incidents.get(self.incidents.of_alarm.get(alarm.id, ""))
            if incident is None:
                raise InputError(f"alarm {alarm.id}", "belongs to no open incident")
            return self._incident_action("dispatch", {**body, "incident_id": incident.id}, operator, now)
        if verb in ("shelve", "unshelve", "suppress", "out_of_service"):
            incident = self.incidents.incidents.get(self.incidents.of_alarm.get(alarm.id, ""))
            if incident is not None:
                incident.note(now, "shelve", f"{alarm.source}: {verb.replace('_', ' ')} → {alarm.state.value}",
                              operator)
                self._touch(incident)
        return [alarm]

    def _override(self, body: dict, operator: str, now: float) -> list[Alarm]:
        """A supervisor overrides a linked action: an actuator commanded by hand (a fan off, an elevator back)."""
        if self.actuators is None:
            raise InputError("override", "this engine sends no commands")
        device = self._text(body, "device_id", "override")
        action = body.get("action")
        if action not in OVERRIDE_ACTIONS:
            raise InputError("override", f"action must be one of {', '.join(OVERRIDE_ACTIONS)}")
        reason = short_text(body.get("reason"), "override reason", limit=500, required=True)
        row = int(self.index.rows_of_ids([device])[0])
        if row < 0 or str(self.alarms.kinds[row]) not in ("fan", "disinfection", "elevator"):
            raise InputError(f"device {device}", "is not an actuator the engine commands (fan, disinfection, "
                                                 "elevator)")
        command = Command(device, row, action, f"override by {operator}: {reason}",
                          {"on": 1.0, "off": 0.0, "recall": 2.0}[action])
        pending = PendingCommand(command, f"C{uuid.uuid4().hex[:12]}", now, "")
        pending.confirmed = True  # a manual command raises no unconfirmed alarm; its effect is seen live
        self._changes.commands[pending.id] = pending.to_record()
        self._send(f"cmd/{device}", self._command_json(pending), retain=False)
        self._record(operator, "override", device, None, {"id": pending.id, "action": action, "reason": reason})
        for incident in self.incidents.incidents.values():  # the incidents that commanded it say so
            if any(c["device_id"] == device for c in incident.commands):
                incident.note(now, "command", f"{device} {action} by hand (override): {reason}", operator)
                self._touch(incident)
        return []

    def _acknowledged(self, alarms: list[Alarm], operator: str, now: float) -> None:
        """Alarms acknowledged one by one: an incident with none left unacknowledged is acknowledged."""
        book = self.incidents
        for incident in {book.of_alarm.get(a.id, ""): None for a in alarms}:
            found = book.incidents.get(incident)
            if found is None:
                continue
            self._touch(found)
            left = any(self.alarms.alarms[a].state in (AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN)
                       for a in found.alarms if a in self.alarms.alarms)
            if not left and found.ack_ts is None:
                found.ack_by, found.ack_ts = operator, now
                found.note(now, "ack", "Acknowledged (its alarms one by one)", operator)

    def _incident_action(self, verb: str, body: dict, operator: str, now: float) -> list[Alarm]:
        """Acknowledge, comment, shelve, dispatch or close a whole incident."""
        incident = self.incidents.get(self._text(body, "incident_id", verb))
        system = self.alarms
        live = [system.alarms[a] for a in incident.alarms if a in system.alarms]
        self._touch(incident)
        if verb == "ack":
            unacked = [a for a in live if a.state in (AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN)]
            if not unacked and incident.ack_ts is not None:
                raise InputError(f"incident {incident.id}", "is already acknowledged")
            for alarm in unacked:
                before = alarm.state.value
                system.acknowledge(alarm.id, operator, now)
                self._record(operator, "ack", alarm.id, {"state": before}, {"state": alarm.state.value})
            if incident.ack_ts is None:
                incident.ack_by, incident.ack_ts = operator, now
            incident.note(now, "ack", f"Acknowledged ({len(unacked)} alarm(s))", operator)
            self._record(operator, "ack", incident.id, None, {"alarms": len(unacked)})
            return unacked
        if verb == "comment":
            text = short_text(body.get("text"), "comment", required=True)
            incident.note(now, "comment", text, operator)
            self._record(operator, "comment", incident.id, None, {"text": text})
            return []
        if verb == "shelve":
            minutes = body.get("minutes")
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes):
                raise InputError("shelve", "minutes must be a number")
            reason = short_text(body.get("reason"), "shelve reason", limit=500, required=True)
            shelvable = [a for a in live if a.state not in (AlarmState.SHELVED, AlarmState.OUT_OF_SERVICE)]
            if not shelvable:
                raise InputError(f"incident {incident.id}", "has no alarm left to shelve")
            for alarm in shelvable:  # the checks of the first apply to all: same expiry, same reason
                system.shelve(alarm.id, operator, reason, now + 60.0 * minutes, now)
            incident.note(now, "shelve", f"Shelved {len(shelvable)} alarm(s) for {minutes:g} min: {reason}", operator)
            self._record(operator, "shelve", incident.id, None, {"alarms": len(shelvable), "minutes": minutes,
                                                                 "reason": reason})
            return shelvable
        if verb == "dispatch":
            return self._dispatch_incident(incident, body, operator, now)
        return self._close_incident(incident, operator, now, short_text(body.get("result"), "close result") or None)

    def _dispatch_incident(self, incident: Incident, body: dict, operator: str, now: float) -> list[Alarm]:
        units = body.get("units")
        if units is None and body.get("unit") is not None:
            units = [body.get("unit")]
        if units is not None and (not isinstance(units, list) or not 0 < len(units) <= 10
                                  or not all(is_safe_name(u) for u in units)):
            raise InputError("dispatch", "units must be a list of 1 to 10 unit ids")
        rule = self._rule(incident)
        open_order = self.dispatcher.open_order_of(incident.id)
        if open_order is not None:
            raise InputError(f"incident {incident.id}", f"already has the open order {open_order.id} "
                                                        f"({', '.join(open_order.units)})")
        why = "chosen by the operator"
        if not units:
            proposal = self.dispatcher.propose(rule, len(incident.sources) >= 2)
            if not proposal.units:
                raise InputError(f"incident {incident.id}", f"no unit proposed: {proposal.why}")
            units, why = [u.id for u in proposal.units], proposal.why
        order = self.dispatcher.dispatch(incident.id, incident.first_out, units, operator, now, rule)
        self._order_made(incident, order, operator, now, why)
        return []

    def _close_incident(self, incident: Incident, operator: str, now: float, result: str | None) -> list[Alarm]:
        """Close an incident once its units are done, its alarms acknowledged and its devices back to normal."""
        system = self.alarms
        live = [system.alarms[a] for a in incident.alarms if a in system.alarms]
        where = f"incident {incident.id}"
        for order_id, status in incident.order_status.items():
            if status in OPEN_ORDER:
                raise InputError(where, f"order {order_id} is still {status}: its unit must report done first")
        unacked = [a for a in live if a.state in (AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN)]
        if unacked:
            raise InputError(where, f"{len(unacked)} alarm(s) not acknowledged: acknowledge it first")
        ignored = (AlarmState.OUT_OF_SERVICE, AlarmState.SUPPRESSED)  # maintenance or design decided on these
        active = [a for a in live if a.active and a.is_device and a.condition != "offline" and a.state not in ignored]
        offline = [a for a in live if a.active and a.condition == "offline"]
        if active or offline:
            first = (active or offline)[0]
            raise InputError(where, f"{len(active) + len(offline)} alarm(s) still active (first: "
                                    f"{alarm_text(first.kind, first.condition)} {first.source}): it stays open "
                                    "until they clear")
        done = [o for o, status in incident.order_status.items() if status == "done"]
        results = [self.dispatcher.orders[o].result for o in done if o in self.dispatcher.orders]
        result = result or next((r for r in reversed(results) if r), None) or incident.result
        if not result:
            raise InputError(where, "closing needs its result: what was found and done")
        for order_id in done:
            if order_id in self.dispatcher.orders:
                order = self.dispatcher.close(order_id, operator, now)
                self._record(operator, "close", order_id, {"status": "done"}, {"status": "closed"})
                self._publish_order(order)
        changed = []
        for alarm in live:
            if alarm.active and not alarm.is_device:  # events end with their incident
                system.close_event(alarm.id, now)
                changed.append(alarm)
        self.incidents.close(incident, operator, now, result)
        self._record(operator, "close", incident.id, {"state": "open"}, {"state": "closed", "result": result})
        return changed

    def _order_action(self, verb: str, body: dict, operator: str, now: float) -> list[Alarm]:
        order = self.dispatcher.get(self._text(body, "order_id", verb))
        if self._acting_role == "unit":  # a field unit reports on its own orders only, and cannot cancel them
            if operator not in (order.units or [order.unit]):
                raise InputError(f"order {order.id}", f"unit {operator} is not on this order")
            if body.get("status") == "cancelled":
                raise InputError(f"order {order.id}", "a unit cannot cancel its order: the operator does")
        if verb == "unit_status":
            status = body.get("status")
            if status not in UNIT_REPORTS:
                raise InputError(f"order {order.id}", f"status must be one of {', '.join(UNIT_REPORTS)}")
            result = short_text(body.get("result"), "result") or None
            before = order.status
            self.dispatcher.update(order.id, status, operator, now, result)
            self._record(operator, "unit_status", order.id, {"status": before}, order.to_json())
            incident = self.incidents.incidents.get(order.incident_id)
            if incident is not None:
                names = ", ".join(order.units or [order.unit])
                text = f"{names} {status.replace('_', ' ')}" + (f": {result}" if result else "")
                incident.note(now, "result" if status == "done" else "unit", text, operator)
                if status == "on_scene" and incident.on_scene_ts is None:
                    incident.on_scene_ts = now
                if result:
                    incident.result = result
            self._publish_order(order)
            return []
        incident = self.incidents.incidents.get(order.incident_id)
        if incident is not None and order.status == "done":  # closing the order closes its incident if it can
            try:
                return self._close_incident(incident, operator, now, None)
            except InputError as exc:
                incident.note(now, "closed", f"Order {order.id} closed; the incident stays open: {exc.what}",
                              operator)
        self.dispatcher.close(order.id, operator, now)
        self._record(operator, "close", order.id, {"status": "done"}, {"status": "closed"})
        self._publish_order(order)
        return []

    # -- views --------------------------------------------------------------------------------------
    def kpis(self, now: float) -> dict:
        """Incident KPIs of the last week, the alarm rate beside them."""
        week = now - 7 * 86400.0
        if len(self._kpi_records) > 1000:
            self._kpi_records = {k: r for k, r in self._kpi_records.items() if (r.get("raised") or 0) >= week}
        hour = sum(1 for t in self.raised_times if now - t <= 3600.0)
        return {**kpis(self._kpi_records.values(), now), "alarms_per_hour": hour,
                "open_incidents": len(self.incidents.incidents)}

    def readings_per_s(self) -> float:
        """Readings applied per second over the last 5 s."""
        if len(self._window) < 2:
            return 0.0
        span = self._window[-1][0] - self._window[0][0]
        return sum(n for _, n in list(self._window)[1:]) / span if span > 0 else 0.0

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
                "uptime_s": round(time.time() - self.started, 1), "steps": self.steps,
                "incidents": len(self.incidents.incidents),
                "max_step_ms": round(self.max_step_s * 1000.0, 1)}
