"""The recorder: a simulated run recorded in MCAP hour files reads back as the live state store had it."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from twin_app.core.engine import NullPort
from twin_app.core.errors import InputError
from twin_app.core.inbox import Action, Event, GatewayStatus, Inbox, Readings
from twin_app.core.state import StateStore
from twin_app.telemetry import recording
from twin_app.telemetry.recording import Recorder, RecordingPort, RecordingReader
from twin_app.telemetry.simulator import Simulator

T0 = 1_795_996_800.0 - 150.0  # 150 s before a UTC hour: the run spans two hour files
SECONDS = 300
KEYFRAME_S = 60.0


@dataclass
class Run:
    folder: Path
    recorder: Recorder
    snapshots: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    keyframes: list[float] = field(default_factory=list)
    status: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    raw_bytes: int = 0


@pytest.fixture(scope="module")
def run(tmp_path_factory, small_index) -> Run:
    """Five simulated minutes of the small district, every device once a second, recorded beside a StateStore."""
    folder = tmp_path_factory.mktemp("recording")
    recorder = Recorder(folder, small_index, keyframe_s=KEYFRAME_S)
    out = Run(folder, recorder)
    sim = Simulator(small_index.devices, seed=3)
    store = StateStore(small_index)
    inbox = Inbox()
    clock = [T0]
    port = RecordingPort(NullPort(), recorder, clock=lambda: clock[0])
    rows_of: dict[str, np.ndarray] = {}
    gateway = store.gateway_names[0]
    for s in range(SECONDS):
        now = T0 + s
        clock[0] = now
        for name, payload in sim.payloads(now):
            out.raw_bytes += len(payload)
            body = json.loads(payload)
            if name not in rows_of:
                rows_of[name] = small_index.rows_of_ids(body["ids"])
            inbox.put(Readings(rows_of[name], np.asarray(body["values"], dtype=np.float64),
                               np.full(len(body["ids"]), body["ts"]), float(s)))
        if s % 50 == 10:
            online = s % 100 != 10
            inbox.put(GatewayStatus(gateway, online))
            out.status.append({"gateway": gateway, "online": online})
        if s % 70 == 5:
            event = {"type": "resident_request", "text": f"leak {s}", "n": s}
            inbox.put(Event(event))
            out.events.append(event)
            inbox.put(Action("ack", {"alarm_id": f"A{s}"}, user="op1"))
            out.actions.append({"verb": "ack", "body": {"alarm_id": f"A{s}"}, "user": "op1"})
        drained = inbox.drain()
        before = recorder._keyframe_at
        recorder.record(drained, now)
        if recorder._keyframe_at != before:
            out.keyframes.append(now)
        store.apply(drained.rows, drained.values, drained.ts)
        for g, online in drained.status:
            store.set_gateway(g, online)
        if s % 45 == 7:
            port.publish(f"alarm/X{s}", {"state": "active", "s": s}, True)
            out.outputs.append({"topic": f"alarm/X{s}", "payload": {"state": "active", "s": s}, "retain": True})
        if s % 13 == 0 or now in out.keyframes or s == SECONDS - 1:
            out.snapshots[now] = (store.value.copy(), store.ts.copy())
    recorder.close()
    return out


def test_files_per_hour_and_span(run):
    reader = RecordingReader(run.folder)
    assert [p.name for p in reader.paths] == ["2026-11-29T23.mcap", "2026-11-30T00.mcap"]
    first, last = reader.span
    assert first == pytest.approx(T0)
    assert last == pytest.approx(T0 + SECONDS - 1)
    assert not reader.damaged
    assert reader.n_devices == run.recorder.n
    reader.check_registry(run.recorder.store.index)


def test_state_at_equals_the_live_store(run):
    reader = RecordingReader(run.folder)
    band = run.recorder.band
    for t, (value, ts) in run.snapshots.items():
        got_value, got_ts = reader.state_at(t)
        if t in run.keyframes:
            np.testing.assert_array_equal(got_value, value, err_msg=f"keyframe at {t - T0:.0f} s")
            np.testing.assert_array_equal(got_ts, ts)
            continue
        relative = np.isnan(band)
        limit = np.where(relative, np.maximum(recording.DEADBAND_RELATIVE * np.abs(got_value), recording.DEADBAND_MIN),
                         band) * 1.001 + 1e-6 * np.abs(value)
        assert np.all(np.abs(got_value - value) <= limit), f"at {t - T0:.0f} s"
        lag = ts - got_ts
        assert lag.min() >= 0
        assert np.all(lag <= np.minimum(run.recorder.refresh_s, KEYFRAME_S) + 1.0), f"at {t - T0:.0f} s"
    values, ts = reader.state_at(T0 - 10)  # before the recording: nothing reported yet
    assert np.isnan(values).all() and (ts == 0).all()


def test_seeking_backwards_and_forwards_equals_reading_through(run):
    reader = RecordingReader(run.folder)
    instants = [T0 + s for s in (290.5, 3, 149.2, 150, 61, 299, 0, 200.7, 149.9)]
    seeks = {t: reader.state_at(t) for t in instants}
    events = [(t, 0, m) for t, m in reader.messages("/telemetry")]
    events += [(t, 0, (m[0], None, m[1])) for t, m in reader.messages("/refresh")]  # the stamp moves, not the value
    assert events[-1][2][1] is None  # the recording holds refreshes
    events += [(t, 1, m) for t, m in reader.messages("/keyframe")]
    events.sort(key=lambda e: (e[0], e[1]))
    values, ts = np.full(reader.n_devices, np.nan), np.zeros(reader.n_devices)
    pending = sorted(instants)
    for t, channel, message in [*events, (np.inf, 2, None)]:
        while pending and pending[0] < t:
            seek_values, seek_ts = seeks[pending.pop(0)]
            np.testing.assert_array_equal(seek_values, values)
            np.testing.assert_array_equal(seek_ts, ts)
        if channel == 0:
            rows, v, s = message
            ts[rows] = s
            if v is not None:
                values[rows] = v
        elif channel == 1:
            values, ts = message[0].copy(), message[1].copy()
    assert not pending


def test_json_channels_round_trip(run):
    reader = RecordingReader(run.folder)
    assert [m for _, m in reader.messages("/status")] == run.status
    assert [m for _, m in reader.messages("/event")] == run.events
    assert [m for _, m in reader.messages("/action")] == run.actions
    assert [m for _, m in reader.messages("/output")] == run.outputs
    frames = reader.json_frames()
    assert len(frames["output"]) == len(run.outputs) and frames["action"]["user"].tolist() == ["op1"] * 5
    assert reader.online_at(T0 + 15)[reader.gateways.index(run.status[0]["gateway"])] == np.False_
    assert reader.online_at(T0 + 65)[reader.gateways.index(run.status[0]["gateway"])] == np.True_


def test_to_frame_window_and_towers(run):
    reader = RecordingReader(run.folder)
    tower = run.recorder.meta["buildings"][0]
    frame = reader.to_frame(T0 + 100, T0 + 160, towers=[tower])
    assert list(frame.columns) == ["time", "ts", "device_id", "value"]
    assert frame["time"].between(T0 + 100, T0 + 160).all()
    devices = run.recorder.store.index.devices
    buildings = devices.set_index("device_id")["building"].astype(str)
    assert (buildings.loc[frame["device_id"]].to_numpy() == tower).all()
    first = frame[frame["time"] == T0 + 100]
    assert len(first) == int((devices["building"].astype(str) == tower).sum())  # every device had reported


def test_a_file_cut_in_half_reads_its_first_part(run, tmp_path):
    reader = RecordingReader(run.folder)
    source = reader.paths[0]
    cut = tmp_path / source.name
    data = source.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    damaged = RecordingReader(cut)
    assert len(damaged.damaged) == 1 and damaged.damaged[0].where == str(cut)
    assert "truncated" in damaged.damaged[0].what
    first, last = damaged.span
    assert first == pytest.approx(T0) and T0 + 30 < last < T0 + 150
    t = T0 + 20
    np.testing.assert_array_equal(damaged.state_at(t)[0], reader.state_at(t)[0])
    with pytest.raises(InputError, match=source.name):
        RecordingReader(cut, strict=True)
    # a folder with the cut hour and the whole next hour: both read, the damage named
    shutil.copy(reader.paths[1], tmp_path / reader.paths[1].name)
    both = RecordingReader(tmp_path)
    assert [e.where for e in both.damaged] == [str(cut)]
    np.testing.assert_array_equal(both.state_at(T0 + 250)[0], reader.state_at(T0 + 250)[0])


def test_a_newer_format_is_refused_by_version(small_index, tmp_path, monkeypatch):
    monkeypatch.setattr(recording, "FORMAT_VERSION", 99)
    recorder = Recorder(tmp_path, small_index)
    recorder.keyframe(T0)
    recorder.close()
    monkeypatch.setattr(recording, "FORMAT_VERSION", 1)
    with pytest.raises(InputError, match="version 99"):
        RecordingReader(tmp_path)


def test_prune_deletes_only_old_hours(small_index, tmp_path):
    recorder = Recorder(tmp_path, small_index, retention_days=1.0)
    now = T0 + 150.0  # 2026-11-30T00:00 UTC
    for name in ("2026-11-28T16.mcap", "2026-11-28T23.mcap", "2026-11-29T00.mcap", "2026-11-29T05.mcap",
                 "notes.mcap"):
        (tmp_path / name).write_bytes(b"")
    recorder.keyframe(now)  # its first file opens: the retention is applied as every hour begins
    assert recorder.prune(now) == []  # nothing left to delete
    recorder.close()
    assert sorted(p.name for p in tmp_path.glob("*.mcap")) == [
        "2026-11-29T00.mcap", "2026-11-29T05.mcap", "2026-11-30T00.mcap", "notes.mcap"]


def test_the_deadband_keeps_the_recording_small(run):
    size = sum(p.stat().st_size for p in run.folder.glob("*.mcap"))
    per_hour = size / SECONDS * 3600
    raw_per_hour = run.raw_bytes / SECONDS * 3600
    print(f"\nrecording of {run.recorder.n:,} devices, every device once a second: {per_hour / 1e6:.1f} MB/h "
          f"(raw JSON {raw_per_hour / 1e6:.1f} MB/h, ratio 1/{raw_per_hour / per_hour:.0f}); "
          f"readings in {run.recorder.readings_in:,}, messages {run.recorder.counts}")
    assert per_hour < raw_per_hour / 5

