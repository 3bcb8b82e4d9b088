"""Integrator fault drills: `twin-app serve` as its own process on a real mosquitto, driven by a separate client.

Everything goes through the outside faces only (the command line, the MQTT topics of ../shared/CONTRACT.md): a
`Serve` process wrapper (start, SIGKILL, SIGTERM, the JSON summary lines it prints) and a `Console` client (an
operator console that sends actions and collects the retained alarms and orders, the action results and the fan
commands, and that also plays the field devices: CO detectors over their limit, fans that report `on`).

The drills: hostile messages on every topic the engine reads; readings stamped far in the future or the past; a
SIGKILL in the middle of an incident; an acknowledgement sent while the engine is down; an alarm whose condition
clears while the engine is down; broker restarts under load (2 here, 20 in the long drill: `pytest -m drill`).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pandas as pd
import pytest

from tests.conftest import Mosquitto
from tests.telemetry.conftest import wait_for

REPO = Path(__file__).resolve().parents[2]
SMALL_IFC = REPO / "bim_models" / "mumianling-small" / "mumianling.ifc"
ROOT = "mumianling/v1"
CONSOLE = "c1"
OPERATOR = "op-li"
RAISE_TIMEOUT = 20.0  # a CO alarm rises after its 5 s on-delay
FEED_PERIOD = 0.5  # seconds between two readings of a fed device
QUIET_AFTER_RESTART = 8.0  # no repeated linked command this long after a restart


# -- the small district's registry ------------------------------------------------------------------------------
@functools.cache
def registry() -> pd.DataFrame:
    devices = pd.read_parquet(SMALL_IFC.with_name("devices.parquet"))
    return devices.assign(device_id=devices["device_id"].astype(str), kind=devices["kind"].astype(str))


def garage_co_detectors() -> list[str]:
    """One garage CO detector per garage zone (building-storey-zone), in registry order."""
    d = registry()
    ids = d.loc[(d["kind"] == "co") & d["device_id"].str.contains("-GZ"), "device_id"].tolist()
    by_zone: dict[str, str] = {}
    for device_id in ids:
        by_zone.setdefault(zone_of(device_id), device_id)
    return list(by_zone.values())


def zone_of(device_id: str) -> str:
    """`T01-B1-GZA-CO1-co-1` -> `T01-B1-GZA`."""
    building, storey, place = device_id.split("-")[:3]
    return f"{building}-{storey}-{place[:3]}"


def zone_fans(device_id: str) -> set[str]:
    """The exhaust fans of a garage CO detector's zone (what its alarm switches on)."""
    d = registry()
    fans = d.loc[(d["kind"] == "fan") & d["device_id"].str.startswith(zone_of(device_id) + "-FAN"), "device_id"]
    return set(fans)


def limit(device_id: str) -> float:
    d = registry()
    value = d.loc[d["device_id"] == device_id, "alarm_high"].iloc[0]
    assert pd.notna(value), f"{device_id} has no alarm_high"
    return float(value)


def over(device_id: str) -> float:
    return limit(device_id) * 1.6  # 80 ppm for a 50 ppm limit


def normal(device_id: str) -> float:
    return limit(device_id) * 0.1  # 5 ppm, far below the limit and its deadband


def gateway_of(device_id: str) -> str:
    d = registry()
    return str(d.loc[d["device_id"] == device_id, "gateway"].iloc[0])


def cameras() -> list[str]:
    d = registry()
    return d.loc[d["kind"] == "camera", "device_id"].tolist()


def hi_alarm(device_id: str, n: int = 1) -> str:
    return f"{device_id}:hi:{n}"


# -- a console and field-device stand-in ------------------------------------------------------------------------
def _decode(payload: bytes) -> object:
    """JSON as objects; an empty payload (a cleared retained topic) as None; anything unreadable as {"_raw": bytes}."""
    if not payload:
        return None
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: hostile nesting, seen on alarm/ and dispatch/
        return {"_raw": payload}


