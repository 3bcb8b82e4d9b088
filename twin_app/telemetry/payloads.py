"""Decoding and checking the MQTT payloads of ../shared/CONTRACT.md.

Every decoder returns plain data or raises `PayloadError` with a short kind (for counting) and a message
naming what is wrong; none of them ever raises anything else.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from twin_app.core.names import SAFE_NAME, SAFE_REFERENCE

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
MAX_BATCH = 100_000
EVENT_TYPES = ("fall_detected", "object_thrown_from_height", "garbage_exposed", "fire_lane_blocked", "intrusion",
               "smoke_detected", "fire_detected", "crowd_gathering", "vehicle_blocking", "elevator_trapped",
               "resident_request", "grid_report")  # known types; any other safe type is accepted too


_STR = {str}
_NUMBER = {int, float}


class PayloadError(ValueError):
    """A malformed payload: `kind` names the problem class for counting."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Batch:
    """Readings of one message: device ids, values and one time stamp."""

    ids: list[str]
    values: np.ndarray
    ts: float


def _json(payload: bytes) -> object:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large", f"payload of {len(payload):,} bytes exceeds {MAX_PAYLOAD_BYTES:,}")
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("bad_json", f"not JSON ({exc.__class__.__name__}: {str(exc)[:80]})") from None


def decode_object(payload: bytes, kind: str = "bad_shape", what: str = "payload") -> dict:
    """A JSON object (size-limited like every payload); `kind` counts a valid JSON that is not an object."""
    data = _json(payload)
    if not isinstance(data, dict):
        raise PayloadError(kind, f"{what} must be a JSON object")
    return data


def _timestamp(value: object, now: float) -> float:
    if value is None:
        return now
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise PayloadError("bad_ts", f"ts must be a positive number of unix seconds, got {str(value)[:40]!r}")
    return float(value)


def decode_batch(payload: bytes, now: float) -> Batch:
    """``{"ts": s, "ids": [...], "values": [...]}``; readings with a non-finite value are dropped."""
    data = _json(payload)
    if not isinstance(data, dict):
        raise PayloadError("bad_shape", "batch must be a JSON object with ts, ids and values")
    ids, values = data.get("ids"), data.get("values")
    if not isinstance(ids, list) or not isinstance(values, list):
        raise PayloadError("bad_shape", "batch needs the lists ids and values")
    if len(ids) != len(values):
        raise PayloadError("length_mismatch", f"{len(ids)} ids but {len(values)} values")
    if len(ids) > MAX_BATCH:
        raise PayloadError("too_large", f"{len(ids):,} readings in one message exceeds {MAX_BATCH:,}")
    ts = _timestamp(data.get("ts"), now)
    if not set(map(type, ids)) <= _STR:
        raise PayloadError("bad_ids", "every id must be a string")
    try:
        "".join(ids).encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError("bad_ids", "an id holds characters that are not valid Unicode") from None
    try:
        if not set(map(type, values)) <= _NUMBER:  # exact types: numpy would turn "12" or True into numbers
            raise TypeError("not all numbers")
        arr = np.array(values, dtype=np.float64)
    except (TypeError, OverflowError):
        # numpy would turn "12" or True into numbers: only real numbers count, the rest is dropped (NaN)
        arr = np.array([_number(v) for v in values], dtype=np.float64)
    return Batch(ids, arr, ts)


def _number(value: object) -> float:
    if type(value) is float or type(value) is int:
        try:
            return float(value)
        except OverflowError:
            return math.nan
    return math.nan


def decode_point(payload: bytes, now: float) -> tuple[float, float]:
    """``{"ts": s, "value": x}`` or a bare number; returns (value, ts)."""
    data = _json(payload)
    if isinstance(data, bool):
        raise PayloadError("bad_values", "a point value must be a number, got a boolean")
    if isinstance(data, (int, float)):
        value, ts = float(data), now
    elif isinstance(data, dict):
        raw = data.get("value")
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise PayloadError("bad_values", f"value must be a number, got {str(raw)[:40]!r}")
        value, ts = float(raw), _timestamp(data.get("ts"), now)
    else:
        raise PayloadError("bad_shape", "a point is a number or an object with value and ts")
    if not math.isfinite(value):
        raise PayloadError("non_finite", "value is not finite")
    return value, ts


