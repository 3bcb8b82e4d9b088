"""Alarms: rules evaluated on the state store's arrays, and the ISA-18.2 lifecycle of each alarm.

Limit conditions are evaluated for all devices at once (deadband, on-delay); only the few alarms whose
condition changed are touched one by one.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, fields
from enum import IntEnum, StrEnum

import numpy as np

from twin_app.core.errors import InputError
from twin_app.core.state import DeviceState, StateStore

CHATTER_WINDOW_S = 60.0
CHATTER_ACTIVATIONS = 3
FLOOD_WINDOW_S = 600.0
EEMUA_MANAGEABLE_PER_10MIN = 1  # EEMUA 191: about one alarm per 10 minutes is manageable
EEMUA_FLOOD_PER_10MIN = 10  # ten or more per 10 minutes is a flood
FIRST_OUT_WINDOW_S = 60.0
MAX_SHELVE_S = 8 * 3600.0


class AlarmState(StrEnum):
    """ISA-18.2 alarm states (the values are the contract's names)."""

    UNACK_ACTIVE = "unack_active"
    ACK_ACTIVE = "ack_active"
    UNACK_RTN = "unack_rtn"
    NORMAL = "normal"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"


class Priority(IntEnum):
    """Alarm priority; a lower number is more urgent."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


# (kind, place) -> priority; place is taken from the host code in the device id ("" matches any place)
PRIORITY_RULES: tuple[tuple[str, str, Priority], ...] = (
    ("h2s", "SEP", Priority.CRITICAL), ("h2s", "SEW", Priority.CRITICAL), ("ch4", "SEP", Priority.CRITICAL),
    ("ch4", "SEW", Priority.CRITICAL), ("smoke", "A", Priority.CRITICAL), ("smoke", "", Priority.HIGH),
    ("gas_leak", "", Priority.CRITICAL), ("flame_detector", "", Priority.CRITICAL),
    ("manual_call_point", "", Priority.CRITICAL), ("heat_detector", "", Priority.CRITICAL),
    ("co", "GZ", Priority.HIGH), ("co", "", Priority.HIGH), ("elevator", "", Priority.HIGH),
    ("elevator_alarm_button", "", Priority.HIGH), ("panic_button", "", Priority.HIGH),
    ("door_forced", "", Priority.HIGH), ("o2", "", Priority.HIGH), ("h2s", "", Priority.HIGH),
    ("ch4", "", Priority.HIGH), ("water_leak", "", Priority.MEDIUM), ("water_pressure", "", Priority.MEDIUM),
    ("water_level", "", Priority.MEDIUM), ("pump", "", Priority.MEDIUM), ("fan", "", Priority.MEDIUM),
)
EVENT_PRIORITY = {"object_thrown_from_height": Priority.CRITICAL, "fire_detected": Priority.CRITICAL,
                  "smoke_detected": Priority.CRITICAL, "fall_detected": Priority.HIGH,
                  "fire_lane_blocked": Priority.HIGH, "elevator_trapped": Priority.HIGH,
                  "garbage_exposed": Priority.LOW, "intrusion": Priority.HIGH,
                  "resident_request": Priority.MEDIUM, "grid_report": Priority.MEDIUM}
ON_DELAY_S = {"temperature": 30.0, "humidity": 60.0, "water_pressure": 20.0, "water_level": 20.0, "co": 5.0,
              "co2": 30.0, "noise": 60.0, "pm25": 60.0, "pm10": 60.0, "elevator": 10.0}
DEFAULT_ON_DELAY_S = 2.0
DEADBAND_FRACTION = 0.05  # of the alarm limit
RATE_OF_RISE = {"co": 10.0 / 60.0, "ch4": 5.0 / 60.0, "h2s": 5.0 / 60.0}  # units per s
RATE_WINDOW_S = 30.0  # the rise is measured against a reference at least this old (noise averages out)
RATE_MIN_RISE = 0.2  # ... and must amount to this fraction of the alarm limit
STALE_ALARM_KINDS = ("co", "ch4", "h2s", "smoke", "gas_leak", "water_level")


def priority_for(kind: str, device_id: str) -> Priority:
    """Priority of an alarm on a device of `kind`, by the place its id names."""
    parts = device_id.split("-")
    place = parts[2] if len(parts) > 3 else ""
    for rule_kind, rule_place, prio in PRIORITY_RULES:
        if rule_kind == kind and (not rule_place or place.startswith(rule_place)):
            return prio
    return Priority.LOW


@dataclass
class Alarm:
    """One occurrence of an alarm (a condition of one source) and its lifecycle.

    A condition that returns after its occurrence went back to normal is a new occurrence with its own id,
    ``{source}:{condition}:{n}``, linked to the earlier one by `previous`.
    """

    id: str
    source: str  # device id, or the host GlobalId of an event
    condition: str  # hi, lo, stale, rate_of_rise, event:TYPE, action_unconfirmed
    kind: str
    priority: Priority
    host_element: int
    host_global_id: str
    state: AlarmState = AlarmState.NORMAL
    active: bool = False
    value: float = math.nan
    raised_ts: float = 0.0
    ack_by: str | None = None
    ack_ts: float | None = None
    rtn_ts: float | None = None
    shelved_until: float | None = None
    shelve_reason: str | None = None
    group: str | None = None
    chattering: bool = False
    activations: list[float] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    is_device: bool = True
    key: str = ""  # {source}:{condition}, shared by every occurrence
    occurrence: int = 1
    previous: str | None = None  # the id of the earlier occurrence
    handled: bool = False  # its linked actions and automatic dispatch are done (once per occurrence)
    row: int = -1  # the device's registry row (-1: not a device, or not known)

    @property
    def finished(self) -> bool:
        """Acknowledged and back to normal: the occurrence is over (a return is a new occurrence)."""
        return self.state == AlarmState.NORMAL and not self.active

    def to_record(self) -> dict:
        """Everything about the occurrence, for the engine's database."""
        out = {name: getattr(self, name) for name in _ALARM_FIELDS}
        out["activations"] = list(self.activations)
        out["comments"] = [dict(c) for c in self.comments]
        out["state"] = self.state.value
        out["priority"] = int(self.priority)
        out["value"] = None if math.isnan(self.value) else self.value
        return out

    @classmethod
    def from_record(cls, record: dict) -> Alarm:
        data = dict(record)
        data["state"] = AlarmState(data["state"])
        data["priority"] = Priority(int(data["priority"]))
        data["value"] = math.nan if data.get("value") is None else float(data["value"])
        return cls(**data)

    def to_json(self) -> dict:
        """The retained ``alarm/{id}`` payload of the contract."""
        out = {
            "id": self.id, "state": self.state.value, "priority": self.priority.name.lower(),
            "condition": self.condition, "kind": self.kind, "value": None if math.isnan(self.value) else self.value,
            "raised_ts": self.raised_ts, "ack_by": self.ack_by, "ack_ts": self.ack_ts, "rtn_ts": self.rtn_ts,
            "active": self.active, "group": self.group, "chattering": self.chattering,
            "shelved_until": self.shelved_until, "shelve_reason": self.shelve_reason,
            "host_global_id": self.host_global_id, "comments": self.comments,
            "occurrence": self.occurrence, "previous": self.previous,
        }
        out["device_id" if self.is_device else "event_source"] = self.source
        return out


_ALARM_FIELDS = tuple(f.name for f in fields(Alarm))


class AlarmSystem:
    """Evaluates alarm rules on a `StateStore` and keeps every alarm's ISA-18.2 state.

    Parameters
    ----------
    store
        The live state of every device.
    """

    def __init__(self, store: StateStore) -> None:
        self.store = store
        devices = store.index.devices
        self.device_ids = devices["device_id"].astype(str).to_numpy()
        self.host_global_ids = devices["host_global_id"].astype(str).to_numpy()
        names = np.asarray(list(store.kind_names), dtype=object)
        self.kinds = names[store.kind_codes]
        self.alarm_high = devices["alarm_high"].to_numpy(np.float64)
        self.alarm_low = devices["alarm_low"].to_numpy(np.float64)
        self.deadband_hi = np.abs(self.alarm_high) * DEADBAND_FRACTION
        self.deadband_lo = np.abs(self.alarm_low) * DEADBAND_FRACTION
        per_kind = store.kind_codes  # per-kind settings looked up once per kind, not once per device
        self.on_delay = np.array([ON_DELAY_S.get(k, DEFAULT_ON_DELAY_S) for k in names] or [0.0])[per_kind]
        n = len(devices)
        self.hi_active = np.zeros(n, dtype=bool)
        self.lo_active = np.zeros(n, dtype=bool)
        self.hi_pending = np.full(n, np.nan)
        self.lo_pending = np.full(n, np.nan)
        self.stale_active = np.zeros(n, dtype=bool)
        self.stale_watch = np.isin(names, STALE_ALARM_KINDS)[per_kind] if len(names) else np.zeros(n, dtype=bool)
        self.rate_limit = np.array([RATE_OF_RISE.get(k, np.inf) for k in names] or [np.inf])[per_kind]
        self.rate_active = np.zeros(n, dtype=bool)
        self._prev_value = np.full(n, np.nan)
        self._prev_ts = np.zeros(n)
        self.alarms: dict[str, Alarm] = {}  # live occurrences by id (finished ones are dropped by `forget`)
        self.current: dict[str, Alarm] = {}  # the latest occurrence of each key
        self.occurrences: dict[str, int] = {}  # occurrences so far of each key (restored from the database)
        self.activation_times: deque[float] = deque()
        self.chatter_count = 0
        self._first: dict[int, Alarm] = {}  # per storey: the first-out alarm of the current burst

    # -- rules --------------------------------------------------------------------------------------
    def evaluate(self, now: float, device_state: np.ndarray | None = None) -> list[Alarm]:
        """Evaluate every rule at `now`; returns the alarms whose state changed."""
        store = self.store
        value = store.value
        reported = store.ts > 0
        changed: list[Alarm] = []
        with np.errstate(invalid="ignore"):
            raw_hi = reported & (value >= self.alarm_high)
            clear_hi = reported & (value < self.alarm_high - self.deadband_hi)
            raw_lo = reported & (value <= self.alarm_low)
            clear_lo = reported & (value > self.alarm_low + self.deadband_lo)
        for raw, clear, active, pending, name in ((raw_hi, clear_hi, self.hi_active, self.hi_pending, "hi"),
                                                  (raw_lo, clear_lo, self.lo_active, self.lo_pending, "lo")):
            starting = raw & ~active
            pending[~raw] = np.nan
            fresh = starting & np.isnan(pending)
            pending[fresh] = now
            due = starting & (now - pending >= self.on_delay)
            ending = active & clear
            active[due] = True
            active[ending] = False
            pending[due] = np.nan
            changed += self._transitions(due, ending, name, now)
        # not updated for too long (on the kinds where silence is dangerous)
        if device_state is None:
            device_state = store.states(now)
        stale = self.stale_watch & (device_state == DeviceState.STALE)
        back = ~stale & self.stale_active & reported  # a restored stale alarm ends only on a fresh report
        changed += self._transitions(stale & ~self.stale_active, back, "stale", now)
        self.stale_active = (self.stale_active & ~back) | stale
        # rate of rise against a reference reading at least RATE_WINDOW_S old
        watched = np.isfinite(self.rate_limit) & reported
        first = watched & (self._prev_ts == 0)
        self._prev_value[first] = value[first]
        self._prev_ts[first] = store.ts[first]
        span = store.ts - self._prev_ts
        window = watched & ~first & (span >= RATE_WINDOW_S)
        with np.errstate(invalid="ignore", divide="ignore"):
            rise = value - self._prev_value
            rising = window & (rise / span > self.rate_limit) & (rise > RATE_MIN_RISE * np.abs(self.alarm_high))
        calm = window & ~rising
        changed += self._transitions(rising & ~self.rate_active, calm & self.rate_active, "rate_of_rise", now)
        self.rate_active = (self.rate_active & ~calm) | rising
        self._prev_value[window] = value[window]
        self._prev_ts[window] = store.ts[window]
        changed.extend(self._expire_shelving(now))
        return changed

    def _transitions(self, starting: np.ndarray, ending: np.ndarray, condition: str, now: float) -> list[Alarm]:
        """The alarms of the devices whose `condition` became active (`starting`) or returned (`ending`)."""
        out = [self._condition(int(row), condition, True, now) for row in np.flatnonzero(starting)]
        out += [self._condition(int(row), condition, False, now) for row in np.flatnonzero(ending)]
        return [a for a in out if a is not None]

    def _occurrence(self, key: str, active: bool, make) -> Alarm | None:
        """The live occurrence of `key`, a new one when its condition starts again after it finished.

        Returns None for a condition that returns while no occurrence is live (nothing to change).
        """
        alarm = self.current.get(key)
        if alarm is not None and not (alarm.finished and active):
            return alarm
        if not active:
            return None
        n = self.occurrences.get(key, 0) + 1
        self.occurrences[key] = n
        new: Alarm = make(f"{key}:{n}")
        new.key, new.occurrence = key, n
        new.previous = f"{key}:{n - 1}" if n > 1 else None
        if alarm is not None:
            new.activations = list(alarm.activations)
            new.chattering = alarm.chattering
        self.current[key] = new
        self.alarms[new.id] = new
        return new

    def _condition(self, row: int, condition: str, active: bool, now: float) -> Alarm | None:
        device_id = str(self.device_ids[row])
        index = self.store.index

        def make(alarm_id: str) -> Alarm:
            kind = str(self.kinds[row])
            prio = priority_for(kind, device_id)
            if condition == "rate_of_rise":  # a silent detector keeps the priority of what it guards
                prio = Priority(min(int(prio) + 1, int(Priority.LOW)))
            return Alarm(alarm_id, device_id, condition, kind, prio, int(index.host_element[row]),
                         str(self.host_global_ids[row]), row=row)

        alarm = self._occurrence(f"{device_id}:{condition}", active, make)
        if alarm is None:
            return None
        alarm.value = float(self.store.value[row])
        self.set_condition(alarm, active, now)
        return alarm

    def raise_event(self, event: dict, host_element: int, host_global_id: str, now: float) -> Alarm:
        """An event (an AI camera's fall_detected, say) becomes an active alarm until it is closed."""
        event_type = str(event["type"])
        key = f"event:{event['id']}"
        if key in self.occurrences:  # the same event again (a redelivery, before or after a restart)
            return self.current.get(key)

        def make(alarm_id: str) -> Alarm:
            alarm = Alarm(alarm_id, str(event.get("device_id") or event.get("host_global_id")), f"event:{event_type}",
                          event_type, EVENT_PRIORITY.get(event_type, Priority.MEDIUM), host_element, host_global_id,
                          is_device=False)
            alarm.value = float(event.get("confidence") or math.nan)
            return alarm

        alarm = self._occurrence(key, True, make)
        assert alarm is not None
        self.set_condition(alarm, True, now)
        return alarm

    def raise_condition(self, key: str, source: str, condition: str, kind: str, priority: Priority,
                        host_element: int, host_global_id: str, active: bool, now: float) -> Alarm | None:
        """Raise or clear an alarm that is not a device limit (an unconfirmed linked action, say); `key` names it."""
        alarm = self._occurrence(key, active, lambda alarm_id: Alarm(alarm_id, source, condition, kind, priority,
                                                                   host_element, host_global_id))
        if alarm is not None:
            self.set_condition(alarm, active, now)
        return alarm

    # -- lifecycle ----------------------------------------------------------------------------------
    def set_condition(self, alarm: Alarm, active: bool, now: float) -> None:
        """The alarm's condition became active or returned to normal: ISA-18.2 transitions."""
        was = alarm.active
        alarm.active = active
        if active and not was:
            alarm.activations.append(now)
            alarm.activations = [t for t in alarm.activations if now - t <= CHATTER_WINDOW_S]
            if len(alarm.activations) >= CHATTER_ACTIVATIONS and not alarm.chattering:
                alarm.chattering = True
                self.chatter_count += 1
            self.activation_times.append(now)
            self._prune_activations(now)
        if alarm.state in (AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE):
            return  # the condition is followed, the state waits
        if active:
            if alarm.state in (AlarmState.NORMAL, AlarmState.UNACK_RTN):
                alarm.state = AlarmState.UNACK_ACTIVE
                alarm.raised_ts = now
                alarm.ack_by = alarm.ack_ts = alarm.rtn_ts = None
                alarm.group = self._first_out(alarm, now)
        else:
            if alarm.state == AlarmState.UNACK_ACTIVE:
                alarm.state = AlarmState.UNACK_RTN
                alarm.rtn_ts = now
            elif alarm.state == AlarmState.ACK_ACTIVE:
                alarm.state = AlarmState.NORMAL
                alarm.rtn_ts = now

    def _prune_activations(self, now: float) -> None:
        while self.activation_times and now - self.activation_times[0] > FLOOD_WINDOW_S:
            self.activation_times.popleft()

    def _first_out(self, alarm: Alarm, now: float) -> str:
        """Group with the first alarm of the storey's current burst (raised within the last minute, still active).

        Constant time per alarm: each storey keeps its burst's first alarm.
        """
        model = self.store.index.model
        storey = int(model.storey[alarm.host_element]) if alarm.host_element >= 0 else -1
        first = self._first.get(storey)
        if (first is not None and first is not alarm and now - first.raised_ts <= FIRST_OUT_WINDOW_S
                and first.state in (AlarmState.UNACK_ACTIVE, AlarmState.ACK_ACTIVE)):
            return first.group or first.id
        self._first[storey] = alarm
        return alarm.id

    def forget(self, alarm: Alarm) -> None:
        """Drop a finished occurrence from the live set (it stays the key's latest, for the next occurrence)."""
        if alarm.finished:
            self.alarms.pop(alarm.id, None)
            if not alarm.is_device:  # an event never returns: its key stays only in `occurrences`
                self.current.pop(alarm.key, None)

    def restore(self, alarms: list[Alarm]) -> None:
        """Take back live occurrences from the engine's database; their conditions count as still active."""
        flags = {"hi": self.hi_active, "lo": self.lo_active, "stale": self.stale_active,
                 "rate_of_rise": self.rate_active}
        device_alarms = [a for a in alarms if a.is_device and a.active and a.condition in flags]
        rows = self.store.index.rows_of_ids([a.source for a in device_alarms]) if device_alarms else []
        for alarm in alarms:
            self.alarms[alarm.id] = alarm
            self.current[alarm.key] = alarm
            self.occurrences[alarm.key] = max(self.occurrences.get(alarm.key, 0), alarm.occurrence)
        for alarm, row in zip(device_alarms, rows, strict=True):
            if row >= 0:
                flags[alarm.condition][int(row)] = True

    def get(self, alarm_id: str) -> Alarm:
        """The alarm with this id; `InputError` when there is none."""
        alarm = self.alarms.get(alarm_id)
        if alarm is None:
            raise InputError(f"alarm {alarm_id}", "no such alarm (it may have been removed)")
        return alarm

    def acknowledge(self, alarm_id: str, operator: str, now: float) -> Alarm:
        """Acknowledge: unack_active -> ack_active, unack_rtn -> normal."""
        if not operator:
            raise InputError("acknowledge", "the operator's identity is required")
        alarm = self.get(alarm_id)
        if alarm.state == AlarmState.UNACK_ACTIVE:
            alarm.state = AlarmState.ACK_ACTIVE
        elif alarm.state == AlarmState.UNACK_RTN:
            alarm.state = AlarmState.NORMAL
        else:
            raise InputError(f"alarm {alarm_id}", f"cannot be acknowledged in state {alarm.state.value}")
        alarm.ack_by, alarm.ack_ts = operator, now
        return alarm

    def shelve(self, alarm_id: str, operator: str, reason: str, until: float, now: float) -> Alarm:
        """Shelve with a reason and an expiry (at most 8 hours); the alarm returns by itself when it expires."""
        alarm = self.get(alarm_id)
        if not reason.strip():
            raise InputError(f"alarm {alarm_id}", "shelving needs a reason")
        if not now < until <= now + MAX_SHELVE_S:
            raise InputError(f"alarm {alarm_id}", "the shelving expiry must be in the future and within 8 hours")
        if alarm.state == AlarmState.OUT_OF_SERVICE:
            raise InputError(f"alarm {alarm_id}", "an alarm out of service cannot be shelved")
        alarm.state = AlarmState.SHELVED
        alarm.shelved_until, alarm.shelve_reason = until, reason.strip()
        alarm.comments.append({"ts": now, "by": operator, "text": f"shelved: {reason.strip()}"})
        return alarm

    def unshelve(self, alarm_id: str, now: float) -> Alarm:
        alarm = self.get(alarm_id)
        if alarm.state != AlarmState.SHELVED:
            raise InputError(f"alarm {alarm_id}", f"is not shelved (state {alarm.state.value})")
        self._return(alarm, now)
        return alarm

    def suppress(self, alarm_id: str, on: bool, now: float) -> Alarm:
        """Suppressed by design (a plant state makes the alarm meaningless) and back."""
        return self._set_mode(alarm_id, AlarmState.SUPPRESSED, on, now)

    def out_of_service(self, alarm_id: str, on: bool, now: float) -> Alarm:
        """Take an alarm out of service (maintenance) and back."""
        return self._set_mode(alarm_id, AlarmState.OUT_OF_SERVICE, on, now)

    def _set_mode(self, alarm_id: str, mode: AlarmState, on: bool, now: float) -> Alarm:
        alarm = self.get(alarm_id)
        if on:
            alarm.state = mode
        elif alarm.state == mode:
            self._return(alarm, now)
        return alarm

    def comment(self, alarm_id: str, operator: str, text: str, now: float) -> Alarm:
        alarm = self.get(alarm_id)
        if not text.strip():
            raise InputError(f"alarm {alarm_id}", "an empty comment")
        alarm.comments.append({"ts": now, "by": operator, "text": text.strip()[:2000]})
        return alarm

    def close_event(self, alarm_id: str, now: float) -> Alarm:
        """An event alarm's incident is over: its condition returns to normal."""
        alarm = self.get(alarm_id)
        self.set_condition(alarm, False, now)
        return alarm

    def _return(self, alarm: Alarm, now: float) -> None:
        alarm.shelved_until = alarm.shelve_reason = None
        alarm.state = AlarmState.UNACK_ACTIVE if alarm.active else AlarmState.NORMAL
        if alarm.active:
            alarm.raised_ts = now
            alarm.ack_by = alarm.ack_ts = None

    def _expire_shelving(self, now: float) -> list[Alarm]:
        expired = [a for a in self.alarms.values()
                   if a.state == AlarmState.SHELVED and a.shelved_until is not None and a.shelved_until <= now]
        for alarm in expired:
            self._return(alarm, now)
        return expired

    # -- views --------------------------------------------------------------------------------------
    def standing(self) -> list[Alarm]:
        """Alarms an operator must see: unacknowledged or active, most urgent and oldest first."""
        shown = [a for a in self.alarms.values()
                 if a.state in (AlarmState.UNACK_ACTIVE, AlarmState.ACK_ACTIVE, AlarmState.UNACK_RTN)]
        return sorted(shown, key=lambda a: (a.priority, a.raised_ts))

    def rate_per_10min(self, now: float) -> int:
        """Alarm activations in the last 10 minutes."""
        self._prune_activations(now)
        return len(self.activation_times)

    def flood(self, now: float) -> str:
        """'normal', 'busy' (above EEMUA's manageable rate) or 'flood' (10 or more per 10 minutes)."""
        rate = self.rate_per_10min(now)
        if rate >= EEMUA_FLOOD_PER_10MIN:
            return "flood"
        return "busy" if rate > EEMUA_MANAGEABLE_PER_10MIN else "normal"

    def counts(self) -> dict[str, int]:
        """Standing alarms per priority."""
        out = {p.name.lower(): 0 for p in Priority}
        for alarm in self.standing():
            out[alarm.priority.name.lower()] += 1
        return out