class Console:
    """A separate MQTT client (paho v2): one operator console, and the field devices it plays.

    It keeps, behind one lock: the retained view of ``alarm/`` and ``dispatch/`` (an empty payload removes the topic)
    with the history of every message received; the answers on ``action_result/{name}`` per request id; the commands
    seen on ``cmd/``. A background thread publishes the fed readings every `FEED_PERIOD` s and, with `resend_every`,
    re-sends each action that has no answer yet with its same request id (as a real console does over a broker
    restart). With `obey_commands`, a fan that gets ``on`` reports 1 from then on.
    """

    def __init__(self, port: int, name: str = CONSOLE, operator: str = OPERATOR, resend_every: float | None = None,
                 obey_commands: bool = False) -> None:
        self.name, self.operator = name, operator
        self.resend_every, self.obey_commands = resend_every, obey_commands
        self._lock = threading.Lock()
        self.alarms: dict[str, dict] = {}
        self.alarm_log: list[tuple[float, str, object]] = []  # (monotonic time, alarm id, payload or None)
        self.orders: dict[str, dict] = {}
        self.results: dict[str, list[dict]] = {}
        self.cmds: list[tuple[float, str, dict]] = []  # (monotonic time, target device, payload)
        self.connects: list[float] = []
        self._sent: dict[str, tuple[str, dict]] = {}  # request -> (verb, body)
        self._pending: dict[str, float] = {}  # unanswered request -> when last sent
        self._feeds: dict[str, float] = {}
        self._stop = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"console-{name}-{uuid.uuid4().hex[:8]}")
        self.client.reconnect_delay_set(0.1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        assert wait_for(lambda: bool(self.connects), 10), "the console client could not connect to the broker"
        self._thread = threading.Thread(target=self._run, name=f"console-{name}", daemon=True)
        self._thread.start()

    # paho's network thread
    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            return
        client.subscribe([(f"{ROOT}/alarm/#", 1), (f"{ROOT}/dispatch/#", 1), (f"{ROOT}/cmd/+", 1),
                          (f"{ROOT}/action_result/{self.name}", 1)])
        with self._lock:
            self.connects.append(time.monotonic())

    def _on_message(self, _client, _userdata, message) -> None:
        now = time.monotonic()
        channel, _, key = message.topic[len(ROOT) + 1:].partition("/")
        body = _decode(message.payload)
        with self._lock:
            if channel == "alarm":
                self.alarm_log.append((now, key, body))
                if isinstance(body, dict):
                    self.alarms[key] = body
                else:
                    self.alarms.pop(key, None)
            elif channel == "dispatch":
                if isinstance(body, dict):
                    self.orders[key] = body
                else:
                    self.orders.pop(key, None)
            elif channel == "action_result" and isinstance(body, dict) and isinstance(body.get("request"), str):
                self.results.setdefault(body["request"], []).append(body)
                self._pending.pop(body["request"], None)
            elif channel == "cmd" and isinstance(body, dict):
                self.cmds.append((now, key, body))
                if self.obey_commands and body.get("action") == "on":
                    self._feeds[key] = 1.0

    # the console's own thread: readings and re-sends
    def _run(self) -> None:
        while not self._stop.wait(FEED_PERIOD):
            with self._lock:
                feeds = dict(self._feeds)
                now = time.monotonic()
                due = [] if self.resend_every is None else [
                    request for request, sent in self._pending.items() if now - sent >= self.resend_every]
                for request in due:
                    self._pending[request] = now
                resends = [self._sent[request] for request in due]
            for device_id, value in feeds.items():
                self.client.publish(f"{ROOT}/point/{device_id}", json.dumps({"ts": time.time(), "value": value}))
            for verb, body in resends:
                self.client.publish(f"{ROOT}/action/{verb}", json.dumps(body), qos=1)

    # what a test does
    def publish(self, subtopic: str, payload: bytes | str, retain: bool = False, qos: int = 1) -> None:
        """Publish under the root and wait until the broker has it (QoS 1)."""
        info = self.client.publish(f"{ROOT}/{subtopic}", payload, qos=qos, retain=retain)
        if qos and info.rc == mqtt.MQTT_ERR_SUCCESS:
            info.wait_for_publish(5)

    def feed(self, device_id: str, value: float) -> None:
        """From now on the device reports `value` every `FEED_PERIOD` seconds, stamped with the current time."""
        with self._lock:
            self._feeds[device_id] = value
        self.client.publish(f"{ROOT}/point/{device_id}", json.dumps({"ts": time.time(), "value": value}))

    def send(self, verb: str, request: str | None = None, **fields) -> str:
        """An operator action (QoS 1) with a fresh request id; returns the request id."""
        request = request or f"req-{uuid.uuid4().hex}"
        body = {"request": request, "operator": self.operator, "console": self.name, **fields}
        with self._lock:
            self._sent[request] = (verb, body)
            self._pending[request] = time.monotonic()
        self.client.publish(f"{ROOT}/action/{verb}", json.dumps(body), qos=1)
        return request

    def resend(self, request: str) -> None:
        """The same action again, same request id and body (the first answer may have been lost)."""
        with self._lock:
            verb, body = self._sent[request]
            self._pending[request] = time.monotonic()
        self.client.publish(f"{ROOT}/action/{verb}", json.dumps(body), qos=1)

    def answers(self, request: str) -> list[dict]:
        with self._lock:
            return list(self.results.get(request, []))

    def answer(self, request: str, timeout: float = 10.0) -> dict:
        """The first answer to a request; a clear failure when none comes."""
        if not wait_for(lambda: bool(self.answers(request)), timeout):
            raise AssertionError(f"no answer on {ROOT}/action_result/{self.name} to request {request} "
                                 f"within {timeout:.0f} s")
        return self.answers(request)[0]

    def unanswered(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    def alarm(self, alarm_id: str) -> dict | None:
        with self._lock:
            return self.alarms.get(alarm_id)

    def alarm_messages(self, alarm_id: str, since: float = 0.0) -> list[object]:
        with self._lock:
            return [body for t, key, body in self.alarm_log if key == alarm_id and t >= since]

    def wait_alarm(self, alarm_id: str, condition: Callable[[dict], bool] | str, timeout: float = RAISE_TIMEOUT,
                   ) -> dict:
        """Wait until the retained alarm holds `condition` (a state name, or a test); fail naming what was seen."""
        def holds(alarm: dict) -> bool:
            return alarm.get("state") == condition if isinstance(condition, str) else condition(alarm)

        expected = f"state {condition}" if isinstance(condition, str) else "the expected change"
        if not wait_for(lambda: (a := self.alarm(alarm_id)) is not None and holds(a), timeout):
            with self._lock:
                known = sorted(self.alarms)[:20]
            raise AssertionError(f"alarm {alarm_id}: {expected} not reached within {timeout:.0f} s; last seen: "
                                 f"{self.alarm(alarm_id)}; retained alarms: {known}")
        return self.alarm(alarm_id)

    def find_alarm(self, test: Callable[[str, dict], bool], timeout: float = RAISE_TIMEOUT) -> tuple[str, dict]:
        found: list[tuple[str, dict]] = []

        def look() -> bool:
            with self._lock:
                found[:] = [(k, a) for k, a in self.alarms.items() if test(k, a)]
            return bool(found)

        if not wait_for(look, timeout):
            with self._lock:
                known = sorted(self.alarms)[:20]
            raise AssertionError(f"no matching alarm within {timeout:.0f} s; retained alarms: {known}")
        return found[0]

    def raise_event(self, camera: str, event_type: str = "fall_detected") -> str:
        """A valid camera event; returns the id of the alarm it raised (unack_active, naming the camera)."""
        event_id = f"ev-{uuid.uuid4().hex[:12]}"
        self.publish(f"event/{camera}", json.dumps({"id": event_id, "ts": time.time(), "type": event_type,
                                                    "device_id": camera, "confidence": 0.93}))
        alarm_id, _ = self.find_alarm(lambda _k, a: a.get("state") == "unack_active"
                                      and (camera in json.dumps(a) or event_id in json.dumps(a)))
        return alarm_id

    def order_of(self, alarm_id: str, timeout: float = 10.0) -> dict:
        found: list[dict] = []

        def look() -> bool:
            with self._lock:
                found[:] = [o for o in self.orders.values() if o.get("alarm_id") == alarm_id]
            return bool(found)

        if not wait_for(look, timeout):
            raise AssertionError(f"no retained order on {ROOT}/dispatch/+ for alarm {alarm_id} within {timeout} s")
        return found[0]

    def order(self, order_id: str) -> dict | None:
        with self._lock:
            return self.orders.get(order_id)

    def cmds_since(self, since: float) -> list[tuple[float, str, dict]]:
        with self._lock:
            return [c for c in self.cmds if c[0] >= since]

    def connected_since(self, since: float) -> float | None:
        with self._lock:
            later = [t for t in self.connects if t >= since]
        return later[0] if later else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.client.loop_stop()
        self.client.disconnect()


def retained(port: int, topic_filter: str, settle: float = 1.5) -> dict[str, bytes]:
    """What a console that connects now gets as retained messages for a filter (a fresh client, its own session)."""
    got: dict[str, bytes] = {}
    lock = threading.Lock()

    def on_message(_c, _u, message) -> None:
        if message.retain:
            with lock:
                got[message.topic] = message.payload

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"snapshot-{uuid.uuid4().hex[:8]}")
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(topic_filter, 1)
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    time.sleep(settle)
    client.loop_stop()
    client.disconnect()
    with lock:
        return dict(got)


# -- the engine as a process ------------------------------------------------------------------------------------
class Serve:
    """`twin-app serve` on the small district with a fixed --data-dir; its summary lines read on a thread."""

    def __init__(self, broker_url: str, data_dir: Path, log_dir: Path) -> None:
        self.broker_url, self.data_dir, self.log_dir = broker_url, data_dir, log_dir
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self._lock = threading.Lock()
        self._summaries: list[tuple[float, int, dict]] = []  # (monotonic time, run, summary)
        self._stderr_path: Path | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "twin_app", "serve", "--broker", self.broker_url, "--ifc", str(SMALL_IFC),
                "--data-dir", str(self.data_dir), "--report-every", "1"]

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for a summary saying the broker is connected; returns the seconds that took."""
        assert self.proc is None or self.proc.poll() is not None, "serve is already running"
        self.runs += 1
        run = self.runs
        self._stderr_path = self.log_dir / f"serve-{run}.stderr"
        with self._stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(self.command(), cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
        threading.Thread(target=self._read, args=(self.proc, run), name=f"serve-{run}-stdout", daemon=True).start()
        started = time.monotonic()
        ready = wait_for(lambda: self.proc.poll() is not None or self.connected(since=started), timeout)
        if self.proc.poll() is not None:
            raise AssertionError(f"twin-app serve exited with status {self.proc.returncode} at start "
                                 f"({' '.join(self.command()[2:])}):\n{self.stderr_tail()}")
        assert ready, f"serve printed no summary with broker connected within {timeout:.0f} s:\n{self.stderr_tail()}"
        return time.monotonic() - started

    def _read(self, proc: subprocess.Popen, run: int) -> None:
        for line in proc.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                summary = json.loads(line)
            except ValueError:
                continue
            if isinstance(summary, dict):
                with self._lock:
                    self._summaries.append((time.monotonic(), run, summary))

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def summaries(self, since: float = 0.0) -> list[dict]:
        with self._lock:
            return [s for t, _run, s in self._summaries if t >= since]

    def last_summary(self) -> dict:
        lines = self.summaries()
        assert lines, f"serve printed no summary line:\n{self.stderr_tail()}"
        return lines[-1]

    def connected(self, since: float = 0.0) -> float | None:
        """When the first summary after `since` saying the broker is connected was read (None if none yet)."""
        with self._lock:
            for t, _run, s in self._summaries:
                if t >= since and s.get("broker") == "connected":
                    return t
        return None

    def wait_summary(self, test: Callable[[dict], bool], since: float, timeout: float = 10.0) -> dict | None:
        found: list[dict] = []

        def look() -> bool:
            found[:] = [s for s in self.summaries(since) if test(s)]
            return bool(found)

        return found[-1] if wait_for(look, timeout) else None

    def kill9(self) -> None:
        assert self.alive, f"serve is not running (status {self.proc and self.proc.returncode}):\n{self.stderr_tail()}"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; SIGKILL after 20 s. Returns the exit status."""
        assert self.alive, f"serve is not running (status {self.proc and self.proc.returncode}):\n{self.stderr_tail()}"
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError("serve did not stop within 20 s of SIGTERM") from None

    def stderr_tail(self, lines: int = 40) -> str:
        """The last lines of the current run's stderr, each cut to 300 characters (hostile input gets logged)."""
        if self._stderr_path is None or not self._stderr_path.exists():
            return ""
        text = self._stderr_path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(line[:300] for line in text)

    def diagnosis(self) -> str:
        errors = self.summaries()[-1].get("errors") if self.summaries() else None
        return f"errors counted by serve: {errors}\nserve's stderr:\n{self.stderr_tail()}"

    def close(self) -> None:
        if self.alive:
            self.proc.kill()
            self.proc.wait(timeout=10)


