"""Dispatch: units of the responsible parties, a responsibility matrix, orders with deadlines, KPIs."""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field, fields
from pathlib import Path

from twin_app.core.alarms import Alarm
from twin_app.core.errors import InputError

PARTIES = ("fire_brigade", "police", "community_staff", "property_management", "maintenance", "supervisor")
ACTIVE_ORDER = ("dispatched", "en_route", "on_scene")  # a unit is working on it; past its deadline it escalates
OPEN_ORDER = (*ACTIVE_ORDER, "escalated")
RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
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
    """Who answers a kind of alarm, and how fast."""

    match: str
    party: str
    deadline_min: float
    auto: bool
    escalate_to: str


def read_matrix(path: Path | None = None) -> dict[str, Responsibility]:
    """Read the responsibility matrix; errors name the file and line."""
    path = path or RESOURCES / "responsibility.csv"
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
        matrix[row["match"]] = Responsibility(row["match"], row["party"], deadline, row["auto"] == "yes",
                                              row["escalate_to"])
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


def read_units(path: Path | None = None) -> dict[str, Unit]:
    """Read the units file; errors name the file and line."""
    path = path or RESOURCES / "units.csv"
    units: dict[str, Unit] = {}
    for line, row in _rows(path, ("unit", "party", "name")):
        if row["party"] not in PARTIES:
            raise InputError(f"{path}:{line}", f"unknown party {row['party']!r}")
        units[row["unit"]] = Unit(row["unit"], row["party"], row["name"])
    return units


@dataclass
class Order:
    """A dispatch order: one unit sent to one alarm, with a deadline."""

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

    def to_json(self) -> dict:
        """The retained ``dispatch/{id}`` payload of the contract."""
        return {"id": self.id, "alarm_id": self.alarm_id, "unit": self.unit, "party": self.party,
                "deadline_ts": self.deadline_ts, "status": self.status, "created_ts": self.created_ts,
                "operator": self.operator, "result": self.result, "done_ts": self.done_ts,
                "escalated_to": self.escalated_to, "history": self.history}


def order_from_json(data: dict) -> Order:
    """An order back from its ``dispatch/`` payload (as kept in the engine's database)."""
    names = {f.name for f in fields(Order)}
    return Order(**{k: v for k, v in data.items() if k in names})


