"""Readable names for what the engine reports: kinds, conditions, causes, parties, numbers with units, deadlines.

An operator reads "CO high 70.7 ppm — T05 B1 Garage zone B1-A", never ``co hi · T05-B1-GZA-CO1-co-1``. Every
text shown or published goes through here, so that a translation (issue 12) has one place to start from.
"""

from __future__ import annotations

import math

from twin_app.core.kinds import KINDS

KIND_LABEL = {
    "co": "CO", "co2": "CO2", "ch4": "CH4", "h2s": "H2S", "nh3": "NH3", "o2": "O2", "pm25": "PM2.5", "pm10": "PM10",
    "tvoc": "TVOC", "smoke": "Smoke", "gas_leak": "Gas leak", "water_leak": "Water leak", "elevator": "Elevator",
    "fan": "Fan", "pump": "Pump", "gateway": "Gateway", "heat_detector": "Heat detector",
    "flame_detector": "Flame detector", "manual_call_point": "Manual call point", "water_level": "Water level",
    "water_pressure": "Water pressure", "elevator_alarm_button": "Elevator alarm button",
    "panic_button": "Panic button", "door_forced": "Door forced",
}
CONDITION_LABEL = {
    "hi": "high", "lo": "low", "stale": "no data", "rate_of_rise": "rising fast",
    "action_unconfirmed": "command not confirmed", "offline": "offline",
}
EVENT_LABEL = {
    "fall_detected": "Fall detected", "object_thrown_from_height": "Object thrown from height",
    "garbage_exposed": "Garbage exposed", "fire_lane_blocked": "Fire lane blocked",
    "resident_request": "Resident request", "grid_report": "Grid staff report", "fire_detected": "Fire detected",
    "smoke_detected": "Smoke detected", "elevator_trapped": "Person trapped in elevator", "intrusion": "Intrusion",
}
CAUSE_LABEL = {
    "gas": "Gas", "fire": "Smoke and fire", "water": "Water", "elevator": "Elevator", "power": "Power",
    "communication": "Lost data", "equipment": "Equipment", "environment": "Environment", "security": "Security",
}
PARTY_LABEL = {
    "fire_brigade": "Fire brigade", "police": "Police", "community_staff": "Community staff",
    "property_management": "Property management", "maintenance": "Maintenance", "supervisor": "Duty supervisor",
}
STATE_LABEL = {
    "new": "New", "acknowledged": "Acknowledged", "dispatched": "Dispatched", "on_scene": "On scene",
    "resolved": "Resolved", "closed": "Closed",
}


def kind_label(kind: str) -> str:
    """'co' -> 'CO', 'fall_detected' -> 'Fall detected', anything else made readable."""
    if kind in KIND_LABEL:
        return KIND_LABEL[kind]
    if kind in EVENT_LABEL:
        return EVENT_LABEL[kind]
    return str(kind).replace("_", " ").capitalize()


def cause_label(cause: str) -> str:
    return CAUSE_LABEL.get(cause) or EVENT_LABEL.get(cause) or str(cause).replace("_", " ").capitalize()


def party_label(party: str | None) -> str:
    return PARTY_LABEL.get(str(party), str(party or "—").replace("_", " ").capitalize())


def unit_of(kind: str) -> str:
    """The measurement unit of a kind ('' when it has none)."""
    found = KINDS.get(kind)
    return found.unit if found is not None else ""


def number(value: float | None, unit: str = "") -> str:
    """'70.7 ppm'; '—' for no value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return f"{text} {unit}".strip()


def alarm_text(kind: str, condition: str, value: float | None = None, unit: str | None = None) -> str:
    """'CO high 70.7 ppm', 'Smoke no data', 'Fall detected'."""
    if condition.startswith("event:"):
        return kind_label(condition.split(":", 1)[1])
    label = f"{kind_label(kind)} {CONDITION_LABEL.get(condition, condition.replace('_', ' '))}"
    if condition in ("hi", "lo", "rate_of_rise") and value is not None:
        label += f" {number(value, unit_of(kind) if unit is None else unit)}"
    return label


def clock(seconds: float) -> str:
    """'14:32' for minutes and seconds, '1:02:03' past an hour."""
    seconds = int(abs(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def due_text(deadline_ts: float | None, now: float) -> str:
    """'due in 14:32', 'OVERDUE 02:10', '' without a deadline."""
    if deadline_ts is None:
        return ""
    left = deadline_ts - now
    return f"due in {clock(left)}" if left >= 0 else f"OVERDUE {clock(left)}"
