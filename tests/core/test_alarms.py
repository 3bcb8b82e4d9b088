"""The alarm engine: ISA-18.2 lifecycle, deadband, on-delay, shelving, stale, chattering, flood, grouping."""

from __future__ import annotations

import numpy as np
import pytest

from twin_app.core.alarms import (
    CHATTER_ACTIVATIONS,
    ON_DELAY_S,
    AlarmState,
    AlarmSystem,
    Priority,
    priority_for,
)
from twin_app.core.errors import InputError
from twin_app.core.state import MIN_STALE_S, StateStore


@pytest.fixture
def engine(small_index):
    return AlarmSystem(StateStore(small_index))


def _row(engine: AlarmSystem, kind: str, prefix: str) -> int:
    ids = engine.device_ids
    return int(np.flatnonzero((engine.kinds == kind) & np.char.startswith(ids.astype(str), prefix))[0])


def _set(engine: AlarmSystem, row: int, value: float, ts: float):
    engine.store.apply(np.array([row]), np.array([value]), ts)
    return engine.evaluate(ts)


def test_full_lifecycle_with_acknowledge_before_and_after_return(engine) -> None:
    row = _row(engine, "h2s", "T01-B2-SEP-H2S")
    t = 1000.0
    assert _set(engine, row, 2.0, t) == []
    _set(engine, row, 15.0, t + 1)  # above 10 ppm: pending for the on-delay
    changed = _set(engine, row, 15.0, t + 1 + 2.5)
    alarm = engine.alarms[f"{engine.device_ids[row]}:hi:1"]
    assert alarm in changed and alarm.state == AlarmState.UNACK_ACTIVE and alarm.priority == Priority.CRITICAL
    engine.acknowledge(alarm.id, "op-li", t + 5)
    assert alarm.state == AlarmState.ACK_ACTIVE and alarm.ack_by == "op-li"
    _set(engine, row, 9.8, t + 6)  # inside the deadband (10 - 5 %): still active
    assert alarm.state == AlarmState.ACK_ACTIVE
    _set(engine, row, 9.0, t + 7)  # clear: acknowledged and returned -> normal
    assert alarm.state == AlarmState.NORMAL and alarm.rtn_ts == t + 7
    # again, this time it returns to normal before anyone acknowledges
    # the condition comes back: a new occurrence with its own id, linked to the first
    first = alarm
    assert first.finished
    _set(engine, row, 20.0, t + 10)
    _set(engine, row, 20.0, t + 13)
    alarm = engine.current[first.key]
    assert alarm.id == f"{engine.device_ids[row]}:hi:2" and alarm.previous == first.id and alarm.occurrence == 2
    assert alarm.state == AlarmState.UNACK_ACTIVE and first.state == AlarmState.NORMAL
    _set(engine, row, 1.0, t + 14)
    assert alarm.state == AlarmState.UNACK_RTN
    _set(engine, row, 20.0, t + 15)
    _set(engine, row, 20.0, t + 18)
    assert alarm.state == AlarmState.UNACK_ACTIVE  # returned and came back: unacknowledged again
    _set(engine, row, 1.0, t + 19)
    engine.acknowledge(alarm.id, "op-li", t + 20)
    assert alarm.state == AlarmState.NORMAL
    with pytest.raises(InputError, match="cannot be acknowledged in state normal"):
        engine.acknowledge(alarm.id, "op-li", t + 21)


def test_on_delay_filters_short_excursions(engine) -> None:
    row = _row(engine, "temperature", "T01-3F-A01")
    delay = ON_DELAY_S["temperature"]
    t = 0.0 + 5000
    _set(engine, row, 45.0, t)
    _set(engine, row, 45.0, t + delay - 1)
    assert f"{engine.device_ids[row]}:hi:1" not in engine.alarms
    _set(engine, row, 20.0, t + delay - 0.5)  # back before the delay ran out: no alarm
    _set(engine, row, 45.0, t + delay + 1)
    assert f"{engine.device_ids[row]}:hi:1" not in engine.alarms  # the delay starts again
    _set(engine, row, 45.0, t + 2 * delay + 2)
    assert engine.alarms[f"{engine.device_ids[row]}:hi:1"].state == AlarmState.UNACK_ACTIVE


