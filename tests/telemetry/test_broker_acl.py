"""Logins and the ACL on a real mosquitto running the shipped packaging/mosquitto/mosquitto-secure.conf, over TLS.

A throwaway CA and server certificate are made with the openssl command line; the accounts are made with
``python -m twin_app.users_cli`` (which writes the broker's password and ACL files); the clients are paho MQTT 5
clients that verify the broker with the CA. A publication the ACL refuses gets "Not authorized" in its PUBACK and
never reaches a subscriber.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tests.conftest import run_mosquitto, stop_mosquitto, tool
from twin_app.telemetry.broker_accounts import acl_rules
from twin_app.telemetry.mqtt import free_port

SECURE_CONF = Path(__file__).resolve().parents[2] / "packaging" / "mosquitto" / "mosquitto-secure.conf"
ETC = "/etc/mosquitto/twin-app/"
ROOT = "mumianling/v1"
NOT_AUTHORIZED = 0x87
ACCOUNTS = {  # name: (role, password)
    "engine": ("engine", "engine-password-1"),
    "op-li": ("operator", "op-li-password-1"),
    "tr-zhou": ("trainer", "tr-zhou-password-1"),
    "sim": ("simulator", "sim-password-0001"),
    "cam-1": ("source", "cam-1-password-1"),
    "op-old": ("operator", "op-old-password-1"),
}


def _openssl(*args: str, cwd: Path) -> None:
    run = subprocess.run([tool("openssl"), *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr


def _make_certificates(folder: Path) -> None:
    """ca.crt, server.crt (for 127.0.0.1 and localhost) and server.key: EC P-256, valid for a day."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=twin-app test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=folder)
    _openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=folder)
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                       "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "1", "-extfile", "server.ext", cwd=folder)
    # As the config's comments say: the key is read by the broker's user (mosquitto reads it after dropping to it).
    key = folder / "server.key"
    os.chmod(key, 0o640)
    with contextlib.suppress(OSError):
        os.chown(key, -1, folder.stat().st_gid)


