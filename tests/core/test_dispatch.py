"""Dispatch: the responsibility matrix, orders, deadlines, escalation, KPIs; the durable audit log."""

from __future__ import annotations

import subprocess
import sys

import pytest

from twin_app.core.alarms import Alarm, Priority
from twin_app.core.audit import AuditLog
from twin_app.core.dispatch import Dispatcher, read_matrix, read_units
from twin_app.core.errors import InputError


def _alarm(kind: str = "co", condition: str = "hi", raised: float = 1000.0) -> Alarm:
    alarm = Alarm(f"T05-B1-GZA-CO1-{kind}-1:{condition}", "T05-B1-GZA-CO1-co-1", condition, kind, Priority.HIGH, 3,
                  "GUID")
    alarm.raised_ts = raised
    return alarm


def test_matrix_and_units_as_shipped() -> None:
    matrix, units = read_matrix(), read_units()
    assert matrix["co"].party == "property_management" and matrix["co"].deadline_min == 15
    assert matrix["smoke"].auto and matrix["smoke"].party == "fire_brigade"
    assert {u.party for u in units.values()} == {"fire_brigade", "police", "community_staff", "property_management",
                                                 "maintenance", "supervisor"}


def test_dispatch_one_order_per_incident_countdown_and_result() -> None:
    d = Dispatcher()
    alarm = _alarm()
    rule = d.responsibility(alarm)
    proposal = d.propose(rule)
    assert rule.party == "property_management" and [u.id for u in proposal.units] == ["PM-1"]
    order = d.dispatch("I1", alarm.id, ["PM-1"], "op-wang", 1030.0, rule)
    assert order.deadline_ts == 1030.0 + 15 * 60 and d.units["PM-1"].status == "dispatched"
    assert order.to_json()["incident_id"] == "I1" and order.to_json()["units"] == ["PM-1"]
    assert [u.id for u in d.propose(rule).units] == ["PM-2"]  # PM-1 is busy now
    with pytest.raises(InputError, match="busy"):
        d.dispatch("I2", "x", ["PM-1"], "op-wang", 1031.0, rule)
    with pytest.raises(InputError, match="already has the open order"):
        d.dispatch("I1", alarm.id, ["PM-2"], "op-wang", 1032.0, rule)
    d.update(order.id, "en_route", "PM-1", 1100.0)
    d.update(order.id, "on_scene", "PM-1", 1300.0)
    with pytest.raises(InputError, match="needs its result"):
        d.update(order.id, "done", "PM-1", 1500.0)
    d.update(order.id, "done", "PM-1", 1500.0, result="fans on, garage ventilated, CO back to 8 ppm")
    assert d.units["PM-1"].status == "available" and order.result.startswith("fans on")
    d.close(order.id, "op-wang", 1510.0)


def test_specialty_confirmed_units_and_the_last_free_unit() -> None:
    d = Dispatcher()
    elevator = d.responsibility(_alarm("elevator"))
    assert elevator.party == "maintenance" and elevator.specialty == "elevator"
    proposal = d.propose(elevator)
    assert [u.id for u in proposal.units] == ["MT-2"] and "elevator specialty" in proposal.why
    d.dispatch("I1", "a", ["MT-2"], "op", 0.0, elevator)
    fallback = d.propose(elevator)
    assert [u.id for u in fallback.units] == ["MT-1"] and "general unit" in fallback.why
    smoke = d.responsibility(_alarm("smoke"))
    assert [u.id for u in d.propose(smoke).units] == ["FB-1"]
    assert [u.id for u in d.propose(smoke, confirmed=True).units] == ["FB-1", "FB-2"]
    assert d.propose(smoke, confirmed=True, have=1).units[0].id == "FB-1"  # one more for a confirmed fire
    d.dispatch("I2", "b", ["FB-1"], "op", 0.0, smoke)
    kept = d.propose(smoke, busy_elsewhere=True)  # FB-2 is the last engine: not for a possible duplicate
    assert kept.units == [] and "last free" in kept.why
    assert [u.id for u in d.propose(smoke).units] == ["FB-2"]  # the operator may still send it
    rate = d.responsibility(_alarm("h2s", "rate_of_rise"))
    assert rate.party == "maintenance"  # a rate of rise answers to its kind's row


def test_overdue_orders_escalate_once() -> None:
    d = Dispatcher()
    rule = d.responsibility(_alarm())
    order = d.dispatch("I1", "a", ["PM-1"], "op", 0.0, rule)
    assert d.overdue(15 * 60 - 1) == []
    escalated = d.overdue(15 * 60 + 1)
    assert escalated == [order] and order.status == "escalated" and order.escalated_to == "maintenance"
    assert d.overdue(20 * 60) == []
    assert d.open_orders(20 * 60)[0] is order


def test_bad_input_changes_nothing(tmp_path) -> None:
    d = Dispatcher()
    rule = d.responsibility(_alarm())
    with pytest.raises(InputError, match="no such unit"):
        d.dispatch("I1", "a", ["XX-9"], "op", 0.0, rule)
    with pytest.raises(InputError, match="operator"):
        d.dispatch("I1", "a", ["PM-1"], "", 0.0, rule)
    with pytest.raises(InputError, match="no such order"):
        d.update("D-nope", "done", "x", 0.0, "r")
    assert d.orders == {} and all(u.status == "available" for u in d.units.values())
    bad = tmp_path / "matrix.csv"
    bad.write_text("match,party,deadline_min,auto,escalate_to\nco,firemen,15,no,supervisor\n*,police,5,no,police\n")
    with pytest.raises(InputError, match=r"matrix.csv:2: unknown party"):
        read_matrix(bad)
    bad.write_text("match,party,deadline_min,auto,escalate_to\nco,police,soon,no,supervisor\n")
    with pytest.raises(InputError, match="not a number"):
        read_matrix(bad)
    bad.write_text("match,party,deadline_min,auto,escalate_to,units\nco,police,5,no,supervisor,many\n"
                   "*,police,5,no,police,1\n")
    with pytest.raises(InputError, match=r"matrix\.csv:2: units must be a whole number"):
        read_matrix(bad)
    bad.write_text("match,party,deadline_min,auto,escalate_to\nco,police,5,no,supervisor\n")
    with pytest.raises(InputError, match="fallback"):
        read_matrix(bad)


def test_audit_log_is_durable_across_a_crash(tmp_path) -> None:
    path = tmp_path / "audit.sqlite"
    code = (
        "import os\n"
        "from twin_app.core.audit import AuditLog\n"
        f"log = AuditLog({str(path)!r}, console='wall-1')\n"
        "log.record('op-li', 'ack', 'A1:hi', {'state': 'unack_active'}, {'state': 'ack_active'})\n"
        "os._exit(9)  # dies right after the write, without closing anything\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 9, run.stderr
    log = AuditLog(path)
    entries = log.entries()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["operator"], entry["console"], entry["action"], entry["target"]) == ("op-li", "wall-1", "ack",
                                                                                       "A1:hi")
    assert entry["before"] == {"state": "unack_active"} and entry["after"] == {"state": "ack_active"}
    log.record("op-li", "dispatch", "A1:hi", outcome="refused: unit busy")
    assert [e["action"] for e in log.entries("A1:hi")] == ["ack", "dispatch"]
    log.close()
