"""Readable names for what the engine reports: kinds, conditions, causes, parties, numbers with units, deadlines.

An operator reads "CO high 70.7 ppm — T05 B1 Garage zone B1-A", never ``co hi · T05-B1-GZA-CO1-co-1``. Every
text shown or published goes through here, so that a translation has one place to start from: the tables hold the
English source texts (marked with ``QT_TRANSLATE_NOOP`` so that ``pyside6-lupdate`` extracts them) and the functions
translate them at the point of display through `twin_app.core.i18n.translate` (English until the console installs a
language). Machine identifiers (kinds, states, parties, unit ids) are never translated, only what the operator reads.
"""

from __future__ import annotations

import math

from twin_app.core.i18n import QT_TRANSLATE_NOOP, translate
from twin_app.core.kinds import KINDS
from twin_app.core.state import STATE_LABELS, DeviceState

KIND_LABEL = {
    "co": QT_TRANSLATE_NOOP("Kinds", "CO"), "co2": QT_TRANSLATE_NOOP("Kinds", "CO2"),
    "ch4": QT_TRANSLATE_NOOP("Kinds", "CH4"), "h2s": QT_TRANSLATE_NOOP("Kinds", "H2S"),
    "nh3": QT_TRANSLATE_NOOP("Kinds", "NH3"), "o2": QT_TRANSLATE_NOOP("Kinds", "O2"),
    "pm25": QT_TRANSLATE_NOOP("Kinds", "PM2.5"), "pm10": QT_TRANSLATE_NOOP("Kinds", "PM10"),
    "tvoc": QT_TRANSLATE_NOOP("Kinds", "TVOC"), "smoke": QT_TRANSLATE_NOOP("Kinds", "Smoke"),
    "gas_leak": QT_TRANSLATE_NOOP("Kinds", "Gas leak"), "water_leak": QT_TRANSLATE_NOOP("Kinds", "Water leak"),
    "elevator": QT_TRANSLATE_NOOP("Kinds", "Elevator"), "fan": QT_TRANSLATE_NOOP("Kinds", "Fan"),
    "pump": QT_TRANSLATE_NOOP("Kinds", "Pump"), "gateway": QT_TRANSLATE_NOOP("Kinds", "Gateway"),
    "heat_detector": QT_TRANSLATE_NOOP("Kinds", "Heat detector"),
    "flame_detector": QT_TRANSLATE_NOOP("Kinds", "Flame detector"),
    "manual_call_point": QT_TRANSLATE_NOOP("Kinds", "Manual call point"),
    "water_level": QT_TRANSLATE_NOOP("Kinds", "Water level"),
    "water_pressure": QT_TRANSLATE_NOOP("Kinds", "Water pressure"),
    "elevator_alarm_button": QT_TRANSLATE_NOOP("Kinds", "Elevator alarm button"),
    "panic_button": QT_TRANSLATE_NOOP("Kinds", "Panic button"),
    "door_forced": QT_TRANSLATE_NOOP("Kinds", "Door forced"),
    "temperature": QT_TRANSLATE_NOOP("Kinds", "Temperature"),
    "humidity": QT_TRANSLATE_NOOP("Kinds", "Humidity"),
    "formaldehyde": QT_TRANSLATE_NOOP("Kinds", "Formaldehyde"),
    "noise": QT_TRANSLATE_NOOP("Kinds", "Noise"),
    "illuminance": QT_TRANSLATE_NOOP("Kinds", "Illuminance"),
    "water_flow": QT_TRANSLATE_NOOP("Kinds", "Water flow"),
    "water_meter": QT_TRANSLATE_NOOP("Kinds", "Water meter"),
    "hot_water_temperature": QT_TRANSLATE_NOOP("Kinds", "Hot water temperature"),
    "gas_meter": QT_TRANSLATE_NOOP("Kinds", "Gas meter"),
    "power": QT_TRANSLATE_NOOP("Kinds", "Power"),
    "energy": QT_TRANSLATE_NOOP("Kinds", "Energy"),
    "voltage": QT_TRANSLATE_NOOP("Kinds", "Voltage"),
    "current": QT_TRANSLATE_NOOP("Kinds", "Current"),
    "power_factor": QT_TRANSLATE_NOOP("Kinds", "Power factor"),
    "door_contact": QT_TRANSLATE_NOOP("Kinds", "Door contact"),
    "window_contact": QT_TRANSLATE_NOOP("Kinds", "Window contact"),
    "motion": QT_TRANSLATE_NOOP("Kinds", "Motion"),
    "occupancy": QT_TRANSLATE_NOOP("Kinds", "Occupancy"),
    "door": QT_TRANSLATE_NOOP("Kinds", "Door"),
    "access_card": QT_TRANSLATE_NOOP("Kinds", "Access card"),
    "glass_break": QT_TRANSLATE_NOOP("Kinds", "Glass break"),
    "parking_occupancy": QT_TRANSLATE_NOOP("Kinds", "Parking occupancy"),
    "ev_charger_power": QT_TRANSLATE_NOOP("Kinds", "EV charger power"),
    "ev_charger_state": QT_TRANSLATE_NOOP("Kinds", "EV charger state"),
    "elevator_floor": QT_TRANSLATE_NOOP("Kinds", "Elevator floor"),
    "elevator_door": QT_TRANSLATE_NOOP("Kinds", "Elevator door"),
    "elevator_load": QT_TRANSLATE_NOOP("Kinds", "Elevator load"),
    "elevator_speed": QT_TRANSLATE_NOOP("Kinds", "Elevator speed"),
    "elevator_motor_temp": QT_TRANSLATE_NOOP("Kinds", "Elevator motor temp"),
    "elevator_vibration": QT_TRANSLATE_NOOP("Kinds", "Elevator vibration"),
    "elevator_trips": QT_TRANSLATE_NOOP("Kinds", "Elevator trips"),
    "fan_current": QT_TRANSLATE_NOOP("Kinds", "Fan current"),
    "fan_vibration": QT_TRANSLATE_NOOP("Kinds", "Fan vibration"),
    "fan_bearing_temp": QT_TRANSLATE_NOOP("Kinds", "Fan bearing temp"),
    "fan_speed": QT_TRANSLATE_NOOP("Kinds", "Fan speed"),
    "fan_runtime": QT_TRANSLATE_NOOP("Kinds", "Fan runtime"),
    "pump_current": QT_TRANSLATE_NOOP("Kinds", "Pump current"),
    "pump_vibration": QT_TRANSLATE_NOOP("Kinds", "Pump vibration"),
    "pump_bearing_temp": QT_TRANSLATE_NOOP("Kinds", "Pump bearing temp"),
    "pump_outlet_pressure": QT_TRANSLATE_NOOP("Kinds", "Pump outlet pressure"),
    "pump_inlet_pressure": QT_TRANSLATE_NOOP("Kinds", "Pump inlet pressure"),
    "pump_flow": QT_TRANSLATE_NOOP("Kinds", "Pump flow"),
    "pump_runtime": QT_TRANSLATE_NOOP("Kinds", "Pump runtime"),
    "valve_position": QT_TRANSLATE_NOOP("Kinds", "Valve position"),
    "damper_position": QT_TRANSLATE_NOOP("Kinds", "Damper position"),
    "tank_level": QT_TRANSLATE_NOOP("Kinds", "Tank level"),
    "tank_temperature": QT_TRANSLATE_NOOP("Kinds", "Tank temperature"),
    "septic_level": QT_TRANSLATE_NOOP("Kinds", "Septic level"),
    "sewage_level": QT_TRANSLATE_NOOP("Kinds", "Sewage level"),
    "disinfection": QT_TRANSLATE_NOOP("Kinds", "Disinfection"),
    "disinfectant_level": QT_TRANSLATE_NOOP("Kinds", "Disinfectant level"),
    "camera": QT_TRANSLATE_NOOP("Kinds", "Camera"),
    "camera_people_count": QT_TRANSLATE_NOOP("Kinds", "Camera people count"),
    "camera_vehicle_count": QT_TRANSLATE_NOOP("Kinds", "Camera vehicle count"),
    "fire_panel": QT_TRANSLATE_NOOP("Kinds", "Fire panel"),
    "fire_sprinkler_flow": QT_TRANSLATE_NOOP("Kinds", "Fire sprinkler flow"),
    "fire_hydrant_pressure": QT_TRANSLATE_NOOP("Kinds", "Fire hydrant pressure"),
    "hose_reel_pressure": QT_TRANSLATE_NOOP("Kinds", "Hose reel pressure"),
    "fire_door": QT_TRANSLATE_NOOP("Kinds", "Fire door"),
    "emergency_light": QT_TRANSLATE_NOOP("Kinds", "Emergency light"),
    "exit_sign": QT_TRANSLATE_NOOP("Kinds", "Exit sign"),
    "ups_battery": QT_TRANSLATE_NOOP("Kinds", "UPS battery"),
    "ups_load": QT_TRANSLATE_NOOP("Kinds", "UPS load"),
    "transformer_temp": QT_TRANSLATE_NOOP("Kinds", "Transformer temp"),
    "switchgear_temp": QT_TRANSLATE_NOOP("Kinds", "Switchgear temp"),
    "generator_state": QT_TRANSLATE_NOOP("Kinds", "Generator state"),
    "generator_fuel": QT_TRANSLATE_NOOP("Kinds", "Generator fuel"),
    "lighting_circuit": QT_TRANSLATE_NOOP("Kinds", "Lighting circuit"),
    "socket_circuit": QT_TRANSLATE_NOOP("Kinds", "Socket circuit"),
    "breaker_trip": QT_TRANSLATE_NOOP("Kinds", "Breaker trip"),
    "earth_leakage": QT_TRANSLATE_NOOP("Kinds", "Earth leakage"),
    "solar_power": QT_TRANSLATE_NOOP("Kinds", "Solar power"),
    "rainwater_level": QT_TRANSLATE_NOOP("Kinds", "Rainwater level"),
    "soil_moisture": QT_TRANSLATE_NOOP("Kinds", "Soil moisture"),
    "wind_speed": QT_TRANSLATE_NOOP("Kinds", "Wind speed"),
    "rainfall": QT_TRANSLATE_NOOP("Kinds", "Rainfall"),
    "outdoor_temperature": QT_TRANSLATE_NOOP("Kinds", "Outdoor temperature"),
    "outdoor_humidity": QT_TRANSLATE_NOOP("Kinds", "Outdoor humidity"),
    "barometric_pressure": QT_TRANSLATE_NOOP("Kinds", "Barometric pressure"),
    "uv_index": QT_TRANSLATE_NOOP("Kinds", "UV index"),
    "structural_tilt": QT_TRANSLATE_NOOP("Kinds", "Structural tilt"),
    "structural_vibration": QT_TRANSLATE_NOOP("Kinds", "Structural vibration"),
    "crack_width": QT_TRANSLATE_NOOP("Kinds", "Crack width"),
    "settlement": QT_TRANSLATE_NOOP("Kinds", "Settlement"),
    "garbage_bin_level": QT_TRANSLATE_NOOP("Kinds", "Garbage bin level"),
    "garbage_bin_smoke": QT_TRANSLATE_NOOP("Kinds", "Garbage bin smoke"),
    "manhole_cover": QT_TRANSLATE_NOOP("Kinds", "Manhole cover"),
    "air_handler": QT_TRANSLATE_NOOP("Kinds", "Air handler"),
    "supply_air_temp": QT_TRANSLATE_NOOP("Kinds", "Supply air temp"),
    "duct_pressure": QT_TRANSLATE_NOOP("Kinds", "Duct pressure"),
    "filter_pressure_drop": QT_TRANSLATE_NOOP("Kinds", "Filter pressure drop"),
    "chiller_state": QT_TRANSLATE_NOOP("Kinds", "Chiller state"),
    "chilled_water_temp": QT_TRANSLATE_NOOP("Kinds", "Chilled water temp"),
}
CONDITION_LABEL = {
    "hi": QT_TRANSLATE_NOOP("Texts", "high"), "lo": QT_TRANSLATE_NOOP("Texts", "low"),
    "stale": QT_TRANSLATE_NOOP("Texts", "no data"), "rate_of_rise": QT_TRANSLATE_NOOP("Texts", "rising fast"),
    "action_unconfirmed": QT_TRANSLATE_NOOP("Texts", "command not confirmed"),
    "offline": QT_TRANSLATE_NOOP("Texts", "offline"),
}
EVENT_LABEL = {
    "fall_detected": QT_TRANSLATE_NOOP("Events", "Fall detected"),
    "object_thrown_from_height": QT_TRANSLATE_NOOP("Events", "Object thrown from height"),
    "garbage_exposed": QT_TRANSLATE_NOOP("Events", "Garbage exposed"),
    "fire_lane_blocked": QT_TRANSLATE_NOOP("Events", "Fire lane blocked"),
    "resident_request": QT_TRANSLATE_NOOP("Events", "Resident request"),
    "grid_report": QT_TRANSLATE_NOOP("Events", "Grid staff report"),
    "fire_detected": QT_TRANSLATE_NOOP("Events", "Fire detected"),
    "smoke_detected": QT_TRANSLATE_NOOP("Events", "Smoke detected"),
    "elevator_trapped": QT_TRANSLATE_NOOP("Events", "Person trapped in elevator"),
    "intrusion": QT_TRANSLATE_NOOP("Events", "Intrusion"),
}
CAUSE_LABEL = {
    "gas": QT_TRANSLATE_NOOP("Causes", "Gas"), "fire": QT_TRANSLATE_NOOP("Causes", "Smoke and fire"),
    "water": QT_TRANSLATE_NOOP("Causes", "Water"), "elevator": QT_TRANSLATE_NOOP("Causes", "Elevator"),
    "power": QT_TRANSLATE_NOOP("Causes", "Power"), "communication": QT_TRANSLATE_NOOP("Causes", "Lost data"),
    "equipment": QT_TRANSLATE_NOOP("Causes", "Equipment"), "environment": QT_TRANSLATE_NOOP("Causes", "Environment"),
    "security": QT_TRANSLATE_NOOP("Causes", "Security"),
}
PARTY_LABEL = {
    "fire_brigade": QT_TRANSLATE_NOOP("Parties", "Fire brigade"), "police": QT_TRANSLATE_NOOP("Parties", "Police"),
    "community_staff": QT_TRANSLATE_NOOP("Parties", "Community staff"),
    "property_management": QT_TRANSLATE_NOOP("Parties", "Property management"),
    "maintenance": QT_TRANSLATE_NOOP("Parties", "Maintenance"),
    "supervisor": QT_TRANSLATE_NOOP("Parties", "Duty supervisor"),
}
STATE_LABEL = {
    "new": QT_TRANSLATE_NOOP("States", "New"), "acknowledged": QT_TRANSLATE_NOOP("States", "Acknowledged"),
    "dispatched": QT_TRANSLATE_NOOP("States", "Dispatched"), "on_scene": QT_TRANSLATE_NOOP("States", "On scene"),
    "resolved": QT_TRANSLATE_NOOP("States", "Resolved"), "closed": QT_TRANSLATE_NOOP("States", "Closed"),
}
PRIORITY_LABEL = {
    "critical": QT_TRANSLATE_NOOP("Priorities", "Critical"), "high": QT_TRANSLATE_NOOP("Priorities", "High"),
    "medium": QT_TRANSLATE_NOOP("Priorities", "Medium"), "low": QT_TRANSLATE_NOOP("Priorities", "Low"),
}
ALARM_STATE_LABEL = {  # ISA-18.2 states, as the operator reads them
    "unack_active": QT_TRANSLATE_NOOP("AlarmStates", "unack active"),
    "ack_active": QT_TRANSLATE_NOOP("AlarmStates", "ack active"),
    "unack_rtn": QT_TRANSLATE_NOOP("AlarmStates", "unack rtn"),
    "normal": QT_TRANSLATE_NOOP("AlarmStates", "normal"), "shelved": QT_TRANSLATE_NOOP("AlarmStates", "shelved"),
    "suppressed": QT_TRANSLATE_NOOP("AlarmStates", "suppressed"),
    "out_of_service": QT_TRANSLATE_NOOP("AlarmStates", "out of service"),
}
ORDER_STATUS_LABEL = {
    "dispatched": QT_TRANSLATE_NOOP("Orders", "dispatched"), "en_route": QT_TRANSLATE_NOOP("Orders", "en route"),
    "on_scene": QT_TRANSLATE_NOOP("Orders", "on scene"), "escalated": QT_TRANSLATE_NOOP("Orders", "escalated"),
    "done": QT_TRANSLATE_NOOP("Orders", "done"), "closed": QT_TRANSLATE_NOOP("Orders", "closed"),
    "cancelled": QT_TRANSLATE_NOOP("Orders", "cancelled"), "reinforced": QT_TRANSLATE_NOOP("Orders", "reinforced"),
}
UNIT_NAMES = (  # the names of resources/units.csv, translated where shown (the CSV keeps its English names)
    QT_TRANSLATE_NOOP("Units", "Luohu fire station engine 1"),
    QT_TRANSLATE_NOOP("Units", "Luohu fire station engine 2"),
    QT_TRANSLATE_NOOP("Units", "Dongmen police patrol 1"), QT_TRANSLATE_NOOP("Units", "Dongmen police patrol 2"),
    QT_TRANSLATE_NOOP("Units", "Mumianling grid staff A"), QT_TRANSLATE_NOOP("Units", "Mumianling grid staff B"),
    QT_TRANSLATE_NOOP("Units", "Mumianling grid staff C"), QT_TRANSLATE_NOOP("Units", "Property duty team 1"),
    QT_TRANSLATE_NOOP("Units", "Property duty team 2"), QT_TRANSLATE_NOOP("Units", "Property duty team 3"),
    QT_TRANSLATE_NOOP("Units", "Maintenance crew 1 (MEP)"),
    QT_TRANSLATE_NOOP("Units", "Maintenance crew 2 (elevators)"),
    QT_TRANSLATE_NOOP("Units", "Maintenance crew 3 (drainage)"),
    QT_TRANSLATE_NOOP("Units", "Command center duty supervisor"),
)


