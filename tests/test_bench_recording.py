"""The recording figures of ``twin-app bench`` (seek_ms, recording_mb_per_hour) on a short recording."""

from __future__ import annotations

import inspect
import tempfile

import numpy as np
import pytest

from twin_app.bench import FIGURES, RECORDING_FIGURES
from twin_app.bench_recording import DEFAULT_RATE, START, TICK_S, make_recording, run_recording_bench
from twin_app.telemetry.recording import RecordingReader


def test_the_recording_is_made_at_the_simulators_default_rate() -> None:
    from twin_app.cli import _subparser, build_parser
    from twin_app.telemetry.simulator import SimulatorRunner

    assert set(RECORDING_FIGURES) <= set(FIGURES)
    assert DEFAULT_RATE == build_parser().get_default("rate") == _subparser("simulate").get_default("rate")
    assert inspect.signature(SimulatorRunner).parameters["tick_s"].default == TICK_S


def test_figures_on_a_short_recording_of_the_small_district(small_district, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the recording's folder goes here, and must go
    figures = run_recording_bench(small_district.ifc_path, small_district.registry_path, set(RECORDING_FIGURES),
                                  hours=240 / 3600, seeks=8, workers=1, start=START - 120)
    assert set(figures) == set(RECORDING_FIGURES)
    for name, figure in figures.items():
        assert {"value", "unit", "baseline", "ratio"} <= set(figure), name
        assert figure["value"] > 0 and figure["baseline"] > 0 and figure["ratio"] > 0, name
    assert not list(tmp_path.iterdir())
    seek = figures["seek_ms"]
    assert seek["unit"] == "ms" and seek["seeks"] == 8 and seek["files"] == 2  # the run crosses a UTC hour
    assert seek["min"] <= seek["value"] <= seek["p95"] <= seek["max"] < 1000.0
    assert seek["baseline_matches"] and 2 <= seek["baseline_seeks"] <= 8
    size = figures["recording_mb_per_hour"]
    assert size["unit"] == "MB" and size["raw_json_mb_per_hour"] == pytest.approx(size["baseline"], abs=0.1)
    assert size["readings_per_s"] == pytest.approx(size["devices"] * DEFAULT_RATE, rel=0.01)
    assert 0 < size["changes_per_s"] < size["readings_per_s"]
    assert 20 < size["raw_json_bytes_per_reading"] < 60
    assert size["ratio"] > 5  # compressed changes and keyframes against JSON
    assert 0 < size["keyframe_mb_per_hour"] < size["value"]


def test_an_hour_recorded_apart_starts_with_the_full_state(small_district, small_index, tmp_path) -> None:
    made = make_recording(tmp_path, small_district.ifc_path, small_district.registry_path, START - 60, 120,
                          workers=1, index=small_index)
    assert made["segments"] == 2 and made["readings"] == pytest.approx(len(small_index.devices) * 0.2 * 120, rel=0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-06-01T22.mcap", "2026-06-01T23.mcap"]
    reader = RecordingReader(tmp_path)
    assert not reader.damaged
    first, last = reader.span
    assert first == pytest.approx(START - 60) and last == pytest.approx(START + 59.5)
    values, ts = reader.state_at(START)  # the second hour's first keyframe: every device, warmed up before
    assert (ts > START - 10).all() and np.isfinite(values).all()
    assert reader.online_at(START).all()
