"""``twin-app bench``: each figure measured beside its naive baseline in the same run.

Figures (names fixed by ../shared/CONTRACT.md): load_cold_s, load_warm_s, tessellate_s, frame_ms, recolour_ms,
pick_ms, scene_peak_rss_mb. Our own figures are measured first, so that the baselines' memory does not count
in the peak RSS.
"""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

FIGURES = ("load_cold_s", "load_warm_s", "tessellate_s", "frame_ms", "recolour_ms", "pick_ms", "scene_peak_rss_mb")
FRAME_SIZE = (1920, 1080)


def _figure(value: float, unit: str, baseline: float | None = None, better: str = "lower", **extra: object) -> dict:
    out: dict[str, object] = {"value": round(value, 4), "unit": unit}
    if baseline is not None:
        out["baseline"] = round(baseline, 4)
        ratio = baseline / value if better == "lower" else value / baseline
        out["ratio"] = round(ratio, 2) if value > 0 else None
    out.update(extra)
    return out


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _naive_iterator_loop(path: Path) -> float:
    """Baseline: one thread, world coordinates (drawable without further work), a numpy copy per element."""
    import ifcopenshell
    import ifcopenshell.geom

    started = time.perf_counter()
    f = ifcopenshell.open(str(path))
    settings = ifcopenshell.geom.settings()
    settings.set("use-world-coords", True)
    iterator = ifcopenshell.geom.iterator(settings, f, 1)
    if iterator.initialize():
        while True:
            shape = iterator.get()
            np.asarray(shape.geometry.verts).reshape(-1, 3)
            np.asarray(shape.geometry.faces).reshape(-1, 3)
            if not iterator.next():
                break
    return time.perf_counter() - started


def _frames(plotter, n: int = 7) -> float:
    """Median render time in ms while the camera turns."""
    times = []
    for _ in range(n):
        plotter.camera.azimuth += 3.0
        t = time.perf_counter()
        plotter.ren_win.Render()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times[1:])


