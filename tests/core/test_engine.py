"""The engine in-process: durable state across a restart, idempotent actions, time stamps, floods, hostile input."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin_app.core.alarms import AlarmState
from twin_app.core.database import EngineDatabase
from twin_app.core.engine import Engine, NullPort
from twin_app.core.inbox import Action, Drained, Event, Inbox, Readings

T0 = 1_800_000_000.0


def _row(index, prefix: str) -> int:
    return int(np.flatnonzero(index.devices["device_id"].str.startswith(prefix).to_numpy())[0])


def _readings(rows, values, ts) -> Drained:
    inbox = Inbox()
    inbox.put(Readings(np.asarray(rows), np.asarray(values, dtype=float), np.asarray(ts, dtype=float), 0.0))
    return inbox.drain()


def _actions(*actions: tuple[str, dict]) -> Drained:
    inbox = Inbox()
    for verb, body in actions:
        inbox.put(Action(verb, body, token=("tok", body.get("request"))))
    return inbox.drain()


class Port(NullPort):
    """Records publications and settled tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.settled: list[object] = []

    def settle(self, token: object) -> None:
        self.settled.append(token)

    def topics(self, prefix: str) -> list[tuple[str, dict | None]]:
        return [(t, p) for t, p, _ in self.sent if t.startswith(prefix)]

    def answers(self) -> list[dict]:
        return [p for t, p, _ in self.sent if t.startswith("action_result/")]


def _engine(index, folder, port=None) -> Engine:
    return Engine(index, port=port or Port(), database=EngineDatabase(folder / "engine.sqlite"), console="test")


def _raise_co(engine: Engine, row: int, t: float) -> str:
    for dt in (0.0, 3.0, 6.0):
        engine.step(_readings([row], [90.0], [t + dt]), t + dt)
    key = f"{engine.alarms.device_ids[row]}:hi"
    return engine.alarms.current[key].id


def test_restart_restores_acks_orders_commands_and_republishes(small_index, tmp_path) -> None:
    row = _row(small_index, "T01-B1-GZA-CO1-co")
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    alarm_id = _raise_co(engine, row, T0)
    commands = port.topics("cmd/")
    assert {t for t, _ in commands} == {"cmd/T01-B1-GZA-FAN1-fan-1", "cmd/T01-B1-GZA-FAN2-fan-1"}
    engine.step(_actions(("ack", {"request": "r1", "operator": "op-li", "console": "c1", "alarm_id": alarm_id}),
                         ("dispatch", {"request": "r2", "operator": "op-li", "console": "c1", "alarm_id": alarm_id,
                                       "unit": "PM-1"})), T0 + 10)
    assert [a["ok"] for a in port.answers()] == [True, True]
    assert port.settled == [("tok", "r1"), ("tok", "r2")]  # confirmed to the source only once durable
    order_id = next(iter(engine.dispatcher.orders))
    engine.database.close()  # the process dies (nothing else is written at exit)

    port2 = Port()
    again = _engine(small_index, tmp_path, port2)
    assert again.restored == {"alarms": 1, "orders": 1, "commands": 2, "requests": 2, "incidents": 1}
    assert again.alarms.rate_per_10min(T0 + 20) == 1  # the flood rate survives the restart
    restored = again.alarms.alarms[alarm_id]
    assert restored.state == AlarmState.ACK_ACTIVE and restored.ack_by == "op-li" and restored.ack_ts == T0 + 10
    assert again.dispatcher.units["PM-1"].status == "dispatched" and again.dispatcher.units["PM-1"].order == order_id
    # the first step republishes every retained alarm and order; the device has not reported yet: still active
    again.step(Drained.empty(), T0 + 20)
    assert port2.topics(f"alarm/{alarm_id}")[0][1]["state"] == "ack_active"
    assert port2.topics(f"dispatch/{order_id}")[0][1]["unit"] == "PM-1"
    # the same CO reading again: no re-raise, no command sent twice
    again.step(_readings([row], [90.0], [T0 + 21]), T0 + 21)
    again.step(_readings([row], [90.0], [T0 + 30]), T0 + 30)
    assert port2.topics("cmd/") == [] and restored.state == AlarmState.ACK_ACTIVE
    # a repeated request is answered the same way and changes nothing; the unit stays booked once
    again.step(_actions(("dispatch", {"request": "r2", "operator": "op-li", "console": "c1", "alarm_id": alarm_id,
                                      "unit": "PM-1"})), T0 + 31)
    assert port2.answers()[-1] == port.answers()[1] and len(again.dispatcher.orders) == 1
    again.step(_actions(("unit_status", {"request": "r3", "operator": "PM-1", "console": "c1", "order_id": order_id,
                                         "status": "en_route"})), T0 + 32)
    assert port2.answers()[-1]["ok"] is True
    # the condition clears (fresh telemetry): acknowledged + returned = normal, the retained topic is cleared
    again.step(_readings([row], [5.0], [T0 + 40]), T0 + 40)
    assert port2.topics(f"alarm/{alarm_id}")[-1] == (f"alarm/{alarm_id}", None)
    assert alarm_id not in again.alarms.alarms
    again.database.close()
    third = _engine(small_index, tmp_path)
    assert alarm_id not in third.alarms.alarms  # finished: not live after another restart
    # the condition returns: a new occurrence, numbered after the earlier one
    new_id = _raise_co(third, row, T0 + 100)
    assert new_id.endswith(":hi:2") and third.alarms.alarms[new_id].previous == alarm_id


