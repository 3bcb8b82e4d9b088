"""Generated hostile and malformed messages on every topic `twin-app serve` reads, from a separate client.

The regular suite sends a few thousand; the drill (``pytest -m drill``, or TWIN_APP_DRILL_MESSAGES=100000) sends
100,000. Afterwards the process is up, its memory stayed bounded, and a real over-limit reading raises its alarm.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = "mumianling/v1"
SMALL = Path(__file__).resolve().parents[2] / "bim_models" / "mumianling-small" / "mumianling.ifc"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


class Serve:
    """`twin-app serve` as a process, its summary lines read on a thread."""

    def __init__(self, url: str, folder: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "twin_app", "serve", "--broker", url, "--ifc", str(SMALL),
                                      "--data-dir", str(folder), "--report-every", "1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(line))

    def wait_connected(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.lines and self.lines[-1].get("broker") == "connected":
                return
            assert self.proc.poll() is None, "serve exited"
            time.sleep(0.1)
        raise AssertionError("serve did not connect")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


text = st.one_of(st.text(max_size=12), st.sampled_from(["#", "+", "a/b", "\x00", "\ud800", "x" * 70_000, "", " "]))
scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), text)
json_value = st.recursive(scalar, lambda c: st.lists(c, max_size=4) | st.dictionaries(text, c, max_size=4),
                          max_leaves=8)
shaped = st.fixed_dictionaries(  # near-valid bodies reach deeper than random JSON
    {}, optional={"ts": scalar, "ids": st.lists(text, max_size=5) | scalar, "values": st.lists(scalar, max_size=5)
                  | scalar, "value": scalar, "id": text, "type": st.sampled_from(["fall_detected", "x"]) | text,
                  "device_id": text | st.just("T01-B1-GZA-CO1-co-1"), "host_global_id": text, "request": text,
                  "operator": text, "console": text, "alarm_id": text, "alarm_ids": st.lists(text, max_size=3) | text,
                  "order_id": text, "unit": text, "status": text | scalar, "result": scalar, "minutes": scalar,
                  "reason": scalar, "on": scalar, "text": scalar, "state": text, "priority": text,
                  "deadline_ts": scalar, "confidence": scalar})
payloads = st.one_of(st.binary(max_size=64), json_value.map(lambda v: json.dumps(v).encode()),
                     shaped.map(lambda v: json.dumps(v).encode()), st.sampled_from([b"online", b"offline", b"", b"1"]))
channels = st.sampled_from(["telemetry", "point", "status", "event", "action", "alarm", "dispatch", "kpi",
                            "action_result", "cmd", "nonsense"])
names = st.one_of(st.sampled_from(["T01-B1", "T01-B1-GZA-CO1-co-1", "ack", "dispatch", "unit_status", "close",
                                   "shelve", "summary", "wall"]), st.text(alphabet=st.characters(
                                       blacklist_characters="#+/", blacklist_categories=("Cc", "Cs", "Co", "Cn")),
                                       min_size=1, max_size=20))


def _count() -> int:
    return int(os.environ.get("TWIN_APP_DRILL_MESSAGES", "3000"))


def _hostile_run(mosquitto, tmp_path, count: int) -> None:
    serve = Serve(mosquitto.url, tmp_path / "serve")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"hostile-{time.time_ns()}")
    alarms: dict[str, dict | None] = {}

    def on_message(_c, _u, message) -> None:  # the hostile flood writes junk on alarm/ too: only objects count
        try:
            body = json.loads(message.payload) if message.payload else None
        except ValueError:
            return
        alarms[message.topic] = body if isinstance(body, dict) else None

    client.on_message = on_message
    client.connect("127.0.0.1", mosquitto.port)
    client.subscribe(f"{ROOT}/alarm/+", qos=1)
    client.loop_start()
    sent = {"n": 0}
    try:
        serve.wait_connected()
        time.sleep(2.0)
        rss_before = _rss_mb(serve.proc.pid)

        @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(channel=channels, name=names, payload=payloads, qos=st.sampled_from([0, 1]),
               extra=st.sampled_from(["", "/x", "/x/y"]))
        def send(channel: str, name: str, payload: bytes, qos: int, extra: str) -> None:
            info = client.publish(f"{ROOT}/{channel}/{name}{extra}", payload, qos=qos)
            sent["n"] += 1
            if sent["n"] % 500 == 0:
                info.wait_for_publish(10)  # keep pace with the broker
                assert serve.proc.poll() is None, f"serve exited after {sent['n']} messages"

        send()
        time.sleep(3.0)
        assert serve.proc.poll() is None, "serve exited"
        rss_after = _rss_mb(serve.proc.pid)
        errors = serve.lines[-1]["errors"]
        print(f"hostile drill: {sent['n']:,} messages, serve RSS {rss_before:.0f} -> {rss_after:.0f} MB, "
              f"dropped by kind: {errors}")
        assert sum(errors.values()) > 0 and "database" not in errors and "internal" not in errors
        assert rss_after - rss_before < 150.0  # bounded: nothing kept per hostile message
        # a real over-limit reading still raises its alarm
        devices = pd.read_parquet(SMALL.with_name("devices.parquet"))
        co = devices[(devices["kind"] == "co") & devices["device_id"].str.contains("-GZ")].iloc[3]
        topic_prefix = f"{ROOT}/alarm/{co['device_id']}:hi:"
        for _ in range(20):
            client.publish(f"{ROOT}/point/{co['device_id']}",
                           json.dumps({"ts": time.time(), "value": float(co["alarm_high"]) * 2}), qos=1)
            if any(t.startswith(topic_prefix) and v and v["state"] == "unack_active" for t, v in alarms.items()):
                break
            time.sleep(1.0)
        assert any(t.startswith(topic_prefix) for t in alarms), "the real alarm did not rise after the hostile flood"
        assert not any(t.count("/") != 3 for t in alarms)  # no retained alarm beyond one topic level
        assert np.isfinite(rss_after)
    finally:
        client.loop_stop()
        serve.stop()


def test_generated_hostile_messages_on_every_topic(mosquitto, tmp_path) -> None:
    _hostile_run(mosquitto, tmp_path, _count())


@pytest.mark.drill
@pytest.mark.timeout(1800)
def test_100000_generated_hostile_messages(mosquitto, tmp_path) -> None:
    _hostile_run(mosquitto, tmp_path, max(_count(), 100_000))