def assert_alive(serve: Serve, what: str) -> None:
    assert serve.alive, (f"serve stopped ({what}) with status {serve.proc.returncode}:\n{serve.stderr_tail()}")


@pytest.fixture
def serve(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Serve]:
    engine = Serve(mosquitto.url, tmp_path / "data", tmp_path)
    yield engine
    engine.close()


@pytest.fixture
def console(mosquitto: Mosquitto) -> Iterator[Console]:
    client = Console(mosquitto.port)
    yield client
    client.close()


# -- a) hostile input -----------------------------------------------------------------------------------------
LONG = "x" * 70_000
SURROGATE = "\ud800"  # json.dumps writes it as the JSON text "\ud800": valid JSON, not encodable as UTF-8
HOSTILE_IDS = {"hash": "ev#1", "plus": "ev+1", "slash": "ev/1/x", "nul": "ev\x00nul", "surrogate": f"ev{SURROGATE}",
               "70kB": LONG}
HOSTILE_CONSOLES = {"hash": "#", "slash": "a/b", "plus": "+", "70kB": LONG, "surrogate": SURROGATE, "nul": "c\x00"}
GARBAGE = {"binary": bytes(range(256)) * 4, "bad utf-8": b'{"id": "\xed\xa0\x80\xff"}', "raw NUL": b'{"a": "\x00"}',
           "not an object": b"[1, 2, 3]", "a string": b'"online"', "a number": b"5", "null": b"null",
           "truncated": b'{"ts": 1, "val', "NaN": b"NaN", "deep": b"[" * 5000 + b"]" * 5000, "70kB": LONG.encode()}