def decode_status(payload: bytes) -> bool:
    """``online`` / ``offline`` (case-insensitive, optionally JSON-quoted); True when online."""
    text = payload.decode("utf-8", errors="replace").strip().strip('"').lower()
    if text in ("online", "1", "true"):
        return True
    if text in ("offline", "0", "false"):
        return False
    raise PayloadError("bad_status", f"gateway status must be online or offline, got {text[:40]!r}")


def decode_event(payload: bytes, now: float) -> dict:
    """An event object with at least id, type and device_id or host_global_id."""
    data = _json(payload)
    if not isinstance(data, dict):
        raise PayloadError("bad_shape", "an event must be a JSON object")
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise PayloadError("bad_event", "event needs a string id")
    if not isinstance(data.get("type"), str) or not data["type"]:
        raise PayloadError("bad_event", "event needs a string type")
    if not isinstance(data.get("device_id"), str) and not isinstance(data.get("host_global_id"), str):
        raise PayloadError("bad_event", "event needs device_id or host_global_id")
    if not SAFE_NAME.fullmatch(data["id"]):
        raise PayloadError("bad_event", f"event id {data['id'][:40]!r} is not a valid name "
                                        "(1 to 128 letters, digits, '_', '.', ':' or '-')")
    for key in ("device_id", "host_global_id", "type"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise PayloadError("bad_event", f"event {key} must be text")
        if isinstance(value, str) and not SAFE_REFERENCE.fullmatch(value):
            raise PayloadError("bad_event", f"event {key} {value[:40]!r} is not a valid name")
    confidence = data.get("confidence")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                                   or not 0.0 <= float(confidence) <= 1.0):
        raise PayloadError("bad_event", "confidence must be a number between 0 and 1")
    data["ts"] = _timestamp(data.get("ts"), now)
    return data


MAX_UNIX_TS = 1e10  # the year 2286: any time stamp beyond is not a time
ALARM_STATES = ("unack_active", "ack_active", "unack_rtn", "normal", "shelved", "suppressed", "out_of_service")
PRIORITIES = ("critical", "high", "medium", "low")
ORDER_STATUSES = ("dispatched", "en_route", "on_scene", "escalated", "done", "closed", "cancelled")


def _field(data: dict, key: str, types: tuple[type, ...], required: bool, what: str) -> object:
    value = data.get(key)
    if value is None and not required:
        return None
    wrong_bool = isinstance(value, bool) and bool not in types  # a boolean is not a number here
    if wrong_bool or not isinstance(value, types) or (isinstance(value, float) and not math.isfinite(value)):
        raise PayloadError("bad_shape", f"{what}: {key} must be {' or '.join(t.__name__ for t in types)}")
    if isinstance(value, str) and len(value) > 2000:
        raise PayloadError("bad_shape", f"{what}: {key} is longer than 2000 characters")
    if key.endswith("_ts") and not 0 <= value <= MAX_UNIX_TS:  # type: ignore[operator]
        raise PayloadError("bad_shape", f"{what}: {key} is not a plausible unix time")
    return value