def _users(folder: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``python -m twin_app.users_cli`` on the test's store, writing the broker's files into `folder`."""
    return subprocess.run([sys.executable, "-m", "twin_app.users_cli", *args, "--users", str(folder / "users.sqlite"),
                           "--broker-dir", str(folder)], input=stdin, capture_output=True, text=True, timeout=60)


class SecureBroker:
    """mosquitto on a copy of mosquitto-secure.conf: free loopback ports, the files in a temporary folder."""

    def __init__(self) -> None:
        text = SECURE_CONF.read_text()
        # Started as root, mosquitto drops to the config's user: the folder must be that user's (pytest's own
        # temporary folders are private to the user running the tests). The broker's files take its group.
        self.folder = Path(tempfile.mkdtemp(prefix="twin-mosquitto-secure-"))
        if os.geteuid() == 0:
            user = re.search(r"^user\s+(\S+)", text, re.MULTILINE)
            with contextlib.suppress(KeyError):
                entry = pwd.getpwnam(user.group(1) if user else "mosquitto")
                os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        (self.folder / "data").mkdir()
        self.tls_port, self.plain_port = free_port(), free_port()
        substitutions = [
            (r"^listener\s+8883\s*$", f"listener {self.tls_port} 127.0.0.1"),
            (r"^listener\s+1883\s+127\.0\.0\.1\s*$", f"listener {self.plain_port} 127.0.0.1"),
            (r"^persistence_location\s+.*$", f"persistence_location {self.folder / 'data'}/"),
            (r"^pid_file\s+.*$", f"pid_file {self.folder / 'mosquitto.pid'}"),
        ]
        for pattern, replacement in substitutions:
            text, n = re.subn(pattern, replacement, text, flags=re.MULTILINE)
            assert n == 1, f"mosquitto-secure.conf has no single line matching {pattern}"
        assert ETC in text
        text = text.replace(ETC, f"{self.folder}/")
        self.config = self.folder / "mosquitto.conf"
        self.config.write_text(text)
        self.log = self.folder / "mosquitto.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = run_mosquitto(self.config, self.tls_port, self.log)

    def stop(self) -> None:
        """SIGTERM, as systemd stops it: mosquitto writes its database and exits."""
        stop_mosquitto(self.proc)
        self.proc = None


def secure_broker(accounts: dict[str, tuple[str, str]]) -> SecureBroker:
    """A started secure broker with a throwaway CA and these accounts (name: (role, password))."""
    broker = SecureBroker()
    _make_certificates(broker.folder)
    for name, (role, password) in accounts.items():
        run = _users(broker.folder, "add", name, "--role", role, "--password-stdin", stdin=password + "\n")
        assert run.returncode == 0, run.stderr
    broker.start()
    return broker


@pytest.fixture(scope="module")
def broker() -> Iterator[SecureBroker]:
    broker = secure_broker(ACCOUNTS)
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.folder, ignore_errors=True)


class Client:
    """A paho MQTT 5 client over TLS (the broker verified with the test CA) that records what happens."""

    def __init__(self, broker: SecureBroker, user: str | None, password: str | None = None, tls: bool = True) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        if user is not None:
            self.client.username_pw_set(user, password if password is not None else ACCOUNTS[user][1])
        if tls:
            self.client.tls_set(ca_certs=str(broker.folder / "ca.crt"), cert_reqs=ssl.CERT_REQUIRED)
        self.connack: ReasonCode | None = None
        self.connected = threading.Event()
        self.messages: list[tuple[str, bytes, bool]] = []
        self.pubacks: dict[int, int] = {}
        self.subscribed = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload, bool(m.retain)))
        self.client.on_publish = lambda _c, _u, mid, rc, _p: self.pubacks.__setitem__(mid, rc.value)
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.connect("127.0.0.1", broker.tls_port if tls else broker.plain_port, keepalive=10)
        self.client.loop_start()
        assert self.connected.wait(10), "no CONNACK"

    def _on_connect(self, _client, _userdata, _flags, reason_code: ReasonCode, _properties: Properties) -> None:
        self.connack = reason_code
        self.connected.set()

    @property
    def refused(self) -> bool:
        return self.connack is not None and self.connack.is_failure

    def subscribe(self, topic: str) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(10)

    def publish(self, topic: str, payload: bytes | str = b"{}", retain: bool = False) -> int:
        """Publish at QoS 1; the PUBACK's reason code (0 accepted, 0x87 not authorized)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        deadline = time.monotonic() + 10
        while info.mid not in self.pubacks and time.monotonic() < deadline:
            time.sleep(0.01)
        assert info.mid in self.pubacks, f"no PUBACK for {topic}"
        return self.pubacks[info.mid]

    def wait_for(self, topic: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(t == topic for t, _p, _r in self.messages):
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients(broker: SecureBroker) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(user: str | None, password: str | None = None, tls: bool = True) -> Client:
        client = Client(broker, user, password, tls)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def watcher(clients) -> Client:
    """The engine's account, subscribed to everything under the root."""
    engine = clients("engine")
    assert not engine.refused, engine.connack
    engine.subscribe(f"{ROOT}/#")
    return engine


def _refused(reason: ReasonCode | None) -> bool:
    """A CONNACK that says "not authorized" or "bad user name or password"."""
    return reason is not None and reason.value in (0x86, 0x87)


def test_the_files_hold_the_enabled_accounts_and_their_rules(broker: SecureBroker) -> None:
    passwords = (broker.folder / "passwords").read_text()
    assert sorted(line.split(":")[0] for line in passwords.splitlines()) == sorted(ACCOUNTS)
    assert all(line.split(":", 1)[1].startswith("$7$20000$") for line in passwords.splitlines())
    for secret in (p for _r, p in ACCOUNTS.values()):
        assert secret not in passwords and secret not in (broker.folder / "acl").read_text()
    assert oct((broker.folder / "passwords").stat().st_mode & 0o777) == oct(0o640)
    acl = (broker.folder / "acl").read_text()
    assert f"user op-li\ntopic read {ROOT}/#\ntopic write {ROOT}/action/+/op-li\n" in acl
    assert acl_rules("x", "gateway") == [("write", f"{ROOT}/telemetry/x"), ("write", f"{ROOT}/status/x"),
                                         ("read", f"{ROOT}/cmd/#")]


def test_logins_need_the_right_password(broker: SecureBroker, clients) -> None:
    assert not clients("op-li").refused
    assert _refused(clients("op-li", "not-the-password").connack)
    assert _refused(clients("nobody", "whatever-password").connack)
    assert _refused(clients(None).connack), "anonymous clients are refused"
    # the loopback listener for the engine on the same host wants a login too
    assert not clients("engine", tls=False).refused
    assert _refused(clients(None, tls=False).connack)


def test_the_server_certificate_is_verified(broker: SecureBroker) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set("op-li", ACCOUNTS["op-li"][1])
    client.tls_set(cert_reqs=ssl.CERT_REQUIRED)  # the system's CAs: the test CA is not one of them
    with pytest.raises(ssl.SSLError):
        client.connect("127.0.0.1", broker.tls_port)


def test_a_disabled_user_is_refused_after_reload(broker: SecureBroker, clients) -> None:
    assert not clients("op-old").refused
    run = _users(broker.folder, "disable", "op-old", "--reload-pid", str(broker.folder / "mosquitto.pid"))
    assert run.returncode == 0, run.stderr
    assert "op-old:" not in (broker.folder / "passwords").read_text()
    deadline = time.monotonic() + 10
    while not _refused(clients("op-old").connack):
        assert time.monotonic() < deadline, "the broker still lets the disabled user in"
        time.sleep(0.1)
    run = _users(broker.folder, "enable", "op-old", "--reload-pid", str(broker.folder / "mosquitto.pid"))
    assert run.returncode == 0, run.stderr
    deadline = time.monotonic() + 10
    while clients("op-old").refused:
        assert time.monotonic() < deadline, "the broker still refuses the enabled user"
        time.sleep(0.1)


def test_an_operator_publishes_only_its_own_actions(broker: SecureBroker, clients, watcher: Client) -> None:
    op = clients("op-li")
    denied = [f"{ROOT}/action/ack/tr-zhou", f"{ROOT}/action/ack", f"{ROOT}/cmd/X", f"{ROOT}/alarm/X",
              f"{ROOT}/dispatch/X", f"{ROOT}/event/X", f"{ROOT}/telemetry/X", f"{ROOT}/action/ack/op-li/x",
              "elsewhere/topic"]
    for topic in denied:
        assert op.publish(topic) == NOT_AUTHORIZED, topic
    assert op.publish(f"{ROOT}/action/ack/op-li", b'{"request": "r-1"}') == 0
    assert watcher.wait_for(f"{ROOT}/action/ack/op-li")
    assert [t for t, _p, _r in watcher.messages] == [f"{ROOT}/action/ack/op-li"], "a refused publication arrived"


def test_an_operator_cannot_change_a_retained_alarm(broker: SecureBroker, clients, watcher: Client) -> None:
    topic = f"{ROOT}/alarm/T01-B1-CO1:hi:1"
    assert watcher.publish(topic, b'{"state": "active"}', retain=True) == 0
    op = clients("op-li")
    assert op.publish(topic, b'{"state": "cleared"}', retain=True) == NOT_AUTHORIZED
    assert op.publish(topic, b"", retain=True) == NOT_AUTHORIZED  # an empty retained message would delete it
    fresh = clients("op-li")  # people read everything
    fresh.subscribe(topic)
    assert fresh.wait_for(topic)
    time.sleep(0.2)
    assert fresh.messages == [(topic, b'{"state": "active"}', True)]
    assert watcher.publish(topic, b"", retain=True) == 0  # the engine may clear it


def test_a_trainer_publishes_no_action(broker: SecureBroker, clients, watcher: Client) -> None:
    trainer = clients("tr-zhou")
    for topic in (f"{ROOT}/action/ack/tr-zhou", f"{ROOT}/action/ack/op-li", f"{ROOT}/action/shelve/tr-zhou",
                  f"{ROOT}/cmd/X", f"{ROOT}/event/tr-zhou"):
        assert trainer.publish(topic) == NOT_AUTHORIZED, topic
    assert watcher.publish(f"{ROOT}/kpi/sentinel") == 0
    assert watcher.wait_for(f"{ROOT}/kpi/sentinel")
    assert [t for t, _p, _r in watcher.messages] == [f"{ROOT}/kpi/sentinel"]
    trainer.subscribe(f"{ROOT}/kpi/#")  # but reads
    assert watcher.publish(f"{ROOT}/kpi/read") == 0
    assert trainer.wait_for(f"{ROOT}/kpi/read")


def test_only_the_engine_commands(broker: SecureBroker, clients, watcher: Client) -> None:
    sim = clients("sim")
    sim.subscribe(f"{ROOT}/#")  # subscribing is allowed; only cmd/ is delivered to it
    for name in ("op-li", "tr-zhou", "sim", "cam-1"):
        assert clients(name).publish(f"{ROOT}/cmd/X") == NOT_AUTHORIZED, name
    assert watcher.publish(f"{ROOT}/cmd/X", b'{"id": "c-1"}') == 0
    assert sim.wait_for(f"{ROOT}/cmd/X")
    assert [t for t, _p, _r in watcher.messages] == [f"{ROOT}/cmd/X"]
    # the simulator publishes every gateway's telemetry, status, points and events, nothing else
    for topic in (f"{ROOT}/telemetry/gw-1", f"{ROOT}/status/gw-2", f"{ROOT}/point/p-1", f"{ROOT}/event/cam-9"):
        assert sim.publish(topic) == 0, topic
    for topic in (f"{ROOT}/alarm/X", f"{ROOT}/action/ack/sim", f"{ROOT}/kpi/X"):
        assert sim.publish(topic) == NOT_AUTHORIZED, topic
    assert watcher.wait_for(f"{ROOT}/event/cam-9")
    assert not any(t.startswith((f"{ROOT}/kpi/", f"{ROOT}/alarm/")) for t, _p, _r in sim.messages)


def test_a_source_publishes_its_own_events_only(broker: SecureBroker, clients, watcher: Client) -> None:
    cam = clients("cam-1")
    assert cam.publish(f"{ROOT}/event/other") == NOT_AUTHORIZED
    assert cam.publish(f"{ROOT}/telemetry/cam-1") == NOT_AUTHORIZED
    assert cam.publish(f"{ROOT}/event/cam-1", b'{"id": "e-1"}') == 0
    assert watcher.wait_for(f"{ROOT}/event/cam-1")
    assert [t for t, _p, _r in watcher.messages] == [f"{ROOT}/event/cam-1"]
    cam.subscribe(f"{ROOT}/#")  # a source reads nothing
    assert watcher.publish(f"{ROOT}/kpi/for-nobody") == 0
    time.sleep(0.3)
    assert cam.messages == []


def test_users_cli_refuses_bad_input_with_one_line(broker: SecureBroker, tmp_path: Path) -> None:
    cases = [(("add", "x1", "--role", "boss", "--password-stdin"), "long-enough-password\n"),
             (("add", "x1", "--role", "operator", "--password-stdin"), "short\n"),
             (("add", "x/1", "--role", "operator", "--password-stdin"), "long-enough-password\n"),
             (("passwd", "nobody", "--password-stdin"), "long-enough-password\n"),
             (("disable", "nobody"), None),
             (("add", "op-li", "--role", "operator", "--password-stdin"), "long-enough-password\n")]
    before = (broker.folder / "passwords").read_text()
    for args, stdin in cases:
        run = _users(broker.folder, *args, stdin=stdin)
        assert run.returncode == 2, (args, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert "Traceback" not in run.stderr and "long-enough-password" not in run.stderr + run.stdout
    assert (broker.folder / "passwords").read_text() == before
    listing = _users(broker.folder, "list", "--json")
    assert listing.returncode == 0 and '"op-li"' in listing.stdout and "$argon2" not in listing.stdout


def test_the_apps_client_connects_with_the_ca_of_the_broker_url(broker: SecureBroker) -> None:
    """``mqtts://user:password@host:port?ca=FILE``: what the engine and the consoles use (make_client)."""
    from twin_app.telemetry.mqtt import make_client, parse_broker_url

    password = ACCOUNTS["op-li"][1]
    url = parse_broker_url(f"mqtts://op-li:{password}@127.0.0.1:{broker.tls_port}?ca={broker.folder / 'ca.crt'}")
    client = make_client(url, f"t-app-{uuid.uuid4().hex[:8]}")
    result: list[ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, reason_code, _p: result.append(reason_code)
    client.connect(url.host, url.port)
    client.loop_start()
    try:
        deadline = time.monotonic() + 10
        while not result and time.monotonic() < deadline:
            time.sleep(0.02)
        assert result and not result[0].is_failure, result
    finally:
        client.disconnect()
        client.loop_stop()


def test_users_cli_asks_the_password_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture) -> None:
    from twin_app import users_cli

    monkeypatch.setenv("TWIN_APP_USERS", str(tmp_path / "store" / "users.sqlite"))
    assert users_cli.default_users_path() == tmp_path / "store" / "users.sqlite"
    answers = iter(["first-password-1", "other-password-2"])
    monkeypatch.setattr(users_cli.getpass, "getpass", lambda _prompt: next(answers))
    assert users_cli.main(["add", "op-zhang", "--role", "supervisor"]) == 2
    assert "differ" in capsys.readouterr().err
    answers = iter(["first-password-1", "first-password-1"])
    assert users_cli.main(["add", "op-zhang", "--role", "supervisor"]) == 0
    out = capsys.readouterr()
    assert "first-password-1" not in out.out + out.err
    assert (tmp_path / "store" / "passwords").read_text().startswith("op-zhang:$7$20000$")
    assert "user op-zhang\n" in (tmp_path / "store" / "acl").read_text()
    assert users_cli.main(["disable", "op-zhang", "--broker-dir", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "passwords").read_text() == ""
    assert users_cli.main(["list"]) == 0
    assert "disabled" in capsys.readouterr().out
    assert users_cli.main(["enable", "op-zhang", "--reload-pid", str(tmp_path / "no.pid")]) == 2


def test_a_failed_reload_says_the_change_is_saved_but_not_yet_in_force(tmp_path: Path) -> None:
    run = _users(tmp_path, "add", "op-wang", "--role", "operator", "--password-stdin", stdin="op-wang-password-1\n")
    assert run.returncode == 0, run.stderr
    run = subprocess.run([sys.executable, "-m", "twin_app.users_cli", "disable", "op-wang", "--users",
                          str(tmp_path / "users.sqlite"), "--broker-dir", str(tmp_path), "--reload-pid",
                          str(tmp_path / "no.pid")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "saved" in run.stderr and "NOT reloaded" in run.stderr, run.stderr
    assert "op-wang" not in (tmp_path / "passwords").read_text()  # the files are written all the same