def _dumps(body: object) -> bytes:
    return json.dumps(body).encode()


Hostile = tuple[str, str, bytes, bool]  # (class, subtopic under the root, payload, retain)


def hostile_messages(now: float, camera: str, co: str, gateway: str) -> tuple[list[Hostile], dict[str, str]]:
    """Every hostile message, and the refusals expected on console c1 (request id -> class)."""
    out: list[Hostile] = []
    refusals: dict[str, str] = {}  # request -> class

    def add(name: str, subtopic: str, payload: bytes | object, retain: bool = False) -> None:
        out.append((name, subtopic, payload if isinstance(payload, bytes) else _dumps(payload), retain))

    def refused(name: str, verb: str, **fields) -> None:
        request = f"hostile-{len(refusals)}-{uuid.uuid4().hex[:6]}"
        refusals[request] = name
        add(name, f"action/{verb}", {"request": request, "operator": OPERATOR, "console": CONSOLE, **fields})

    # garbage on every topic the engine reads (or may read)
    for channel in ("telemetry/" + gateway, f"point/{co}", "status/T02-2F", "event/hostile-cam", "action/ack",
                    "action/comment", "alarm/zz-hostile", "dispatch/zz-hostile", "kpi/summary"):
        for name, payload in GARBAGE.items():
            add(f"{channel.split('/')[0]}: {name}", channel, payload)
    # retained garbage where the engine may read its own retained state back
    for channel in ("alarm/zz-hostile-retained", "dispatch/zz-hostile-retained", "kpi/summary"):
        add(f"{channel}: retained binary", channel, GARBAGE["binary"], retain=True)
    # events: hostile ids (on a known camera), hostile sources, types and fields
    for name, event_id in HOSTILE_IDS.items():
        add(f"event id {name}", f"event/{camera}", {"id": event_id, "ts": now, "type": "fall_detected",
                                                    "device_id": camera})
        add(f"event device_id {name}", "event/hostile-cam", {"id": f"e-{name}", "ts": now, "type": "fall_detected",
                                                             "device_id": event_id})
        add(f"event type {name}", f"event/{camera}", {"id": f"t-{name}", "ts": now, "type": event_id,
                                                      "device_id": camera})
        add(f"event host {name}", "event/hostile-cam", {"id": f"h-{name}", "ts": now, "type": "garbage_exposed",
                                                        "host_global_id": event_id})
    for name, body in {"ts a string": {"ts": "now"}, "ts huge": {"ts": 1e300}, "ts NaN": {"ts": "NaN"},
                       "id a list": {"id": [1]}, "id an object": {"id": {"a": 1}}, "confidence a string":
                       {"confidence": "high"}, "detail 70kB": {"detail": LONG}, "no type": {"type": None}}.items():
        add(f"event {name}", f"event/{camera}", {"id": f"f-{name}", "ts": now, "type": "fall_detected",
                                                 "device_id": camera, **body})
    # actions whose console is hostile (the answer's topic must not be built from it blindly)
    for name, console in HOSTILE_CONSOLES.items():
        for verb, fields in (("ack", {"alarm_id": "NO-SUCH-DEVICE:hi:1"}), ("comment", {"alarm_id": "X:hi:1",
                                                                                        "text": "hello"}),
                             ("dispatch", {"alarm_id": "X:hi:1", "unit": "PM-1"})):
            add(f"action {verb} console {name}", f"action/{verb}", {"request": f"c-{name}-{verb}",
                                                                    "operator": OPERATOR, "console": console,
                                                                    **fields})
    # actions with hostile request ids, operators and verbs
    for name, request in {"list": [1], "object": {"a": 1}, "null": None, "70kB": LONG, "surrogate": SURROGATE,
                          "number": 7}.items():
        add(f"action request {name}", "action/ack", {"request": request, "operator": OPERATOR, "console": CONSOLE,
                                                     "alarm_id": "NO-SUCH-DEVICE:hi:1"})
    for name, operator in {"list": [1], "70kB": LONG, "surrogate": SURROGATE, "slash": "a/b"}.items():
        add(f"action operator {name}", "action/ack", {"request": f"o-{name}", "operator": operator,
                                                      "console": CONSOLE, "alarm_id": "NO-SUCH-DEVICE:hi:1"})
    add("action verb 60kB", "action/" + "v" * 60_000, {"request": "v-long", "operator": OPERATOR,
                                                       "console": CONSOLE})
    add("action extra level", "action/ack/extra", {"request": "v-extra", "operator": OPERATOR, "console": CONSOLE,
                                                   "alarm_id": "NO-SUCH-DEVICE:hi:1"})
    # well-addressed actions with bad content: each must come back refused on c1
    for name, alarm_id in HOSTILE_IDS.items():
        refused(f"ack alarm_id {name}", "ack", alarm_id=alarm_id)
    refused("ack alarm_ids wrong types", "ack", alarm_ids=[1, {}, None])
    refused("unit_status status 5", "unit_status", order_id="NO-SUCH-ORDER", status=5, result="x")
    refused("unit_status result [1]", "unit_status", order_id="NO-SUCH-ORDER", status="done", result=[1])
    refused("unit_status order_id {}", "unit_status", order_id={}, status="en_route")
    refused("shelve minutes a string", "shelve", alarm_id="NO-SUCH-DEVICE:hi:1", minutes="ten", reason="x")
    refused("shelve minutes 1e300", "shelve", alarm_id="NO-SUCH-DEVICE:hi:1", minutes=1e300, reason="x")
    refused("dispatch unit {}", "dispatch", alarm_id="NO-SUCH-DEVICE:hi:1", unit={})
    refused("comment text {}", "comment", alarm_id="NO-SUCH-DEVICE:hi:1", text={"a": 1})
    refused("close order_id [1]", "close", order_id=[1])
    refused("unknown verb", "fly", alarm_id="NO-SUCH-DEVICE:hi:1")
    # telemetry batches with hostile content
    for name, body in {"ids hostile": {"ids": list(HOSTILE_IDS.values()), "values": [1.0] * len(HOSTILE_IDS)},
                       "ids not a list": {"ids": "abc", "values": [1.0]}, "values strings": {"ids": [co],
                                                                                             "values": ["80"]},
                       "lengths differ": {"ids": [co, co], "values": [1.0]}, "ids objects": {"ids": [{}],
                                                                                            "values": [1.0]},
                       "values nested": {"ids": [co], "values": [[80.0]]}, "ts a string": {"ts": "now", "ids": [co],
                                                                                          "values": [1.0]},
                       "ts huge": {"ts": 1e300, "ids": [co], "values": [1.0]},
                       "70kB of ids": {"ids": ["T01"] * 20_000, "values": [1.0] * 20_000}}.items():
        add(f"telemetry {name}", f"telemetry/{gateway}", {"ts": now, **body})
    add("telemetry NaN values", f"telemetry/{gateway}", f'{{"ts": {now}, "ids": ["{co}"], "values": [NaN]}}'
        .encode())
    add("telemetry Infinity", f"telemetry/{gateway}", f'{{"ts": {now}, "ids": ["{co}"], "values": [Infinity]}}'
        .encode())
    add("telemetry unknown gateway 60kB", "telemetry/" + "g" * 60_000, {"ts": now, "ids": [co], "values": [1.0]})
    # single readings with hostile content
    for name, payload in {"NaN": b"NaN", "Infinity": b"Infinity", "-Infinity": b"-Infinity", "1e400": b"1e400",
                          "ts a string": _dumps({"ts": "now", "value": 1.0}), "value a string":
                          _dumps({"ts": now, "value": "80"}), "value a list": _dumps({"ts": now, "value": [80]}),
                          "value an object": _dumps({"ts": now, "value": {"a": 1}}), "value a surrogate":
                          _dumps({"ts": now, "value": SURROGATE}), "ts huge": _dumps({"ts": 1e300, "value": 1.0}),
                          "value NaN": f'{{"ts": {now}, "value": NaN}}'.encode()}.items():
        add(f"point {name}", f"point/{co}", payload)
    add("point unknown device", "point/NO-SUCH-DEVICE", _dumps({"ts": now, "value": 1.0}))
    add("point device id 60kB", "point/" + "d" * 60_000, _dumps({"ts": now, "value": 1.0}))
    # gateway status
    for name, payload in {"unknown word": b"maybe", "online with NUL": b"online\x00", "object": b'{"a": 1}'}.items():
        add(f"status {name}", "status/T02-2F", payload)
    add("status gateway 60kB", "status/" + "g" * 60_000, b"offline")
    # spoofed engine output: another client claiming an alarm is already acknowledged, an order exists
    add("alarm spoof", "alarm/" + hi_alarm("SPOOF"), {"id": hi_alarm("SPOOF"), "state": "ack_active",
                                                      "ack_by": "mallory", "device_id": co})
    add("dispatch spoof", "dispatch/O-SPOOF", {"id": "O-SPOOF", "alarm_id": hi_alarm(co), "unit": "PM-1",
                                               "status": "dispatched"})
    return out, refusals