def decode_alarm(payload: bytes) -> dict:
    """A retained ``alarm/`` payload as a console shows it: every field it reads has its type, or it is refused."""
    data = decode_object(payload, what="alarm payload")
    for key in ("id", "state", "priority"):
        _field(data, key, (str,), True, "alarm")
    if data["state"] not in ALARM_STATES or data["priority"] not in PRIORITIES:
        raise PayloadError("bad_shape", "alarm: unknown state or priority")
    for key in ("raised_ts", "ack_ts", "rtn_ts", "value", "shelved_until"):
        _field(data, key, (int, float), False, "alarm")
    for key in ("kind", "condition", "ack_by", "device_id", "event_source", "building", "storey", "group",
                "host_global_id", "shelve_reason"):
        _field(data, key, (str,), False, "alarm")
    proposed = _field(data, "proposed", (dict,), False, "alarm") or {}
    _field(proposed, "party", (str,), False, "alarm proposal")
    _field(proposed, "unit", (str,), False, "alarm proposal")
    _field(proposed, "deadline_min", (int, float), False, "alarm proposal")
    if not isinstance(data.get("comments", []), list):
        raise PayloadError("bad_shape", "alarm: comments must be a list")
    return data


def decode_order(payload: bytes) -> dict:
    """A retained ``dispatch/`` payload as a console shows it."""
    data = decode_object(payload, what="dispatch payload")
    for key in ("id", "unit", "party", "status"):
        _field(data, key, (str,), True, "order")
    if data["status"] not in ORDER_STATUSES:
        raise PayloadError("bad_shape", "order: unknown status")
    _field(data, "deadline_ts", (int, float), True, "order")
    for key in ("created_ts", "done_ts"):
        _field(data, key, (int, float), False, "order")
    for key in ("alarm_id", "event_id", "result", "escalated_to", "operator"):
        _field(data, key, (str,), False, "order")
    data.setdefault("alarm_id", data.get("event_id") or "")
    return data


INCIDENT_STATES = ("new", "acknowledged", "dispatched", "on_scene", "resolved", "closed")


def decode_incident(payload: bytes) -> dict:
    """A retained ``incident/`` payload as a console shows it: every field it reads has its type, or it is refused."""
    data = decode_object(payload, what="incident payload")
    for key in ("id", "state", "priority", "cause"):
        _field(data, key, (str,), True, "incident")
    if data["state"] not in INCIDENT_STATES or data["priority"] not in PRIORITIES:
        raise PayloadError("bad_shape", "incident: unknown state or priority")
    for key in ("created_ts", "updated_ts", "ack_ts", "deadline_ts", "closed_ts", "dispatched_ts"):
        _field(data, key, (int, float), False, "incident")
    for key in ("unacknowledged", "active"):
        _field(data, key, (int,), False, "incident")
    for key in ("title", "party", "party_name", "ack_by", "result", "first_out", "host_global_id", "building",
                "storey", "place_name"):
        _field(data, key, (str,), False, "incident")
    for key in ("alarms", "orders", "units", "commands", "timeline", "devices", "cameras", "storeys"):
        value = _field(data, key, (list,), False, "incident")
        if value is not None and key in ("commands", "timeline", "devices") and \
                not all(isinstance(v, dict) for v in value):
            raise PayloadError("bad_shape", f"incident: {key} must be a list of objects")
    for key in ("detail", "proposal"):
        _field(data, key, (dict,), False, "incident")
    return data


def decode_kpis(payload: bytes) -> dict:
    """The retained ``kpi/summary``: the figures a console shows are numbers (or null)."""
    data = decode_object(payload, what="kpi payload")
    for key in ("alarms_per_hour", "mtta_s", "mttd_s", "handling_s", "within_deadline", "handled",
                "rate_per_10min"):
        _field(data, key, (int, float), False, "kpi")
    _field(data, "flood", (str,), False, "kpi")
    for key in ("by_type", "by_party"):
        table = _field(data, key, (dict,), False, "kpi") or {}
        if not all(isinstance(v, dict) for v in table.values()):
            raise PayloadError("bad_shape", f"kpi: {key} must map names to objects")
    return data


def decode_result(payload: bytes) -> dict:
    """An ``action_result/`` answer: request, verb, ok, message."""
    data = decode_object(payload, what="action result")
    _field(data, "ok", (bool,), True, "action result")
    for key in ("request", "verb", "message"):
        _field(data, key, (str,), False, "action result")
    return data