class Dispatcher:
    """Units, orders and the rules that tie them to alarms."""

    def __init__(self, matrix: dict[str, Responsibility] | None = None, units: dict[str, Unit] | None = None) -> None:
        self.matrix = matrix if matrix is not None else read_matrix()
        self.units = units if units is not None else read_units()
        self.orders: dict[str, Order] = {}
        self._serial = 0
        self.alarm_log: dict[str, dict] = {}  # per alarm: raised, acknowledged, dispatched, done times, type, party

    @property
    def serial(self) -> int:
        return self._serial

    def restore(self, orders: list[Order], units: dict[str, tuple[str, str | None]], serial: int,
                alarm_log: dict[str, dict]) -> None:
        """Take back orders, unit bookings and KPI logs from the engine's database."""
        self.orders = {o.id: o for o in orders}
        for unit_id, (status, order) in units.items():
            if unit_id in self.units:
                self.units[unit_id].status, self.units[unit_id].order = status, order
        self._serial = max(self._serial, serial)
        self.alarm_log.update(alarm_log)

    def responsibility(self, alarm: Alarm) -> Responsibility:
        """The matrix row for an alarm: its event type, its condition, its kind, else the fallback."""
        for key in (alarm.condition if alarm.condition.startswith("event:") else None, alarm.condition, alarm.kind):
            if key and key in self.matrix:
                return self.matrix[key]
        return self.matrix["*"]

    def propose(self, alarm: Alarm) -> tuple[Responsibility, Unit | None]:
        """The responsible party and its first available unit (None when all are busy)."""
        rule = self.responsibility(alarm)
        unit = next((u for u in self.units.values() if u.party == rule.party and u.status == "available"), None)
        return rule, unit

    def dispatch(self, alarm: Alarm, unit_id: str, operator: str, now: float) -> Order:
        """Send a unit; the deadline comes from the matrix."""
        if not operator:
            raise InputError("dispatch", "the operator's identity is required")
        unit = self.units.get(unit_id)
        if unit is None:
            raise InputError(f"unit {unit_id}", "no such unit")
        if unit.status != "available":
            raise InputError(f"unit {unit_id}", f"is busy ({unit.status} on order {unit.order}); choose another")
        open_order = next((o for o in self.orders.values() if o.alarm_id == alarm.id and o.status in OPEN_ORDER),
                          None)
        if open_order is not None:
            raise InputError(f"alarm {alarm.id}", f"already has the open order {open_order.id}")
        rule = self.responsibility(alarm)
        self._serial += 1
        order = Order(f"D{int(now)}-{self._serial:04d}", alarm.id, unit.id, unit.party, now,
                      now + rule.deadline_min * 60.0, operator)
        order.history.append({"ts": now, "status": "dispatched", "by": operator})
        unit.status, unit.order = "dispatched", order.id
        self.orders[order.id] = order
        log = self._log(alarm)
        log.setdefault("dispatched", now)
        log["party"] = unit.party
        return order

    def _log(self, alarm: Alarm) -> dict:
        return self.alarm_log.setdefault(alarm.id, {"type": alarm.condition if alarm.condition.startswith("event:")
                                                    else alarm.kind, "raised": alarm.raised_ts})

    def note_ack(self, alarm: Alarm, now: float) -> None:
        self._log(alarm).setdefault("acknowledged", now)

    def get(self, order_id: str) -> Order:
        """The order with this id; `InputError` when there is none."""
        order = self.orders.get(order_id)
        if order is None:
            raise InputError(f"order {order_id}", "no such order")
        return order

    def update(self, order_id: str, status: str, by: str, now: float, result: str | None = None) -> Order:
        """A unit reports: en_route, on_scene, or done with its result."""
        order = self.get(order_id)
        if status not in ("en_route", "on_scene", "done", "cancelled"):
            raise InputError(f"order {order_id}", f"unknown status {status!r}")
        if order.status in ("done", "closed", "cancelled"):
            raise InputError(f"order {order_id}", f"is already {order.status}")
        if status == "done" and not (result or "").strip():
            raise InputError(f"order {order_id}", "a finished order needs its result")
        order.status = status
        order.history.append({"ts": now, "status": status, "by": by, **({"result": result} if result else {})})
        unit = self.units[order.unit]
        if status in ("done", "cancelled"):
            order.done_ts, order.result = now, (result or "").strip() or None
            unit.status, unit.order = "available", None
            if status == "done":
                self.alarm_log.setdefault(order.alarm_id, {}).update(done=now, deadline=order.deadline_ts)
        else:
            unit.status = status
        return order

    def close(self, order_id: str, operator: str, now: float) -> Order:
        """The operator closes a finished order (the incident)."""
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

    def kpis(self, alarms_raised: list[float], now: float) -> dict:
        """Alarms per hour, mean times to acknowledge, dispatch and handle, share within deadline, by type/party."""

        def mean(values: list[float]) -> float | None:
            return round(statistics.fmean(values), 1) if values else None

        hour = [t for t in alarms_raised if now - t <= 3600.0]
        logs = list(self.alarm_log.values())

        def summary(rows: list[dict]) -> dict:
            ack = [r["acknowledged"] - r["raised"] for r in rows if "acknowledged" in r and r.get("raised")]
            disp = [r["dispatched"] - r["raised"] for r in rows if "dispatched" in r and r.get("raised")]
            handled = [r for r in rows if "done" in r and "dispatched" in r]
            within = [r["done"] <= r["deadline"] for r in handled if "deadline" in r]
            return {"mtta_s": mean(ack), "mttd_s": mean(disp),
                    "handling_s": mean([r["done"] - r["dispatched"] for r in handled]),
                    "within_deadline": round(sum(within) / len(within), 3) if within else None,
                    "handled": len(handled)}

        by_type: dict[str, list[dict]] = {}
        by_party: dict[str, list[dict]] = {}
        for row in logs:
            by_type.setdefault(str(row.get("type")), []).append(row)
            if "party" in row:
                by_party.setdefault(str(row["party"]), []).append(row)
        return {"alarms_per_hour": len(hour), **summary(logs),
                "by_type": {k: summary(v) for k, v in sorted(by_type.items())},
                "by_party": {k: summary(v) for k, v in sorted(by_party.items())}}