def test_hostile_messages_on_every_topic_leave_the_engine_working(serve: Serve, console: Console,
                                                                  mosquitto: Mosquitto) -> None:
    serve.start()
    detectors = garage_co_detectors()
    co_ok, co_hostile = detectors[0], detectors[1]
    camera_hostile, camera_ok = cameras()[0], cameras()[7]
    messages, refusals = hostile_messages(time.time(), camera_hostile, co_hostile, gateway_of(co_hostile))
    for _name, subtopic, payload, retain in messages:
        console.publish(subtopic, payload, retain=retain)
    # a misbehaving engine dies now or answers nothing: give it time to work through everything first
    wait_for(lambda: all(console.answers(r) for r in refusals) or not serve.alive, 15)
    assert_alive(serve, f"after {len(messages)} hostile messages")
    assert serve.wait_summary(lambda s: True, since=time.monotonic(), timeout=5), \
        f"serve prints no more summary lines after the hostile messages:\n{serve.stderr_tail()}"

    # still working: a valid event and a real CO reading over the limit raise their alarms
    try:
        event_alarm = console.raise_event(camera_ok)
        console.feed(co_ok, over(co_ok))
        co_alarm = console.wait_alarm(hi_alarm(co_ok), "unack_active")
    except AssertionError as exc:
        raise AssertionError(f"after the hostile messages: {exc}\n{serve.diagnosis()}") from None
    assert co_alarm["device_id"] == co_ok and co_alarm.get("ack_by") is None, co_alarm
    assert_alive(serve, "after the valid event and reading")

    # each well-addressed bad action was refused, on its console
    unanswered = [name for request, name in refusals.items() if not console.answers(request)]
    assert not unanswered, f"no answer on action_result/{CONSOLE} to: {unanswered}\n{serve.diagnosis()}"
    accepted = [(refusals[r], console.answers(r)[0]) for r in refusals if console.answers(r)[0].get("ok") is not False]
    assert not accepted, f"bad actions not refused: {accepted}"

    # the drops were counted
    errors = serve.last_summary().get("errors")
    assert isinstance(errors, dict) and sum(errors.values()) > 0, f"no dropped input counted: {errors}"

    # nothing published under a topic built from a hostile id: every retained alarm/order is one level deep
    for channel in ("alarm", "dispatch"):
        snapshot = retained(mosquitto.port, f"{ROOT}/{channel}/#")
        deep = [t[:120] for t in snapshot if t.count("/") > ROOT.count("/") + 2]  # root/channel/id
        assert not deep, f"retained {channel} topics with an id containing '/': {deep}"
    assert console.alarm(event_alarm) is not None and "/" not in event_alarm


