"""Recording of what the engine receives and does, in MCAP files (one per UTC hour), and reading it back.

Format (version 2; version 1 files, without ``/refresh``, are read too)
------------------------------------------------------------------------
Each file is a chunked, zstd-compressed, indexed MCAP file (profile ``twin_app``), self-contained: its first
message is ``/meta`` and its second a ``/keyframe``. Log times are nanoseconds of the engine's clock (unix time),
never decreasing; a message logged at a keyframe's time is part of that keyframe's state.

``/meta`` (JSON)
    ``format`` (``twin_app.recording``), ``version``, ``registry_hash`` (sha256 of the device ids, one per line),
    ``device_ids``, ``buildings`` and ``building_of`` (each device's building as an index into ``buildings``),
    ``gateways``, ``keyframe_s``, ``deadband`` (per-kind overrides), ``model`` (what the registry belongs to:
    ``{"district": {"towers", "seed", "storeys"}}`` for the generated district, ``{"ifc": path}`` for a file,
    ``{}`` when unknown).
``/telemetry`` (``twin_app.Changes``, encoding ``twin_app.columns``)
    Readings that moved beyond their device's deadband or changed value state (normal/warning/alarm). Little
    endian: ``uint32 n``, ``int32 rows[n]`` (registry rows), ``float32 values[n]``, ``float64 ts[n]`` (each
    reading's own time stamp).
``/refresh`` (``twin_app.Refresh``, encoding ``twin_app.columns``)
    Devices that reported a value within their deadband and were not recorded for half their stale time: their
    time stamp moves on, their value stays (so that a replay sees the same stale devices as live, at 4 bytes a
    device instead of 16). ``uint32 n_stamps``, ``uint32 n``, ``float64 ts[n_stamps]``, ``uint32
    counts[n_stamps]`` (devices per stamp), ``int32 row_steps[n]`` (the rows of each stamp in increasing order,
    each stored as the step from the previous one, the first of every stamp from 0).
``/keyframe`` (``twin_app.Keyframe``, encoding ``twin_app.columns``)
    The full state every ``keyframe_s`` seconds (and at the start of every file): ``uint32 n_devices``,
    ``uint32 n_gateways``, ``float64 values[n_devices]``, ``float64 ts[n_devices]`` (both byte-shuffled: the
    8 bytes of each number stored as 8 planes of n bytes, which compresses well), ``uint8 online[n_gateways]``.
    The values are exact: the state at a keyframe equals the live state store's.
``/status``, ``/event``, ``/action``, ``/output`` (JSON)
    ``{"gateway", "online"}``; the event's body; ``{"verb", "body", "user"}``; ``{"topic", "payload",
    "retain"}`` for every publication of the engine.

The state at any instant is the last keyframe at or before it plus the ``/telemetry`` changes after it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import struct
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from mcap.data_stream import ReadDataStream
from mcap.exceptions import McapError
from mcap.reader import SeekingReader
from mcap.records import Channel, Chunk, Message
from mcap.stream_reader import breakup_chunk
from mcap.writer import CompressionType, Writer

from twin_app.core.devices import DeviceIndex
from twin_app.core.engine import Port
from twin_app.core.errors import InputError
from twin_app.core.inbox import Drained
from twin_app.core.state import StateStore, classify

log = logging.getLogger("twin_app.recording")

FORMAT = "twin_app.recording"
FORMAT_VERSION = 2
PROFILE = "twin_app"
COLUMNS = "twin_app.columns"
DEADBAND_FRACTION = 0.05  # of the device's largest alarm limit (warning limit when it has none)
DEADBAND_RELATIVE = 0.01  # kinds without limits: of the last recorded value ...
DEADBAND_MIN = 1e-3  # ... and never finer than this
CHUNK_BYTES = 1 << 20
SUFFIX = ".mcap"
_MAGIC = b"\x89MCAP0\r\n"
_OP_FOOTER, _OP_CHUNK, _OP_MESSAGE_INDEX, _OP_DATA_END = 0x02, 0x06, 0x07, 0x0F

_SCHEMAS: dict[str, tuple[str, str, bytes, str]] = {  # topic -> schema name, schema encoding, schema, encoding
    "/meta": ("twin_app.Meta", "jsonschema", b'{"type": "object", "required": ["format", "version"]}', "json"),
    "/keyframe": ("twin_app.Keyframe", COLUMNS,
                  b"<u4 n_devices, <u4 n_gateways, <f8[n_devices] values (byte-shuffled), "
                  b"<f8[n_devices] ts (byte-shuffled), u1[n_gateways] online", COLUMNS),
    "/telemetry": ("twin_app.Changes", COLUMNS, b"<u4 n, <i4[n] rows, <f4[n] values, <f8[n] ts", COLUMNS),
    "/refresh": ("twin_app.Refresh", COLUMNS, b"<u4 n_stamps, <u4 n, <f8[n_stamps] ts, <u4[n_stamps] counts, "
                                              b"<i4[n] row_steps", COLUMNS),
    "/status": ("twin_app.GatewayStatus", "jsonschema",
                b'{"type": "object", "properties": {"gateway": {"type": "string"}, '
                b'"online": {"type": "boolean"}}}', "json"),
    "/event": ("twin_app.Event", "jsonschema", b'{"type": "object"}', "json"),
    "/action": ("twin_app.Action", "jsonschema",
                b'{"type": "object", "properties": {"verb": {"type": "string"}, "body": {"type": "object"}, '
                b'"user": {"type": ["string", "null"]}}}', "json"),
    "/output": ("twin_app.Output", "jsonschema",
                b'{"type": "object", "properties": {"topic": {"type": "string"}, '
                b'"payload": {"type": ["object", "null"]}, "retain": {"type": "boolean"}}}', "json"),
}
CHANNELS = tuple(_SCHEMAS)
JSON_CHANNELS = ("/status", "/event", "/action", "/output")


def registry_hash(device_ids: list[str] | np.ndarray) -> str:
    """The sha256 of the device ids, one per line: a recording replays only onto the registry it was made with."""
    return hashlib.sha256("\n".join(map(str, device_ids)).encode()).hexdigest()


def _shuffle(a: np.ndarray) -> bytes:
    """float64 array -> its bytes as 8 planes (byte k of every number together)."""
    return np.ascontiguousarray(a.astype("<f8").view(np.uint8).reshape(-1, 8).T).tobytes()


def _unshuffle(data: bytes | memoryview, n: int) -> np.ndarray:
    planes = np.frombuffer(data, dtype=np.uint8, count=8 * n).reshape(8, n)
    return np.ascontiguousarray(planes.T).view("<f8").reshape(n).astype(np.float64)


def encode_changes(rows: np.ndarray, values: np.ndarray, ts: np.ndarray) -> bytes:
    """A ``/telemetry`` message: registry rows, values and time stamps of the recorded readings."""
    return b"".join((struct.pack("<I", len(rows)), rows.astype("<i4").tobytes(), values.astype("<f4").tobytes(),
                     ts.astype("<f8").tobytes()))


def decode_changes(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows int64, values float64, ts float64) of a ``/telemetry`` message."""
    (n,) = struct.unpack_from("<I", data)
    if len(data) != 4 + 16 * n:
        raise ValueError(f"a telemetry message of {n} readings has {len(data)} bytes, not {4 + 16 * n}")
    rows = np.frombuffer(data, "<i4", n, 4).astype(np.int64)
    values = np.frombuffer(data, "<f4", n, 4 + 4 * n).astype(np.float64)
    ts = np.frombuffer(data, "<f8", n, 4 + 8 * n).astype(np.float64)
    return rows, values, ts


