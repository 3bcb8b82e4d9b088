"""Who may do what: the engine takes the operator from the authenticated account and checks its role."""

from __future__ import annotations

import numpy as np
import pytest

from twin_app.core.engine import Engine
from twin_app.core.inbox import Action, Inbox
from twin_app.core.roles import PERMISSIONS, ROLES, allowed

from .test_engine import Port
from .test_incidents import T0, _drain, _engine, _garage_co

ACCOUNTS = {"op-li": "operator", "sv-wu": "supervisor", "tr-zhou": "trainer", "eng-ma": "engineer",
            "adm-he": "admin", "PM-1": "unit", "disabled-x": None}


def _engine_with_logins(index, tmp_path, port=None) -> Engine:
    engine = _engine(index, tmp_path, port)
    engine.accounts = ACCOUNTS.get
    return engine


def _act(engine: Engine, verb: str, user: str | None, t: float, **body) -> dict:
    request = f"r-{verb}-{user}-{t}"
    inbox = Inbox()
    inbox.put(Action(verb, {"console": "c1", "request": request, **body}, user=user))
    engine.step(inbox.drain(), t)
    return engine.answers[f"{user}/{request}" if user else request]  # kept per account and request id


def test_the_operator_is_the_authenticated_account_not_the_payloads_name(small_index, tmp_path) -> None:
    engine = _engine_with_logins(small_index, tmp_path)
    t = _garage_co(engine, small_index, T0)
    (incident,) = engine.incidents.incidents.values()
    answer = _act(engine, "ack", "op-li", t + 1, incident_id=incident.id, operator="SV-1 duty supervisor")
    assert answer["ok"], answer
    assert incident.ack_by == "op-li"
    entries = [(e["operator"], e["action"], e["target"]) for e in engine.audit.entries()]
    assert ("op-li", "ack", incident.id) in entries
    assert not any(e["operator"] == "SV-1 duty supervisor" for e in engine.audit.entries())


@pytest.mark.parametrize("user", ["tr-zhou", "eng-ma", "adm-he", "PM-1"])
def test_roles_without_alarm_actions_are_refused_and_audited(small_index, tmp_path, user: str) -> None:
    engine = _engine_with_logins(small_index, tmp_path)
    t = _garage_co(engine, small_index, T0)
    (incident,) = engine.incidents.incidents.values()
    answer = _act(engine, "ack", user, t + 1, incident_id=incident.id)
    assert not answer["ok"] and "may not ack" in answer["message"]
    assert incident.ack_ts is None and incident.unacknowledged > 0
    refused = [e for e in engine.audit.entries() if e["operator"] == user]
    assert refused and refused[-1]["outcome"].startswith("refused")


def test_no_login_unknown_or_disabled_accounts_are_refused(small_index, tmp_path) -> None:
    engine = _engine_with_logins(small_index, tmp_path)
    t = _garage_co(engine, small_index, T0)
    (incident,) = engine.incidents.incidents.values()
    for user, message in ((None, "logins are required"), ("nobody", "unknown or disabled"),
                          ("disabled-x", "unknown or disabled")):
        answer = _act(engine, "ack", user, t + 1, incident_id=incident.id, operator="op-li")
        assert not answer["ok"] and message in answer["message"], answer
    assert incident.ack_ts is None


def test_shelving_and_overrides_are_for_supervisors(small_index, tmp_path) -> None:
    port = Port()
    engine = _engine_with_logins(small_index, tmp_path, port)
    t = _garage_co(engine, small_index, T0)
    (incident,) = engine.incidents.incidents.values()
    assert _act(engine, "ack", "op-li", t + 1, incident_id=incident.id)["ok"]
    refused = _act(engine, "shelve", "op-li", t + 2, incident_id=incident.id, reason="sensor test", minutes=10)
    assert not refused["ok"] and "may not shelve" in refused["message"]
    assert _act(engine, "shelve", "sv-wu", t + 3, incident_id=incident.id, reason="sensor test", minutes=10)["ok"]
    fan = incident.commands[0]["device_id"]
    sent_before = len([topic for topic, _, _ in port.sent if topic == f"cmd/{fan}"])
    assert not _act(engine, "override", "op-li", t + 4, device_id=fan, action="off", reason="noise")["ok"]
    answer = _act(engine, "override", "sv-wu", t + 5, device_id=fan, action="off", reason="fan bearing smoking")
    assert answer["ok"], answer
    commands = [payload for topic, payload, _ in port.sent if topic == f"cmd/{fan}"]
    assert len(commands) == sent_before + 1 and commands[-1]["action"] == "off"
    assert "override by sv-wu" in commands[-1]["reason"]
    assert any(e["what"] == "command" and "override" in e["text"] for e in incident.timeline)
    bad = _act(engine, "override", "sv-wu", t + 6, device_id="T01-B1-GZA-CO1-co-1", action="off", reason="x")
    assert not bad["ok"] and "not an actuator" in bad["message"]