def test_alarm_cleared_while_down_returns_after_restart(small_index, tmp_path) -> None:
    row = _row(small_index, "T02-B1-GZB-CO1-co")
    engine = _engine(small_index, tmp_path)
    alarm_id = _raise_co(engine, row, T0)
    engine.database.close()
    again = _engine(small_index, tmp_path)
    again.step(Drained.empty(), T0 + 60)
    assert again.alarms.alarms[alarm_id].state == AlarmState.UNACK_ACTIVE  # no report yet: still standing
    again.step(_readings([row], [4.0], [T0 + 61]), T0 + 61)
    assert again.alarms.alarms[alarm_id].state == AlarmState.UNACK_RTN


def test_a_reading_stamped_far_ahead_is_refused_and_later_readings_count(small_index) -> None:
    row = _row(small_index, "T01-B1-GZA-CO1-co")
    engine = Engine(small_index)
    engine.step(_readings([row], [90.0], [T0 + 86400]), T0)
    assert engine.store.ts[row] == 0 and engine.errors["bad_ts"] == 1
    engine.step(_readings([row], [2.0], [T0 - 3 * 86400]), T0)
    assert engine.store.ts[row] == 0 and engine.errors["bad_ts"] == 2
    assert _raise_co(engine, row, T0 + 1).endswith(":hi:1")


def test_readings_are_ordered_by_their_own_time_stamps(small_index) -> None:
    row = _row(small_index, "T01-B1-GZA-CO1-co")
    engine = Engine(small_index)
    engine.step(_readings([row, row, row], [7.0, 3.0, 5.0], [T0 + 2, T0 + 1, T0 + 2]), T0 + 3)
    assert engine.store.value[row] == 5.0 and engine.store.ts[row] == T0 + 2  # newest; arrival breaks the tie
    engine.step(_readings([row], [9.0], [T0 + 1.5]), T0 + 3)  # older than what is stored: ignored
    assert engine.store.value[row] == 5.0


