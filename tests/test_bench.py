"""``twin-app bench --json``: the contract's figure names, each with its baseline measured in the same run on the same
work (same triangles, same threads, same readings), and the ``conditions`` they were measured under."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from twin_app.bench import CONDITIONS, CONSOLE_FIGURES, FIGURES, SAMPLE_FILES, SCENE_FIGURES, figures_of
from twin_app.bench_frames import FRAME_FIGURES

DATA = Path(__file__).parent / "data"


def _bench(*args: str, timeout: int = 600) -> dict:
    run = subprocess.run([sys.executable, "-m", "twin_app", "bench", "--json", *args], capture_output=True, text=True,
                         timeout=timeout)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def scene_results(small_district) -> dict:
    """The scene figures on the small district (and the four sample files for load_cold_s), run once."""
    return _bench("--only", ",".join(SCENE_FIGURES), "--ifc", str(small_district.ifc_path))


def test_scene_figures_and_conditions(scene_results: dict) -> None:
    per_file = {f"load_cold_s[{Path(name).stem}]" for name in SAMPLE_FILES}
    assert set(scene_results) == set(SCENE_FIGURES) | per_file | {CONDITIONS}
    for name, figure in figures_of(scene_results).items():
        assert figure["value"] > 0 and figure["unit"], name
        if name != "scene_peak_rss_mb":
            assert figure["baseline"] > 0 and figure["ratio"] > 0, name
    assert scene_results["load_warm_s"]["baseline"] == scene_results["load_cold_s"]["value"]
    conditions = scene_results[CONDITIONS]
    assert conditions["cores"] == os.cpu_count() and len(conditions["load_average"]) == 3
    for key in ("cpu", "renderer", "python", "vtk", "qt"):
        assert conditions[key], key
    assert not conditions["renderer"].startswith("unknown")


def test_frame_baselines_draw_the_same_triangles(scene_results: dict) -> None:
    for name in FRAME_FIGURES:
        figure = scene_results[name]
        assert figure["size"] == "1920x1080"
        assert figure["triangles"] == figure["baseline_triangles"] > 0, name
        assert figure["baseline_actors"] > figure["actors"], name  # one actor per element against merged layers
    # the three views draw different things: all spaces shown is more than the overview's massing
    assert scene_results["frame_all_spaces_ms"]["triangles"] > scene_results["frame_ms"]["triangles"]


def test_load_baselines_use_the_same_threads(scene_results: dict) -> None:
    threads = os.cpu_count()
    cold = scene_results["load_cold_s"]
    assert cold["threads"] == cold["baseline_threads"] == threads
    assert cold["sample_files"] == list(SAMPLE_FILES)
    assert scene_results["tessellate_s"]["threads"] == scene_results["tessellate_s"]["baseline_threads"] == threads
    for name in SAMPLE_FILES:
        entry = scene_results[f"load_cold_s[{Path(name).stem}]"]
        assert entry["file"] == name and entry["threads"] == entry["baseline_threads"] == threads
        assert entry["value"] > 0 and entry["baseline"] > 0 and entry["ratio"] > 0 and entry["triangles"] > 0
        if entry["ratio"] < 1:
            assert "slower than the plain loop" in entry["note"], name  # says why


def test_peak_memory_counts_the_tessellation_worker(scene_results: dict) -> None:
    memory = scene_results["scene_peak_rss_mb"]
    assert memory["worker_peak_mb"] > 0
    # the figure is the larger of the sampled tree and this process's own peak (the parts are rounded to 0.1 MB)
    assert memory["value"] >= max(memory["self_peak_mb"], memory["sampled_tree_peak_mb"]) - 0.05
    assert memory["sampled_tree_peak_mb"] > memory["worker_peak_mb"]  # the worker's memory is in the tree's


def test_bench_table_lists_every_figure(scene_results: dict, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(scene_results))
    readme = tmp_path / "README.md"
    readme.write_text("# title\n\nbefore\n<!-- bench:start -->\nold table\n<!-- bench:end -->\nafter\n")
    script = Path(__file__).parent.parent / "packaging" / "bench_table.py"
    run = subprocess.run([sys.executable, str(script), str(results), str(readme)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n<!-- bench:start -->\n") and text.endswith("<!-- bench:end -->\nafter\n")
    assert "old table" not in text
    table = text.split("<!-- bench:start -->")[1].split("<!-- bench:end -->")[0]
    for name in figures_of(scene_results):
        assert f"| `{name}` |" in table, name
    assert f"| `{CONDITIONS}` |" not in table
    assert "twin-app bench" in table and scene_results[CONDITIONS]["renderer"] in table
    assert f"{scene_results['frame_ms']['triangles']:,} triangles" in table
    # printed without a README; a README without the markers is refused
    printed = subprocess.run([sys.executable, str(script), str(results)], capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0 and printed.stdout.strip() == table.strip()
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n")
    refused = subprocess.run([sys.executable, str(script), str(results), str(bare)], capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 2 and "bench:start" in refused.stderr and bare.read_text() == "no markers\n"


def test_bench_only_and_unknown_names(small_district) -> None:
    results = _bench("--only", "pick_ms,recolour_ms", "--ifc", str(small_district.ifc_path))
    assert set(results) == {"pick_ms", "recolour_ms", CONDITIONS}  # conditions always, never a figure to ask for
    bad = subprocess.run([sys.executable, "-m", "twin_app", "bench", "--only", "warp_speed"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "unknown figures: warp_speed" in bad.stderr


def test_console_figures_are_registered() -> None:
    assert set(CONSOLE_FIGURES) == {"console_latency_p50_ms", "console_latency_p99_ms", "console_max_stall_ms",
                                    "console_latency_p99_loaded_ms"}
    assert set(CONSOLE_FIGURES) <= set(FIGURES) and CONDITIONS not in FIGURES
    from twin_app import bench_console

    assert set(bench_console.FIGURES) == set(CONSOLE_FIGURES)  # the bench asks for every figure it measures


def test_bench_ingest_figures_through_mosquitto(small_district) -> None:
    names = "ingest_readings_per_s,latency_p50_ms,latency_p99_ms,gui_max_stall_ms,memory_growth_mb"
    figures = _bench("--only", names, "--duration", "3", "--ifc", str(small_district.ifc_path))
    assert set(figures_of(figures)) == set(names.split(","))
    ingest = figures["ingest_readings_per_s"]
    assert ingest["applied"] == ingest["sent"] > 0  # nothing lost
    assert ingest["baseline"] > 0 and ingest["ratio"] > 0
    assert "offered-load-limited" in ingest["note"]
    # the rate counts the readings after the first step over the time since it: at most what was offered
    assert ingest["value"] <= 1.25 * ingest["offered_per_s"]
    assert 0 < figures["latency_p50_ms"]["value"] <= figures["latency_p99_ms"]["value"]


def test_bench_engine_figures_through_mosquitto(small_district) -> None:
    names = "restart_s,flood_1000_max_step_ms"
    figures = _bench("--only", names, "--ifc", str(small_district.ifc_path))
    assert set(figures_of(figures)) == set(names.split(","))
    flood = figures["flood_1000_max_step_ms"]
    assert flood["raised"] == flood["published"] == 1000 and flood["value"] > 0  # every alarm raised and published
    restart = figures["restart_s"]
    assert restart["value"] >= restart["restored_s"] > 0 and restart["live_alarms"] > 0 and restart["orders"] > 0
    assert restart["republished"] >= restart["live_alarms"] + restart["open_orders"]