def test_without_logins_the_topics_user_or_the_payloads_name_is_used(small_index) -> None:
    engine = Engine(small_index, port=Port())
    rows = np.flatnonzero(small_index.devices["device_id"].str.startswith("T01-B1-GZA").to_numpy()
                          & (small_index.devices["kind"] == "co").to_numpy())
    _garage_co(engine, small_index, T0)
    (incident,) = engine.incidents.incidents.values()
    assert len(rows) and _act(engine, "comment", "op-li", T0 + 100, incident_id=incident.id, text="seen",
                              operator="someone")["ok"]
    assert incident.timeline[-1]["by"] == "op-li"
    assert _act(engine, "comment", None, T0 + 101, incident_id=incident.id, text="seen", operator="op-wang")["ok"]
    assert incident.timeline[-1]["by"] == "op-wang"
    assert _drain() is not None


def test_the_permission_table() -> None:
    assert set(PERMISSIONS) == set(ROLES)
    assert allowed("operator", "ack") and allowed("operator", "dispatch") and allowed("operator", "close")
    assert not allowed("operator", "shelve") and allowed("supervisor", "shelve") and allowed("supervisor", "override")
    for role in ("engineer", "trainer", "admin", "engine", "gateway", "simulator", "source"):
        assert not any(allowed(role, verb) for verb in ("ack", "dispatch", "close", "shelve", "override"))
    assert allowed("unit", "unit_status") and not allowed("unit", "ack") and not allowed(None, "ack")


def test_a_unit_reports_on_its_own_orders_only_and_cannot_cancel(small_index, tmp_path) -> None:
    engine = _engine_with_logins(small_index, tmp_path)
    t = _garage_co(engine, small_index, T0)
    (incident,) = engine.incidents.incidents.values()
    assert _act(engine, "dispatch", "op-li", t + 1, incident_id=incident.id, units=["PM-2"])["ok"]
    order = engine.dispatcher.open_order_of(incident.id)
    refused = _act(engine, "unit_status", "PM-1", t + 2, order_id=order.id, status="done", result="fake")
    assert not refused["ok"] and "not on this order" in refused["message"]
    engine.accounts = {**ACCOUNTS, "PM-2": "unit"}.get
    refused = _act(engine, "unit_status", "PM-2", t + 3, order_id=order.id, status="cancelled")
    assert not refused["ok"] and "cannot cancel" in refused["message"]
    assert _act(engine, "unit_status", "PM-2", t + 4, order_id=order.id, status="on_scene")["ok"]
    assert order.status == "on_scene"


def test_one_accounts_request_id_neither_answers_nor_blocks_anothers_action(small_index, tmp_path) -> None:
    engine = _engine_with_logins(small_index, tmp_path)
    t = _garage_co(engine, small_index, T0)
    (incident,) = engine.incidents.incidents.values()
    inbox = Inbox()
    inbox.put(Action("comment", {"console": "c1", "request": "same-id", "incident_id": incident.id, "text": "a"},
                     user="op-li"))
    inbox.put(Action("ack", {"console": "c2", "request": "same-id", "incident_id": incident.id}, user="sv-wu"))
    engine.step(inbox.drain(), t + 1)
    assert engine.answers["op-li/same-id"]["verb"] == "comment" and engine.answers["sv-wu/same-id"]["verb"] == "ack"
    assert incident.ack_by == "sv-wu"