def test_low_limit_alarm(engine) -> None:
    row = _row(engine, "o2", "T01-B1-GZA")
    _set(engine, row, 17.0, 100.0)
    _set(engine, row, 17.0, 103.0)
    assert engine.alarms[f"{engine.device_ids[row]}:lo:1"].state == AlarmState.UNACK_ACTIVE


def test_shelving_needs_a_reason_and_expires_by_itself(engine) -> None:
    row = _row(engine, "co", "T01-B1-GZA-CO1")
    _set(engine, row, 80.0, 100.0)
    _set(engine, row, 80.0, 110.0)
    alarm = engine.alarms[f"{engine.device_ids[row]}:hi:1"]
    with pytest.raises(InputError, match="reason"):
        engine.shelve(alarm.id, "op", "  ", 200.0, 111.0)
    with pytest.raises(InputError, match="8 hours"):
        engine.shelve(alarm.id, "op", "sensor being replaced", 111.0 + 9 * 3600, 111.0)
    engine.shelve(alarm.id, "op", "sensor being replaced", 200.0, 111.0)
    assert alarm.state == AlarmState.SHELVED and alarm.shelve_reason == "sensor being replaced"
    _set(engine, row, 90.0, 150.0)
    assert alarm.state == AlarmState.SHELVED  # stays shelved while the condition goes on
    changed = _set(engine, row, 90.0, 201.0)
    assert alarm in changed and alarm.state == AlarmState.UNACK_ACTIVE  # expired, still active
    engine.shelve(alarm.id, "op", "again", 300.0, 202.0)
    _set(engine, row, 5.0, 250.0)
    engine.evaluate(301.0)
    assert alarm.state == AlarmState.NORMAL  # expired after the condition cleared


def test_suppressed_and_out_of_service(engine) -> None:
    row = _row(engine, "smoke", "T02-4F-A02")
    _set(engine, row, 0.5, 10.0)
    _set(engine, row, 0.5, 13.0)
    alarm = engine.alarms[f"{engine.device_ids[row]}:hi:1"]
    assert alarm.priority == Priority.CRITICAL  # smoke in a flat
    engine.suppress(alarm.id, True, 14.0)
    assert alarm.state == AlarmState.SUPPRESSED
    engine.suppress(alarm.id, False, 15.0)
    assert alarm.state == AlarmState.UNACK_ACTIVE
    engine.out_of_service(alarm.id, True, 16.0)
    _set(engine, row, 0.0, 17.0)
    assert alarm.state == AlarmState.OUT_OF_SERVICE
    with pytest.raises(InputError, match="out of service"):
        engine.shelve(alarm.id, "op", "x", 100.0, 18.0)
    engine.out_of_service(alarm.id, False, 19.0)
    assert alarm.state == AlarmState.NORMAL


def test_stale_alarm_for_silent_gas_detectors(engine) -> None:
    row = _row(engine, "h2s", "T01-B2-SEW-H2S")
    _set(engine, row, 1.0, 100.0)
    engine.evaluate(100.0 + MIN_STALE_S + 1)
    alarm = engine.alarms[f"{engine.device_ids[row]}:stale:1"]
    assert alarm.state == AlarmState.UNACK_ACTIVE
    _set(engine, row, 1.0, 100.0 + MIN_STALE_S + 2)
    assert alarm.state == AlarmState.UNACK_RTN


def test_rate_of_rise(engine) -> None:
    row = _row(engine, "co", "T01-B1-GZB-CO1")
    rate_id = f"{engine.device_ids[row]}:rate_of_rise:1"
    _set(engine, row, 5.0, 100.0)
    _set(engine, row, 7.0, 115.0)  # noise, and too soon to judge
    _set(engine, row, 7.5, 131.0)  # 2.5 ppm in 31 s: below 10 ppm/min
    assert rate_id not in engine.alarms
    _set(engine, row, 30.0, 162.0)  # 22.5 ppm in 31 s: 44 ppm/min, still under the 50 ppm limit
    alarm = engine.alarms[rate_id]
    assert alarm.state == AlarmState.UNACK_ACTIVE and f"{engine.device_ids[row]}:hi:1" not in engine.alarms
    _set(engine, row, 31.0, 193.0)  # levels off
    assert alarm.state == AlarmState.UNACK_RTN