def test_a_flood_raises_every_alarm_and_groups_by_storey(small_index) -> None:
    co = np.flatnonzero(small_index.devices["kind"].astype(str).to_numpy() == "co")
    port = Port()
    engine = Engine(small_index, port=port)
    for dt in (0.0, 6.0):
        engine.step(_readings(co, np.full(len(co), 200.0), np.full(len(co), T0 + dt)), T0 + dt)
    raised = [a for a in engine.alarms.alarms.values() if a.condition == "hi"]
    assert len(raised) == len(co)
    assert len({t for t, p in port.topics("alarm/") if p is not None}) >= len(co)
    assert engine.alarms.flood(T0 + 6) == "flood"
    by_storey: dict[int, set[str]] = {}
    for alarm in raised:
        by_storey.setdefault(int(small_index.model.storey[alarm.host_element]), set()).add(alarm.group)
    assert all(len(groups) == 1 for groups in by_storey.values())  # one first-out per storey burst


def test_events_with_unsafe_ids_or_future_times_raise_nothing(small_index) -> None:
    engine = Engine(small_index, port=Port())
    device = str(small_index.devices["device_id"].iat[0])
    inbox = Inbox()
    for event_id in ("a/b", "#", "+", "x\x00y", "\ud800", "z" * 70_000):
        inbox.put(Event({"id": event_id, "type": "fall_detected", "device_id": device, "ts": T0}))
    inbox.put(Event({"id": "late-1", "type": "fall_detected", "device_id": device, "ts": T0 + 86400}))
    inbox.put(Event({"id": "cam-7.evt:1", "type": "fall_detected", "device_id": device, "ts": T0}))
    engine.step(inbox.drain(), T0)
    assert [a.id for a in engine.alarms.alarms.values()] == ["event:cam-7.evt:1:1"]
    assert engine.errors["refused"] == 6 and engine.errors["bad_ts"] == 1


bodies = st.dictionaries(
    st.sampled_from(["request", "operator", "console", "alarm_id", "alarm_ids", "order_id", "unit", "status",
                     "result", "minutes", "reason", "on", "text"]),
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
              st.sampled_from(["#", "a/b", "+", "\ud800", "x" * 300, "PM-1", "wall", "r-1"]),
              st.lists(st.text(max_size=4), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                          max_size=2)),
    max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(verb=st.sampled_from(["ack", "shelve", "unshelve", "suppress", "out_of_service", "comment", "dispatch",
                             "unit_status", "close", "fly", "x" * 50]), body=bodies)
def test_any_action_body_is_answered_or_counted_never_raised(small_index, verb: str, body: dict) -> None:
    port = Port()
    engine = Engine(small_index, port=port)
    engine.step(_actions((verb, body)), T0)
    assert port.settled  # the source is told, whatever happened
    for topic, payload, _ in port.sent:
        assert "#" not in topic and "+" not in topic and topic.count("/") == 1
        json.dumps(payload)


def test_a_redelivered_action_is_applied_once(small_index) -> None:
    row = _row(small_index, "T01-B1-GZA-CO1-co")
    port = Port()
    engine = Engine(small_index, port=port)
    alarm_id = _raise_co(engine, row, T0)
    comment = {"request": "c-1", "operator": "op-li", "console": "c1", "alarm_id": alarm_id, "text": "on my way"}
    engine.step(_actions(("comment", comment), ("comment", comment)), T0 + 10)
    engine.step(_actions(("comment", comment)), T0 + 11)
    assert [c["text"] for c in engine.alarms.alarms[alarm_id].comments] == ["on my way"]
    assert len(port.answers()) == 3 and all(a == port.answers()[0] for a in port.answers())