def encode_refresh(rows: np.ndarray, ts: np.ndarray) -> bytes:
    """A ``/refresh`` message: registry rows whose time stamp moves to `ts` (their value unchanged)."""
    if not len(rows):
        return struct.pack("<II", 0, 0)
    order = np.lexsort((rows, ts))
    rows, ts = rows[order].astype(np.int64), ts[order]
    stamps, counts = np.unique(ts, return_counts=True)
    steps = np.diff(rows, prepend=0)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    steps[starts] = rows[starts]  # each stamp's first row in full
    return b"".join((struct.pack("<II", len(stamps), len(rows)), stamps.astype("<f8").tobytes(),
                     counts.astype("<u4").tobytes(), steps.astype("<i4").tobytes()))


def decode_refresh(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(rows int64, ts float64) of a ``/refresh`` message."""
    m, n = struct.unpack_from("<II", data)
    if len(data) != 8 + 12 * m + 4 * n:
        raise ValueError(f"a refresh of {n} devices at {m} stamps has {len(data)} bytes, not {8 + 12 * m + 4 * n}")
    stamps = np.frombuffer(data, "<f8", m, 8).astype(np.float64)
    counts = np.frombuffer(data, "<u4", m, 8 + 8 * m).astype(np.int64)
    if counts.sum() != n:
        raise ValueError(f"a refresh's counts add up to {counts.sum()}, not {n}")
    steps = np.frombuffer(data, "<i4", n, 8 + 12 * m).astype(np.int64)
    group = np.repeat(np.arange(m), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    total = np.cumsum(steps)
    rows = total - np.repeat(total[starts] - steps[starts], counts)  # running sum restarted at each stamp
    return rows, stamps[group]


def encode_keyframe(values: np.ndarray, ts: np.ndarray, online: np.ndarray) -> bytes:
    """A ``/keyframe`` message: every device's last value and time stamp, every gateway's online flag."""
    return b"".join((struct.pack("<II", len(values), len(online)), _shuffle(values), _shuffle(ts),
                     online.astype(np.uint8).tobytes()))


def decode_keyframe(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, ts, online) of a ``/keyframe`` message."""
    n, g = struct.unpack_from("<II", data)
    if len(data) != 8 + 16 * n + g:
        raise ValueError(f"a keyframe of {n} devices and {g} gateways has {len(data)} bytes, not {8 + 16 * n + g}")
    view = memoryview(data)
    values = _unshuffle(view[8:8 + 8 * n], n)
    ts = _unshuffle(view[8 + 8 * n:8 + 16 * n], n)
    online = np.frombuffer(data, np.uint8, g, 8 + 16 * n).astype(bool)
    return values, ts, online


def apply_changes(values: np.ndarray, ts: np.ndarray,
                  parts: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]]) -> None:
    """Apply ``/telemetry`` changes (rows, values, ts) and ``/refresh`` parts (rows, None, ts), oldest first, in place.

    A row takes the value of its last change and the time stamp of its last change or refresh.
    """
    if not parts:
        return
    n = len(values)
    rows = np.concatenate([p[0] for p in parts])
    stamps = np.concatenate([p[2] for p in parts])
    changed = np.concatenate([np.full(len(p[0]), p[1] is not None) for p in parts])
    new = np.concatenate([p[1] if p[1] is not None else np.full(len(p[0]), np.nan) for p in parts])
    ok = (rows >= 0) & (rows < n)
    rows, stamps, changed, new = rows[ok], stamps[ok], changed[ok], new[ok]
    last = len(rows) - 1 - np.unique(rows[::-1], return_index=True)[1]  # the last entry of each row
    ts[rows[last]] = stamps[last]
    moved = np.flatnonzero(changed)
    if len(moved):
        last = moved[len(moved) - 1 - np.unique(rows[moved][::-1], return_index=True)[1]]
        values[rows[last]] = new[last]


