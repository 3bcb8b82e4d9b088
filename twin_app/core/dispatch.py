"""Dispatch: units of the responsible parties, a responsibility matrix, orders with deadlines, KPIs."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, fields
from importlib.resources.abc import Traversable
from pathlib import Path

from twin_app import resources
from twin_app.core.alarms import Alarm
from twin_app.core.errors import InputError

PARTIES = ("fire_brigade", "police", "community_staff", "property_management", "maintenance", "supervisor")
ACTIVE_ORDER = ("dispatched", "en_route", "on_scene")  # a unit is working on it; past its deadline it escalates
OPEN_ORDER = (*ACTIVE_ORDER, "escalated")


def _rows(path: Path | Traversable, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV file with # comments, each with its line number; errors name the file and line."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(source, f"cannot be read ({exc.strerror})") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not lines:
        raise InputError(source, "empty file")
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in lines)))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{source}:{lines[0][0]}", f"missing columns {', '.join(missing)}")
    return [(lines[i + 1][0], row) for i, row in enumerate(reader)]


@dataclass(frozen=True)
class Responsibility:
    """Who answers a kind of alarm or event, how fast, with how many units of which specialty."""

    match: str
    party: str
    deadline_min: float
    auto: bool
    escalate_to: str
    units: int = 1
    confirmed_units: int = 1  # units for a confirmed incident (two or more detectors: a confirmed fire)
    specialty: str = ""


def _count(row: dict[str, str], key: str, where: str, default: int) -> int:
    text = (row.get(key) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise InputError(where, f"{key} must be a whole number from 1 to 10, got {text!r}")
    return int(text)


def read_matrix(path: Path | Traversable | None = None) -> dict[str, Responsibility]:
    """Read the responsibility matrix (default: the shipped ``twin_app.resources``); errors name the file and line."""
    path = path or resources.path("responsibility.csv")
    matrix: dict[str, Responsibility] = {}
    for line, row in _rows(path, ("match", "party", "deadline_min", "auto", "escalate_to")):
        where = f"{path}:{line}"
        if row["party"] not in PARTIES or row["escalate_to"] not in PARTIES:
            raise InputError(where, f"unknown party {row['party']!r} or {row['escalate_to']!r}; "
                                    f"parties: {', '.join(PARTIES)}")
        try:
            deadline = float(row["deadline_min"])
        except (TypeError, ValueError):
            raise InputError(where, f"deadline_min {row['deadline_min']!r} is not a number") from None
        if not 0 < deadline <= 24 * 60:
            raise InputError(where, "deadline_min must be between 0 and 1440 minutes")
        if row["auto"] not in ("yes", "no"):
            raise InputError(where, "auto must be yes or no")
        units = _count(row, "units", where, 1)
        matrix[row["match"]] = Responsibility(row["match"], row["party"], deadline, row["auto"] == "yes",
                                              row["escalate_to"], units, _count(row, "confirmed_units", where, units),
                                              (row.get("specialty") or "").strip())
    if "*" not in matrix:
        raise InputError(str(path), "the fallback row (match *) is missing")
    return matrix


@dataclass
class Unit:
    id: str
    party: str
    name: str
    status: str = "available"
    order: str | None = None
    specialty: str = ""


def read_units(path: Path | Traversable | None = None) -> dict[str, Unit]:
    """Read the units file (default: the shipped ``twin_app.resources``); errors name the file and line."""
    path = path or resources.path("units.csv")
    units: dict[str, Unit] = {}
    for line, row in _rows(path, ("unit", "party", "name")):
        if row["party"] not in PARTIES:
            raise InputError(f"{path}:{line}", f"unknown party {row['party']!r}")
        specialty = (row.get("specialty") or "").strip()
        units[row["unit"]] = Unit(row["unit"], row["party"], row["name"], specialty=specialty)
    return units


@dataclass
class Order:
    """A dispatch order: the units sent to one incident, with a deadline."""

    id: str
    alarm_id: str
    unit: str
    party: str
    created_ts: float
    deadline_ts: float
    operator: str
    status: str = "dispatched"
    result: str | None = None
    done_ts: float | None = None
    escalated_to: str | None = None
    history: list[dict] = field(default_factory=list)
    incident_id: str = ""
    units: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The retained ``dispatch/{id}`` payload of the contract."""
        return {"id": self.id, "incident_id": self.incident_id, "alarm_id": self.alarm_id, "unit": self.unit,
                "units": list(self.units or [self.unit]), "party": self.party, "deadline_ts": self.deadline_ts,
                "status": self.status, "created_ts": self.created_ts, "operator": self.operator,
                "result": self.result, "done_ts": self.done_ts, "escalated_to": self.escalated_to,
                "history": self.history}


