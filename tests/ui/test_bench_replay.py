"""The replay_speed figure runs the real window on a real recording (its structure, not its speed)."""

from __future__ import annotations

import pytest

from twin_app.bench import FIGURES
from twin_app.bench_replay import measure


def test_replay_speed_replays_the_whole_recording_in_the_window(qtbot, small_district) -> None:
    assert "replay_speed" in FIGURES
    figure = measure(small_district.ifc_path, small_district.registry_path, seconds=60.0)
    assert figure["unit"] == "x real time" and figure["value"] > 0
    assert 59.0 <= figure["recording_s"] <= 61.0 and figure["ticks"] >= 10  # 6 s of recording per tick, to the end
    assert figure["value"] == pytest.approx(figure["recording_s"] / figure["wall_s"], rel=0.02)
    assert figure["readings_recorded"] > 0 and figure["devices"] > 0