# -- b) time stamps ---------------------------------------------------------------------------------------------
def test_readings_stamped_far_in_the_future_or_past_are_refused_and_counted(serve: Serve, console: Console) -> None:
    serve.start()
    point_device, batch_device = garage_co_detectors()[:2]
    now = time.time()
    console.publish(f"point/{point_device}", _dumps({"ts": now + 86_400, "value": over(point_device)}))
    console.publish(f"point/{point_device}", _dumps({"ts": now + 600, "value": over(point_device)}))
    console.publish(f"point/{point_device}", _dumps({"ts": now - 2 * 86_400, "value": over(point_device)}))
    console.publish(f"telemetry/{gateway_of(batch_device)}", _dumps({"ts": now + 86_400, "ids": [batch_device],
                                                                     "values": [over(batch_device)]}))
    # then the real readings, stamped now: had a future stamp been stored, these would look older and be ignored
    console.feed(point_device, over(point_device))
    console.feed(batch_device, over(batch_device))
    for device_id in (point_device, batch_device):
        alarm = console.wait_alarm(hi_alarm(device_id), "unack_active")
        raised = alarm.get("raised_ts")
        assert raised is None or raised <= time.time() + 60, f"alarm raised at a future time: {alarm}"
    counted = serve.wait_summary(lambda s: s.get("errors", {}).get("bad_ts", 0) >= 4, since=0, timeout=5)
    assert counted, f"bad_ts not counted 4 times (3 points, 1 batch): {serve.last_summary().get('errors')}"
    uptime = serve.last_summary().get("uptime_s")
    assert isinstance(uptime, (int, float)) and not isinstance(uptime, bool), serve.last_summary()


