"""MQTT connection (paho-mqtt, callback API 2) and the embedded broker of the default console."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
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
TRANSIENT_S = 10.0


@dataclass
class BrokerUrl:
    """A parsed ``mqtt://`` or ``mqtts://`` URL."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    root: str
    ca_file: str | None = None  # the CA that signed the broker's certificate (mqtts); None: the system's CAs

    @property
    def display(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def redact(url: str) -> str:
    """A broker URL as it may be shown: its password replaced by ``***``."""
    try:
        parsed = urlparse(url)
        if parsed.password is None:
            return url
        host = parsed.netloc.rsplit("@", 1)[-1]
        return parsed._replace(netloc=f"{parsed.username}:***@{host}").geturl()
    except ValueError:
        return "(a broker URL that cannot be read)"


def parse_broker_url(url: str) -> BrokerUrl:
    """Parse a broker URL; user and password from the URL, else TWIN_APP_MQTT_USER / TWIN_APP_MQTT_PASSWORD.

    ``?root=...`` sets the topic root (default ``mumianling/v1``); ``?ca=FILE`` (or TWIN_APP_MQTT_CA) the CA file
    that signed an ``mqtts://`` broker's certificate.

    Raises
    ------
    InputError
        When the scheme, host or port is not usable.
    """
    parsed = urlparse(url)
    shown = redact(url)  # a password never reaches a message or a log
    if parsed.scheme not in ("mqtt", "mqtts"):
        raise InputError(f"--broker {shown}", "the scheme must be mqtt:// or mqtts://")
    if not parsed.hostname:
        raise InputError(f"--broker {shown}", "no host name")
    try:
        port = parsed.port or (8883 if parsed.scheme == "mqtts" else 1883)
    except ValueError:
        raise InputError(f"--broker {shown}", "the port is not a number between 1 and 65535") from None
    query = parse_qs(parsed.query)
    root = query.get("root", [DEFAULT_ROOT])[0].strip("/") or DEFAULT_ROOT
    ca_file = query.get("ca", [os.environ.get("TWIN_APP_MQTT_CA") or ""])[0] or None
    if ca_file is not None and not os.path.isfile(ca_file):
        raise InputError(f"--broker {parsed.scheme}://{parsed.hostname}", f"the CA file {ca_file} does not exist")
    return BrokerUrl(
        host=parsed.hostname, port=port, tls=parsed.scheme == "mqtts",
        username=unquote(parsed.username) if parsed.username else os.environ.get("TWIN_APP_MQTT_USER"),
        password=unquote(parsed.password) if parsed.password else os.environ.get("TWIN_APP_MQTT_PASSWORD"),
        root=root, ca_file=ca_file,
    )


def make_client(url: BrokerUrl, client_id: str, persistent: bool = False, manual_ack: bool = False) -> mqtt.Client:
    """A paho client configured for `url` (TLS, credentials, automatic reconnect with backoff).

    `persistent` keeps the session on the broker (clean session off): what arrives for its subscriptions while it
    is away is kept for it. `manual_ack`: QoS 1 messages are confirmed to the broker by `Client.ack` only.
    """
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent,
                         manual_ack=manual_ack)
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set(ca_certs=url.ca_file, cert_reqs=ssl.CERT_REQUIRED)  # the broker's certificate is checked
    client.reconnect_delay_set(min_delay=0.25, max_delay=4)  # type: ignore[arg-type]  (floats are fine)
    client.max_inflight_messages_set(1000)  # paho's default of 20 throttles a restart's republication
    return client


def check_topic(topic: str) -> str:
    """A topic the engine publishes: no wildcard, no NUL, no empty level, valid UTF-8, at most 64 kB."""
    if not topic or any(c in topic for c in "#+\0") or "//" in topic or topic.endswith("/"):
        raise InputError(f"topic {topic[:80]!r}", "not a valid topic to publish on")
    try:
        size = len(topic.encode("utf-8"))
    except UnicodeEncodeError:
        raise InputError(f"topic {topic[:80]!r}", "not valid UTF-8") from None
    if size > 65535:
        raise InputError(f"topic {topic[:80]!r}", "longer than MQTT allows")
    return topic