def test_no_action_is_answered_until_its_step_is_written(small_index, tmp_path) -> None:
    import sqlite3

    row = _row(small_index, "T01-B1-GZA-CO1-co")
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    real = engine.database.commit
    failures = {"left": 0}

    def flaky(changes, audit=()) -> None:  # the disk refuses writes (full, I/O error)
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        real(changes, audit)

    engine.database.commit = flaky
    engine.step(_readings([row], [90.0], [T0]), T0)
    engine.step(_readings([row], [90.0], [T0 + 3]), T0 + 3)
    failures["left"] = 2
    engine.step(_readings([row], [90.0], [T0 + 6]), T0 + 6)  # the alarm rises: not written, shown all the same
    alarm_id = f"{engine.alarms.device_ids[row]}:hi:1"
    assert port.topics(f"alarm/{alarm_id}") and len(port.topics("cmd/")) == 2 and engine.errors["database"] == 1
    engine.step(_actions(("ack", {"request": "r1", "operator": "op-li", "console": "c1", "alarm_id": alarm_id})),
                T0 + 7)
    assert port.answers() == [] and port.settled == []  # not durable: neither answered nor confirmed
    engine.step(Drained.empty(), T0 + 8)  # written now: the answer goes out and the broker is told
    assert [a["ok"] for a in port.answers()] == [True] and port.settled == [("tok", "r1")]
    engine.database.close()
    again = _engine(small_index, tmp_path)
    assert again.alarms.alarms[alarm_id].state == AlarmState.ACK_ACTIVE