def _readable(name: object) -> str:
    return str(name).replace("_", " ").capitalize()


def kind_label(kind: str) -> str:
    """'co' -> 'CO', 'fall_detected' -> 'Fall detected', anything else made readable."""
    if kind in KIND_LABEL:
        return translate("Kinds", KIND_LABEL[kind])
    if kind in EVENT_LABEL:
        return translate("Events", EVENT_LABEL[kind])
    return _readable(kind)


def cause_label(cause: str) -> str:
    """'fire' -> 'Smoke and fire'; an event type names its event."""
    if cause in CAUSE_LABEL:
        return translate("Causes", CAUSE_LABEL[cause])
    if cause in EVENT_LABEL:
        return translate("Events", EVENT_LABEL[cause])
    return _readable(cause)


def party_label(party: str | None) -> str:
    """'fire_brigade' -> 'Fire brigade'; '—' for none."""
    if str(party) in PARTY_LABEL:
        return translate("Parties", PARTY_LABEL[str(party)])
    return str(party or "—").replace("_", " ").capitalize()


def device_state_label(state: int) -> str:
    """A device's state as read: DeviceState.ALARM -> 'alarm' ('报警')."""
    return translate("DeviceStates", STATE_LABELS[DeviceState(state)])


def state_label(state: object) -> str:
    """An incident's state as read: 'on_scene' -> 'On scene' (an unknown state as it is)."""
    found = STATE_LABEL.get(str(state))
    return translate("States", found) if found else str(state)


def priority_label(priority: object) -> str:
    """'critical' -> 'Critical'."""
    found = PRIORITY_LABEL.get(str(priority))
    return translate("Priorities", found) if found else str(priority).capitalize()


def alarm_state_label(state: object) -> str:
    """An ISA-18.2 alarm state as read: 'unack_active' -> 'unack active'."""
    found = ALARM_STATE_LABEL.get(str(state))
    return translate("AlarmStates", found) if found else str(state).replace("_", " ")


def order_status_label(status: object) -> str:
    """An order's status as read: 'en_route' -> 'en route'."""
    found = ORDER_STATUS_LABEL.get(str(status))
    return translate("Orders", found) if found else str(status).replace("_", " ")


def unit_label(name: str) -> str:
    """A unit's name (from resources/units.csv) in the operator's language."""
    return translate("Units", name)


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
    found = CONDITION_LABEL.get(condition)
    what = translate("Texts", found) if found else condition.replace("_", " ")
    label = translate("Texts", "{kind} {condition}").format(kind=kind_label(kind), condition=what)
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
    if left >= 0:
        return translate("Texts", "due in {time}").format(time=clock(left))
    return translate("Texts", "OVERDUE {time}").format(time=clock(left))
