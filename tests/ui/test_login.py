"""The console's login: checked against a real user store (lockout), then the console acts under that account."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt

from tests.ui.conftest import load_into
from twin_app.core.users import MAX_FAILURES, UserStore
from twin_app.ui.app import local_check
from twin_app.ui.login import LoginDialog, has_credentials, with_credentials


def test_the_login_dialog_checks_the_store_and_locks_after_repeated_failures(qtbot, tmp_path) -> None:
    path = tmp_path / "users.sqlite"
    store = UserStore(path)
    store.add("op-li", "operator", "op-li-password-1")
    store.add("op-wang", "operator", "op-wang-password-1")
    dialog = LoginDialog("mqtts://broker:8883", local_check(path))
    qtbot.addWidget(dialog)
    dialog.show()
    for _ in range(MAX_FAILURES):
        dialog.user_box.setText("op-li")
        dialog.password_box.setText("wrong-password")
        dialog._try()
        assert dialog.result() != LoginDialog.DialogCode.Accepted and dialog.password_box.text() == ""
    assert "locked" in dialog.message.text()
    dialog.user_box.setText("op-li")
    dialog.password_box.setText("op-li-password-1")
    dialog._try()
    assert "locked" in dialog.message.text() and dialog.user == ""  # the right password, but locked
    dialog.user_box.setText("op#x")
    dialog._try()
    assert "user name" in dialog.message.text()
    dialog.user_box.setText("op-wang")
    dialog.password_box.setText("op-wang-password-1")
    dialog._try()
    assert dialog.result() == LoginDialog.DialogCode.Accepted and dialog.user == "op-wang"
    url = with_credentials("mqtts://broker.local:8883/?root=site/a", dialog.user, dialog.password)
    assert has_credentials(url) and url.startswith("mqtts://op-wang:")
    assert url.endswith("@broker.local:8883/?root=site/a")


def test_a_logged_in_console_acts_under_its_account(qtbot, window, small_district, mosquitto) -> None:
    load_into(qtbot, window, small_district.ifc_path)
    seen: list[tuple[str, dict]] = []
    probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{time.time_ns()}")
    probe.on_message = lambda _c, _u, m: seen.append((m.topic, json.loads(m.payload)))
    probe.connect("127.0.0.1", mosquitto.port)
    probe.subscribe("mumianling/v1/action/#", qos=1)
    probe.loop_start()
    try:
        url = with_credentials(mosquitto.url, "op-wang", "op-wang-password-1")  # the test broker is open
        window.start_live(url, operator="someone-else", console="desk-2")
        qtbot.waitUntil(lambda: window.live.connection == "connected", timeout=10_000)
        assert window.live.operator == "op-wang"
        window.send_action("comment", {"incident_id": "I-1", "text": "on my way"})
        qtbot.waitUntil(lambda: bool(seen), timeout=5000)
        topic, body = seen[0]
        assert topic == "mumianling/v1/action/comment/op-wang" and body["console"] == "desk-2"
    finally:
        probe.loop_stop()
        window.stop_live()
