"""Who may do what, from outside: `twin-app serve --users` on a real mosquitto running the shipped secure configuration.

Accounts made with `twin-app users`; every client is a separate paho client over TLS that verifies the broker with a
throwaway CA. The engine takes the operator from the broker-authenticated topic level, never from the payload.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from twin_app.core.users import MAX_FAILURES, UserStore

from .conftest import wait_for
from .test_broker_acl import ACCOUNTS as BROKER_ACCOUNTS
from .test_broker_acl import NOT_AUTHORIZED, ROOT, Client, SecureBroker, secure_broker

ACCOUNTS = {  # the broker test's accounts, and a supervisor and an engineer
    **{name: account for name, account in BROKER_ACCOUNTS.items() if name in ("engine", "op-li", "tr-zhou", "sim")},
    "sv-wu": ("supervisor", "sv-wu-password-1"),
    "eng-ma": ("engineer", "eng-ma-password-1"),
}


@pytest.fixture(scope="module")
def site(small_district, tmp_path_factory):
    """The secure broker, its accounts, and `twin-app serve --users` on it (the engine's own account)."""
    broker = secure_broker(ACCOUNTS)
    serve = None
    try:
        data = tmp_path_factory.mktemp("serve-data")
        url = (f"mqtts://engine:{ACCOUNTS['engine'][1]}@127.0.0.1:{broker.tls_port}/?ca={broker.folder / 'ca.crt'}")
        serve = subprocess.Popen([sys.executable, "-m", "twin_app", "serve", "--broker", url, "--ifc",
                                  str(small_district.ifc_path), "--data-dir", str(data), "--users",
                                  str(broker.folder / "users.sqlite"), "--duration", "300"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        yield broker, data
    finally:
        if serve is not None:
            serve.terminate()
            serve.wait(timeout=20)
        broker.stop()
        shutil.rmtree(broker.folder, ignore_errors=True)


def _client(broker: SecureBroker, user: str, password: str | None = None) -> Client:
    client = Client(broker, user, password if password is not None else ACCOUNTS[user][1])
    client.name = user
    return client


def _payloads(client: Client, topic: str) -> list[dict]:
    return [json.loads(p) for t, p, _ in client.messages if t == topic and p]


def _action(client: Client, user_level: str, verb: str, **body) -> tuple[int, str]:
    request = f"req-{uuid.uuid4().hex[:10]}"
    code = client.publish(f"{ROOT}/action/{verb}/{user_level}",
                          json.dumps({"request": request, "console": f"desk-{client.name}", **body}))
    return code, request


def test_identity_roles_and_forgeries_through_the_shipped_broker_configuration(site, small_index) -> None:
    broker, data = site
    sim = _client(broker, "sim")
    op = _client(broker, "op-li")
    trainer = _client(broker, "tr-zhou")
    engineer = _client(broker, "eng-ma")
    try:
        for client in (op, trainer, engineer):
            assert not client.refused, client.connack
            client.subscribe(f"{ROOT}/#")
        sim.subscribe(f"{ROOT}/cmd/#")
        devices = small_index.devices
        co = devices.loc[devices["device_id"].str.startswith("T01-B1-GZA") & (devices["kind"] == "co"), "device_id"]

        def feed() -> None:
            for device in co:
                sim.client.publish(f"{ROOT}/point/{device}", json.dumps({"ts": time.time(), "value": 90.0}))
            time.sleep(0.5)

        assert wait_for(lambda: any(t.startswith(f"{ROOT}/incident/") for t, _p, _r in op.messages), 60, feed), \
            "no incident from the engine"
        incident = next(json.loads(p) for t, p, _ in op.messages if t.startswith(f"{ROOT}/incident/") and p)
        topic = f"{ROOT}/incident/{incident['id']}"
        # a trainer and an engineer cannot even publish an action: the broker refuses it
        assert _action(trainer, "tr-zhou", "ack", incident_id=incident["id"])[0] == NOT_AUTHORIZED
        assert _action(engineer, "eng-ma", "ack", incident_id=incident["id"])[0] == NOT_AUTHORIZED
        # nor may an operator write under another account's name
        assert _action(op, "sv-wu", "ack", incident_id=incident["id"])[0] == NOT_AUTHORIZED
        time.sleep(1.0)
        assert all(p["state"] == "new" for p in _payloads(op, topic))
        # the operator's acknowledgement counts, under the authenticated name, whatever the payload claims
        code, request = _action(op, "op-li", "ack", incident_id=incident["id"], operator="SV-1 duty supervisor")
        assert code == 0
        assert wait_for(lambda: any(p["state"] == "acknowledged" for p in _payloads(op, topic)), 15, feed)
        acked = [p for p in _payloads(op, topic) if p["state"] == "acknowledged"][-1]
        assert acked["ack_by"] == "op-li"
        answers = _payloads(op, f"{ROOT}/action_result/desk-op-li")
        assert any(a["request"] == request and a["ok"] for a in answers)
        # an operator may not shelve (a supervisor's action): the engine refuses it with a message
        code, request = _action(op, "op-li", "shelve", incident_id=incident["id"], reason="noise", minutes=5)
        assert code == 0
        assert wait_for(lambda: any(a["request"] == request and not a["ok"] and "may not shelve" in a["message"]
                                    for a in _payloads(op, f"{ROOT}/action_result/desk-op-li")), 10)
        # forgeries from a console account: a command, a retained alarm, an empty retained message, an event
        fan = "T01-B1-GZA-FAN1-fan-1"
        before = len([t for t, _p, _r in sim.messages if t == f"{ROOT}/cmd/{fan}"])
        assert op.publish(f"{ROOT}/cmd/{fan}", json.dumps({"id": "forged", "action": "off"})) == NOT_AUTHORIZED
        alarm_topic = next(t for t, p, _r in op.messages if t.startswith(f"{ROOT}/alarm/") and p)
        assert op.publish(alarm_topic, b"", retain=True) == NOT_AUTHORIZED
        assert op.publish(alarm_topic, json.dumps({"id": "x", "state": "normal", "priority": "low"}),
                          retain=True) == NOT_AUTHORIZED
        assert op.publish(f"{ROOT}/event/ai_camera", json.dumps({"id": "fake-fire", "type": "fire_detected",
                                                                  "device_id": fan})) == NOT_AUTHORIZED
        time.sleep(1.0)
        assert len([t for t, _p, _r in sim.messages if t == f"{ROOT}/cmd/{fan}"]) == before
        fresh = _client(broker, "eng-ma")
        fresh.subscribe(alarm_topic)
        assert wait_for(lambda: any(t == alarm_topic and p for t, p, r in fresh.messages), 5)  # still standing
        fresh.close()
        # a wrong password is refused by the broker; repeated failures lock the account's login in the user store
        assert _client(broker, "op-li", "not-the-password").refused
        store = UserStore(broker.folder / "users.sqlite")
        for _ in range(MAX_FAILURES):
            assert not store.verify("op-li", "not-the-password")
        assert store.locked("op-li") and not store.verify("op-li", ACCOUNTS["op-li"][1])
        # a gateway's account reports its own devices only: a batch naming other devices is dropped
        code = sim.publish(f"{ROOT}/telemetry/not-a-gateway", json.dumps({"ts": time.time(), "ids": list(co),
                                                                          "values": [1.0] * len(co)}))
        assert code == 0  # the simulator's account may write any telemetry topic; the engine drops the batch
        # the audit names the authenticated operator, never the claimed one
        with sqlite3.connect(data / "engine.sqlite") as db:
            rows = db.execute("SELECT operator, action, target, outcome FROM audit").fetchall()
        assert ("op-li", "ack", incident["id"], "ok") in rows
        assert any(r[1] == "ack" and r[3].startswith("refused") is False for r in rows)
        assert not any(r[0] == "SV-1 duty supervisor" for r in rows)
        assert any(r[0] == "op-li" and r[1] == "shelve" and r[3].startswith("refused") for r in rows)
        # the serve's real audit log is an intact hash chain; one row edited afterwards is found and named
        verify = subprocess.run([sys.executable, "-m", "twin_app", "audit", "verify", str(data / "engine.sqlite")],
                                capture_output=True, text=True, timeout=60)
        assert verify.returncode == 0 and verify.stdout.startswith("intact:"), verify.stdout + verify.stderr
        with sqlite3.connect(data / "engine.sqlite") as db:
            seq = db.execute("SELECT seq FROM audit WHERE operator = 'op-li' AND action = 'ack'").fetchone()[0]
            db.execute("UPDATE audit SET operator = 'sv-wu' WHERE seq = ?", (seq,))
        verify = subprocess.run([sys.executable, "-m", "twin_app", "audit", "verify", str(data / "engine.sqlite")],
                                capture_output=True, text=True, timeout=60)
        assert verify.returncode == 1 and verify.stdout.startswith(f"changed: seq {seq} "), verify.stdout
    finally:
        for client in (sim, op, trainer, engineer):
            client.close()
