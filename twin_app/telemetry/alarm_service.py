"""The alarm side of the engine: rules, linked actions, dispatch, and their MQTT faces.

Runs wherever the engine runs (`twin-app serve`, or in-process in a console with ``--engine local``): each step
evaluates the rules on the state store, sends linked commands on ``cmd/`` and watches for their confirmation,
dispatches where the matrix says so, escalates overdue orders, applies operator actions from ``action/``, and
publishes alarms and orders retained on ``alarm/`` and ``dispatch/`` so every console shows the same list.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from twin_app.core.actions import CONFIRM_AFTER_S, Command, linked_commands
from twin_app.core.alarms import Alarm, AlarmEngine, AlarmState, Priority
from twin_app.core.audit import AuditLog
from twin_app.core.dispatch import Dispatcher
from twin_app.core.errors import InputError
from twin_app.telemetry.engine import StepResult, TelemetryEngine

log = logging.getLogger("twin_app.alarms")
SYSTEM = "system"


@dataclass
class PendingCommand:
    command: Command
    id: str
    sent_ts: float
    alarm_id: str
    confirmed: bool = False


class AlarmService:
    """Alarm engine, linked actions and dispatch on top of a `TelemetryEngine`.

    Parameters
    ----------
    engine
        The telemetry engine (its client publishes; it must subscribe to the ``action`` channel).
    audit
        Where operator and system actions are recorded.
    """

    def __init__(self, engine: TelemetryEngine, audit: AuditLog | None = None,
                 dispatcher: Dispatcher | None = None) -> None:
        self.engine = engine
        self.index = engine.index
        self.alarms = AlarmEngine(engine.store)
        self.dispatcher = dispatcher or Dispatcher()
        self.audit = audit
        self.root = engine.ingest.root
        self.pending: list[PendingCommand] = []
        self.raised_times: list[float] = []
        self.action_errors: list[str] = []
        self._kpi_published = 0.0
        self._kpi_dirty = True

    # -- publishing ---------------------------------------------------------------------------------
    def _publish(self, topic: str, payload: dict | None, retain: bool = True) -> None:
        if self.engine.client is not None:
            self.engine.client.publish(f"{self.root}/{topic}", payload, qos=1, retain=retain)

    def _publish_alarm(self, alarm: Alarm) -> None:
        payload = alarm.to_json()
        host = alarm.host_element
        model = self.index.model
        if host >= 0:
            payload["building"] = str(model.name[model.building[host]]) if model.building[host] >= 0 else None
            payload["storey"] = str(model.name[model.storey[host]]) if model.storey[host] >= 0 else None
        rule, unit = self.dispatcher.propose(alarm)
        payload["proposed"] = {"party": rule.party, "unit": unit.id if unit else None,
                               "deadline_min": rule.deadline_min}
        self._publish(f"alarm/{alarm.id}", payload)

    def _publish_order(self, order) -> None:
        self._publish(f"dispatch/{order.id}", order.to_json())

    def _record(self, operator: str, action: str, target: str, before: object, after: object,
                outcome: str = "ok") -> None:
        if self.audit is not None:
            self.audit.record(operator, action, target, before, after, outcome)

    # -- the step -----------------------------------------------------------------------------------
    def step(self, result: StepResult, now: float | None = None) -> list[Alarm]:
        """Apply one engine step's outcome; returns the alarms that changed."""
        now = time.time() if now is None else now
        changed: dict[str, Alarm] = {}
        for event in result.events:
            alarm = self._event(event, now)
            if alarm is not None:
                changed[alarm.id] = alarm
        for alarm in self.alarms.evaluate(now, result.device_state):
            changed[alarm.id] = alarm
        for alarm in list(changed.values()):
            if alarm.state == AlarmState.UNACK_ACTIVE and alarm.raised_ts == now:
                self.raised_times.append(now)
                self._linked_actions(alarm, now)
                self._auto_dispatch(alarm, now)
        for alarm in self._confirmations(now):
            changed[alarm.id] = alarm
        for order in self.dispatcher.overdue(now):
            self._record(SYSTEM, "escalate", order.id, {"status": "dispatched"}, order.to_json())
            self._publish_order(order)
        for verb, body in result.actions:
            for alarm in self.apply_action(verb, body, now):
                changed[alarm.id] = alarm
        for alarm in changed.values():
            self._publish_alarm(alarm)
        self._kpi_dirty |= bool(changed) or bool(result.actions)
        if self._kpi_dirty and now - self._kpi_published >= 2.0:  # retained, for every console
            self._publish("kpi/summary", {**self.kpis(now), "ts": now, "flood": self.alarms.flood(now),
                                          "rate_per_10min": self.alarms.rate_per_10min(now)})
            self._kpi_published, self._kpi_dirty = now, False
        return list(changed.values())

    def _event(self, event: dict, now: float) -> Alarm | None:
        model = self.index.model
        if event.get("host_global_id"):
            host = model.index_of(str(event["host_global_id"]))
        else:
            row = int(self.index.rows_of_ids([str(event.get("device_id"))])[0])
            host = int(self.index.host_element[row]) if row >= 0 else -1
        if host < 0:
            self.engine.ingest.count_error("unknown_event_source", f"{self.root}/event",
                                      f"event {event.get('id')} names no known device or element")
            return None
        return self.alarms.raise_event(event, host, str(model.global_id[host]), now)

    def _linked_actions(self, alarm: Alarm, now: float) -> None:
        for command in linked_commands(alarm, self.index):
            pending = PendingCommand(command, f"C{uuid.uuid4().hex[:10]}", now, alarm.id)
            self.pending.append(pending)
            self._publish(f"cmd/{command.device_id}", {"id": pending.id, "ts": now, "action": command.action,
                                                       "reason": command.reason}, retain=False)
            self._record(SYSTEM, f"cmd:{command.action}", command.device_id, None,
                         {"id": pending.id, "alarm": alarm.id})

    def _confirmations(self, now: float) -> list[Alarm]:
        """A command is confirmed when its actuator reports the commanded state; else its own alarm rises."""
        changed = []
        store = self.engine.store
        for pending in self.pending:
            if pending.confirmed:
                continue
            row = pending.command.row
            if store.ts[row] >= pending.sent_ts and store.value[row] == pending.command.confirm_value:
                pending.confirmed = True
                self._record(SYSTEM, "cmd:confirmed", pending.command.device_id, None, {"id": pending.id})
            elif now - pending.sent_ts > CONFIRM_AFTER_S:
                host = int(self.index.host_element[row])
                alarm = self.alarms.raise_condition(
                    f"{pending.command.device_id}:action_unconfirmed", pending.command.device_id,
                    "action_unconfirmed", str(self.index.devices["kind"].iat[row]), Priority.HIGH, host,
                    str(self.index.devices["host_global_id"].iat[row]), True, now)
                pending.confirmed = True  # raised once
                changed.append(alarm)
        self.pending = [p for p in self.pending if not p.confirmed or now - p.sent_ts < 3600]
        return changed

    def _auto_dispatch(self, alarm: Alarm, now: float) -> None:
        rule, unit = self.dispatcher.propose(alarm)
        if rule.auto and unit is not None:
            order = self.dispatcher.dispatch(alarm, unit.id, SYSTEM, now)
            self._record(SYSTEM, "dispatch", alarm.id, None, order.to_json())
            self._publish_order(order)

    # -- operator actions ---------------------------------------------------------------------------
    def apply_action(self, verb: str, body: dict, now: float) -> list[Alarm]:
        """Apply one operator action (from ``action/{verb}``); bad input is refused, recorded and changes nothing."""
        operator = str(body.get("operator", "")).strip()
        target = str(body.get("alarm_id") or body.get("order_id") or body.get("alarm_ids") or "?")
        try:
            return self._apply(verb, body, operator, now)
        except InputError as exc:
            message = str(exc)
            self.action_errors.append(message)
            log.warning("refused %s by %s: %s", verb, operator or "?", message)
            self._record(operator or "?", verb, target, None, None, outcome=f"refused: {exc.what}")
            self._publish(f"action_result/{body.get('console', 'console')}",
                          {"request": body.get("request"), "verb": verb, "ok": False, "message": message},
                          retain=False)
            return []

    def _apply(self, verb: str, body: dict, operator: str, now: float) -> list[Alarm]:
        engine = self.alarms
        if verb == "ack":
            ids = body.get("alarm_ids") or [body.get("alarm_id")]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise InputError("ack", "alarm_ids must be a list of alarm ids")
            for alarm_id in ids:  # check all first: a bad id in the list changes nothing
                if alarm_id not in engine.alarms:
                    raise InputError(f"alarm {alarm_id}", "no such alarm (it may have been removed)")
            out = []
            for alarm_id in ids:
                before = engine.alarms[alarm_id].state.value
                alarm = engine.acknowledge(alarm_id, operator, now)
                self.dispatcher.note_ack(alarm, now)
                self._record(operator, "ack", alarm_id, {"state": before}, {"state": alarm.state.value})
                out.append(alarm)
            return out
        alarm_id = body.get("alarm_id")
        if verb == "shelve":
            minutes = body.get("minutes")
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
                raise InputError("shelve", "minutes must be a number")
            before = engine.get(str(alarm_id)).state.value
            alarm = engine.shelve(str(alarm_id), operator, str(body.get("reason", "")), now + 60.0 * minutes, now)
            self._record(operator, "shelve", alarm.id, {"state": before},
                         {"state": alarm.state.value, "until": alarm.shelved_until, "reason": alarm.shelve_reason})
            return [alarm]
        if verb == "unshelve":
            alarm = engine.unshelve(str(alarm_id), now)
            self._record(operator, "unshelve", alarm.id, {"state": "shelved"}, {"state": alarm.state.value})
            return [alarm]
        if verb in ("suppress", "out_of_service"):
            on = body.get("on", True)
            if not isinstance(on, bool):
                raise InputError(verb, "on must be true or false")
            before = engine.get(str(alarm_id)).state.value
            method = engine.suppress if verb == "suppress" else engine.out_of_service
            alarm = method(str(alarm_id), on, now)
            self._record(operator, verb, alarm.id, {"state": before}, {"state": alarm.state.value})
            return [alarm]
        if verb == "comment":
            alarm = engine.comment(str(alarm_id), operator, str(body.get("text", "")), now)
            self._record(operator, "comment", alarm.id, None, {"text": alarm.comments[-1]["text"]})
            return [alarm]
        if verb == "dispatch":
            alarm = engine.get(str(alarm_id))
            unit = body.get("unit")
            if not unit:
                proposed = self.dispatcher.propose(alarm)[1]
                unit = proposed.id if proposed is not None else None
            if unit is None:
                raise InputError(f"alarm {alarm_id}", "no unit of the responsible party is available")
            order = self.dispatcher.dispatch(alarm, str(unit), operator, now)
            self._record(operator, "dispatch", alarm.id, None, order.to_json())
            self._publish_order(order)
            return [alarm]
        if verb == "unit_status":
            order_id = str(body.get("order_id"))
            before = self.dispatcher.get(order_id).status
            order = self.dispatcher.update(order_id, str(body.get("status")), operator, now, body.get("result"))
            self._record(operator, "unit_status", order.id, {"status": before}, order.to_json())
            self._publish_order(order)
            return []
        if verb == "close":
            order = self.dispatcher.close(str(body.get("order_id")), operator, now)
            self._record(operator, "close", order.id, {"status": "done"}, {"status": "closed"})
            self._publish_order(order)
            alarm = engine.alarms.get(order.alarm_id)
            if alarm is not None and alarm.condition.startswith("event:"):
                engine.close_event(alarm.id, now)
                return [alarm]
            return []
        raise InputError(f"action {verb}", "unknown action (ack, shelve, unshelve, suppress, out_of_service, "
                                          "comment, dispatch, unit_status, close)")

    def kpis(self, now: float) -> dict:
        return self.dispatcher.kpis(self.raised_times, now)
