"""MQTT connection (paho-mqtt, callback API 2) and the embedded broker of the default console."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlparse

import paho.mqtt.client as mqtt

from twin_app.core.errors import InputError
from twin_app.telemetry.ingest import DEFAULT_ROOT, Ingest

log = logging.getLogger("twin_app.telemetry")


@dataclass
class BrokerUrl:
    """A parsed ``mqtt://`` or ``mqtts://`` URL."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    root: str

    @property
    def display(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerUrl:
    """Parse a broker URL; user and password from the URL, else TWIN_APP_MQTT_USER / TWIN_APP_MQTT_PASSWORD.

    ``?root=...`` sets the topic root (default ``mumianling/v1``).

    Raises
    ------
    InputError
        When the scheme, host or port is not usable.
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "mqtts"):
        raise InputError(f"--broker {url}", "the scheme must be mqtt:// or mqtts://")
    if not parsed.hostname:
        raise InputError(f"--broker {url}", "no host name")
    try:
        port = parsed.port or (8883 if parsed.scheme == "mqtts" else 1883)
    except ValueError:
        raise InputError(f"--broker {url}", "the port is not a number between 1 and 65535") from None
    root = parse_qs(parsed.query).get("root", [DEFAULT_ROOT])[0].strip("/") or DEFAULT_ROOT
    return BrokerUrl(
        host=parsed.hostname, port=port, tls=parsed.scheme == "mqtts",
        username=unquote(parsed.username) if parsed.username else os.environ.get("TWIN_APP_MQTT_USER"),
        password=unquote(parsed.password) if parsed.password else os.environ.get("TWIN_APP_MQTT_PASSWORD"),
        root=root,
    )


def make_client(url: BrokerUrl, client_id: str) -> mqtt.Client:
    """A paho client configured for `url` (TLS, credentials, automatic reconnect with backoff)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


class TelemetryClient:
    """Subscribes to the contract's input topics and feeds `Ingest` on paho's network thread.

    Parameters
    ----------
    url
        The broker.
    ingest
        Receives every message (decoding happens there).
    on_state
        Called with "connecting", "connected" or "disconnected: reason" (on the network thread).
    """

    def __init__(self, url: BrokerUrl, ingest: Ingest, on_state: Callable[[str], None] | None = None,
                 client_id: str | None = None, channels: tuple[str, ...] = ()) -> None:
        self.url = url
        self.channels = channels  # beyond telemetry: "alarm", "dispatch" (consoles), "action" (the engine)
        self.ingest = ingest
        self.on_state = on_state or (lambda state: None)
        self.state = "connecting"
        self.connects = 0
        self.client = make_client(url, client_id or f"twin-app-{os.getpid()}-{int(time.time() * 1000) % 100000}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _set_state(self, state: str) -> None:
        self.state = state
        self.on_state(state)

    def _on_connect(self, client: mqtt.Client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            self._set_state(f"disconnected: {reason_code}")
            return
        root = self.url.root
        topics = [(f"{root}/telemetry/+", 0), (f"{root}/point/+", 0), (f"{root}/status/+", 1), (f"{root}/event/+", 1)]
        topics += [(f"{root}/{channel}/+", 1) for channel in self.channels]
        client.subscribe(topics)
        self.connects += 1
        self._set_state("connected")

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self._set_state(f"disconnected: {reason_code} (reconnecting)")

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        self.ingest.handle(message.topic, message.payload)

    def start(self) -> None:
        """Connect in the background; paho reconnects by itself with backoff."""
        self._set_state("connecting")
        self.client.connect_async(self.url.host, self.url.port, keepalive=15)
        self.client.loop_start()

    def publish(self, topic: str, payload: dict | None, qos: int = 1, retain: bool = False) -> None:
        """Publish JSON (None: an empty payload, which clears a retained topic)."""
        body = b"" if payload is None else json.dumps(payload, default=str).encode()
        self.client.publish(topic, body, qos=qos, retain=retain)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """An in-process MQTT broker (amqtt) on a loopback port, for the console's embedded default."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _run(self) -> None:
        from amqtt.broker import Broker

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        try:
            broker = Broker(config, loop=loop)
            loop.run_until_complete(broker.start())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        while not self._stop.is_set():
            loop.run_until_complete(asyncio.sleep(0.1))
        loop.run_until_complete(broker.shutdown())
        loop.close()

    def start(self, timeout: float = 15.0) -> str:
        """Start the broker; returns its URL."""
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"the embedded MQTT broker did not start: {self._error}")
        return self.url

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
