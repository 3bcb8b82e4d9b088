"""``twin-app bench``: each figure measured beside its naive baseline in the same run.

Figures (names fixed by ../shared/CONTRACT.md): load_cold_s (the district and each sample IFC file), load_warm_s,
tessellate_s, frame_ms, frame_all_spaces_ms, frame_storey_cut_ms (`twin_app.bench_frames`), recolour_ms, pick_ms,
scene_peak_rss_mb (the process tree: the tessellation worker counts), the ingest figures, ingest_capacity_per_s
(`twin_app.bench_capacity`), the engine, recording, replay and console figures. Our own scene figures are measured
first, so that the baselines' memory does not count in the peak RSS. The result also holds ``conditions`` (not a
figure: the machine, its load and the renderer the figures were measured under).
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from twin_app.bench_capacity import CAPACITY_FIGURES
from twin_app.bench_frames import FRAME_FIGURES

SCENE_FIGURES = ("load_cold_s", "load_warm_s", "tessellate_s", *FRAME_FIGURES, "recolour_ms", "pick_ms",
                 "scene_peak_rss_mb")
INGEST_FIGURES = ("ingest_readings_per_s", "latency_p50_ms", "latency_p99_ms", "gui_max_stall_ms",
                  "memory_growth_mb")
ENGINE_FIGURES = ("restart_s", "flood_1000_max_step_ms", "flood_10000_max_step_ms")
RECORDING_FIGURES = ("seek_ms", "recording_mb_per_hour")  # measured in twin_app.bench_recording
REPLAY_FIGURES = ("replay_speed",)  # measured in twin_app.bench_replay (the real window)
CONSOLE_FIGURES = ("console_latency_p50_ms", "console_latency_p99_ms", "console_max_stall_ms",
                   "console_latency_p99_loaded_ms")  # bench_console: the real main window
FIGURES = (SCENE_FIGURES + INGEST_FIGURES + CAPACITY_FIGURES + ENGINE_FIGURES + RECORDING_FIGURES + REPLAY_FIGURES
           + CONSOLE_FIGURES)
CONDITIONS = "conditions"  # the result's entry that is not a figure
FRAME_SIZE = (1920, 1080)
# the public sample files of tests/data (see tests/data/SOURCES.md), loaded beside the district for load_cold_s
SAMPLE_FILES = ("Duplex_A_20110907.ifc", "Duplex_Electrical_20121207.ifc", "Building-Architecture.ifc",
                "Building-Hvac.ifc")
SAMPLE_FOLDER = Path(__file__).resolve().parent.parent / "tests" / "data"


def _figure(value: float, unit: str, baseline: float | None = None, better: str = "lower", **extra: object) -> dict:
    out: dict[str, object] = {"value": round(value, 4), "unit": unit}
    if baseline is not None:
        out["baseline"] = round(baseline, 4)
        ratio = baseline / value if better == "lower" else value / baseline
        out["ratio"] = round(ratio, 2) if value > 0 else None
    out.update(extra)
    return out


def figures_of(results: dict[str, dict]) -> dict[str, dict]:
    """The figures of a `run_bench` result (everything but ``conditions``)."""
    return {name: figure for name, figure in results.items() if name != CONDITIONS}


def _renderer_string() -> str:
    """The OpenGL renderer VTK draws with off screen (a GPU's name, or llvmpipe for Mesa's software renderer)."""
    try:
        import pyvista as pv

        plotter = pv.Plotter(off_screen=True, window_size=(64, 64))
        plotter.ren_win.Render()
        report = plotter.ren_win.ReportCapabilities()
        plotter.close()
    except Exception as exc:  # no OpenGL at all: say so rather than fail the bench
        return f"unknown ({type(exc).__name__}: {exc})"
    for line in report.splitlines():
        if "renderer string" in line.lower():
            return line.split(":", 1)[1].strip()
    return "unknown"


def conditions() -> dict:
    """What the figures were measured under: cores, load, CPU, memory, renderer and library versions."""
    import vtk

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    memory_gb = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    try:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        qt = f"{qVersion()} (PySide6 {pyside_version})"
    except ImportError:
        qt = "not installed"
    try:
        import ifcopenshell

        ifc_version = ifcopenshell.version
    except ImportError:
        ifc_version = "not installed"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    renderer = _renderer_string()
    out = {
        "cores": os.cpu_count(), "load_average": [round(v, 2) for v in load], "cpu": cpu, "memory_gb": memory_gb,
        "renderer": renderer, "python": platform.python_version(), "vtk": vtk.vtkVersion.GetVTKVersion(), "qt": qt,
        "ifcopenshell": ifc_version, "platform": platform.platform(), "frame_size": f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "twin-app " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["bench"] else None,
    }
    # one line for people (the README's table, the text output)
    out["value"] = (f"{out['cores']} cores ({cpu}), load {out['load_average'][0]:g} at start, {memory_gb} GB, "
                    f"renderer {renderer}, Python {out['python']}, VTK {out['vtk']}, Qt {qt}")
    out["unit"] = ""
    return out


class _TreeRss:
    """Samples the resident memory of this process and all its descendants (the tessellation worker) every 20 ms,
    from /proc; `peak_mb` is the largest sum seen."""

    def __init__(self, period_s: float = 0.02) -> None:
        self.period_s = period_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    @staticmethod
    def tree_rss_mb() -> float:
        me = os.getpid()
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        page = resource.getpagesize()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * page
            except (OSError, IndexError, ValueError):
                continue
        tree, frontier = {me}, [me]
        while frontier:
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        return sum(rss.get(pid, 0) for pid in tree) / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.tree_rss_mb())
            self._stop.wait(self.period_s)

    def __enter__(self) -> _TreeRss:
        if Path("/proc/self/stat").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _children_peak_rss_mb() -> float:
    """The largest peak resident memory of a finished child process (the tessellation worker)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def tessellation_threads() -> int:
    """The threads the app's tessellation uses (`twin_app.bim.tessellate.tessellate` with threads=None)."""
    return os.cpu_count() or 1