def order_from_json(data: dict) -> Order:
    """An order back from its ``dispatch/`` payload (as kept in the engine's database)."""
    names = {f.name for f in fields(Order)}
    return Order(**{k: v for k, v in data.items() if k in names})


@dataclass
class Proposal:
    """The units proposed for an incident, and why (said to the operator)."""

    rule: Responsibility
    units: list[Unit]
    why: str

    def to_json(self) -> dict:
        return {"party": self.rule.party, "units": [u.id for u in self.units],
                "unit_names": [u.name for u in self.units], "deadline_min": self.rule.deadline_min,
                "auto": self.rule.auto, "why": self.why}


class Dispatcher:
    """Units, orders and the rules that tie them to incidents."""

    def __init__(self, matrix: dict[str, Responsibility] | None = None, units: dict[str, Unit] | None = None) -> None:
        self.matrix = matrix if matrix is not None else read_matrix()
        self.units = units if units is not None else read_units()
        self.orders: dict[str, Order] = {}
        self._serial = 0

    @property
    def serial(self) -> int:
        return self._serial

    def restore(self, orders: list[Order], units: dict[str, tuple[str, str | None]], serial: int) -> None:
        """Take back orders and unit bookings from the engine's database."""
        self.orders = {o.id: o for o in orders}
        for unit_id, (status, order) in units.items():
            if unit_id in self.units:
                self.units[unit_id].status, self.units[unit_id].order = status, order
        self._serial = max(self._serial, serial)

    def responsibility(self, alarm: Alarm) -> Responsibility:
        """The matrix row for an alarm: its event type, its condition, its kind, else the fallback."""
        limit = alarm.condition in ("hi", "lo", "rate_of_rise")  # a limit of a kind: the kind's row first
        keys = (alarm.condition if alarm.condition.startswith("event:") else None,
                *((alarm.kind, alarm.condition) if limit else (alarm.condition, alarm.kind)))
        for key in keys:
            if key and key in self.matrix:
                return self.matrix[key]
        return self.matrix["*"]

    def propose(self, rule: Responsibility, confirmed: bool = False, busy_elsewhere: bool = False,
                have: int = 0) -> Proposal:
        """Units for an incident under `rule`: of its party, of the named specialty first.

        `confirmed` asks for the matrix's confirmed count; `have` units are already on it. With `busy_elsewhere`
        (another open incident of the same cause in the same tower has units: this may be a duplicate), the last
        free unit of the party is kept back.
        """
        wanted = max(0, (rule.confirmed_units if confirmed else rule.units) - have)
        free = [u for u in self.units.values() if u.party == rule.party and u.status == "available"]
        free.sort(key=lambda u: (bool(rule.specialty) and u.specialty != rule.specialty, u.id))
        party = rule.party.replace("_", " ")
        if wanted == 0:
            return Proposal(rule, [], f"{party}: the units the matrix names are on it")
        if not free:
            return Proposal(rule, [], f"no {party} unit is free: all are on other orders")
        chosen = free[:wanted]
        if busy_elsewhere and len(chosen) == len(free):
            chosen = chosen[:-1]
            if not chosen:
                return Proposal(rule, [], f"{free[0].id} is the last free {party} unit and another open incident "
                                          "of this cause in this tower may be the same one: kept back, dispatch "
                                          "by hand if this is a separate incident")
        why = f"{party} answers {rule.match if rule.match != '*' else 'this'} within {rule.deadline_min:g} min"
        if rule.specialty:
            matched = [u for u in chosen if u.specialty == rule.specialty]
            why += (f"; {rule.specialty} specialty" if matched else
                    f"; no {rule.specialty} unit free, a general unit proposed")
        if confirmed and rule.confirmed_units > rule.units:
            why += f"; confirmed by several detectors: {rule.confirmed_units} units"
        return Proposal(rule, chosen, why)

    def dispatch(self, incident_id: str, alarm_id: str, unit_ids: list[str], operator: str, now: float,
                 rule: Responsibility) -> Order:
        """Send units to an incident: one order per incident; the deadline comes from the matrix."""
        if not operator:
            raise InputError("dispatch", "the operator's identity is required")
        if not unit_ids:
            raise InputError(f"incident {incident_id}", "no unit named")
        units = []
        for unit_id in dict.fromkeys(unit_ids):
            unit = self.units.get(unit_id)
            if unit is None:
                raise InputError(f"unit {unit_id}", "no such unit")
            if unit.status != "available":
                raise InputError(f"unit {unit_id}", f"is busy ({unit.status} on order {unit.order}); choose another")
            units.append(unit)
        open_order = self.open_order_of(incident_id)
        if open_order is not None:
            raise InputError(f"incident {incident_id}", f"already has the open order {open_order.id}")
        self._serial += 1
        order = Order(f"D{int(now)}-{self._serial:04d}", alarm_id, units[0].id, units[0].party, now,
                      now + rule.deadline_min * 60.0, operator, incident_id=incident_id, units=[u.id for u in units])
        order.history.append({"ts": now, "status": "dispatched", "by": operator, "units": order.units})
        for unit in units:
            unit.status, unit.order = "dispatched", order.id
        self.orders[order.id] = order
        return order

    def reinforce(self, order: Order, unit_ids: list[str], by: str, now: float) -> Order:
        """Add free units to an open order (a confirmed fire takes a second engine)."""
        for unit_id in unit_ids:
            unit = self.units.get(unit_id)
            if unit is None or unit.status != "available" or unit_id in order.units:
                continue
            unit.status, unit.order = order.status if order.status in ACTIVE_ORDER else "dispatched", order.id
            order.units.append(unit_id)
            order.history.append({"ts": now, "status": "reinforced", "by": by, "units": [unit_id]})
        return order

    def open_order_of(self, incident_id: str) -> Order | None:
        return next((o for o in self.orders.values() if o.incident_id == incident_id and o.status in OPEN_ORDER),
                    None)

    def get(self, order_id: str) -> Order:
        """The order with this id; `InputError` when there is none."""
        order = self.orders.get(order_id)
        if order is None:
            raise InputError(f"order {order_id}", "no such order")
        return order

    def update(self, order_id: str, status: str, by: str, now: float, result: str | None = None) -> Order:
        """Its units report: en_route, on_scene, or done with their result."""
        order = self.get(order_id)
        if status not in ("en_route", "on_scene", "done", "cancelled"):
            raise InputError(f"order {order_id}", f"unknown status {status!r}")
        if order.status in ("done", "closed", "cancelled"):
            raise InputError(f"order {order_id}", f"is already {order.status}")
        if status == "done" and not (result or "").strip():
            raise InputError(f"order {order_id}", "a finished order needs its result")
        order.status = status
        order.history.append({"ts": now, "status": status, "by": by, **({"result": result} if result else {})})
        for unit_id in order.units or [order.unit]:
            unit = self.units.get(unit_id)
            if unit is None or unit.order != order.id:
                continue
            if status in ("done", "cancelled"):
                unit.status, unit.order = "available", None
            else:
                unit.status = status
        if status in ("done", "cancelled"):
            order.done_ts, order.result = now, (result or "").strip() or None
        return order

    def close(self, order_id: str, operator: str, now: float) -> Order:
        """The operator closes a finished order (with its incident)."""
        order = self.get(order_id)
        if order.status != "done":
            raise InputError(f"order {order_id}", f"cannot be closed while {order.status}")
        order.status = "closed"
        order.history.append({"ts": now, "status": "closed", "by": operator})
        return order

    def overdue(self, now: float) -> list[Order]:
        """Escalate open orders past their deadline to the matrix's next party (once each)."""
        escalated = []
        for order in self.orders.values():
            if order.status in ACTIVE_ORDER and now > order.deadline_ts:
                rule = next((r for r in self.matrix.values() if r.party == order.party), self.matrix["*"])
                order.status = "escalated"
                order.escalated_to = rule.escalate_to
                order.history.append({"ts": now, "status": "escalated", "to": rule.escalate_to})
                escalated.append(order)
        return escalated

    def open_orders(self, now: float) -> list[Order]:
        """Open orders, overdue first, then by deadline."""
        live = [o for o in self.orders.values() if o.status in OPEN_ORDER]
        return sorted(live, key=lambda o: (o.deadline_ts > now, o.deadline_ts))