def _ns(t: float) -> int:
    return math.floor(float(t) * 1e9 + 0.5)


def _hour_of(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H")


def _hour_start(name: str) -> float | None:
    """Start (unix seconds) of the UTC hour a file name begins with, None when it does not."""
    try:
        return datetime.strptime(name[:13], "%Y-%m-%dT%H").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def default_deadband(devices: pd.DataFrame, deadband: dict[str, float] | None = None) -> np.ndarray:
    """Absolute deadband of each device: 0 for discrete kinds, NaN where it is relative (kinds without limits).

    Parameters
    ----------
    devices
        The registry.
    deadband
        Per-kind absolute deadbands overriding the default (a fraction of the device's largest alarm limit).
    """
    limits = {c: devices[c].to_numpy(np.float64) for c in ("alarm_low", "warn_low", "warn_high", "alarm_high")}
    with np.errstate(invalid="ignore"):
        alarm = np.fmax(np.abs(limits["alarm_low"]), np.abs(limits["alarm_high"]))
        warn = np.fmax(np.abs(limits["warn_low"]), np.abs(limits["warn_high"]))
    scale = np.where(np.isfinite(alarm), alarm, warn)
    out = DEADBAND_FRACTION * scale
    discrete = devices["unit"].astype(str).to_numpy() == ""
    out[discrete] = 0.0
    if deadband:
        kinds = devices["kind"].astype(str).to_numpy()
        for kind, band in deadband.items():
            out[kinds == kind] = float(band)
    return out


class Recorder:
    """Records the engine's input and output in MCAP files.

    Parameters
    ----------
    folder
        Where the files go (created when missing).
    index
        The registry joined to the model (only its ``devices`` table is used).
    keyframe_s
        Seconds between keyframes (the full state).
    deadband
        Per-kind absolute deadbands overriding the defaults (see `default_deadband`).
    retention_days
        Hour files older than this are deleted by `prune`.
    hour_files
        One file per UTC hour (False: one file for the whole recording).
    refresh
        Also record a reading of a device not recorded for half its stale time, so that replay sees the same
        stale devices as live (False: steady devices are refreshed by keyframes only).
    model
        What the registry belongs to, written in ``/meta`` so that a replay can open the same model.
    """

    def __init__(self, folder: Path, index: DeviceIndex, keyframe_s: float = 120.0,
                 deadband: dict[str, float] | None = None, retention_days: float = 30.0, hour_files: bool = True,
                 refresh: bool = True, model: dict | None = None) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(str(folder), f"the recording folder cannot be created ({exc.strerror})") from None
        devices = index.devices
        self.keyframe_s = keyframe_s
        self.retention_days = retention_days
        self.hour_files = hour_files
        self.deadband_overrides = dict(deadband or {})
        self.store = StateStore(index)  # the live state, as the engine's store holds it
        self.n = self.store.n_devices
        self.band = default_deadband(devices, deadband)
        self.refresh_s = np.where(np.isfinite(self.store.stale_after), self.store.stale_after / 2.0, np.inf)
        if not refresh:
            self.refresh_s[:] = np.inf
        self.kept_value = np.full(self.n, np.nan)  # the state a replay has: last recorded value and time
        self.kept_ts = np.zeros(self.n)
        self.kept_class = np.zeros(self.n, dtype=np.uint8)
        ids = devices["device_id"].astype(str).tolist()
        codes, buildings = pd.factorize(devices["building"].astype(str)) if "building" in devices else (
            np.zeros(self.n, dtype=np.int64), pd.Index([""]))
        self.meta = {"format": FORMAT, "version": FORMAT_VERSION, "registry_hash": registry_hash(ids),
                     "devices": self.n, "gateways": self.store.gateway_names, "keyframe_s": keyframe_s,
                     "deadband": self.deadband_overrides, "device_ids": ids, "buildings": list(map(str, buildings)),
                     "building_of": codes.tolist(), "model": dict(model or {})}
        self._meta_bytes = json.dumps(self.meta, separators=(",", ":")).encode()
        self.path: Path | None = None
        self.files: list[Path] = []
        self.bytes_written = 0  # of closed files
        self._writer: Writer | None = None
        self._stream: io.BufferedWriter | None = None
        self._channel: dict[str, int] = {}
        self._hour: str | None = None
        self._last_ns = 0
        self._keyframe_at = -math.inf
        self.counts = {c: 0 for c in CHANNELS}
        self.readings_in = 0
        self.now: float | None = None  # the engine's clock at the step being recorded

    # -- writing -----------------------------------------------------------------------------------
    def _time(self, now: float) -> int:
        ns = max(_ns(now), self._last_ns)
        self._last_ns = ns
        return ns

    def _open(self, now: float) -> None:
        self._finish()
        hour = _hour_of(now)
        name = hour if self.hour_files else datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H-%M-%S")
        path = self.folder / f"{name}{SUFFIX}"
        k = 1
        while path.exists():  # an engine restarted within the hour: a second file for it
            path = self.folder / f"{name}.{k}{SUFFIX}"
            k += 1
        self._stream = open(path, "wb")  # noqa: SIM115 (closed in _finish)
        self._writer = Writer(self._stream, chunk_size=CHUNK_BYTES, compression=CompressionType.ZSTD)
        self._writer.start(profile=PROFILE, library=f"twin_app recording {FORMAT_VERSION}")
        self._channel = {}
        for topic, (schema, encoding, data, message_encoding) in _SCHEMAS.items():
            sid = self._writer.register_schema(schema, encoding, data)
            self._channel[topic] = self._writer.register_channel(topic, message_encoding, sid)
        self.path, self._hour = path, hour
        self.files.append(path)
        try:
            self.prune(now)  # the retention, applied as every hour begins
        except OSError as exc:
            log.warning("old recordings in %s could not be deleted: %s", self.folder, exc)
        self._add("/meta", self._meta_bytes, self._time(now))
        self._writer.flush()
        self._keyframe_at = -math.inf  # every file starts with a keyframe

    def _add(self, topic: str, data: bytes, ns: int) -> None:
        assert self._writer is not None
        self._writer.add_message(self._channel[topic], ns, data, ns)
        self.counts[topic] += 1

    def _ready(self, now: float) -> int:
        if self._writer is None or (self.hour_files and _hour_of(now) != self._hour):
            self._open(now)
        return self._time(now)

    def _json(self, topic: str, body: object, ns: int) -> None:
        self._add(topic, json.dumps(body, separators=(",", ":"), default=str).encode(), ns)

    def record(self, drained: Drained, now: float) -> int:
        """Record what the engine is about to take in (call before `Engine.step`).

        Parameters
        ----------
        drained
            The inbox's content.
        now
            The engine's clock (unix seconds).

        Returns
        -------
        int
            The number of readings written to ``/telemetry``.
        """
        self.now = now
        ns = self._ready(now)
        for gateway, online in drained.status:
            self.store.set_gateway(gateway, online)
            self._json("/status", {"gateway": gateway, "online": bool(online)}, ns)
        for body in drained.events:
            self._json("/event", body, ns)
        for action in drained.actions:
            self._json("/action", {"verb": action.verb, "body": action.body, "user": action.user}, ns)
        written = self._telemetry(drained, ns)
        if now - self._keyframe_at >= self.keyframe_s:
            self.keyframe(now)
        return written

    def _telemetry(self, drained: Drained, ns: int) -> int:
        rows = np.asarray(drained.rows, dtype=np.int64)
        if not len(rows):
            return 0
        self.readings_in += len(rows)
        ok = (rows >= 0) & (rows < self.n)
        rows, values, ts = rows[ok], np.asarray(drained.values, np.float64)[ok], np.asarray(drained.ts, np.float64)[ok]
        self.store.apply(rows, values, ts)
        rows = np.unique(rows)
        value, stamp = self.store.value[rows], self.store.ts[rows]
        kept = self.kept_value[rows]
        band = self.band[rows]
        band = np.where(np.isnan(band), np.maximum(DEADBAND_RELATIVE * np.abs(kept), DEADBAND_MIN), band)
        lo2, lo1, hi1, hi2 = (limit[rows] for limit in self.store.limits)
        state = classify(value, lo2, lo1, hi1, hi2)
        with np.errstate(invalid="ignore"):
            moved = ~(np.abs(value - kept) <= band) & ~(np.isnan(value) & np.isnan(kept))
        newer = stamp > self.kept_ts[rows]  # a late reading the store refused changes nothing
        due = ((self.kept_ts[rows] == 0) | moved | (state != self.kept_class[rows])) & newer
        refresh = ~due & newer & (stamp - self.kept_ts[rows] >= self.refresh_s[rows])
        if refresh.any():
            self.kept_ts[rows[refresh]] = stamp[refresh]
            self._add("/refresh", encode_refresh(rows[refresh], stamp[refresh]), ns)
        rows = rows[due]
        if not len(rows):
            return 0
        value, stamp, state = value[due], stamp[due], state[due]
        self.kept_value[rows] = value.astype(np.float32)  # what a replay reads back
        self.kept_ts[rows] = stamp
        self.kept_class[rows] = state
        self._add("/telemetry", encode_changes(rows, value, stamp), ns)
        return len(rows)

    def keyframe(self, now: float) -> None:
        """Write the full state now (in a chunk of its own, flushed to disk)."""
        ns = self._ready(now)
        assert self._writer is not None
        self._writer.flush()
        store = self.store
        self._add("/keyframe", encode_keyframe(store.value, store.ts, store.gateway_online), ns)
        self._writer.flush()
        self._last_ns = ns + 1  # what comes later is after the keyframe, even at the same clock reading
        self._keyframe_at = now
        self.kept_value[:] = store.value
        self.kept_ts[:] = store.ts
        lo2, lo1, hi1, hi2 = store.limits
        self.kept_class[:] = classify(store.value, lo2, lo1, hi1, hi2)

    def output(self, topic: str, payload: dict | None, retain: bool = False, now: float | None = None) -> None:
        """Record a publication of the engine (``now``: the engine's clock, the wall clock when None)."""
        ns = self._ready(time.time() if now is None else now)
        self._json("/output", {"topic": topic, "payload": payload, "retain": bool(retain)}, ns)

    def _finish(self) -> None:
        if self._writer is not None and self._stream is not None:
            self._writer.finish()
            self._stream.close()
            if self.path is not None:
                self.bytes_written += self.path.stat().st_size
        self._writer = self._stream = None

    def flush(self) -> None:
        """Write what is buffered to the file (the chunk in progress ends)."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Finish the current file (its index and summary written)."""
        self._finish()

    def size(self) -> int:
        """Bytes written so far, the open file included."""
        return self.bytes_written + (self.path.stat().st_size if self._writer is not None and self.path else 0)

    def prune(self, now: float) -> list[Path]:
        """Delete the hour files whose hour ended more than `retention_days` before `now`; returns them."""
        limit = now - self.retention_days * 86400.0
        gone = []
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            start = _hour_start(path.name)
            if start is None or path == self.path or len(path.name.split(".")[0]) != 13:
                continue  # not an hour file, or the one being written
            if start + 3600.0 <= limit:
                path.unlink(missing_ok=True)
                gone.append(path)
        return gone


class RecordingPort:
    """A port that records every publication and forwards it to `inner`.

    Parameters
    ----------
    inner
        The real port (the MQTT link, a `NullPort`).
    recorder
        Where publications are recorded.
    clock
        The engine's clock (unix seconds); by default the clock of the step being recorded (the wall clock
        before the first), so that a simulated or replayed clock is followed.
    """

    def __init__(self, inner: Port, recorder: Recorder, clock=None) -> None:
        self.inner = inner
        self.recorder = recorder
        self.clock = clock or (lambda: recorder.now if recorder.now is not None else time.time())

    def publish(self, topic: str, payload: dict | None, retain: bool = False) -> object:
        self.recorder.output(topic, payload, retain, self.clock())
        return self.inner.publish(topic, payload, retain)

    def delivered(self, token: object) -> bool:
        return self.inner.delivered(token)

    def settle(self, token: object) -> None:
        self.inner.settle(token)


# -- reading ---------------------------------------------------------------------------------------
@dataclass
class _Chunk:
    start: int  # ns
    end: int
    offset: int  # of the chunk record in the file
    channels: set[int] | None  # None: unknown (no index read)


@dataclass
class _File:
    path: Path
    chunks: list[_Chunk] = field(default_factory=list)
    topics: dict[int, str] = field(default_factory=dict)  # channel id -> topic
    meta: dict = field(default_factory=dict)
    damage: InputError | None = None

    @property
    def start(self) -> int:
        return self.chunks[0].start if self.chunks else 0

    @property
    def end(self) -> int:
        return max((c.end for c in self.chunks), default=0)


class RecordingReader:
    """Reads a recording (one MCAP file or a folder of them).

    Parameters
    ----------
    path
        A ``.mcap`` file or a folder.
    strict
        Raise the first damage found (a truncated or corrupt file) instead of reading what is readable and
        listing it in `damaged`.

    Raises
    ------
    InputError
        No recording there, a file made by a newer format version or with another registry than the others,
        or (strict) a damaged file.
    """

    def __init__(self, path: Path | str, strict: bool = False, cache_chunks: int = 16) -> None:
        path = Path(path)
        self.strict = strict
        if path.is_dir():
            paths = sorted(path.glob(f"*{SUFFIX}"))
        elif path.exists():
            paths = [path]
        else:
            raise InputError(str(path), "no such recording")
        if not paths:
            raise InputError(str(path), "the folder holds no recording (.mcap files)")
        self.damaged: list[InputError] = []
        self._cache: OrderedDict[tuple[int, int], list[tuple[str, int, bytes]]] = OrderedDict()
        self._cache_size = cache_chunks
        files = [self._open(p) for p in paths]
        self.files = sorted((f for f in files if f.chunks), key=lambda f: f.start)
        if not self.files:
            why = f": {self.damaged[0].what}" if self.damaged else ""
            raise InputError(str(path), f"nothing readable in the recording{why}")
        self.meta = self.files[0].meta
        for f in self.files[1:]:
            if f.meta.get("registry_hash") != self.meta.get("registry_hash"):
                raise InputError(str(f.path), f"recorded with another registry than {self.files[0].path.name}")
        self.device_ids = np.asarray(self.meta.get("device_ids", []), dtype=object)
        self.n_devices = int(self.meta.get("devices", len(self.device_ids)))
        self.gateways: list[str] = list(self.meta.get("gateways", []))

    # -- opening -------------------------------------------------------------------------------------
    def _damage(self, f: _File, what: str) -> None:
        error = InputError(str(f.path), what)
        if f.damage is None:
            f.damage = error
            self.damaged.append(error)
            log.warning("%s", error)
        if self.strict:
            raise error

    def _open(self, path: Path) -> _File:
        f = _File(path)
        try:
            with open(path, "rb") as stream:
                if stream.read(8) != _MAGIC:
                    self._damage(f, "not an MCAP recording (bad magic at byte 0)")
                    return f
                summary = None
                try:
                    stream.seek(0)
                    summary = SeekingReader(stream).get_summary()
                except (McapError, ValueError, struct.error, OSError, EOFError, IndexError, KeyError):
                    summary = None
                if summary is not None and summary.chunk_indexes:
                    f.topics = {cid: c.topic for cid, c in summary.channels.items()}
                    f.chunks = [_Chunk(c.message_start_time, c.message_end_time, c.chunk_start_offset,
                                       set(c.message_index_offsets)) for c in summary.chunk_indexes]
                else:
                    self._scan(f, stream)
        except OSError as exc:
            self._damage(f, f"cannot be read ({exc.strerror})")
            return f
        f.chunks.sort(key=lambda c: (c.start, c.offset))
        if f.chunks:
            self._read_meta(f)
        return f

    def _scan(self, f: _File, stream) -> None:
        """Index a file without a summary (cut while written) record by record, up to its first damage."""
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        offset = 8
        n_records = 0
        while True:
            if offset == size:
                self._damage(f, f"truncated at byte {size:,} (after {len(f.chunks)} chunks; no summary)")
                return
            stream.seek(offset)
            head = stream.read(9)
            if len(head) < 9:
                self._damage(f, f"truncated at byte {offset:,} (record {n_records}, chunk {len(f.chunks)})")
                return
            opcode, length = struct.unpack("<BQ", head)
            if offset + 9 + length > size:
                self._damage(f, f"truncated at byte {size:,}: record {n_records} at byte {offset:,} "
                                f"(chunk {len(f.chunks)}) is cut")
                return
            if opcode == _OP_CHUNK:
                start, end = struct.unpack("<QQ", stream.read(16))
                f.chunks.append(_Chunk(start, end, offset, None))
            elif opcode == _OP_MESSAGE_INDEX and f.chunks:
                (channel,) = struct.unpack("<H", stream.read(2))
                last = f.chunks[-1]
                last.channels = (last.channels or set()) | {channel}
            elif opcode in (_OP_DATA_END, _OP_FOOTER):  # the data is whole; only its summary is unreadable
                return
            elif opcode == 0 or opcode > 0x0F:
                self._damage(f, f"corrupt at byte {offset:,} (record {n_records}: unknown opcode {opcode})")
                return
            offset += 9 + length
            n_records += 1

    def _read_meta(self, f: _File) -> None:
        records = self._records(f, 0)
        meta = next((data for topic, _, data in records if topic == "/meta"), None)
        if meta is None:
            self._damage(f, "its first chunk holds no /meta message")
            return
        try:
            f.meta = json.loads(meta)
        except ValueError:
            self._damage(f, "its /meta message is not JSON")
            return
        if f.meta.get("format") != FORMAT:
            raise InputError(str(f.path), f"not a twin_app recording (format {f.meta.get('format')!r})")
        version = f.meta.get("version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise InputError(str(f.path), f"made by recording format version {version}; this twin_app reads "
                                          f"versions up to {FORMAT_VERSION}: update twin_app to replay it")

    def _records(self, f: _File, i: int) -> list[tuple[str, int, bytes]]:
        """(topic, log time ns, data) of the messages of chunk `i` of `f`, in file order (cached)."""
        key = (id(f), i)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        ref = f.chunks[i]
        out: list[tuple[str, int, bytes]] = []
        try:
            with open(f.path, "rb") as stream:
                stream.seek(ref.offset)
                opcode, length = struct.unpack("<BQ", stream.read(9))
                if opcode != _OP_CHUNK:
                    raise McapError(f"no chunk record at byte {ref.offset:,}")
                body = stream.read(length)
            chunk = Chunk.read(ReadDataStream(io.BytesIO(body)))
            for record in breakup_chunk(chunk, validate_crc=True):
                if isinstance(record, Channel):
                    f.topics[record.id] = record.topic
                elif isinstance(record, Message):
                    out.append((f.topics.get(record.channel_id, ""), record.log_time, record.data))
        except (McapError, ValueError, struct.error, zlib.error, OSError, EOFError) as exc:
            self._damage(f, f"chunk {i} at byte {ref.offset:,} is corrupt ({exc or type(exc).__name__}); "
                            "it is skipped")
            out = []
        except Exception as exc:  # zstd and lz4 raise their own errors
            self._damage(f, f"chunk {i} at byte {ref.offset:,} cannot be read ({exc}); it is skipped")
            out = []
        self._cache[key] = out
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    def _has(self, f: _File, chunk: _Chunk, topics: set[str]) -> bool:
        if chunk.channels is None:
            return True
        return any(f.topics.get(c, "") in topics or c not in f.topics for c in chunk.channels)

    # -- queries -------------------------------------------------------------------------------------
    @property
    def paths(self) -> list[Path]:
        """The files of the recording, oldest first."""
        return [f.path for f in self.files]

    @property
    def span(self) -> tuple[float, float]:
        """(first, last) message time in unix seconds."""
        return self.files[0].start / 1e9, max(f.end for f in self.files) / 1e9

    def check_registry(self, index: DeviceIndex) -> None:
        """Raise `InputError` unless the recording was made with this registry."""
        if registry_hash(index.devices["device_id"].astype(str).tolist()) != self.meta.get("registry_hash"):
            raise InputError(str(self.files[0].path), "recorded with another device registry than the one loaded")

    def _iter(self, topics: set[str], start_ns: int | None, end_ns: int | None,
              after_ns: int | None = None) -> Iterator[tuple[str, int, bytes]]:
        for f in self.files:
            if (end_ns is not None and f.start > end_ns) or (start_ns is not None and f.end < start_ns):
                continue
            for i, chunk in enumerate(f.chunks):
                if (end_ns is not None and chunk.start > end_ns) or (start_ns is not None and chunk.end < start_ns):
                    continue
                if not self._has(f, chunk, topics):
                    continue
                for topic, t, data in self._records(f, i):
                    if topic not in topics or (end_ns is not None and t > end_ns):
                        continue
                    if (start_ns is not None and t < start_ns) or (after_ns is not None and t <= after_ns):
                        continue
                    yield topic, t, data

    def messages(self, channel: str, start: float | None = None,
                 end: float | None = None) -> Iterator[tuple[float, object]]:
        """(time, decoded message) of a channel between `start` and `end` (both included), oldest first.

        JSON channels give dicts; ``/telemetry`` gives (rows, values, ts); ``/keyframe`` (values, ts, online).
        """
        if channel not in _SCHEMAS:
            raise InputError(channel, f"no such channel; the recording has {', '.join(CHANNELS)}")
        start_ns = None if start is None else _ns(start)
        end_ns = None if end is None else _ns(end)
        for _, t, data in self._iter({channel}, start_ns, end_ns):
            yield t / 1e9, self._decode(channel, data)

    def between(self, channels: set[str], after: float, until: float) -> Iterator[tuple[str, float, object]]:
        """(channel, time, decoded message) of `channels` with ``after < time <= until``, oldest first.

        A message that cannot be decoded is counted in `damaged` and skipped.
        """
        unknown = set(channels) - set(_SCHEMAS)
        if unknown:
            raise InputError(", ".join(sorted(unknown)), f"no such channel; the recording has {', '.join(CHANNELS)}")
        after_ns = _ns(after)
        for topic, t, data in self._iter(set(channels), after_ns, _ns(until), after_ns=after_ns):
            try:
                yield topic, t / 1e9, self._decode(topic, data)
            except (ValueError, struct.error) as exc:
                self._damage(self.files[0], f"a {topic} message at {t / 1e9:.3f} cannot be decoded ({exc})")

    @staticmethod
    def _decode(channel: str, data: bytes) -> object:
        if channel == "/telemetry":
            return decode_changes(data)
        if channel == "/refresh":
            return decode_refresh(data)
        if channel == "/keyframe":
            return decode_keyframe(data)
        return json.loads(data)

    def _keyframe_before(self, t_ns: int) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
        """The last readable keyframe at or before `t_ns`: (its time, (values, ts, online))."""
        want = {"/keyframe"}
        for f in reversed(self.files):
            if f.start > t_ns:
                continue
            for i in range(len(f.chunks) - 1, -1, -1):
                chunk = f.chunks[i]
                if chunk.start > t_ns or not self._has(f, chunk, want):
                    continue
                found = [(t, data) for topic, t, data in self._records(f, i) if topic == "/keyframe" and t <= t_ns]
                if found:
                    t, data = found[-1]
                    try:
                        return t, decode_keyframe(data)
                    except (ValueError, struct.error) as exc:
                        self._damage(f, f"the keyframe of chunk {i} is damaged ({exc})")
        return None

    def state_at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Every device's last value and time stamp at instant `t` (NaN and 0 where none was recorded yet)."""
        values, ts, _ = self._state(t, want_online=False)
        return values, ts

    def online_at(self, t: float) -> np.ndarray:
        """Every gateway's online flag at instant `t` (order of `gateways`)."""
        return self._state(t, want_online=True)[2]

    def _state(self, t: float, want_online: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t_ns = _ns(t)
        key = self._keyframe_before(t_ns)
        if key is None:
            values, ts = np.full(self.n_devices, np.nan), np.zeros(self.n_devices)
            online, after = np.ones(len(self.gateways), dtype=bool), None
        else:
            after, (values, ts, online) = key
            values, ts, online = values.copy(), ts.copy(), online.copy()
        topics = {"/status"} if want_online else {"/telemetry", "/refresh"}
        parts: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]] = []
        for topic, _, data in self._iter(topics, after, t_ns, after_ns=after):
            if topic == "/telemetry":
                parts.append(decode_changes(data))
            elif topic == "/refresh":
                rows, stamps = decode_refresh(data)
                parts.append((rows, None, stamps))
            else:
                body = json.loads(data)
                if body.get("gateway") in self.gateways:
                    online[self.gateways.index(body["gateway"])] = bool(body.get("online"))
        apply_changes(values, ts, parts)
        return values, ts, online

    def _rows_of_towers(self, towers: list[str] | None) -> np.ndarray | None:
        if towers is None:
            return None
        buildings = list(self.meta.get("buildings", []))
        codes = np.asarray(self.meta.get("building_of", []), dtype=np.int64)
        wanted = [buildings.index(b) for b in towers if b in buildings]
        return np.flatnonzero(np.isin(codes, wanted))

    def to_frame(self, start: float | None = None, end: float | None = None, towers: list[str] | None = None,
                 initial: bool = True) -> pd.DataFrame:
        """Telemetry in long format: ``time`` (recording clock), ``ts`` (the reading's stamp), ``device_id``,
        ``value``, oldest first.

        Parameters
        ----------
        start, end
            The window (unix seconds; None: the whole recording).
        towers
            Only these buildings' devices (None: all).
        initial
            Begin with the state at `start` (every device that had reported, at time `start`).
        """
        first, last = self.span
        start = first if start is None else start
        end = last if end is None else end
        chosen = self._rows_of_towers(towers)
        times, rows, values, stamps = [], [], [], []
        if initial:
            v, s = self.state_at(start)
            r = np.flatnonzero(s > 0)
            if chosen is not None:
                r = np.intersect1d(r, chosen)
            times.append(np.full(len(r), start))
            rows.append(r)
            values.append(v[r])
            stamps.append(s[r])
        for t, (r, v, s) in self.messages("/telemetry", start, end):  # type: ignore[misc]
            if initial and t <= start:
                continue
            if chosen is not None:
                keep = np.isin(r, chosen)
                r, v, s = r[keep], v[keep], s[keep]
            times.append(np.full(len(r), t))
            rows.append(r)
            values.append(v)
            stamps.append(s)
        r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        return pd.DataFrame({"time": np.concatenate(times) if times else np.zeros(0),
                             "ts": np.concatenate(stamps) if stamps else np.zeros(0),
                             "device_id": self.device_ids[r] if len(self.device_ids) else r.astype(str),
                             "value": np.concatenate(values) if values else np.zeros(0)})

    def json_frames(self, start: float | None = None, end: float | None = None) -> dict[str, pd.DataFrame]:
        """The JSON channels (``status``, ``event``, ``action``, ``output``), one frame each with a ``time``
        column and one column per top-level field (JSON text for nested values)."""
        out = {}
        for channel in JSON_CHANNELS:
            rows = []
            for t, body in self.messages(channel, start, end):
                assert isinstance(body, dict)
                flat = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in body.items()}
                rows.append({"time": t, **flat})
            out[channel.strip("/")] = pd.DataFrame(rows, columns=None if rows else ["time"])
        return out