def test_chattering_is_detected_and_counted(engine) -> None:
    row = _row(engine, "smoke", "T02-5F-A01")
    t = 100.0
    for _ in range(CHATTER_ACTIVATIONS):
        _set(engine, row, 0.5, t)
        _set(engine, row, 0.5, t + 2.1)
        _set(engine, row, 0.0, t + 3)
        t += 10
    alarm = engine.alarms[f"{engine.device_ids[row]}:hi:1"]
    assert alarm.chattering and engine.chatter_count == 1


def test_flood_rate_and_first_out_grouping(engine) -> None:
    d = engine.store.index.devices
    rows = np.flatnonzero((d["kind"] == "smoke").to_numpy() & d["device_id"].str.startswith("T01-3F").to_numpy())
    assert len(rows) >= 3
    engine.store.apply(rows, np.full(len(rows), 0.5), 100.0)
    engine.evaluate(100.0)
    engine.evaluate(103.0)
    raised = [engine.alarms[f"{engine.device_ids[r]}:hi:1"] for r in rows]
    groups = {a.group for a in raised}
    assert len(groups) == 1  # all under the first-out
    assert engine.flood(103.0) in ("busy", "flood")
    more = np.flatnonzero((d["kind"] == "smoke").to_numpy())[:12]
    engine.store.apply(more, np.full(len(more), 0.5), 104.0)
    engine.evaluate(107.0)
    assert engine.rate_per_10min(107.0) >= 10 and engine.flood(107.0) == "flood"
    assert engine.flood(107.0 + 601) == "normal"


def test_events_become_alarms_until_closed(engine, small_index) -> None:
    model = small_index.model
    room = int(model.of_class("IfcSpace")[5])
    event = {"id": "ev-1", "type": "object_thrown_from_height", "device_id": "cam-3", "confidence": 0.93}
    alarm = engine.raise_event(event, room, str(model.global_id[room]), 50.0)
    assert alarm.state == AlarmState.UNACK_ACTIVE and alarm.priority == Priority.CRITICAL
    engine.acknowledge(alarm.id, "op", 51.0)
    engine.close_event(alarm.id, 60.0)
    assert alarm.state == AlarmState.NORMAL
    assert alarm.to_json()["event_source"] == "cam-3"


def test_priorities_by_kind_and_place() -> None:
    assert priority_for("h2s", "T01-B2-SEP-H2S-h2s-1") == Priority.CRITICAL
    assert priority_for("h2s", "T01-1F-LOB-h2s-1") == Priority.HIGH
    assert priority_for("co", "T01-B1-GZA-co-1") == Priority.HIGH
    assert priority_for("smoke", "T01-3F-A04-smoke-1") == Priority.CRITICAL
    assert priority_for("smoke", "T01-3F-COR-smoke-1") == Priority.HIGH
    assert priority_for("noise", "T01-3F-A04-noise-1") == Priority.LOW


def test_unknown_alarm_and_missing_operator(engine) -> None:
    with pytest.raises(InputError, match="no such alarm"):
        engine.acknowledge("NOPE:hi:1", "op", 1.0)
    with pytest.raises(InputError, match="operator"):
        engine.acknowledge("NOPE:hi:1", "", 1.0)


def test_an_unconfirmed_linked_command_raises_its_own_alarm(small_index) -> None:
    from twin_app.core.actions import CONFIRM_AFTER_S
    from twin_app.core.engine import Engine
    from twin_app.core.inbox import Drained

    engine = Engine(small_index)
    row = _row(engine.alarms, "co", "T02-B2-GZD-CO3")
    for t in (100.0, 103.0, 106.0):
        engine.store.apply(np.array([row]), np.array([90.0]), t)
        engine.step(Drained.empty(), t)
    assert {p.command.device_id for p in engine.pending.values()} == {"T02-B2-GZD-FAN1-fan-1",
                                                                      "T02-B2-GZD-FAN2-fan-1"}
    fan1 = int(small_index.rows_of_ids(["T02-B2-GZD-FAN1-fan-1"])[0])
    engine.store.apply(np.array([fan1]), np.array([1.0]), 110.0)  # fan 1 reports running: confirmed
    later = 106.0 + CONFIRM_AFTER_S + 1
    changed = engine.step(Drained.empty(), later).changed
    unconfirmed = [a for a in changed if a.condition == "action_unconfirmed"]
    assert [a.source for a in unconfirmed] == ["T02-B2-GZD-FAN2-fan-1"]
    assert unconfirmed[0].state == AlarmState.UNACK_ACTIVE and unconfirmed[0].priority == Priority.HIGH