def run_bench(only: set[str] | None = None, ifc: Path | None = None,
              log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> dict[str, dict]:
    """Measure the figures in `only` (all when None) on the full district or on `ifc`."""
    import pyvista as pv
    import vtk

    from twin_app.bim.district_cache import ensure_district
    from twin_app.bim.loader import load_model
    from twin_app.render.scene import DistrictScene

    wanted = set(FIGURES) if not only else set(only)
    unknown = wanted - set(FIGURES)
    if unknown:
        raise ValueError(f"unknown figures: {', '.join(sorted(unknown))}; known: {', '.join(FIGURES)}")
    pv.global_theme.multi_samples = 0
    if ifc is None:
        log("bench: preparing the full district")
        ifc = ensure_district().ifc_path
    results: dict[str, dict] = {}
    cache = Path(tempfile.mkdtemp(prefix="twin_app_bench_"))

    # -- ours: cold then warm, IFC to drawable scene ------------------------------------------------
    log("bench: cold load")
    plotter = pv.Plotter(off_screen=True, window_size=FRAME_SIZE)
    t = time.perf_counter()
    cold = load_model(ifc, use_cache=False, folder=cache)
    scene = DistrictScene(plotter, cold.model)
    cold_s = time.perf_counter() - t
    plotter.close()
    del scene
    gc.collect()
    log("bench: warm load")
    plotter = pv.Plotter(off_screen=True, window_size=FRAME_SIZE)
    t = time.perf_counter()
    warm = load_model(ifc, folder=cache)
    scene = DistrictScene(plotter, warm.model)
    warm_s = time.perf_counter() - t
    assert warm.from_cache
    model = warm.model
    scene.camera_overview()
    plotter.show(auto_close=False)
    ours_frame = _frames(plotter) if "frame_ms" in wanted else 0.0
    rng = np.random.default_rng(0)
    recolours = []
    for _ in range(7):
        slots = rng.integers(2, 7, model.n_elements).astype(np.uint8)
        t = time.perf_counter()
        scene.set_element_slots(slots)
        recolours.append((time.perf_counter() - t) * 1000.0)
    ours_recolour = statistics.median(recolours)
    w, h = FRAME_SIZE
    pick_xy = [(float(x), float(y)) for x, y in zip(rng.uniform(0.15 * w, 0.85 * w, 40),
                                                   rng.uniform(0.15 * h, 0.85 * h, 40), strict=True)]
    picks, hits = [], 0
    for x, y in pick_xy:
        t = time.perf_counter()
        hits += scene.pick(x, y) >= 0
        picks.append((time.perf_counter() - t) * 1000.0)
    ours_pick = statistics.median(picks)
    peak = _peak_rss_mb()

    # -- baselines -----------------------------------------------------------------------------------
    baseline_pick = None
    if "pick_ms" in wanted:
        log("bench: picking without a locator")
        naive_picker = vtk.vtkCellPicker()
        naive_picker.SetTolerance(0.0005)
        naive_times = []
        for x, y in pick_xy[:10]:
            t = time.perf_counter()
            naive_picker.Pick(x, y, 0, plotter.renderer)
            naive_times.append((time.perf_counter() - t) * 1000.0)
        baseline_pick = statistics.median(naive_times)
    plotter.close()
    del scene
    gc.collect()

    baseline_frame = baseline_recolour = None
    n_actors = 0
    if "frame_ms" in wanted or "recolour_ms" in wanted:
        log("bench: one actor per element (the naive way)")
        naive = pv.Plotter(off_screen=True, window_size=FRAME_SIZE)
        renderer = naive.renderer
        actors = []
        for mesh in model.meshes.values():  # every element with geometry gets its own actor
            for element in np.unique(mesh.cell_element):
                start, count = int(model.cell_start[element]), int(model.cell_count[element])
                tris = mesh.triangles[start:start + count]
                used, inverse = np.unique(tris, return_inverse=True)
                part = pv.PolyData.from_regular_faces(mesh.points[used], inverse.reshape(-1, 3))
                mapper = vtk.vtkPolyDataMapper()
                mapper.SetInputData(part)
                actor = vtk.vtkActor()
                actor.SetMapper(mapper)
                renderer.AddActor(actor)
                actors.append(actor)
        n_actors = len(actors)
        bbox = model.bbox()
        naive.camera.focal_point = tuple((bbox[:3] + bbox[3:]) / 2)
        naive.camera.position = tuple((bbox[:3] + bbox[3:]) / 2 + np.array([0.55, -0.75, 0.75]))
        naive.renderer.ResetCamera(*np.column_stack([bbox[:3], bbox[3:]]).ravel())
        naive.camera.zoom(2.0 / 1.5)
        naive.show(auto_close=False)
        if "frame_ms" in wanted:
            baseline_frame = _frames(naive, n=4)
        colours = rng.uniform(0, 1, (len(actors), 3))
        t = time.perf_counter()
        for actor, rgb in zip(actors, colours, strict=True):
            actor.GetProperty().SetColor(*rgb)
        baseline_recolour = (time.perf_counter() - t) * 1000.0
        naive.close()
        del actors
        gc.collect()

    baseline_tessellate = None
    if {"tessellate_s", "load_cold_s"} & wanted:
        log("bench: plain single-process iterator loop")
        baseline_tessellate = _naive_iterator_loop(ifc)

    n_cells = sum(m.n_cells for m in model.meshes.values())
    if "load_cold_s" in wanted:
        results["load_cold_s"] = _figure(cold_s, "s", baseline_tessellate, elements=int(model.n_elements),
                                         note="IFC to drawable scene in a worker process (tessellate, merge, cache "
                                              "write, scene); baseline: single-thread iterator loop in world "
                                              "coordinates over the same file")
    if "load_warm_s" in wanted:
        results["load_warm_s"] = _figure(warm_s, "s", cold_s, note="cache read and scene; baseline: load_cold_s")
    if "tessellate_s" in wanted:
        results["tessellate_s"] = _figure(float(cold.model.meta["seconds"]), "s", baseline_tessellate,
                                          shared_geometries=cold.model.meta.get("shared_geometries"),
                                          note="tessellation and merge inside the worker (no process start)")
    if "frame_ms" in wanted:
        results["frame_ms"] = _figure(ours_frame, "ms", baseline_frame, size=f"{w}x{h}", actors_baseline=n_actors,
                                      triangles=int(n_cells), note="district view, median while the camera turns")
    if "recolour_ms" in wanted:
        results["recolour_ms"] = _figure(ours_recolour, "ms", baseline_recolour, elements=int(model.n_elements),
                                         note="every element changes state; baseline: SetColor on each actor")
    if "pick_ms" in wanted:
        results["pick_ms"] = _figure(ours_pick, "ms", baseline_pick, hits=f"{hits}/{len(pick_xy)}",
                                     note="static cell locator; baseline: vtkCellPicker without a locator")
    if "scene_peak_rss_mb" in wanted:
        results["scene_peak_rss_mb"] = _figure(peak, "MB", note="peak resident memory after cold and warm load, "
                                                               "scene and frames, before the baselines ran")
    return results