class MqttLink:
    """The MQTT side of an engine or console: a source feeding `Ingest` and a port publishing under the root.

    Subscribes to the contract's input topics on every (re)connect and feeds `Ingest` on paho's network thread.
    As a port (`twin_app.core.engine.Port`) it publishes JSON at QoS 1 under the root, refusing any topic that is
    not a valid topic, and confirms operator actions to the broker only when the engine settles them.

    Parameters
    ----------
    url
        The broker.
    ingest
        Receives every message (decoding happens there).
    on_state
        Called with "connecting", "connected" or "disconnected: reason" (on the network thread).
    client_id
        Fixed for an engine (its session is persistent); random otherwise.
    channels
        Beyond telemetry, point, status and event: "alarm", "dispatch", "kpi", "action_result", "action".
    persistent
        Keep the session on the broker while away, confirm actions only once settled.
    transient
        Channels read for TRANSIENT_S after each connect only: an engine reads back its own retained alarms and
        orders to clear those it no longer holds, without receiving every later publication of its own.
    """

    def __init__(self, url: BrokerUrl, ingest: Ingest, on_state: Callable[[str], None] | None = None,
                 client_id: str | None = None, channels: tuple[str, ...] = (), persistent: bool = False,
                 transient: tuple[str, ...] = ()) -> None:
        self.url = url
        self.channels = channels
        self.transient = transient
        self.ingest = ingest
        self.on_state = on_state or (lambda state: None)
        self.state = "connecting"
        self.connects = 0
        self.persistent = persistent
        self.client = make_client(url, client_id or f"twin-app-{os.getpid()}-{int(time.time() * 1000) % 100000}",
                                  persistent=persistent, manual_ack=persistent)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        ingest.settle = self.settle if persistent else None
        self._outgoing: queue.SimpleQueue = queue.SimpleQueue()
        self._transient_timer: threading.Timer | None = None
        self._said_refused = False
        self._acked: dict[int, float] = {}  # message id -> when the broker confirmed it (PUBACK)
        self.client.on_publish = self._on_publish
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)

    def _set_state(self, state: str) -> None:
        self.state = state
        try:
            self.on_state(state)
        except Exception:  # a watcher's error never stops the network thread
            log.exception("connection state watcher failed")

    def _on_connect(self, client: mqtt.Client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            if str(reason_code) in ("Not authorized", "Bad user name or password") and not self._said_refused:
                self._said_refused = True  # once: the same refusal comes at every reconnect
                who = f"as {self.url.username}" if self.url.username else "without a user name (set it in the URL " \
                      "or TWIN_APP_MQTT_USER and TWIN_APP_MQTT_PASSWORD)"
                log.warning("the broker %s refused the connection %s: %s", self.url.display, who, reason_code)
            self._set_state(f"disconnected: {reason_code}")
            return
        root = self.url.root
        topics = [(f"{root}/telemetry/+", 0), (f"{root}/point/+", 0), (f"{root}/status/+", 1), (f"{root}/event/+", 1)]
        # actions: action/{verb} (no logins) and action/{verb}/{user} (the user the broker's ACL tied to the login)
        topics += [(f"{root}/{channel}/{'#' if channel == 'action' else '+'}", 1)
                   for channel in (*self.channels, *self.transient)]
        client.subscribe(topics)
        if self.transient:  # read the retained messages once, then stop reading these channels
            if self._transient_timer is not None:
                self._transient_timer.cancel()
            connection = self.connects + 1

            def stop_reading() -> None:
                if self.connects == connection and self.state == "connected":  # not a later connection's
                    client.unsubscribe([f"{root}/{channel}/+" for channel in self.transient])

            self._transient_timer = threading.Timer(TRANSIENT_S, stop_reading)
            self._transient_timer.daemon = True
            self._transient_timer.start()
        self.connects += 1
        self._set_state("connected")

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self._set_state(f"disconnected: {reason_code} (reconnecting)")

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        token = (message.mid, message.qos) if self.persistent and message.qos > 0 else None
        try:
            topic = message.topic
        except Exception as exc:  # a topic that is not UTF-8: counted and confirmed, never raised into paho's loop
            self.ingest.count_error("bad_topic", "?", f"{type(exc).__name__}: {exc}")
            if token is not None:
                self.settle(token)
            return
        self.ingest.handle(topic, message.payload, token=token, retained=bool(message.retain))

    def _on_publish(self, _client, _userdata, mid, _reason_code, _properties) -> None:
        self._acked[mid] = time.monotonic()
        if len(self._acked) > 200_000:  # message ids are reused after 65,535: old entries mean nothing
            cutoff = sorted(self._acked.values())[100_000]
            self._acked = {m: t for m, t in self._acked.items() if t >= cutoff}

    def start(self) -> None:
        """Connect in the background; paho reconnects by itself with backoff."""
        self._set_state("connecting")
        self.client.connect_async(self.url.host, self.url.port, keepalive=15)
        self.client.loop_start()
        self._sender.start()

    def publish(self, topic: str, payload: dict | None, retain: bool = False, qos: int = 1) -> Sending:
        """Publish JSON under the root (None: an empty payload, which clears a retained topic).

        The topic is checked at once (`InputError` for a topic that is not valid: it never reaches paho); encoding
        and sending happen on the sender thread, in order, so an engine step never waits for the network. Returns
        the token for `delivered`.
        """
        full = check_topic(f"{self.url.root}/{topic}")
        token = Sending()
        self._outgoing.put((full, payload, qos, retain, token))
        return token

    def delivered(self, token: object) -> bool:
        """True once the broker took the publication (QoS 1: its PUBACK came back).

        A message published while disconnected is sent by paho on the reconnect, but its info keeps the error
        forever: its PUBACK (`on_publish`, by message id, after it was handed over) tells instead.
        """
        info = getattr(token, "info", None)
        if info is None:
            return False
        try:
            if info.is_published():
                return True
        except (ValueError, RuntimeError):
            pass
        return self._acked.get(info.mid, -1.0) >= token.sent  # type: ignore[attr-defined]

    def wait_delivered(self, tokens: list[Sending], timeout: float) -> bool:
        """Wait until the broker took every publication of `tokens`; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.delivered(t) for t in tokens):
                return True
            time.sleep(0.005)
        return False

    def settle(self, token: object) -> None:
        """Confirm a QoS 1 message to the broker (the engine made it durable), after what was published before."""
        if token is not None:
            self._outgoing.put(token)

    def _send_loop(self) -> None:
        """The sender thread: encode and hand to paho, in order; a failure is counted, never raised."""
        while True:
            item = self._outgoing.get()
            if item is None:
                return
            try:
                if len(item) == 2:  # an acknowledgement of a settled input message
                    self.client.ack(*item)
                    continue
                topic, payload, qos, retain, token = item
                body = b"" if payload is None else json.dumps(payload, default=str).encode()
                token.sent = time.monotonic()
                token.info = self.client.publish(topic, body, qos=qos, retain=retain)
            except Exception as exc:
                self.ingest.count_error("publish", str(item[0])[:80], f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        """Send what is queued (for up to 5 s), then disconnect."""
        if self._transient_timer is not None:
            self._transient_timer.cancel()
        self._outgoing.put(None)
        if self._sender.is_alive():
            self._sender.join(timeout=5.0)
        self.client.disconnect()
        self.client.loop_stop()


class Sending:
    """A publication on its way: paho's message info once the sender thread handed it over."""

    __slots__ = ("info", "sent")

    def __init__(self) -> None:
        self.info: mqtt.MQTTMessageInfo | None = None
        self.sent = 0.0  # monotonic time it was handed to paho


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
