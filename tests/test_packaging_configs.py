"""The production configuration files under packaging/: the broker's and the engine's systemd unit.

The broker config is checked by running it: a real mosquitto on this very file (only its listener port and its
persistence folder changed) must keep retained messages and the messages queued for a disconnected persistent
session over a restart. The unit is checked with `systemd-analyze verify` where that exists, and always for the
keys the engine's operation relies on.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_mosquitto, stop_mosquitto, tool
from twin_app.telemetry.mqtt import free_port

PACKAGING = Path(__file__).resolve().parents[1] / "packaging"
MOSQUITTO_CONF = PACKAGING / "mosquitto" / "mosquitto.conf"
SERVE_UNIT = PACKAGING / "systemd" / "twin-app-serve.service"


def _settings(text: str) -> dict[str, list[str]]:
    """The active (uncommented) lines of a mosquitto config: option -> values, in order."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            out.setdefault(key, []).append(value.strip())
    return out


class ProductionBroker:
    """mosquitto on a copy of packaging/mosquitto/mosquitto.conf: a free loopback port, a temporary database folder."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        text = MOSQUITTO_CONF.read_text()
        user = _settings(text).get("user", ["mosquitto"])[-1]
        # Started as root, mosquitto drops to the config's user: its database folder must be reachable and writable
        # by that user (pytest's own temporary folders are private to the user running the tests).
        self.data = Path(tempfile.mkdtemp(prefix="twin-mosquitto-"))
        if os.geteuid() == 0:
            with contextlib.suppress(KeyError):  # no such user: mosquitto says so, and start() fails with it
                os.chown(self.data, pwd.getpwnam(user).pw_uid, -1)
        listener = re.compile(r"^listener\s+1883\b.*$", re.MULTILINE)
        location = re.compile(r"^persistence_location\s+.*$", re.MULTILINE)
        assert listener.search(text), "the config has no 'listener 1883' line"
        assert location.search(text), "the config has no persistence_location line"
        text = listener.sub(f"listener {self.port} 127.0.0.1", text)
        text = location.sub(f"persistence_location {self.data}/", text)
        self.config = folder / "mosquitto.conf"
        self.config.write_text(text)
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = run_mosquitto(self.config, self.port, self.log)

    def stop(self) -> None:
        """SIGTERM, as systemd stops it: mosquitto writes its database and exits."""
        stop_mosquitto(self.proc)
        self.proc = None

    def pub(self, *args: str) -> None:
        run = subprocess.run([tool("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(self.port), *args],
                             capture_output=True, text=True, timeout=20)
        assert run.returncode == 0, run.stderr

    def sub(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tool("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=20)


@pytest.fixture
def production_broker(tmp_path: Path) -> Iterator[ProductionBroker]:
    broker = ProductionBroker(tmp_path)
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.data, ignore_errors=True)


def test_mosquitto_config_has_the_durability_settings() -> None:
    settings = _settings(MOSQUITTO_CONF.read_text())
    assert settings["listener"] == ["1883"]
    assert settings["persistence"] == ["true"]
    assert settings["persistence_location"] == ["/var/lib/mosquitto/"]
    assert 0 < int(settings["autosave_interval"][0]) <= 30
    assert settings["autosave_on_changes"] == ["false"], "true would make autosave_interval a count of changes"
    assert int(settings["max_queued_messages"][0]) >= 100_000
    # logins arrive with their own issue: the placeholders are there, commented out
    text = MOSQUITTO_CONF.read_text()
    assert "password_file" not in settings and re.search(r"^#\s*password_file\s", text, re.MULTILINE)
    assert "acl_file" not in settings and re.search(r"^#\s*acl_file\s", text, re.MULTILINE)


def test_mosquitto_config_keeps_retained_messages_over_a_restart(production_broker: ProductionBroker) -> None:
    broker = production_broker
    broker.start()
    topic, payload = "mumianling/v1/alarm/T01-B1-GZA-CO1-co-1:hi:1", '{"id": "T01-B1-GZA-CO1-co-1:hi:1"}'
    broker.pub("-t", topic, "-m", payload, "-r", "-q", "1")
    broker.stop()
    assert (broker.data / "mosquitto.db").exists(), "mosquitto wrote no database on SIGTERM"
    broker.start()
    got = broker.sub("-t", topic, "-C", "1", "-W", "5")
    assert got.returncode == 0 and got.stdout.strip() == payload, (got.returncode, got.stdout, got.stderr)


def test_mosquitto_config_keeps_a_stopped_engines_queue_over_a_restart(production_broker: ProductionBroker) -> None:
    """What the engine relies on: QoS 1 actions sent while it is down wait in its session, over a broker restart."""
    broker = production_broker
    broker.start()
    engine = ("-i", "twin-app-serve-test", "-c", "-q", "1", "-t", "mumianling/v1/action/+")
    first = broker.sub(*engine, "-E")  # subscribe with a persistent session, then disconnect
    assert first.returncode == 0, first.stderr
    broker.pub("-t", "mumianling/v1/action/ack", "-m", '{"request": "r-1"}', "-q", "1")
    broker.stop()
    broker.start()
    got = broker.sub(*engine, "-C", "1", "-W", "5")
    assert got.returncode == 0 and got.stdout.strip() == '{"request": "r-1"}', (got.returncode, got.stdout, got.stderr)


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(SERVE_UNIT.read_text())
    return parser


def test_serve_unit_has_the_keys_operation_relies_on() -> None:
    unit = _unit()
    service = unit["Service"]
    command = service["ExecStart"].split()
    assert command[0].startswith("/") and command[0].endswith("twin-app"), command
    assert command[1] == "serve"
    assert command[command.index("--broker") + 1] == "mqtt://127.0.0.1:1883"
    assert command[command.index("--data-dir") + 1] == "/var/lib/twin-app"
    assert service["Restart"] in ("on-failure", "always")
    assert float(service["RestartSec"].rstrip("s")) == 2
    assert service["User"] not in ("", "root", "0")
    assert service["StateDirectory"] == "twin-app"
    assert service["NoNewPrivileges"] in ("yes", "true")
    assert service["ProtectSystem"] == "strict"
    assert "/var/lib/twin-app" in service["ReadWritePaths"].split()
    assert "mosquitto.service" in unit["Unit"]["After"].split()
    assert "mosquitto.service" in unit["Unit"]["Wants"].split()
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "TWIN_APP_USERS=/var/lib/twin-app/users.sqlite" in service["Environment"]  # logins on (SECURITY)
    assert "--broker" in command and "@" not in command[command.index("--broker") + 1]  # no password in argv


def test_serve_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the keys are checked by the test above)")
    # The unit names the installed program (/usr/bin/twin-app); verify checks that it exists, so the copy points at
    # this checkout's. Nothing else changes.
    text = SERVE_UNIT.read_text()
    program = shutil.which("twin-app") or str(Path(sys.executable).with_name("twin-app"))
    assert Path(program).exists(), "twin-app is not installed in this environment"
    copy = tmp_path / SERVE_UNIT.name
    copy.write_text(re.sub(r"^ExecStart=\S+", f"ExecStart={program}", text, flags=re.MULTILINE))
    run = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (run.stdout + run.stderr).splitlines() if SERVE_UNIT.name in line]
    assert run.returncode == 0 and not complaints, run.stdout + run.stderr
