"""Benchmark figure ``replay_speed``: how many times faster than real time a full-district recording replays with
the real main window drawing every step.

A recording of the district at the simulator's default rate is made on a simulated clock (as for ``seek_ms``), the
district is loaded into a `MainWindow`, the recording opened as it happened, and the window is driven as its replay
timer drives it at ×60 (a 6 s stretch of recording per 100 ms tick), but without waiting between ticks: each tick
advances the session, updates the panels and the scene and renders a frame. The figure is the recording's span over
the wall time. Needs a display: without one it runs itself under ``xvfb-run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

RECORDING_S = 600.0  # ten minutes of the district
TICK_RECORDING_S = 6.0  # what one 100 ms tick covers at x60
TARGET = 60.0


def measure(ifc: Path, registry: Path, log: Callable[[str], None] = lambda m: None,
            seconds: float = RECORDING_S) -> dict:
    """Record, load, replay with the window drawing; returns the figure's dict."""
    from PySide6.QtWidgets import QApplication

    from twin_app.bench_recording import START, make_recording
    from twin_app.ui.app import configure_rendering
    from twin_app.ui.main_window import MainWindow
    from twin_app.ui.replay import ReplayTelemetry

    folder = Path(tempfile.mkdtemp(prefix="twin_app_replay_bench_"))
    try:
        log(f"bench: a {seconds / 60:g} min recording of the district (simulated clock)")
        made = make_recording(folder, ifc, registry, START, seconds)
        configure_rendering()
        app = QApplication.instance() or QApplication(sys.argv[:1])
        window = MainWindow((1920, 1080))
        window.show()
        loaded: list[bool] = []
        window.model_ready.connect(lambda: loaded.append(True))
        window.load_failed.connect(lambda message: loaded.append(False))
        window.start_loading(ifc, {}, registry=registry)
        deadline = time.monotonic() + 900
        while not loaded and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        if loaded != [True]:
            raise RuntimeError("the district was not loaded for the replay benchmark")
        if not window.open_recording(folder, "as_recorded"):
            raise RuntimeError(f"the recording could not be opened: {window.error_dialog.text()}")
        replay = window.live
        assert isinstance(replay, ReplayTelemetry)
        session = replay.session
        ticks: list[float] = []
        started = time.perf_counter()
        while session.position < session.end:
            t = time.perf_counter()
            replay.advance_to(session.position + TICK_RECORDING_S)
            window._render_if_pending()  # the frame timer's work, then the paint that draws the frame
            app.processEvents()
            ticks.append(time.perf_counter() - t)
        wall = time.perf_counter() - started
        span = session.end - session.start
        frames = np.array(ticks) * 1000.0
        window.close()
        return {"value": round(span / wall, 1), "unit": "x real time", "target": TARGET,
                "recording_s": round(span, 3), "wall_s": round(wall, 4), "ticks": len(ticks),
                "tick_p50_ms": round(float(np.percentile(frames, 50)), 1),
                "tick_max_ms": round(float(frames.max()), 1), "devices": int(session.index.n_devices),
                "readings_recorded": made["readings"],
                "note": "a full-district recording at the simulator's default rate replayed as it happened in the "
                        "real main window: each tick advances 6 s of recording (x60 at 10 ticks a second), updates "
                        "the panels and the scene and renders a 1920x1080 frame, with no wait between ticks; value = "
                        "recording span / wall time"}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_replay_bench(ifc: Path, registry: Path, wanted: set[str],
                     log: Callable[[str], None] = lambda m: None) -> dict[str, dict]:
    """``replay_speed`` in this process when there is a display, else in a child under ``xvfb-run``."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or not sys.platform.startswith("linux"):
        return {"replay_speed": measure(ifc, registry, log)}
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        log("bench: replay_speed needs a display (or xvfb-run): skipped")
        return {}
    code = ("import json, sys; from pathlib import Path; from twin_app.bench_replay import measure; "
            "print('RESULT ' + json.dumps(measure(Path(sys.argv[1]), Path(sys.argv[2]), "
            "lambda m: print(m, file=sys.stderr))))")
    run = subprocess.run([xvfb, "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-c", code, str(ifc),
                          str(registry)], capture_output=True, text=True, timeout=1800)
    for line in run.stderr.splitlines():
        if line.startswith("bench:"):
            log(line)
    found = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    if run.returncode != 0 or not found:
        raise RuntimeError(f"replay_speed failed (exit {run.returncode}): {run.stderr.strip()[-400:]}")
    return {"replay_speed": json.loads(found[-1][len("RESULT "):])}
