"""Benchmark figures of the console path: publish -> frame latency and GUI-thread stalls in the real main window.

The window is built as ``twin-app`` builds it (`twin_app.ui.app.run_console`): the model and its registry, the docks,
the alarm service, the embedded broker and the telemetry simulator at the default rate. Once the first sweep of the
simulator is in, a separate paho client publishes probes on ``point/{device}``: one CO detector alternately in alarm
and back to normal. A probe's latency runs from its publish to the end of the first frame (the render window's
``EndEvent``) whose scene state shows the new state on the detector's element. A 5 ms heartbeat timer on the GUI
thread measures the longest block (the largest gap minus the interval). The same probes run again with one core kept
busy by a child process (killed at the end): ``console_latency_p99_loaded_ms``.

Figures: ``console_latency_p50_ms``, ``console_latency_p99_ms``, ``console_max_stall_ms``,
``console_latency_p99_loaded_ms``. Without a display, each figure carries a ``skipped`` reason instead.
"""

from __future__ import annotations

import cProfile
import gc
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FIGURES = ("console_latency_p50_ms", "console_latency_p99_ms", "console_max_stall_ms", "console_latency_p99_loaded_ms")
TARGETS = {"console_latency_p99_ms": 250.0, "console_max_stall_ms": 100.0, "console_latency_p99_loaded_ms": 500.0,
           "console_latency_p50_ms": None}
HEARTBEAT_MS = 5
PROBE_TIMEOUT_S = 3.0  # a probe not shown by then is counted as lost
SHIELD_S = 2.0  # probes are stamped this far ahead, so that the simulator's own reports never overwrite them
LOAD_TIMEOUT_S = 900.0
TELEMETRY_TIMEOUT_S = 180.0
HOG = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


def display_problem() -> str | None:
    """Why no window can be opened here (None when one can)."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM") \
            or not sys.platform.startswith("linux"):
        return None
    return "no display (DISPLAY is not set): run it under xvfb-run -a -s '-screen 0 1920x1080x24'"


@dataclass
class Phase:
    """What one probe phase measured."""

    latencies_ms: list[float] = field(default_factory=list)
    lost: int = 0
    gaps_ms: list[float] = field(default_factory=list)
    frames: int = 0
    render_ms: list[float] = field(default_factory=list)
    gc_ms: list[float] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)  # perf_counter of each heartbeat
    renders: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each frame
    collections: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of GUI-thread collections
    worst_gaps: list[dict] = field(default_factory=list)  # the longest GUI blocks and what filled them
    steps: list[tuple[float, float, int]] = field(default_factory=list)  # the engine's (wall ms, CPU ms, readings)
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds by thread over the phase
    engine_worst_step: dict = field(default_factory=dict)  # the engine's parts of its slowest step (ms)
    merged_steps: int = 0  # engine steps handed to the window together with a later one
    load_average: float | None = None  # of the machine at the end of the phase (other work slows the figures)
    seconds: float = 0.0

    def stall_ms(self) -> float:
        return max(0.0, max(self.gaps_ms or [0.0]) - HEARTBEAT_MS)


class _Probe:
    """Publishes probes from its own thread; the GUI thread's frame observer marks each one seen."""

    def __init__(self, host: str, port: int, topic: str, alarm: float, normal: float) -> None:
        import paho.mqtt.client as mqtt

        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"console-bench-{os.getpid()}")
        self.client.connect(host, port)
        self.client.loop_start()
        self.topic = topic
        self.values = (alarm, normal)
        self.lock = threading.Lock()
        self.target_alarm: bool | None = None  # the state the current probe waits for (None: no probe out)
        self.published = 0.0
        self.seen = threading.Event()
        self.phase: Phase | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.alarm_next = True

    def run_phase(self, phase: Phase, seconds: float) -> None:
        self.phase = phase
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(seconds,), name="console-bench-probe", daemon=True)
        self._thread.start()

    def done(self) -> bool:
        return self._thread is None or not self._thread.is_alive()

    def _run(self, seconds: float) -> None:
        rng = random.Random(7)
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self._stop.is_set():
            alarm = self.alarm_next
            self.alarm_next = not alarm
            value = self.values[0] if alarm else self.values[1]
            with self.lock:
                self.seen.clear()
                self.target_alarm = alarm
                self.published = time.monotonic()
            self.client.publish(self.topic, json.dumps({"ts": time.time() + SHIELD_S, "value": value}), qos=0)
            if not self.seen.wait(PROBE_TIMEOUT_S):
                with self.lock:
                    self.target_alarm = None
                assert self.phase is not None
                self.phase.lost += 1
            time.sleep(rng.uniform(0.03, 0.12))  # probes at random phases of the step and frame cycles
        with self.lock:
            self.target_alarm = None

    def frame_ended(self, shows_alarm: bool) -> None:
        """GUI thread, at the end of a frame: is the probe's state on screen?"""
        now = time.monotonic()
        with self.lock:
            if self.target_alarm is None or shows_alarm != self.target_alarm:
                return
            self.target_alarm = None
            latency = (now - self.published) * 1000.0
        assert self.phase is not None
        self.phase.latencies_ms.append(latency)
        self.seen.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=PROBE_TIMEOUT_S + 2)
        self.client.loop_stop()
        self.client.disconnect()