# -- c) SIGKILL during an incident ------------------------------------------------------------------------------
def test_kill9_during_an_incident_restores_it_without_repeating_it(serve: Serve, mosquitto: Mosquitto) -> None:
    console = Console(mosquitto.port, obey_commands=True)  # the fans report on after their command
    try:
        serve.start()
        first, second = garage_co_detectors()[:2]
        alarm_a, alarm_b = hi_alarm(first), hi_alarm(second)
        console.feed(first, over(first))
        console.feed(second, over(second))
        console.wait_alarm(alarm_a, "unack_active")
        console.wait_alarm(alarm_b, "unack_active")
        fans = zone_fans(first) | zone_fans(second)
        assert wait_for(lambda: fans <= {target for _, target, _ in console.cmds_since(0)}, 10), \
            f"fan commands: expected {sorted(fans)}, got {[(t, b) for _, t, b in console.cmds_since(0)]}"
        ack = console.answer(console.send("ack", alarm_id=alarm_a))
        assert ack["ok"] is True, ack
        acked = console.wait_alarm(alarm_a, "ack_active", timeout=10)
        assert acked["ack_by"] == OPERATOR and acked["ack_ts"], acked
        dispatched = console.answer(console.send("dispatch", alarm_id=alarm_a, unit="PM-1"))
        assert dispatched["ok"] is True, dispatched
        order = console.order_of(alarm_a)
        assert order["unit"] == "PM-1" and order["id"], order
        time.sleep(1.0)  # the fans' confirmations reach the engine
        commands_before = {body.get("id") for _, _, body in console.cmds_since(0)}

        killed = time.monotonic()
        serve.kill9()
        serve.start()
        restarted = time.monotonic()

        # the order survived: the unit can report on it; the unit is still busy with it
        en_route = console.answer(console.send("unit_status", order_id=order["id"], status="en_route",
                                               result="on the way"))
        assert en_route["ok"] is True, f"unit_status on order {order['id']} after the restart: {en_route}"
        busy = console.answer(console.send("dispatch", alarm_id=alarm_b, unit="PM-1"))
        # refused: PM-1 is still booked (busy), and B is in A's incident, whose order is still open
        assert busy["ok"] is False and any(w in str(busy.get("message", "")).lower() for w in ("busy", "open order")), \
            f"PM-1 (on order {order['id']}) dispatched again after the restart: {busy}"
        assert wait_for(lambda: (console.order(order["id"]) or {}).get("status") == "en_route", 10), \
            console.order(order["id"])

        # no repeat of the incident: watch the restarted engine for a while
        time.sleep(max(0.0, restarted + QUIET_AFTER_RESTART - time.monotonic()))
        assert_alive(serve, "after the restart")
        repeated = [(target, body) for _, target, body in console.cmds_since(killed)
                    if target in fans and body.get("id") not in commands_before]
        assert not repeated, f"linked commands sent again after the restart: {repeated}"
        for body in console.alarm_messages(alarm_a, since=killed):
            assert isinstance(body, dict) and body.get("state") == "ack_active", \
                f"{alarm_a} republished after the restart as {body}"
            assert (body.get("ack_by"), body.get("ack_ts")) == (acked["ack_by"], acked["ack_ts"]), body
        final = console.alarm(alarm_a)
        assert final is not None and final["state"] == "ack_active" and final["ack_ts"] == acked["ack_ts"], final
        raised_again = [k for k in (hi_alarm(first, 2), hi_alarm(second, 2)) if console.alarm_messages(k)]
        assert not raised_again, f"the standing conditions were raised again as new occurrences: {raised_again}"
        assert console.alarm(alarm_b) is not None and console.alarm(alarm_b)["state"] == "unack_active", \
            console.alarm(alarm_b)
    finally:
        console.close()


# -- d) an acknowledgement sent while the engine is down ---------------------------------------------------------
def test_ack_sent_while_the_engine_is_down_is_applied_once_after_restart(serve: Serve, console: Console) -> None:
    serve.start()
    alarm_id = console.raise_event(cameras()[3])
    serve.stop()

    request = console.send("ack", alarm_id=alarm_id)  # QoS 1: the broker keeps it in the engine's session
    time.sleep(1.0)
    assert console.answers(request) == [], "an answer came while the engine was stopped"

    serve.start()
    first = console.answer(request, timeout=20)
    assert first["ok"] is True and first["verb"] == "ack", first
    acked = console.wait_alarm(alarm_id, "ack_active", timeout=10)
    assert acked["ack_by"] == OPERATOR and acked["ack_ts"], acked
    time.sleep(1.5)
    assert all(a == first for a in console.answers(request)), console.answers(request)

    # the same request again (its answer was lost, say): the same answer, and the acknowledgement is not repeated
    console.resend(request)
    assert wait_for(lambda: len(console.answers(request)) >= 2, 10), \
        f"no answer to the repeated request {request}: {console.answers(request)}"
    again = console.answers(request)[-1]
    assert {k: again.get(k) for k in ("request", "verb", "ok", "message")} == \
        {k: first.get(k) for k in ("request", "verb", "ok", "message")}, (first, again)
    time.sleep(1.0)
    for body in console.alarm_messages(alarm_id):
        if isinstance(body, dict) and body.get("state") == "ack_active":
            assert body.get("ack_ts") == acked["ack_ts"], f"ack_ts changed: {acked} -> {body}"
    assert console.alarm(alarm_id)["ack_ts"] == acked["ack_ts"], console.alarm(alarm_id)


