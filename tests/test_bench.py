"""``twin-app bench --json``: the contract's figure names, each with its baseline measured in the same run."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_json_on_the_small_district(small_district) -> None:
    scene = "load_cold_s,load_warm_s,tessellate_s,frame_ms,recolour_ms,pick_ms,scene_peak_rss_mb"
    run = subprocess.run(
        [sys.executable, "-m", "twin_app", "bench", "--json", "--only", scene, "--ifc", str(small_district.ifc_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    assert set(figures) == {"load_cold_s", "load_warm_s", "tessellate_s", "frame_ms", "recolour_ms", "pick_ms",
                            "scene_peak_rss_mb"}
    for name, figure in figures.items():
        assert figure["value"] > 0 and figure["unit"], name
        if name != "scene_peak_rss_mb":
            assert figure["baseline"] > 0 and figure["ratio"] > 0, name
    assert figures["load_warm_s"]["baseline"] == figures["load_cold_s"]["value"]
    assert figures["frame_ms"]["size"] == "1920x1080"


def test_bench_only_and_unknown_names(small_district) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "twin_app", "bench", "--json", "--only", "pick_ms,recolour_ms", "--ifc",
         str(small_district.ifc_path)], capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert set(json.loads(run.stdout)) == {"pick_ms", "recolour_ms"}
    bad = subprocess.run([sys.executable, "-m", "twin_app", "bench", "--only", "warp_speed"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "unknown figures: warp_speed" in bad.stderr


def test_bench_ingest_figures_through_mosquitto(small_district) -> None:
    names = "ingest_readings_per_s,latency_p50_ms,latency_p99_ms,gui_max_stall_ms,memory_growth_mb"
    run = subprocess.run(
        [sys.executable, "-m", "twin_app", "bench", "--json", "--only", names, "--duration", "3", "--ifc",
         str(small_district.ifc_path)], capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    assert set(figures) == set(names.split(","))
    ingest = figures["ingest_readings_per_s"]
    assert ingest["applied"] == ingest["sent"] > 0  # nothing lost
    assert ingest["baseline"] > 0 and ingest["ratio"] > 0
    assert 0 < figures["latency_p50_ms"]["value"] <= figures["latency_p99_ms"]["value"]


def test_bench_engine_figures_through_mosquitto(small_district) -> None:
    names = "restart_s,flood_1000_max_step_ms"
    run = subprocess.run(
        [sys.executable, "-m", "twin_app", "bench", "--json", "--only", names, "--ifc", str(small_district.ifc_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    assert set(figures) == set(names.split(","))
    flood = figures["flood_1000_max_step_ms"]
    assert flood["raised"] == flood["published"] == 1000 and flood["value"] > 0  # every alarm raised and published
    restart = figures["restart_s"]
    assert restart["value"] >= restart["restored_s"] > 0 and restart["live_alarms"] > 0 and restart["orders"] > 0
    assert restart["republished"] >= restart["live_alarms"] + restart["open_orders"]