def _step_summary(steps: list[tuple[float, float, int]]) -> dict:
    """The engine steps of a phase: how many, their wall and CPU time, readings per step."""
    if not steps:
        return {"steps": 0}
    wall, cpu, readings = (np.array(column, dtype=np.float64) for column in zip(*steps, strict=True))
    return {"steps": len(steps), "wall_p50_ms": round(float(np.median(wall)), 1),
            "wall_max_ms": round(float(wall.max()), 1), "cpu_p50_ms": round(float(np.median(cpu)), 1),
            "cpu_max_ms": round(float(cpu.max()), 1), "readings_p50": int(np.median(readings))}


def _explain_gaps(phase: Phase, deliveries: list[tuple[float, float]], count: int = 5) -> list[dict]:
    """The longest heartbeat gaps and how much of each a frame, a hand-over of engine results and a collection
    filled (ms).

    The rest (``other_ms``) is Qt's repaint of the window around the 3D view (the docks, composing the OpenGL
    widget into the window), other GUI-thread work, and waiting for a core or the interpreter lock.
    """
    out = []
    order = np.argsort(phase.gaps_ms)[::-1][:count]
    for i in order:
        end = phase.beats[i]
        start = end - phase.gaps_ms[i] / 1000.0

        def overlap(spans: list[tuple[float, float]], start: float = start, end: float = end) -> float:
            return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans) * 1000.0

        parts = {"gap_ms": round(phase.gaps_ms[i], 1), "render_ms": round(overlap(phase.renders), 1),
                 "deliver_ms": round(overlap(deliveries), 1), "gc_ms": round(overlap(phase.collections), 1)}
        parts["other_ms"] = round(parts["gap_ms"] - parts["render_ms"] - parts["deliver_ms"] - parts["gc_ms"], 1)
        out.append(parts)
    return out


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process so far, by Python thread name (Linux; others: "other")."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    names[threading.main_thread().native_id] = "gui"
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "other (Qt, VTK, GL, paho)")
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def _skipped(wanted: set[str], reason: str) -> dict[str, dict]:
    return {name: {"value": None, "unit": "ms", "skipped": reason} for name in FIGURES if name in wanted}


def _wait(app, condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until `condition` holds; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.005)
    return True


