"""The console-path benchmark (`twin_app.bench_console`) on the small district: the figures' structure."""

from __future__ import annotations

import sys

import pytest

from twin_app.bench_console import FIGURES, display_problem, run_console_bench


def test_without_a_display_every_figure_says_why_it_was_skipped(monkeypatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("a display is always there off Linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    out = run_console_bench(None, None, {"console_latency_p99_ms", "console_max_stall_ms", "ingest_readings_per_s"})
    assert set(out) == {"console_latency_p99_ms", "console_max_stall_ms"}  # only its own figures
    for figure in out.values():
        assert figure["value"] is None and figure["unit"] == "ms" and "DISPLAY" in figure["skipped"]
    assert run_console_bench(None, None, {"frame_ms"}) == {}


def test_console_figures_on_the_small_district(qapp, small_district) -> None:
    if display_problem() is not None:
        pytest.skip("needs a display (the suite runs under xvfb-run)")
    lines: list[str] = []
    out = run_console_bench(small_district.ifc_path, small_district.registry_path, set(FIGURES), lines.append,
                            seconds=6.0, loaded_seconds=4.0, size=(1280, 800))
    assert set(out) == set(FIGURES)
    for name, figure in out.items():
        assert figure["unit"] == "ms", name
        assert "baseline" not in figure and "ratio" not in figure, name  # no naive baseline for these
        assert figure["value"] > 0, name
    p50, p99 = out["console_latency_p50_ms"], out["console_latency_p99_ms"]
    assert p50["probes"] >= 5 and p50["lost"] <= p50["probes"] // 2
    assert p99["value"] >= p50["value"] and p99["max"] >= p99["value"]
    assert p99["frames"] >= p99["probes"]  # each probe shown needs a frame of its own
    assert p99["engine_steps"]["steps"] > 0 and p99["devices"] > 0 and p99["probe_device"].endswith("co-1")
    loaded = out["console_latency_p99_loaded_ms"]
    assert loaded["probes"] >= 3 and loaded["p50_ms"] > 0
    stall = out["console_max_stall_ms"]
    assert stall["heartbeats"] > 100 and stall["render_max_ms"] > 0
    assert len(stall["worst_blocks"]) >= 1 and stall["worst_blocks"][0]["gap_ms"] >= stall["value"]
    assert any("quiet:" in line for line in lines) and any("loaded:" in line for line in lines)
