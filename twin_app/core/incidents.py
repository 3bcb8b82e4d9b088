"""Incidents: the alarms and events of one cause at one place, handled as one thing from first alarm to closure.

A garage CO build-up raises a high-limit and a rate-of-rise alarm on every detector of the zone; the operator
handles one incident: acknowledged once, one order, one set of linked commands, one timeline. Alarms join an open
incident of the same cause at the same place (the storey; the whole tower for smoke and fire, which spreads up
storeys; the element itself for camera events and residents' requests) while it is active or was active within
`JOIN_WINDOW_S`.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields

from twin_app.core.alarms import Alarm, AlarmState, Priority
from twin_app.core.dispatch import OPEN_ORDER
from twin_app.core.errors import InputError
from twin_app.core.texts import alarm_text, cause_label

JOIN_WINDOW_S = 600.0  # a resolved incident takes back an alarm of its cause and place for 10 minutes
AUTO_CLOSE_S = 3600.0  # a resolved incident that never had an order is closed by the system after an hour
TIMELINE_KEPT = 400  # entries of one incident's timeline (the first ones stay; later alarms are counted)
STATES = ("new", "acknowledged", "dispatched", "on_scene", "resolved", "closed")
STANDING = (AlarmState.UNACK_ACTIVE, AlarmState.ACK_ACTIVE, AlarmState.UNACK_RTN)
COMMON_DEADLINE_S = 15 * 60.0  # the seed's yardstick: common problems closed in 15 minutes on average
FLOOD_WINDOW_S = 600.0
EEMUA_MANAGEABLE_PER_10MIN = 1
EEMUA_FLOOD_PER_10MIN = 10

CAUSE_OF_KIND = {
    **dict.fromkeys(("co", "ch4", "h2s", "gas_leak", "o2", "nh3", "co2"), "gas"),
    **dict.fromkeys(("smoke", "heat_detector", "flame_detector", "manual_call_point", "fire_panel",
                     "fire_sprinkler_flow", "garbage_bin_smoke"), "fire"),
    **dict.fromkeys(("water_leak", "water_pressure", "water_level", "pump", "septic_level", "sewage_level",
                     "tank_level", "fire_hydrant_pressure", "hose_reel_pressure", "rainwater_level",
                     "pump_outlet_pressure", "pump_inlet_pressure"), "water"),
    **dict.fromkeys(("elevator", "elevator_speed", "elevator_door", "elevator_load", "elevator_motor_temp",
                     "elevator_vibration", "elevator_alarm_button"), "elevator"),
    **dict.fromkeys(("voltage", "power", "current", "power_factor", "ups_battery", "ups_load", "transformer_temp",
                     "switchgear_temp", "generator_state", "generator_fuel", "breaker_trip", "earth_leakage"),
                    "power"),
    **dict.fromkeys(("door_forced", "panic_button", "glass_break", "manhole_cover"), "security"),
    **dict.fromkeys(("fan", "fan_current", "fan_vibration", "fan_bearing_temp", "fan_speed", "pump_current",
                     "pump_vibration", "pump_bearing_temp", "air_handler", "chiller_state", "disinfection",
                     "disinfectant_level"), "equipment"),
}
EVENT_CAUSE = {"fire_detected": "fire", "smoke_detected": "fire", "elevator_trapped": "elevator"}
SPREADING = ("fire",)  # causes that stay one incident across the storeys of a tower


def cause_of(alarm: Alarm) -> str:
    """The cause an alarm belongs to: gas, fire, water, elevator, power, communication, ... or the event type."""
    if alarm.condition.startswith("event:"):
        event_type = alarm.condition.split(":", 1)[1]
        return EVENT_CAUSE.get(event_type, event_type)
    if alarm.condition in ("stale", "offline"):
        return "communication"
    return CAUSE_OF_KIND.get(alarm.kind, "environment")


@dataclass
class Place:
    """Where an alarm is: its host element and the names an operator reads."""

    element: int
    global_id: str
    building: str
    storey: str
    name: str

    def text(self) -> str:
        return " ".join(part for part in (self.building, self.storey, self.name) if part)


@dataclass
class Incident:
    """One incident: its alarms, its state from new to closed, its order, commands and timeline."""

    id: str
    cause: str
    key: str
    priority: Priority
    created_ts: float
    element: int
    host_global_id: str
    building: str
    storey: str
    place_name: str
    title: str
    first_out: str
    state: str = "new"
    storeys: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    updated_ts: float = 0.0
    ack_by: str | None = None
    ack_ts: float | None = None
    dispatched_ts: float | None = None
    on_scene_ts: float | None = None
    resolved_ts: float | None = None
    closed_ts: float | None = None
    closed_by: str | None = None
    result: str | None = None
    party: str | None = None
    deadline_ts: float | None = None
    orders: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    commands: list[dict] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)
    timeline_dropped: int = 0
    detail: dict | None = None
    unacknowledged: int = 0
    active: int = 0
    sources: list[str] = field(default_factory=list)  # distinct devices or event sources in it
    rule: str = ""  # the responsibility matrix row it answers to
    order_status: dict[str, str] = field(default_factory=dict)  # its orders' latest status

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    def note(self, ts: float, what: str, text: str, by: str | None = None) -> None:
        """Add a timeline entry (beyond TIMELINE_KEPT, later alarm entries are only counted)."""
        if len(self.timeline) >= TIMELINE_KEPT and what in ("alarm", "cleared"):
            self.timeline_dropped += 1
            return
        self.timeline.append({"ts": ts, "what": what, "text": text, "by": by})

    def to_record(self) -> dict:
        """Its fields as plain data (lists copied, entries shared: they are not changed once written)."""
        out = {name: getattr(self, name) for name in _INCIDENT_FIELDS}
        for name in ("storeys", "alarms", "orders", "units", "timeline", "sources"):
            out[name] = list(out[name])
        out["commands"] = [dict(c) for c in self.commands]  # their state changes later
        out["order_status"] = dict(self.order_status)
        out["detail"] = None if self.detail is None else dict(self.detail)
        out["priority"] = int(self.priority)
        return out

    @classmethod
    def from_record(cls, record: dict) -> Incident:
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in record.items() if k in names}
        data["priority"] = Priority(int(data["priority"]))
        return cls(**data)


_INCIDENT_FIELDS = tuple(f.name for f in fields(Incident))


class IncidentBook:
    """Open incidents, the alarms in each, and the rules that group alarms into them.

    Parameters
    ----------
    place_of
        The `Place` of a host element index.
    """

    def __init__(self, place_of: Callable[[int, str], Place]) -> None:
        self.place_of = place_of
        self.incidents: dict[str, Incident] = {}  # open ones by id
        self.of_alarm: dict[str, str] = {}  # alarm id -> incident id (open incidents)
        self._by_key: dict[str, str] = {}  # grouping key -> the latest open incident
        self._sources: dict[str, set[str]] = {}  # incident id -> its sources, for membership in constant time
        self.serial = 0
        self.created_times: deque[float] = deque()  # for the flood rate: incidents created in the last 10 minutes

    # -- grouping -----------------------------------------------------------------------------------
    def key_of(self, alarm: Alarm, cause: str, place: Place) -> str:
        """The grouping key: cause and place (tower for spreading causes, element for events, else storey)."""
        if alarm.condition.startswith("event:") and cause not in SPREADING:
            return f"{cause}|{place.global_id}"
        if cause in SPREADING:
            return f"{cause}|{place.building}"
        return f"{cause}|{place.building}|{place.storey}"

    def attach(self, alarm: Alarm, now: float, cause: str | None = None) -> tuple[Incident, bool]:
        """The incident an alarm belongs to, created when none is open for its cause and place.

        Returns the incident and whether it was created.
        """
        found = self.of_alarm.get(alarm.id)
        if found is not None and found in self.incidents:
            return self.incidents[found], False
        cause = cause or cause_of(alarm)
        place = self.place_of(alarm.host_element, alarm.host_global_id)
        key = self.key_of(alarm, cause, place)
        incident = self.incidents.get(self._by_key.get(key, ""))
        if incident is not None and incident.state == "resolved" and \
                now - (incident.resolved_ts or incident.updated_ts) > JOIN_WINDOW_S:
            incident = None  # resolved more than 10 minutes ago: a new incident
        created = incident is None
        if incident is None:
            self.serial += 1
            incident = Incident(
                f"I{int(now)}-{self.serial:04d}", cause, key, alarm.priority, now, place.element, place.global_id,
                place.building, place.storey, place.name, "", alarm.id)
            self.incidents[incident.id] = incident
            self._by_key[key] = incident.id
            self.created_times.append(now)
        incident.alarms.append(alarm.id)
        self.of_alarm[alarm.id] = incident.id
        incident.updated_ts = now
        sources = self._sources.setdefault(incident.id, set(incident.sources))
        if alarm.source not in sources:  # a set beside the list: constant time in a flood
            sources.add(alarm.source)
            incident.sources.append(alarm.source)
        if place.storey and place.storey not in incident.storeys:
            incident.storeys.append(place.storey)
        if alarm.priority < incident.priority:
            incident.priority = alarm.priority
        incident.note(now, "alarm", f"{alarm_text(alarm.kind, alarm.condition, alarm.value)} — {alarm.source}")
        return incident, created

    def join(self, alarm: Alarm, incident: Incident, now: float) -> None:
        """Put an alarm into a given incident (an unconfirmed command joins the incident that sent it)."""
        if alarm.id in self.of_alarm:
            return
        incident.alarms.append(alarm.id)
        self.of_alarm[alarm.id] = incident.id
        incident.updated_ts = now
        incident.priority = min(incident.priority, alarm.priority)
        incident.note(now, "alarm", f"{alarm_text(alarm.kind, alarm.condition, alarm.value)} — {alarm.source}")

    def get(self, incident_id: str) -> Incident:
        """The open incident with this id; `InputError` when there is none."""
        incident = self.incidents.get(incident_id)
        if incident is None:
            raise InputError(f"incident {incident_id}", "no such open incident (it may have been closed)")
        return incident

    # -- state --------------------------------------------------------------------------------------
    def refresh(self, incident: Incident, alarms: dict[str, Alarm], now: float) -> None:
        """Recompute priority, counts and the state from its alarms and orders (closed stays closed)."""
        live = [alarms[a] for a in incident.alarms if a in alarms]
        standing = [a for a in live if a.state in STANDING]
        incident.unacknowledged = sum(a.state in (AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN) for a in live)
        incident.active = sum(a.active for a in live)
        if standing:
            incident.priority = min(a.priority for a in standing)
        # the title names its lead alarm: the most urgent, then the first (a limit before its rate of rise)
        lead = min(live, key=lambda a: (a.priority, a.condition == "rate_of_rise", a.raised_ts), default=None)
        title = alarm_text(lead.kind, lead.condition, lead.value) if lead is not None else \
            (incident.title.split(" — ")[0] if incident.title else cause_label(incident.cause))
        place = incident.place_name if len(incident.storeys) <= 1 else ""  # a fire on several storeys: the tower
        where = " ".join(p for p in (incident.building, self._storeys_text(incident), place) if p)
        many = len(incident.sources)
        incident.title = f"{title} — {where}" + (f" · {many} devices" if many > 1 else "")
        if incident.closed:
            return
        statuses = list(incident.order_status.values())
        before = incident.state
        if "on_scene" in statuses:
            state = "on_scene"
        elif any(s in OPEN_ORDER for s in statuses):
            state = "dispatched"
        elif incident.unacknowledged and incident.ack_ts is None:
            state = "new"  # never acknowledged, or reopened by a new alarm
        elif (statuses and all(s in ("done", "closed", "cancelled") for s in statuses) and "done" in statuses) or \
                (not incident.active and not incident.unacknowledged and incident.ack_ts is not None):
            state = "resolved"  # its units are done, or everything cleared and was acknowledged
        elif incident.ack_ts is not None:
            state = "acknowledged"
        else:
            state = "new"
        if state == "resolved" and before != "resolved":
            incident.resolved_ts = now
        if state != before:
            incident.state = state

    @staticmethod
    def _storeys_text(incident: Incident) -> str:
        if len(incident.storeys) <= 1:
            return incident.storey
        return f"{incident.storeys[0]}–{incident.storeys[-1]} ({len(incident.storeys)} storeys)"

    def close(self, incident: Incident, by: str, now: float, result: str | None) -> None:
        """Close an incident: it leaves the open set (its record stays in the database)."""
        incident.state = "closed"
        incident.closed_ts, incident.closed_by = now, by
        if result:
            incident.result = result
        incident.note(now, "closed", f"Closed{': ' + result if result else ''}", by)
        self.incidents.pop(incident.id, None)
        self._sources.pop(incident.id, None)
        if self._by_key.get(incident.key) == incident.id:
            del self._by_key[incident.key]
        for alarm_id in incident.alarms:
            if self.of_alarm.get(alarm_id) == incident.id:
                del self.of_alarm[alarm_id]

    def idle_resolved(self, now: float) -> list[Incident]:
        """Resolved incidents that never had an order, untouched for AUTO_CLOSE_S: the system closes them."""
        return [i for i in self.incidents.values()
                if i.state == "resolved" and not i.orders
                and now - max(i.updated_ts, i.resolved_ts or 0.0) > AUTO_CLOSE_S]

    def restore(self, incidents: Iterable[Incident], serial: int) -> None:
        for incident in incidents:
            self.incidents[incident.id] = incident
            self._by_key[incident.key] = incident.id
            for alarm_id in incident.alarms:
                self.of_alarm[alarm_id] = incident.id
        self.serial = max(self.serial, serial)

    # -- views --------------------------------------------------------------------------------------
    def rate_per_10min(self, now: float) -> int:
        """Incidents created in the last 10 minutes (what an operator must handle)."""
        while self.created_times and now - self.created_times[0] > FLOOD_WINDOW_S:
            self.created_times.popleft()
        return len(self.created_times)

    def flood(self, now: float) -> str:
        """'normal', 'busy' (above EEMUA 191's manageable rate) or 'flood' (10 or more new incidents per 10 min)."""
        rate = self.rate_per_10min(now)
        if rate >= EEMUA_FLOOD_PER_10MIN:
            return "flood"
        return "busy" if rate > EEMUA_MANAGEABLE_PER_10MIN else "normal"


def kpi_record(incident: Incident) -> dict:
    """What the KPIs keep of an incident (written to the database as it changes)."""
    return {"type": incident.cause, "party": incident.party, "raised": incident.created_ts,
            "acknowledged": incident.ack_ts, "dispatched": incident.dispatched_ts, "closed": incident.closed_ts,
            "deadline": incident.deadline_ts, "priority": int(incident.priority)}


def kpis(records: Iterable[dict], now: float) -> dict:
    """Times to acknowledge, dispatch and close; share closed within the deadline; by type and by party.

    The seed's yardstick stands beside them: common problems closed in 15 minutes on average.
    """
    rows = [r for r in records if isinstance(r, dict) and isinstance(r.get("raised"), (int, float))]

    def mean(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 1) if values else None

    def summary(group: list[dict]) -> dict:
        def span(key: str) -> list[float]:
            return [r[key] - r["raised"] for r in group if isinstance(r.get(key), (int, float))]

        closed = [r for r in group if isinstance(r.get("closed"), (int, float))]
        deadlined = [r for r in closed if isinstance(r.get("deadline"), (int, float))]
        within = [r["closed"] <= r["deadline"] for r in deadlined]
        return {"incidents": len(group), "closed": len(closed), "mtta_s": mean(span("acknowledged")),
                "mttd_s": mean(span("dispatched")), "mttc_s": mean(span("closed")),
                "within_deadline": round(sum(within) / len(within), 3) if within else None}

    by_type: dict[str, list[dict]] = {}
    by_party: dict[str, list[dict]] = {}
    for row in rows:
        by_type.setdefault(str(row.get("type")), []).append(row)
        if row.get("party"):
            by_party.setdefault(str(row["party"]), []).append(row)
    requests = by_type.get("resident_request", [])
    resolved = [r for r in requests if isinstance(r.get("closed"), (int, float))]
    return {
        "incidents_per_hour": sum(1 for r in rows if now - r["raised"] <= 3600.0), **summary(rows),
        "requests_resolution_rate": round(len(resolved) / len(requests), 3) if requests else None,
        "yardstick": {"mttc_s": COMMON_DEADLINE_S, "text": "common problems closed in 15 minutes on average"},
        "by_type": {k: summary(v) for k, v in sorted(by_type.items())},
        "by_party": {k: summary(v) for k, v in sorted(by_party.items())},
    }
