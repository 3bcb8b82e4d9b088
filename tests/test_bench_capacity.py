"""``ingest_capacity_per_s``: ours and the per-reading baseline consume the same published stream through a real
mosquitto; a held step counts every published reading in."""

from __future__ import annotations

from twin_app.bench_capacity import run_capacity_bench


def test_capacity_ours_and_baseline_read_the_same_stream(small_district) -> None:
    n = small_district.devices
    logged: list[str] = []
    figure = run_capacity_bench(small_district.ifc_path, small_district.registry_path, logged.append, hold_s=2.0,
                                probe_s=1.0, start_per_s=2.0 * n, baseline_start_per_s=2.0 * n, max_steps=2,
                                publishers=2)["ingest_capacity_per_s"]
    assert figure["unit"] == "readings/s" and figure["devices"] == n and figure["publishers"] == 2
    # held: nothing lost, for ours and for the baseline
    assert figure["received"] == figure["published"] > 0
    assert figure["baseline_received"] == figure["baseline_published"] > 0
    assert figure["value"] > 0 and figure["baseline"] > 0 and figure["ratio"] > 0
    assert figure["offered_per_s"] > 0 and figure["p99_ms"] <= 1000.0
    # the same stream: both ladders start at the same offered load, published by the same publishers
    ours, base = figure["steps"], figure["baseline_steps"]
    assert ours[0]["target_per_s"] == base[0]["target_per_s"] == 2 * n
    for step in ours + base:
        assert step["published"] > 0
        if step["passed"]:
            assert step["received"] == step["published"]
    assert [s for s in ours if s["hold"] and s["passed"]] and [s for s in base if s["hold"] and s["passed"]]
    assert set(figure["cores_used"]) == {"publishers", "broker", "consumer"}
    assert any("capacity baseline" in line for line in logged)