def naive_iterator_loop(path: Path, threads: int) -> float:
    """Baseline: the plain ``ifcopenshell.geom.iterator`` loop in world coordinates (drawable without further
    work), a numpy copy per element, on `threads` threads, in this process; returns seconds."""
    import ifcopenshell
    import ifcopenshell.geom

    started = time.perf_counter()
    f = ifcopenshell.open(str(path))
    settings = ifcopenshell.geom.settings()
    settings.set("use-world-coords", True)
    iterator = ifcopenshell.geom.iterator(settings, f, threads)
    if iterator.initialize():
        while True:
            shape = iterator.get()
            np.asarray(shape.geometry.verts).reshape(-1, 3)
            np.asarray(shape.geometry.faces).reshape(-1, 3)
            if not iterator.next():
                break
    return time.perf_counter() - started


def run_bench(only: set[str] | None = None, ifc: Path | None = None,
              log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
              duration_s: float = 20.0, sweep_period_s: float = 1.0,
              sample_files: list[Path] | None = None, capacity: dict | None = None) -> dict[str, dict]:
    """Measure the figures in `only` (all when None) on the full district or on `ifc`.

    The result maps figure names to figures, and ``conditions`` to what they were measured under.

    Parameters
    ----------
    sample_files
        The real IFC files loaded beside the district for ``load_cold_s`` (default: the four public samples of
        tests/data, where the source tree holds them).
    capacity
        Keyword arguments for `twin_app.bench_capacity.run_capacity_bench` (shorter holds in tests).
    """
    import pyvista as pv

    from twin_app.bim.district_cache import ensure_district

    wanted = set(FIGURES) if not only else set(only) - {CONDITIONS}
    unknown = wanted - set(FIGURES)
    if unknown:
        raise ValueError(f"unknown figures: {', '.join(sorted(unknown))}; known: {', '.join(FIGURES)}")
    results: dict[str, dict] = {CONDITIONS: conditions()}  # the load average before the bench loads the machine
    pv.global_theme.multi_samples = 0
    registry = None
    if ifc is None:
        log("bench: preparing the full district")
        generated = ensure_district()
        ifc, registry = generated.ifc_path, generated.registry_path
    registry = registry or ifc.with_name("devices.parquet")
    if sample_files is None:
        sample_files = [SAMPLE_FOLDER / name for name in SAMPLE_FILES if (SAMPLE_FOLDER / name).exists()]
    def group(names: tuple[str, ...], measure: Callable[[], dict[str, dict]]) -> None:
        """One group of figures; a group that fails is reported in its figures and the others still run."""
        if not wanted & set(names):
            return
        try:
            results.update(measure())
        except Exception as exc:
            log(f"bench: {names[0]}…: failed: {type(exc).__name__}: {exc}")
            for name in sorted(wanted & set(names)):
                results.setdefault(name, {"value": None, "unit": "", "error": f"{type(exc).__name__}: {exc}"})

    def capacity_figures() -> dict[str, dict]:
        from twin_app.bench_capacity import run_capacity_bench

        return run_capacity_bench(ifc, registry, log, **(capacity or {}))

    def recording_figures() -> dict[str, dict]:
        from twin_app.bench_recording import run_recording_bench

        return run_recording_bench(ifc, registry, wanted, log)

    def replay_figures() -> dict[str, dict]:
        from twin_app.bench_replay import run_replay_bench

        return run_replay_bench(ifc, registry, wanted, log)

    def console_figures() -> dict[str, dict]:
        from twin_app.bench_console import run_console_bench

        return run_console_bench(ifc, registry, wanted, log)

    # the scene first: its peak memory must not include the ingest run
    group(SCENE_FIGURES, lambda: _scene_figures(ifc, wanted, log, sample_files))
    group(INGEST_FIGURES, lambda: run_ingest_bench(ifc, registry, wanted, duration_s, log, sweep_period_s))
    group(CAPACITY_FIGURES, capacity_figures)
    group(ENGINE_FIGURES, lambda: run_engine_bench(ifc, registry, wanted, log))
    group(RECORDING_FIGURES, recording_figures)
    group(REPLAY_FIGURES, replay_figures)
    group(CONSOLE_FIGURES, console_figures)
    if hasattr(os, "getloadavg"):  # other work on the machine during the run shows here
        results[CONDITIONS]["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    return results


def _load_file(path: Path, cache: Path, threads: int) -> dict:
    """One real file: ours cold (worker process: tessellate, merge, cache write; then cache read and scene) beside
    the plain iterator loop on the same number of threads."""
    import pyvista as pv

    from twin_app.bim.loader import load_model
    from twin_app.render.scene import DistrictScene

    plotter = pv.Plotter(off_screen=True, window_size=FRAME_SIZE)
    t = time.perf_counter()
    loaded = load_model(path, use_cache=False, folder=cache)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    DistrictScene(plotter, loaded.model)
    scene_s = time.perf_counter() - t
    plotter.close()
    gc.collect()
    baseline = naive_iterator_loop(path, threads)
    cold = load_s + scene_s
    worker_s = float(loaded.model.meta["seconds"])
    entry = {"file": path.name, "value": round(cold, 4), "unit": "s", "baseline": round(baseline, 4),
             "ratio": round(baseline / cold, 2) if cold > 0 else None, "threads": threads,
             "baseline_threads": threads, "tessellate_s": round(worker_s, 4),
             "process_and_cache_s": round(load_s - worker_s, 4), "scene_s": round(scene_s, 4),
             "elements": int(loaded.model.n_elements),
             "triangles": int(sum(m.n_cells for m in loaded.model.meshes.values())),
             "size_mb": round(path.stat().st_size / 1e6, 2)}
    if cold > baseline:
        entry["note"] = (f"slower than the plain loop: the worker process's start, imports and cache write/read cost "
                         f"{load_s - worker_s:.2f} s and the scene {scene_s:.2f} s, fixed costs that a "
                         f"{entry['size_mb']} MB file does not repay (tessellation and merge alone: {worker_s:.2f} s, "
                         f"the plain loop {baseline:.2f} s)")
    return entry


def _scene_figures(ifc: Path, wanted: set[str], log: Callable[[str], None],
                   sample_files: list[Path] | None = None) -> dict[str, dict]:
    import pyvista as pv
    import vtk

    from twin_app.bim.loader import load_model
    from twin_app.render.scene import DistrictScene

    results: dict[str, dict] = {}
    cache = Path(tempfile.mkdtemp(prefix="twin_app_bench_"))
    threads = tessellation_threads()

    # -- ours: cold then warm, IFC to drawable scene, memory of the whole process tree -----------------------------
    with _TreeRss() as tree:
        log("bench: cold load")
        plotter = pv.Plotter(off_screen=True, window_size=FRAME_SIZE)
        t = time.perf_counter()
        cold = load_model(ifc, use_cache=False, folder=cache)
        cold_load_s = time.perf_counter() - t
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
        plotter.ren_win.Render()
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
        self_peak = _peak_rss_mb()
    worker_peak = _children_peak_rss_mb()
    tree_peak = max(tree.peak_mb, self_peak)

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

    if wanted & set(FRAME_FIGURES):  # ours and the same-cells baselines, view by view
        from twin_app.bench_frames import run_frame_figures

        results.update(run_frame_figures(model, wanted, log))

    baseline_recolour = None
    n_actors = 0
    if "recolour_ms" in wanted:
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
        log(f"bench: plain iterator loop on {threads} thread(s)")
        baseline_tessellate = naive_iterator_loop(ifc, threads)

    if "load_cold_s" in wanted:
        per_file = []
        for path in sample_files or []:
            log(f"bench: cold load of {path.name} and its plain iterator loop")
            per_file.append(_load_file(path, cache, threads))
        slower = [f["file"] for f in per_file if f["ratio"] is not None and f["ratio"] < 1]
        note = ("IFC to drawable scene: a worker process tessellates (shared geometries once), merges and writes the "
                "cache, then the cache is read and the scene built; baseline: the plain ifcopenshell.geom.iterator "
                f"loop in world coordinates over the same file on the same {threads} thread(s)")
        worker_s = float(cold.model.meta["seconds"])
        if baseline_tessellate is not None and cold_s > baseline_tessellate:
            note += (f"; slower than the plain loop here: the worker process's start, imports and cache write/read "
                     f"cost {cold_load_s - worker_s:.2f} s and the scene {cold_s - cold_load_s:.2f} s, fixed costs "
                     f"this file does not repay (tessellation and merge alone: {worker_s:.2f} s)")
        if slower:
            note += (f"; slower than the plain loop on {', '.join(slower)}: the worker process's start and the cache "
                     "are fixed costs that small files do not repay (see each entry's note)")
        results["load_cold_s"] = _figure(cold_s, "s", baseline_tessellate, elements=int(model.n_elements),
                                         threads=threads, baseline_threads=threads,
                                         triangles=int(sum(m.n_cells for m in model.meshes.values())),
                                         tessellate_s=round(worker_s, 4),
                                         process_and_cache_s=round(cold_load_s - worker_s, 4),
                                         scene_s=round(cold_s - cold_load_s, 4), file=ifc.name,
                                         sample_files=[f["file"] for f in per_file], note=note)
        for entry in per_file:
            results[f"load_cold_s[{Path(entry['file']).stem}]"] = dict(entry)
    if "load_warm_s" in wanted:
        results["load_warm_s"] = _figure(warm_s, "s", cold_s, note="cache read and scene; baseline: load_cold_s")
    if "tessellate_s" in wanted:
        results["tessellate_s"] = _figure(float(cold.model.meta["seconds"]), "s", baseline_tessellate,
                                          shared_geometries=cold.model.meta.get("shared_geometries"),
                                          threads=threads, baseline_threads=threads,
                                          note="tessellation and merge inside the worker (no process start)")
    if "recolour_ms" in wanted:
        results["recolour_ms"] = _figure(ours_recolour, "ms", baseline_recolour, elements=int(model.n_elements),
                                         actors_baseline=n_actors,
                                         note="every element changes state; baseline: SetColor on each actor")
    if "pick_ms" in wanted:
        results["pick_ms"] = _figure(ours_pick, "ms", baseline_pick, hits=f"{hits}/{len(pick_xy)}",
                                     note="static cell locator; baseline: vtkCellPicker without a locator")
    if "scene_peak_rss_mb" in wanted:
        results["scene_peak_rss_mb"] = _figure(
            tree_peak, "MB", self_peak_mb=round(self_peak, 1), worker_peak_mb=round(worker_peak, 1),
            sampled_tree_peak_mb=round(tree.peak_mb, 1),
            note="peak resident memory of the process tree (this process and the tessellation worker, sampled from "
                 "/proc every 20 ms) during cold and warm load, scene, recolour and picks, before the baselines ran; "
                 "self_peak_mb and worker_peak_mb: each process's own peak (getrusage)")
    return results


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


def run_ingest_bench(ifc: Path, registry: Path, wanted: set[str], duration_s: float,
                     log: Callable[[str], None], sweep_period_s: float = 1.0) -> dict[str, dict]:
    """All devices once per second through a real mosquitto, into the state store, roll-up and colour arrays,
    with a 1920x1080 scene rendering whenever a colour changes; beside it, the naive one-message-per-reading
    consumer in the same run."""
    import json
    import shutil
    import subprocess

    import paho.mqtt.client as mqtt
    import pyvista as pv

    from twin_app.bim.loader import load_model
    from twin_app.core.devices import DeviceIndex
    from twin_app.core.registry import read_registry
    from twin_app.core.state import classify
    from twin_app.render.scene import DistrictScene
    from twin_app.telemetry.mqtt import free_port, parse_broker_url
    from twin_app.telemetry.runtime import build_runtime

    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        raise ValueError("the ingest figures need mosquitto (packaging/dev.sh setup installs it)")
    folder = Path(tempfile.mkdtemp(prefix="twin_app_ingest_"))
    port = free_port()
    (folder / "mosquitto.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                                           "max_queued_messages 100000\n")
    broker = subprocess.Popen([exe, "-c", str(folder / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url_text = f"mqtt://127.0.0.1:{port}"
    time.sleep(0.5)
    try:
        model = load_model(ifc).model
        devices = read_registry(registry)
        index = DeviceIndex(devices, model)
        n = len(devices)
        plotter = pv.Plotter(off_screen=True, window_size=FRAME_SIZE)
        scene = DistrictScene(plotter, model)
        scene.camera_overview()
        plotter.show(auto_close=False)
        engine = build_runtime(index, parse_broker_url(url_text), rules=False)
        engine.start()
        deadline = time.monotonic() + 10
        while engine.link.state != "connected" and time.monotonic() < deadline:
            time.sleep(0.05)
        log(f"bench: ingest of {n:,} devices every {sweep_period_s:g} s for {duration_s:.0f} s through mosquitto")
        gen = subprocess.Popen([sys.executable, "-m", "twin_app.telemetry.loadgen", "batched", "--broker", url_text,
                                "--registry", str(registry), "--seconds", str(duration_s), "--period",
                                str(sweep_period_s)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        latencies: list[np.ndarray] = []
        worst_parts: dict[str, float] = {}
        warmup_stalls: list[float] = []
        warm_until = float("inf")
        stalls: list[float] = []
        applied = first_readings = 0
        first_apply = last_apply = None
        rss_start = None
        last_render = 0.0
        renders = 0
        tick = 0.05
        started = time.monotonic()
        render_pending = False
        while time.monotonic() - started < duration_s + 3.0:
            # one GUI callback per iteration, as in the console: either a frame (when one is due) or an apply
            t0 = time.perf_counter()
            parts = {"step_ms": 0.0, "colour_ms": 0.0, "render_ms": 0.0}
            if render_pending and time.monotonic() - last_render >= 1 / 30:
                plotter.ren_win.Render()
                renders += 1
                render_pending = False
                last_render = time.monotonic()
                parts["render_ms"] = (time.perf_counter() - t0) * 1000.0
            else:
                result = engine.step()
                parts["step_ms"] = (time.perf_counter() - t0) * 1000.0
                if result.readings:
                    t1 = time.perf_counter()
                    render_pending |= scene.show_states(result.element_state, result.rolled_state)
                    parts["colour_ms"] = (time.perf_counter() - t1) * 1000.0
                    now_wall = time.time()
                    if rss_start is not None and time.monotonic() >= warm_until:
                        latencies.append((now_wall - result.sent_ts) * 1000.0)
                    applied += result.readings
                    last_apply = time.monotonic()
                    if first_apply is None:
                        first_apply = last_apply
                        first_readings = result.readings  # arrived before the span starts: not in the rate
                    if rss_start is None and applied >= n:
                        rss_start = _rss_mb()
                        warm_until = time.monotonic() + 1.0
            took = (time.perf_counter() - t0) * 1000.0
            if rss_start is None or time.monotonic() - warm_until < 0:
                warmup_stalls.append(took)  # connecting and the first full sweep
            else:
                stalls.append(took)
                if took >= max(stalls):
                    worst_parts = {k: round(v, 1) for k, v in parts.items()}
            rest = tick - (time.perf_counter() - t0)
            if rest > 0:
                time.sleep(rest)
        sent = json.loads(gen.communicate(timeout=60)[0].strip().splitlines()[-1])["sent"]
        engine.stop()
        rss_end = _rss_mb()
        plotter.close()
        span = (last_apply - first_apply) if first_apply and last_apply and last_apply > first_apply else 1.0
        # the readings applied after the first step, over the time since it: the first step's readings arrived
        # before the span (counting them too gave N sweeps over N - 1 intervals)
        ours_rate = (applied - first_readings) / max(span, 1e-6)
        lat = np.concatenate(latencies) if latencies else np.zeros(1)

        log("bench: naive consumer, one message per reading")
        count = min(20_000, n)
        rows = {d: i for i, d in enumerate(devices["device_id"].astype(str))}
        limits = [devices[c].to_numpy(np.float64) for c in ("alarm_low", "warn_low", "warn_high", "alarm_high")]
        value = np.full(n, np.nan)
        state = np.zeros(n, dtype=np.uint8)
        received = {"n": 0, "first": None, "last": None}

        def naive_handler(_client, _userdata, message) -> None:
            data = json.loads(message.payload)
            row = rows.get(message.topic.rsplit("/", 1)[-1])
            if row is None:
                return
            value[row] = data["value"]
            state[row] = classify(np.array([data["value"]]), *(np.array([lim[row]]) for lim in limits))[0]
            received["n"] += 1
            now = time.monotonic()
            received["first"] = received["first"] or now
            received["last"] = now

        naive = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="naive-consumer")
        naive.on_message = naive_handler
        naive.connect("127.0.0.1", port)
        naive.subscribe("mumianling/v1/point/+")
        naive.loop_start()
        time.sleep(0.5)
        t_naive = time.monotonic()
        subprocess.run([sys.executable, "-m", "twin_app.telemetry.loadgen", "single", "--broker", url_text,
                        "--registry", str(registry), "--count", str(count)], capture_output=True, timeout=300)
        while received["n"] < count and time.monotonic() - t_naive < 120:
            if received["last"] is not None and time.monotonic() - received["last"] > 5.0:
                break  # nothing more is coming
            time.sleep(0.1)
        naive.loop_stop()
        naive.disconnect()
        naive_span = (received["last"] or 1) - (received["first"] or 0)
        naive_rate = received["n"] / max(naive_span, 1e-6)
    finally:
        broker.terminate()
        broker.wait(timeout=10)
    out: dict[str, dict] = {}
    if "ingest_readings_per_s" in wanted:
        out["ingest_readings_per_s"] = _figure(ours_rate, "readings/s", naive_rate, better="higher",
                                               sent=sent, applied=applied, devices=n, renders=renders,
                                               offered_per_s=round(n / sweep_period_s),
                                               note="offered-load-limited: the rate the simulator offers (every "
                                                    "device once per sweep period), not the capacity (see "
                                                    "ingest_capacity_per_s); batched gateway messages through "
                                                    "mosquitto into state store, roll-up and colour arrays "
                                                    "(1920x1080 scene rendered when a colour changes), readings "
                                                    "applied after the first step over the time since it; baseline: "
                                                    "one message per reading, one Python handler call each, as "
                                                    "fast as one publisher sends")
    if "latency_p50_ms" in wanted:
        out["latency_p50_ms"] = _figure(float(np.percentile(lat, 50)), "ms", samples=int(lat.size),
                                        note="publish to colour arrays, after the first sweep")
    if "latency_p99_ms" in wanted:
        out["latency_p99_ms"] = _figure(float(np.percentile(lat, 99)), "ms", max=round(float(lat.max()), 1),
                                        note="publish to colour arrays, after the first sweep")
    if "gui_max_stall_ms" in wanted:
        out["gui_max_stall_ms"] = _figure(float(max(stalls or [0.0])), "ms", renders=renders,
                                          median=round(float(np.median(stalls or [0.0])), 2), worst=worst_parts,
                                          warmup_max_ms=round(float(max(warmup_stalls or [0.0])), 1),
                                          note="longest GUI-thread callback after the first sweep: an apply (drain, "
                                               "state, roll-up, recolour) or a 1920x1080 frame, as the console "
                                               "schedules them")
    if "memory_growth_mb" in wanted:
        out["memory_growth_mb"] = _figure(rss_end - (rss_start or rss_end), "MB", seconds=duration_s,
                                          note="resident memory at the end of the run minus after the first sweep")
    return out


class _Mosquitto:
    """A mosquitto on a free loopback port for the engine figures."""

    def __init__(self) -> None:
        import shutil
        import subprocess

        from twin_app.telemetry.mqtt import free_port

        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise ValueError("the engine figures need mosquitto (packaging/dev.sh setup installs it)")
        self.folder = Path(tempfile.mkdtemp(prefix="twin_app_engine_bench_"))
        self.port = free_port()
        (self.folder / "mosquitto.conf").write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                                                    "max_queued_messages 1000000\nmax_inflight_messages 0\n")
        self.proc = subprocess.Popen([exe, "-c", str(self.folder / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.url = f"mqtt://127.0.0.1:{self.port}"
        time.sleep(0.5)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _wait(condition: Callable[[], bool], timeout: float, step: Callable[[], object] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step is not None:
            step()
        if condition():
            return True
        time.sleep(0.02)
    return False


def _limit_rows(index, count: int) -> np.ndarray:
    """`count` devices with a high alarm limit, spread over the district (flood and restart figures)."""
    from twin_app.core.alarms import DEFAULT_ON_DELAY_S, ON_DELAY_S

    high = index.devices["alarm_high"].to_numpy(np.float64)
    kinds = index.devices["kind"].astype(str).to_numpy()
    quick = np.array([ON_DELAY_S.get(k, DEFAULT_ON_DELAY_S) <= 5.0 for k in kinds])  # raised within 5 s
    usable = np.flatnonzero(np.isfinite(high) & quick & ~np.isin(kinds, ("fan", "pump", "elevator", "disinfection")))
    if len(usable) < count:
        raise ValueError(f"the model has {len(usable):,} devices with a high limit, fewer than {count:,}")
    return usable[np.linspace(0, len(usable) - 1, count).astype(np.int64)]


def run_engine_bench(ifc: Path, registry: Path, wanted: set[str], log: Callable[[str], None]) -> dict[str, dict]:
    """The engine's own figures through a real mosquitto: restart with a day of state, alarm floods."""
    import json

    import paho.mqtt.client as mqtt

    from twin_app.bim.loader import load_model
    from twin_app.core.devices import DeviceIndex
    from twin_app.core.registry import read_registry
    from twin_app.telemetry.mqtt import parse_broker_url
    from twin_app.telemetry.runtime import build_runtime

    out: dict[str, dict] = {}
    broker = _Mosquitto()
    url = parse_broker_url(broker.url)
    try:
        model = load_model(ifc).model
        index = DeviceIndex(read_registry(registry), model)
        high = index.devices["alarm_high"].to_numpy(np.float64)
        for name, count in (("flood_1000_max_step_ms", 1000), ("flood_10000_max_step_ms", 10_000)):
            if name not in wanted:
                continue
            log(f"bench: a flood of {count:,} distinct alarms in 10 s through mosquitto")
            folder = Path(tempfile.mkdtemp(prefix="twin_app_flood_"))
            runtime = build_runtime(index, url, folder=folder, console="bench")
            gc.collect()
            gc.freeze()  # as serve does
            runtime.start()
            _wait(lambda r=runtime: r.link.state == "connected", 10)
            seen: set[str] = set()
            watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-watch-{count}")
            watcher.on_message = lambda _c, _u, m, seen=seen: seen.add(m.topic) if m.payload else None
            watcher.connect("127.0.0.1", broker.port)
            watcher.subscribe("mumianling/v1/alarm/+", qos=1)
            watcher.loop_start()
            publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-flood-{count}")
            publisher.connect("127.0.0.1", broker.port)
            publisher.loop_start()
            rows = _limit_rows(index, count)
            ids = index.devices["device_id"].astype(str).to_numpy()[rows]
            values = high[rows] * 2.0 + 1.0
            steps: list[float] = []
            started = time.monotonic()
            sent = 0
            while time.monotonic() - started < 25.0:
                due = min(count, int((time.monotonic() - started) / 10.0 * count) + 1)
                if sent < due:  # 1/10 of the flood per second, in gateway batches of 100
                    for lo in range(sent, due, 100):
                        hi = min(due, lo + 100)
                        publisher.publish("mumianling/v1/telemetry/bench-flood", json.dumps(
                            {"ts": time.time(), "ids": ids[lo:hi].tolist(), "values": values[lo:hi].tolist()}))
                    sent = due
                elif sent >= count:  # keep the flood standing: the same values again every second
                    for lo in range(0, count, 1000):
                        publisher.publish("mumianling/v1/telemetry/bench-flood", json.dumps(
                            {"ts": time.time(), "ids": ids[lo:lo + 1000].tolist(),
                             "values": values[lo:lo + 1000].tolist()}))
                t0 = time.perf_counter()
                runtime.step()
                steps.append((time.perf_counter() - t0) * 1000.0)
                if len(steps) == 1:  # the first step republishes and connects: not part of the flood
                    runtime.engine.max_step_s, runtime.engine.worst_step = 0.0, {}
                if len(seen) >= count and len(runtime.engine.alarms.alarms) >= count:
                    break
                time.sleep(0.1)
            raised = sum(1 for a in runtime.engine.alarms.alarms.values() if a.condition == "hi")
            steps = steps[1:]  # the first step republishes and connects
            publisher.loop_stop()
            watcher.loop_stop()
            runtime.stop()
            out[name] = _figure(max(steps), "ms", alarms=count, raised=raised, published=len(seen),
                                worst=runtime.engine.worst_step,
                                steps=len(steps), median_step_ms=round(float(np.median(steps)), 1),
                                seconds=round(time.monotonic() - started, 1),
                                note="longest engine step (drain, state, rules, first-out, durable commit, publish) "
                                     "while the flood arrives through mosquitto, 1/10 of it per second")
        if "restart_s" in wanted:  # its own broker: it holds only what this engine published
            broker.stop()
            broker = _Mosquitto()
            out["restart_s"] = _restart_figure(index, ifc, registry, parse_broker_url(broker.url), broker, log)
    finally:
        broker.stop()
    return out


def _restart_figure(index, ifc: Path, registry: Path, url, broker: _Mosquitto,
                    log: Callable[[str], None]) -> dict:
    """An engine with a day's worth of alarms, orders and audit is started again on its data folder: time from
    start (model and registry from the warm cache, database opened) to every retained alarm and order
    republished and taken by the broker."""
    from twin_app.bim.loader import load_model
    from twin_app.core.devices import DeviceIndex
    from twin_app.core.inbox import Action, Inbox, Readings
    from twin_app.core.registry import read_registry
    from twin_app.telemetry.runtime import build_runtime

    log("bench: a day of alarms and orders, then a restart")
    folder = Path(tempfile.mkdtemp(prefix="twin_app_restart_"))
    runtime = build_runtime(index, None, folder=folder, console="bench")
    engine = runtime.engine
    high = index.devices["alarm_high"].to_numpy(np.float64)
    low = index.devices["alarm_low"].to_numpy(np.float64)
    normal = np.where(np.isfinite(low), (low + high) / 2.0, 0.3 * high)  # back inside the limits
    rows = _limit_rows(index, 2400)
    t = time.time() - 86400.0
    serial = 0

    def put(*messages) -> None:
        nonlocal t
        inbox = Inbox()
        for message in messages:
            inbox.put(message)
        engine.step(inbox.drain(), t)

    for hour in range(24):  # 100 alarm occurrences an hour, acknowledged, 10 orders an hour, most cleared
        chunk = rows[hour * 100:(hour + 1) * 100]
        for dt in (0.0, 30.0):
            t += dt
            put(Readings(chunk, high[chunk] * 2.0 + 1.0, np.full(len(chunk), t), 0.0))
        live = [a.id for a in engine.alarms.alarms.values() if a.state.value == "unack_active"]
        serial += 1
        put(Action("ack", {"request": f"ack-{serial}", "operator": "op-bench", "console": "bench",
                           "alarm_ids": live}))
        for alarm_id in live[:10]:
            serial += 1
            put(Action("dispatch", {"request": f"d-{serial}", "operator": "op-bench", "console": "bench",
                                    "alarm_id": alarm_id}))
        for order in list(engine.dispatcher.open_orders(t)):
            for status in ("done",):
                serial += 1
                put(Action("unit_status", {"request": f"u-{serial}", "operator": "unit", "console": "bench",
                                           "order_id": order.id, "status": status, "result": "handled"}))
            serial += 1
            put(Action("close", {"request": f"c-{serial}", "operator": "op-bench", "console": "bench",
                                 "order_id": order.id}))
        t += 3000.0
        keep = chunk[:4] if hour < 23 else chunk
        cleared = np.setdiff1d(chunk, keep)
        put(Readings(cleared, normal[cleared], np.full(len(cleared), t), 0.0))
        t += 570.0
    for alarm_id in [a.id for a in engine.alarms.alarms.values()][:10]:  # orders still open at the restart
        serial += 1
        put(Action("dispatch", {"request": f"d-{serial}", "operator": "op-bench", "console": "bench",
                                "alarm_id": alarm_id}))
    live_alarms = len(engine.alarms.alarms)
    orders = len(engine.dispatcher.orders)
    open_orders = sum(1 for o in engine.dispatcher.orders.values() if o.status != "closed")
    audit_entries = len(engine.audit.entries()) if engine.audit is not None else 0
    runtime.stop()
    # a first start on the broker publishes the state, so that the broker holds it retained, as in production
    first = build_runtime(index, url, folder=folder, console="bench")
    first.start()
    _wait(lambda: first.link.state == "connected", 10)
    first.step()
    time.sleep(2.0)
    first.stop()

    started = time.perf_counter()
    model = load_model(ifc).model
    again = build_runtime(DeviceIndex(read_registry(registry), model), url, folder=folder, console="bench")
    restored_s = time.perf_counter() - started
    assert again.link is not None
    tokens = []
    original = again.link.publish

    def tracking(topic, payload, retain=False, qos=1):
        token = original(topic, payload, retain=retain, qos=qos)
        tokens.append(token)
        return token

    again.link.publish = tracking  # type: ignore[method-assign]
    again.start()
    _wait(lambda: again.link.state == "connected", 10)
    connected_s = time.perf_counter() - started
    again.step()  # the first step republishes everything retained
    stepped_s = time.perf_counter() - started
    again.link.wait_delivered(tokens, timeout=30)
    seconds = time.perf_counter() - started
    republished = len(tokens)
    again.stop()
    return _figure(seconds, "s", restored_s=round(restored_s, 3), connected_s=round(connected_s, 3),
                   first_step_s=round(stepped_s, 3), live_alarms=live_alarms, orders=orders, open_orders=open_orders,
                   audit_entries=audit_entries, republished=republished,
                   note="engine start (model and registry from the warm cache, database opened and restored) to "
                        "every live alarm and order republished retained and acknowledged by mosquitto, after a "
                        "day of 2,400 alarm occurrences and 250 orders")
