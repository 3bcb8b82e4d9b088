"""`twin-app simulate` and `twin-app serve` against a real mosquitto, and bad broker URLs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from twin_app.core.errors import InputError
from twin_app.telemetry.mqtt import parse_broker_url


def test_simulate_into_serve_through_mosquitto(mosquitto, small_district) -> None:
    common = ["--ifc", str(small_district.ifc_path)]
    serve = subprocess.Popen([sys.executable, "-m", "twin_app", "serve", "--broker", mosquitto.url, "--duration", "9",
                              "--report-every", "1", *common], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    sim = subprocess.run([sys.executable, "-m", "twin_app", "simulate", "--broker", mosquitto.url, "--duration", "5",
                          "--rate", "2", "--scenario", "gateway_offline", *common], capture_output=True, text=True,
                         timeout=120)
    out, err = serve.communicate(timeout=120)
    assert sim.returncode == 0, sim.stderr
    assert "went offline" in sim.stderr
    assert serve.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    last = lines[-1]
    assert last["broker"] == "connected"
    assert last["devices"]["normal"] > 7000
    assert last["devices"]["offline"] > 0  # the scenario's gateway, through its retained status
    assert set(last["buildings"]) == {"T01", "T02"}


@pytest.mark.parametrize(("url", "message"), [
    ("http://example.org", "mqtt:// or mqtts://"),
    ("mqtt://", "no host"),
    ("mqtt://broker:99999", "port"),
])
def test_bad_broker_urls(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_broker_url(url)
    run = subprocess.run([sys.executable, "-m", "twin_app", "--broker", url], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_credentials_and_root_from_the_url(monkeypatch) -> None:
    url = parse_broker_url("mqtts://op%40cc:s3cret@broker.local/?root=site/a")
    assert (url.tls, url.port, url.username, url.password, url.root) == (True, 8883, "op@cc", "s3cret", "site/a")
    monkeypatch.setenv("TWIN_APP_MQTT_USER", "env-user")
    monkeypatch.setenv("TWIN_APP_MQTT_PASSWORD", "env-pass")
    url = parse_broker_url("mqtt://broker.local:1884")
    assert (url.username, url.password, url.port, url.root) == ("env-user", "env-pass", 1884, "mumianling/v1")
