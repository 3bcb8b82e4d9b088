"""The engine records what it receives and publishes in its data folder; `twin-app export` writes a window of it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd

from twin_app.core.inbox import Readings
from twin_app.telemetry.recording import RecordingReader
from twin_app.telemetry.runtime import RECORDINGS, build_runtime

T0 = 1_800_000_000.0


def test_an_engine_with_a_data_folder_records_and_the_window_exports(small_index, tmp_path) -> None:
    runtime = build_runtime(small_index, None, folder=tmp_path / "engine")
    devices = small_index.devices
    co = np.flatnonzero(devices["device_id"].str.startswith("T01-B1-GZA").to_numpy()
                        & (devices["kind"] == "co").to_numpy())
    everything = np.arange(len(devices))
    runtime.inbox.put(Readings(everything, np.zeros(len(everything)), np.full(len(everything), T0), 0.0))
    runtime.step(T0)
    for k, value in enumerate((20.0, 90.0, 95.0, 99.0)):
        t = T0 + 3.0 * (k + 1)
        runtime.inbox.put(Readings(co, np.full(len(co), value), np.full(len(co), t), 0.0))
        runtime.step(t)
    live_values = runtime.engine.store.value.copy()
    assert runtime.engine.incidents.incidents  # the CO incident the recording must hold
    runtime.stop()
    reader = RecordingReader(tmp_path / "engine" / RECORDINGS)
    values, _ts = reader.state_at(T0 + 12.0)
    assert np.allclose(values[co], live_values[co])
    outputs = [m for _t, m in reader.messages("/output", T0, T0 + 20)]
    assert any(str(m["topic"]).startswith("incident/") for m in outputs)
    out = tmp_path / "window.parquet"
    run = subprocess.run([sys.executable, "-m", "twin_app", "export", str(tmp_path / "engine"), "--from", "0",
                          "--to", "20", "--towers", "T01", str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    table = pd.read_parquet(out)
    telemetry = table[table["channel"] == "telemetry"]
    assert set(telemetry["device_id"].str[:3]) == {"T01"} and (telemetry["value"] >= 90.0).any()
    assert "output" in set(table["channel"])
    outputs = [json.loads(text) for text in table.loc[table["channel"] == "output", "json"]]
    assert all(isinstance(o["payload"], dict | None) for o in outputs)  # as recorded: an object or null, never text
    unknown = subprocess.run([sys.executable, "-m", "twin_app", "export", str(tmp_path / "engine"), "--towers", "T99",
                              str(out)], capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "T99" in unknown.stderr and "T01" in unknown.stderr
    bad = subprocess.run([sys.executable, "-m", "twin_app", "export", str(tmp_path / "nothing"), str(out)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_serve_keep_recordings_is_checked_before_anything_starts(tmp_path) -> None:
    run = subprocess.run([sys.executable, "-m", "twin_app", "serve", "--broker", "mqtt://127.0.0.1:9", "--data-dir",
                          str(tmp_path), "--keep-recordings", "-1"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--keep-recordings" in run.stderr and "Traceback" not in run.stderr


def test_a_new_hour_file_deletes_the_hours_past_the_retention(small_index, tmp_path) -> None:
    from twin_app.core.inbox import Drained
    from twin_app.telemetry.recording import Recorder

    old = tmp_path / "2020-01-01T00.mcap"
    old.write_bytes(b"")
    recorder = Recorder(tmp_path, small_index, retention_days=2.0)
    recorder.record(Drained.empty(), T0)  # its first file: the hours more than 2 days old go
    assert not old.exists() and len(list(tmp_path.glob("*.mcap"))) == 1
    kept = tmp_path / "2027-01-14T00.mcap"  # within two days of T0 + 1 h
    kept.write_bytes(b"")
    recorder.record(Drained.empty(), T0 + 3600.0)
    recorder.close()
    assert kept.exists() and len(list(tmp_path.glob("*.mcap"))) == 3