def _run_loop(app, seconds: float, until: Callable[[], bool] | None = None) -> None:
    """The application's own event loop (as in the console) for `seconds`, or until `until()` holds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    if until is not None:
        check = QTimer()
        check.setInterval(50)
        check.timeout.connect(lambda: loop.quit() if until() else None)
        check.start()
    loop.exec()
    if until is not None:
        check.stop()


def _probe_device(devices, host_element: np.ndarray) -> tuple[int, float, float]:
    """A CO detector with an alarm limit on an element of the model: (registry row, alarm value, normal value)."""
    kind = devices["kind"].astype(str).to_numpy()
    high = devices["alarm_high"].to_numpy(np.float64)
    rows = np.flatnonzero((kind == "co") & np.isfinite(high) & (host_element >= 0))
    if len(rows) == 0:
        rows = np.flatnonzero(np.isfinite(high) & (host_element >= 0))
    if len(rows) == 0:
        raise RuntimeError("the registry has no device with an alarm limit on an element of the model")
    row = int(rows[len(rows) // 2])
    warn = devices["warn_high"].to_numpy(np.float64)[row]
    low = max(devices["warn_low"].to_numpy(np.float64)[row], devices["alarm_low"].to_numpy(np.float64)[row])
    top = warn if np.isfinite(warn) else high[row]
    bottom = low if np.isfinite(low) else min(0.0, top - 1.0)
    return row, float(high[row] * 1.5 + 1.0), float(bottom + (top - bottom) * 0.3)


def measure(ifc: Path | None, registry: Path | None, log: Callable[[str], None] = lambda m: None,
            seconds: float = 60.0, loaded_seconds: float | None = None, size: tuple[int, int] = (1920, 1080),
            rate: float = 0.2, profile: Path | None = None) -> tuple[Phase, Phase | None, dict]:
    """Build the console, run the quiet and (when `loaded_seconds`) the loaded probe phases.

    Returns
    -------
    (quiet, loaded or None, details)
    """
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from twin_app.core.state import DeviceState
    from twin_app.ui.app import configure_rendering
    from twin_app.ui.main_window import MainWindow

    configure_rendering()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(size)
    window.sound = False
    window.telemetry_args = {"broker": None, "scenario": "none", "rate": rate, "events_per_hour": 4.0,
                             "engine": None, "operator": "bench", "console": "bench", "data_dir": None}
    failed: list[str] = []
    window.load_failed.connect(failed.append)
    window.telemetry_failed.connect(failed.append)
    drawn: list[bool] = []
    window.telemetry_drawn.connect(lambda: drawn.append(True))
    window.show()
    probe: _Probe | None = None
    hog: subprocess.Popen | None = None
    try:
        log("bench: console: loading the model into the main window")
        started = time.monotonic()
        window.start_loading(ifc, {}, registry=registry)
        if not _wait(app, lambda: window.live is not None or bool(failed), LOAD_TIMEOUT_S) or failed:
            raise RuntimeError(f"the console did not start: {failed[0] if failed else 'timeout'}")
        if not _wait(app, lambda: bool(drawn) or bool(failed), TELEMETRY_TIMEOUT_S) or failed:
            raise RuntimeError(f"no live telemetry drawn: {failed[0] if failed else 'timeout'}")
        live, scene, devices = window.live, window.scene, window.devices
        n = devices.n_devices
        log(f"bench: console: model and first telemetry in {time.monotonic() - started:.1f} s; waiting for the first "
            f"sweep of {n:,} devices")
        _run_loop(app, 4.0 / rate + 30.0, until=lambda: live.engine.store.readings >= n)
        _run_loop(app, 2.0)
        row, alarm, normal = _probe_device(devices.devices, devices.host_element)
        element = int(devices.host_element[row])
        device_id = str(devices.devices["device_id"].iat[row])
        probe = _Probe(live.url.host, live.url.port, f"{live.url.root}/point/{device_id}", alarm, normal)
        log(f"bench: console: probing {device_id} (alarm {alarm:g}, normal {normal:g})")

        phase: dict[str, Phase | None] = {"now": None}
        render_started = [0.0]

        def frame_started(*_: object) -> None:
            render_started[0] = time.perf_counter()

        def frame_ended(*_: object) -> None:
            current = phase["now"]
            if current is None:
                return
            current.frames += 1
            end = time.perf_counter()
            current.render_ms.append((end - render_started[0]) * 1000.0)
            current.renders.append((render_started[0], end))
            states = scene.element_state
            if states is not None:
                probe.frame_ended(int(states[element]) == DeviceState.ALARM)

        ren_win = window.plotter.ren_win
        observers = [ren_win.AddObserver("StartEvent", frame_started), ren_win.AddObserver("EndEvent", frame_ended)]

        beat = {"last": time.perf_counter()}

        def heartbeat() -> None:
            now = time.perf_counter()
            current = phase["now"]
            if current is not None:
                current.gaps_ms.append((now - beat["last"]) * 1000.0)
                current.beats.append(now)
            beat["last"] = now

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(HEARTBEAT_MS)
        timer.timeout.connect(heartbeat)
        timer.start()

        gc_start = {"t": 0.0}

        def gc_timing(stage: str, _info: dict) -> None:
            if threading.current_thread() is not threading.main_thread():
                return
            current = phase["now"]
            if stage == "start":
                gc_start["t"] = time.perf_counter()
            elif current is not None and gc_start["t"] > 0:
                end = time.perf_counter()
                current.gc_ms.append((end - gc_start["t"]) * 1000.0)
                current.collections.append((gc_start["t"], end))

        gc.callbacks.append(gc_timing)

        def run_phase(name: str, length: float) -> Phase:
            result = Phase()
            log(f"bench: console: {name} phase, {length:.0f} s of probes")
            live.max_step_ms = 0.0
            live.step_times.clear()
            beat["last"] = time.perf_counter()
            phase["now"] = result
            profiler = cProfile.Profile() if (profile is not None and name == "quiet") else None
            if profiler is not None:
                profiler.enable()
            t0 = time.monotonic()
            cpu0 = _thread_cpu()
            t0_perf = time.perf_counter()
            merged0 = live.merged_steps
            live.engine.max_step_s = 0.0
            probe.run_phase(result, length)
            _run_loop(app, length + PROBE_TIMEOUT_S + 1.0, until=probe.done)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(str(profile))
            result.seconds = time.monotonic() - t0
            result.steps = list(live.step_times)
            result.worst_gaps = _explain_gaps(result, [d for d in live.deliveries if d[0] >= t0_perf])
            result.engine_worst_step = dict(getattr(live.engine, "worst_step", None) or {})
            result.merged_steps = live.merged_steps - merged0
            result.load_average = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
            cpu1 = _thread_cpu()
            result.cpu_s = {k: round(v - cpu0.get(k, 0.0), 1) for k, v in sorted(cpu1.items()) if v - cpu0.get(k, 0.0)}
            phase["now"] = None
            lat = np.array(result.latencies_ms or [np.nan])
            log(f"bench: console: {name}: {len(result.latencies_ms)} probes shown, {result.lost} lost, "
                f"p50 {np.nanpercentile(lat, 50):.0f} ms, p99 {np.nanpercentile(lat, 99):.0f} ms, "
                f"stall {result.stall_ms():.0f} ms, frames {result.frames}, worst render "
                f"{max(result.render_ms or [0]):.0f} ms, worst gc {max(result.gc_ms or [0]):.0f} ms, "
                f"worst engine step {live.max_step_ms:.0f} ms (step thread); steps {_step_summary(result.steps)}; "
                f"CPU s by thread {result.cpu_s}; worst engine step's parts {result.engine_worst_step}; "
                f"merged steps {result.merged_steps}; load average {result.load_average}; "
                f"worst GUI blocks {result.worst_gaps}")
            return result

        quiet = run_phase("quiet", seconds)
        details = {"devices": n, "elements": int(window.model.n_elements), "probe_device": device_id,
                   "max_step_ms_quiet": round(live.max_step_ms, 1)}
        loaded = None
        if loaded_seconds:
            hog = subprocess.Popen([sys.executable, "-c", HOG.format(seconds=loaded_seconds + 30.0)])
            loaded = run_phase("loaded", loaded_seconds)
            details["max_step_ms_loaded"] = round(live.max_step_ms, 1)
        timer.stop()
        gc.callbacks.remove(gc_timing)
        for tag in observers:
            ren_win.RemoveObserver(tag)
        return quiet, loaded, details
    finally:
        if hog is not None:
            hog.kill()
            hog.wait(timeout=10)
        if probe is not None:
            probe.stop()
        window.close()
        app.processEvents()
        gc.collect()


def run_console_bench(ifc: Path | None, registry: Path | None, wanted: set[str],
                      log: Callable[[str], None] = lambda m: None, seconds: float = 60.0,
                      loaded_seconds: float | None = None, size: tuple[int, int] = (1920, 1080),
                      profile: Path | None = None) -> dict[str, dict]:
    """The console figures in `wanted` (see the module's docstring) on the model `ifc` with its `registry`.

    Parameters
    ----------
    ifc, registry
        The model and its registry (None: the generated district, as ``twin-app`` opens it).
    wanted
        Figure names; those of `FIGURES` are measured.
    seconds
        Length of each probe phase (about three probes a second).
    loaded_seconds
        Length of the phase with one core busy (default: `seconds`); run only when its figure is wanted.
    profile
        Write a cProfile of the process during the quiet phase here (for finding what blocks the GUI thread).
    """
    from twin_app.bench import _figure

    wanted = {name for name in wanted if name in FIGURES}
    if not wanted:
        return {}
    problem = display_problem()
    if problem is not None:
        log(f"bench: console figures skipped: {problem}")
        return _skipped(wanted, problem)
    if "console_latency_p99_loaded_ms" in wanted:
        loaded_seconds = seconds if loaded_seconds is None else loaded_seconds
    else:
        loaded_seconds = None
    quiet, loaded, details = measure(ifc, registry, log, seconds=seconds, loaded_seconds=loaded_seconds, size=size,
                                     profile=profile)
    lat = np.array(quiet.latencies_ms or [np.nan])
    common = {"probes": len(quiet.latencies_ms), "lost": quiet.lost, "seconds": round(quiet.seconds, 1),
              "frames": quiet.frames, "render_p50_ms": round(float(np.median(quiet.render_ms or [0.0])), 1),
              "engine_steps": _step_summary(quiet.steps), "merged_steps": quiet.merged_steps,
              "load_average": quiet.load_average, **details}
    note = ("publish of a probe reading (a separate MQTT client, one CO detector alternately in alarm and normal) to "
            "the end of the first frame whose scene shows the new state, in the real main window with its docks, "
            "the embedded broker and the simulator at the default rate")
    out: dict[str, dict] = {}
    if "console_latency_p50_ms" in wanted:
        out["console_latency_p50_ms"] = _figure(float(np.nanpercentile(lat, 50)), "ms", **common, note=note)
    if "console_latency_p99_ms" in wanted:
        out["console_latency_p99_ms"] = _figure(float(np.nanpercentile(lat, 99)), "ms", target=250.0,
                                                max=round(float(np.nanmax(lat)), 1), **common, note=note)
    if "console_max_stall_ms" in wanted:
        out["console_max_stall_ms"] = _figure(
            quiet.stall_ms(), "ms", target=100.0, heartbeats=len(quiet.gaps_ms),
            render_max_ms=round(max(quiet.render_ms or [0.0]), 1),
            render_p50_ms=round(float(np.median(quiet.render_ms or [0.0])), 1),
            gc_max_ms=round(max(quiet.gc_ms or [0.0]), 1), seconds=round(quiet.seconds, 1),
            cpu_s_by_thread=quiet.cpu_s, worst_blocks=quiet.worst_gaps, engine_worst_step=quiet.engine_worst_step,
            load_average=quiet.load_average,
            note=f"the longest gap of a {HEARTBEAT_MS} ms heartbeat timer on the GUI thread minus its interval, "
                 "during the quiet probe phase")
    if "console_latency_p99_loaded_ms" in wanted and loaded is not None:
        lat_loaded = np.array(loaded.latencies_ms or [np.nan])
        out["console_latency_p99_loaded_ms"] = _figure(
            float(np.nanpercentile(lat_loaded, 99)), "ms", target=500.0, probes=len(loaded.latencies_ms),
            lost=loaded.lost, p50_ms=round(float(np.nanpercentile(lat_loaded, 50)), 1),
            max_stall_ms=round(loaded.stall_ms(), 1), seconds=round(loaded.seconds, 1),
            engine_steps=_step_summary(loaded.steps), load_average=loaded.load_average,
            render_p50_ms=round(float(np.median(loaded.render_ms or [0.0])), 1),
            note="as console_latency_p99_ms with one core kept busy by a spinning child process")
    return out