# -- e) a condition that clears while the engine is down ---------------------------------------------------------
def test_alarm_whose_condition_clears_while_the_engine_is_down(serve: Serve, console: Console,
                                                               mosquitto: Mosquitto) -> None:
    serve.start()
    unacked_device, acked_device = garage_co_detectors()[:2]
    unacked, acked = hi_alarm(unacked_device), hi_alarm(acked_device)
    console.feed(unacked_device, over(unacked_device))
    console.feed(acked_device, over(acked_device))
    console.wait_alarm(unacked, "unack_active")
    console.wait_alarm(acked, "unack_active")
    answer = console.answer(console.send("ack", alarm_id=acked))
    assert answer["ok"] is True, answer
    console.wait_alarm(acked, "ack_active", timeout=10)

    serve.stop()
    console.feed(unacked_device, normal(unacked_device))
    console.feed(acked_device, normal(acked_device))
    time.sleep(1.5)
    restarted = time.monotonic()
    serve.start()

    # unacknowledged: it returned but still needs an acknowledgement
    console.wait_alarm(unacked, "unack_rtn")
    # acknowledged: over; "normal" published once, then the retained topic cleared
    assert wait_for(lambda: console.alarm(acked) is None, RAISE_TIMEOUT), \
        f"{acked} still retained: {console.alarm(acked)}"
    after = console.alarm_messages(acked, since=restarted)
    states = [b.get("state") if isinstance(b, dict) else b for b in after]
    assert "normal" in states and states[-1] is None, f"{acked} after the restart: {states}"
    snapshot = retained(mosquitto.port, f"{ROOT}/alarm/#")
    assert f"{ROOT}/alarm/{acked}" not in snapshot, "the finished alarm is still retained"
    assert json.loads(snapshot[f"{ROOT}/alarm/{unacked}"])["state"] == "unack_rtn"


# -- f) broker restarts under load -------------------------------------------------------------------------------
@pytest.mark.parametrize("restarts", [2, pytest.param(20, marks=pytest.mark.drill)])
def test_broker_restarts_under_load(restarts: int, persistent_mosquitto: Mosquitto, tmp_path: Path) -> None:
    broker = persistent_mosquitto
    serve = Serve(broker.url, tmp_path / "data", tmp_path)
    console = Console(broker.port, resend_every=2.0)
    simulate = None
    try:
        serve.start()
        alarm_id = console.raise_event(cameras()[5])  # stands until closed: the simulator cannot clear it
        with (tmp_path / "simulate.stderr").open("w") as sim_log:
            simulate = subprocess.Popen([sys.executable, "-m", "twin_app", "simulate", "--broker", broker.url,
                                         "--ifc", str(SMALL_IFC), "--rate", "1"], cwd=REPO,
                                        stdout=subprocess.DEVNULL, stderr=sim_log)
        time.sleep(2.0)  # the simulator loads the registry and starts publishing
        assert simulate.poll() is None, (tmp_path / "simulate.stderr").read_text()
        assert_alive(serve, "under the simulator's load")

        sent: list[str] = []
        texts: dict[str, str] = {}

        def comment(label: str) -> None:
            text = f"drill comment {len(sent)} ({label})"
            request = console.send("comment", alarm_id=alarm_id, text=text)
            sent.append(request)
            texts[request] = text

        timings: list[tuple[float, float | None, float | None]] = []  # (down for, console back, serve back)
        for i in range(restarts):
            comment(f"restart {i}, before")
            time.sleep(0.2)
            went_down = time.monotonic()
            broker.stop()
            comment(f"restart {i}, broker down")
            time.sleep(1.2)
            broker.start()
            came_up = time.monotonic()
            comment(f"restart {i}, just after")
            console_back = wait_for(lambda t=came_up: console.connected_since(t) is not None, 15)
            serve_back = wait_for(lambda t=came_up: serve.connected(since=t) is not None, 20)
            t_console, t_serve = console.connected_since(came_up), serve.connected(since=came_up)
            timings.append((came_up - went_down, t_console and t_console - came_up, t_serve and t_serve - came_up))
            assert console_back, f"restart {i}: the console client did not reconnect"
            assert serve_back, f"restart {i}: serve reports no broker connected within 20 s: {serve.last_summary()}"
            assert_alive(serve, f"restart {i}")
            assert simulate.poll() is None, (tmp_path / "simulate.stderr").read_text()

        print(f"\nbroker restarts: {restarts}; reconnect seconds after the broker was back "
              f"(serve: first summary with broker connected, 1 s reports):")
        for i, (down, t_console, t_serve) in enumerate(timings):
            print(f"  restart {i:2d}: broker down {down:.1f} s, console back {t_console:.2f} s, "
                  f"serve back {t_serve:.2f} s")

        assert wait_for(lambda: not console.unanswered(), 30), \
            f"{len(console.unanswered())} of {len(sent)} actions never answered: {console.unanswered()}"
        repeated = sum(len(console.answers(r)) > 1 for r in sent)
        print(f"  {len(sent)} comment requests, {repeated} of them answered more than once (re-sent or redelivered)")
        for request in sent:
            answers = console.answers(request)
            distinct = {json.dumps(a, sort_keys=True) for a in answers}
            assert len(distinct) == 1, f"different answers to request {request}: {answers}"
            assert answers[0]["ok"] is True, answers[0]

        def comments() -> list[str]:
            alarm = console.alarm(alarm_id) or {}
            return [c.get("text") if isinstance(c, dict) else c for c in alarm.get("comments") or []]

        wait_for(lambda: len(comments()) >= len(sent), 10)
        time.sleep(2.5)  # late duplicates would show up now
        assert sorted(comments()) == sorted(texts.values()), \
            f"{len(comments())} comments on {alarm_id} for {len(sent)} distinct requests: {comments()}"
        assert_alive(serve, "at the end")
        assert serve.wait_summary(lambda s: s.get("broker") == "connected", since=time.monotonic(), timeout=5), \
            f"serve does not report the broker connected: {serve.last_summary()}"
    finally:
        if simulate is not None and simulate.poll() is None:
            simulate.terminate()
            try:
                simulate.wait(timeout=10)
            except subprocess.TimeoutExpired:
                simulate.kill()
                simulate.wait(timeout=10)
        console.close()
        serve.close()