def test_text_that_is_not_unicode_never_poisons_the_database(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    bad = "\ud800"
    engine.step(_actions(("ack", {"request": "r1", "operator": bad, "console": "c1", "alarm_id": bad}),
                         ("ack", {"request": "r2", "operator": "op-li", "console": "c1", "alarm_id": bad}),
                         ("comment", {"request": bad, "operator": "op-li", "console": "c1", "alarm_id": "x"}),
                         (bad, {"request": "r3", "operator": "op-li", "console": "c1"})), T0)
    assert "database" not in engine.errors
    assert [a["ok"] for a in port.answers()] == [False, False, False, False]
    assert len(engine.audit.entries()) == 4


def test_shelving_that_expired_while_down_ends_at_restart(small_index, tmp_path) -> None:
    row = _row(small_index, "T01-B1-GZA-CO1-co")
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    alarm_id = _raise_co(engine, row, T0)
    engine.step(_actions(("shelve", {"request": "s1", "operator": "sv-1", "console": "c1", "alarm_id": alarm_id,
                                     "minutes": 10, "reason": "fan maintenance"})), T0 + 10)
    assert engine.alarms.alarms[alarm_id].state == AlarmState.SHELVED
    engine.database.close()
    again = _engine(small_index, tmp_path, Port())
    assert again.alarms.alarms[alarm_id].state == AlarmState.SHELVED  # restored with its expiry
    again.step(Drained.empty(), T0 + 11 * 60)  # the expiry passed while it was down
    alarm = again.alarms.alarms[alarm_id]
    assert alarm.state == AlarmState.UNACK_ACTIVE and alarm.shelved_until is None


def test_review_findings_stay_fixed(small_index, tmp_path, monkeypatch) -> None:
    """Each case a review found: a duplicate id in an ack, an event redelivered after a restart, a failed commit
    while an alarm finishes, linked commands after a shelving expiry, answers beyond the memory cache."""
    import sqlite3

    import twin_app.core.engine as engine_module

    row = _row(small_index, "T01-B1-GZA-CO1-co")
    device = str(small_index.devices["device_id"].iat[row])
    port = Port()
    engine = _engine(small_index, tmp_path, port)
    alarm_id = _raise_co(engine, row, T0)
    # the same id twice in one acknowledgement: acknowledged once, answered ok
    engine.step(_actions(("ack", {"request": "a1", "operator": "op", "console": "c1",
                                  "alarm_ids": [alarm_id, alarm_id]})), T0 + 10)
    assert port.answers()[-1]["ok"] is True and engine.alarms.alarms[alarm_id].state == AlarmState.ACK_ACTIVE
    # shelved, the shelving ends while the condition stands: no second round of fan commands
    engine.step(_actions(("shelve", {"request": "s1", "operator": "op", "console": "c1", "alarm_id": alarm_id,
                                     "minutes": 1, "reason": "check"})), T0 + 11)
    engine.step(_readings([row], [90.0], [T0 + 80]), T0 + 80)
    assert engine.alarms.alarms[alarm_id].state == AlarmState.UNACK_ACTIVE and len(port.topics("cmd/")) == 2
    # an event, closed; the engine restarts; the broker delivers the same event again: nothing new
    inbox = Inbox()
    inbox.put(Event({"id": "cam7-0001", "type": "fall_detected", "device_id": device, "ts": T0 + 81}))
    engine.step(inbox.drain(), T0 + 81)
    event_alarm = "event:cam7-0001:1"
    assert event_alarm in engine.alarms.alarms
    ask = {"operator": "op", "console": "c1"}
    engine.step(_actions(("ack", {**ask, "request": "e1", "alarm_id": event_alarm}),
                         ("dispatch", {**ask, "request": "e2", "alarm_id": event_alarm})), T0 + 82)
    order = next(o for o in engine.dispatcher.orders.values() if o.alarm_id == event_alarm)
    engine.step(_actions(("unit_status", {**ask, "request": "e3", "order_id": order.id, "status": "done",
                                          "result": "resident helped up, no injury"}),
                         ("close", {**ask, "request": "e4", "order_id": order.id})), T0 + 83)
    assert event_alarm not in engine.alarms.alarms and order.id not in engine.dispatcher.orders  # finished
    engine.database.close()
    again = _engine(small_index, tmp_path, Port())
    inbox.put(Event({"id": "cam7-0001", "type": "fall_detected", "device_id": device, "ts": T0 + 81}))
    again.step(inbox.drain(), T0 + 90)
    assert not [a for a in again.alarms.alarms if a.startswith("event:cam7-0001")]  # not raised again
    assert not again.dispatcher.orders  # and no unit sent again
    # a commit that fails while the alarm finishes is retried whole: after a restart it is not live
    real = again.database.commit
    failures = {"left": 1}

    def flaky(changes, audit=()) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("database or disk is full")
        real(changes, audit)

    again.database.commit = flaky
    again.step(_actions(("ack", {"request": "a2", "operator": "op", "console": "c1", "alarm_id": alarm_id})),
               T0 + 91)
    again.step(_readings([row], [2.0], [T0 + 92]), T0 + 92)  # returns: finished, this commit fails
    again.step(Drained.empty(), T0 + 93)  # retried
    again.database.close()
    third = _engine(small_index, tmp_path, Port())
    assert alarm_id not in third.alarms.alarms
    # answers pushed out of memory are found in the database: a late redelivery changes nothing
    monkeypatch.setattr(engine_module, "ANSWERS_KEPT", 2)
    note = {"request": "c-9", "operator": "op", "console": "c1", "alarm_id": alarm_id, "text": "seen"}
    third.step(_readings([row], [90.0], [T0 + 100]), T0 + 100)
    third.step(_readings([row], [90.0], [T0 + 106]), T0 + 106)  # the condition returns: occurrence 2
    alarm_id = third.alarms.current[f"{device}:hi"].id
    note["alarm_id"] = alarm_id
    third.step(_actions(("comment", note)), T0 + 107)
    for n in range(5):
        third.step(_actions(("comment", {**note, "request": f"junk-{n}", "alarm_id": "nope"})), T0 + 108)
    third.step(_actions(("comment", note)), T0 + 109)
    assert alarm_id.endswith(":hi:2") and [c["text"] for c in third.alarms.alarms[alarm_id].comments] == ["seen"]


def test_an_ack_names_alarms_by_valid_ids_only(small_index) -> None:
    port = Port()
    engine = Engine(small_index, port=port)
    for ids in (["A" * 70_000], ["a/b"], ["#"], [7]):
        engine.step(_actions(("ack", {"request": f"r-{len(port.answers())}", "operator": "op", "console": "c1",
                                      "alarm_ids": ids})), T0)
    answers = port.answers()
    assert [a["ok"] for a in answers] == [False] * 4
    assert all(a["message"] == "ack: alarm_ids must be a list of alarm ids" for a in answers)  # short and clear
