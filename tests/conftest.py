"""Shared fixtures: an isolated cache folder, the generated districts and the sample IFC files."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from twin_app.telemetry.mqtt import free_port

DATA = Path(__file__).parent / "data"

# Every test run gets its own cache folder: nothing is read from or written to the user's cache.
_CACHE_ROOT = Path(os.environ.get("TWIN_APP_TEST_CACHE", "")) if os.environ.get("TWIN_APP_TEST_CACHE") else None


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point the app's cache at a fresh folder for the whole session."""
    folder = _CACHE_ROOT or tmp_path_factory.mktemp("cache")
    previous = os.environ.get("TWIN_APP_CACHE_DIR")
    os.environ["TWIN_APP_CACHE_DIR"] = str(folder)
    os.environ["TWIN_APP_DATA_DIR"] = str(folder / "data")  # nor the user's data folder
    os.environ["TWIN_APP_SOUND"] = "0"  # the critical notice stays silent in tests
    os.environ["TWIN_APP_SITE_CONFIG"] = ""  # nor the machine's or the user's configuration file
    os.environ["TWIN_APP_USER_CONFIG"] = ""
    yield folder
    if previous is None:
        os.environ.pop("TWIN_APP_CACHE_DIR", None)
    else:
        os.environ["TWIN_APP_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own console settings (language, theme, layouts): none leaks into the next test."""
    path = tmp_path / "twin-app-settings.ini"
    monkeypatch.setenv("TWIN_APP_SETTINGS", str(path))
    return path


@pytest.fixture(scope="session")
def small_district(tmp_path_factory: pytest.TempPathFactory):
    """The small variant: 2 towers of 6 storeys (plus B1, B2)."""
    from twin_app.bim.generate import generate_district

    return generate_district(tmp_path_factory.mktemp("small"), towers=2, storeys=6)


@pytest.fixture(scope="session")
def full_district(tmp_path_factory: pytest.TempPathFactory):
    """The full 19-tower Mumianling district."""
    from twin_app.bim.generate import generate_district

    return generate_district(tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="session")
def small_model(small_district):
    """The small district loaded through the app's loader."""
    from twin_app.bim.loader import load_model

    return load_model(small_district.ifc_path).model


@pytest.fixture(scope="session")
def small_index(small_district, small_model):
    from twin_app.core.devices import DeviceIndex
    from twin_app.core.registry import read_registry

    return DeviceIndex(read_registry(small_district.registry_path), small_model)


def tool(name: str) -> str:
    """The path of a system tool (mosquitto, openssl, ...); the test fails with the set-up hint without it."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        pytest.fail(f"{name} is not installed: run packaging/dev.sh setup")
    return path


def run_mosquitto(config: Path, port: int, log: Path | None = None) -> subprocess.Popen:
    """Start mosquitto on `config` and wait until it listens on `port`; fails with its log when it does not."""
    out = log.open("a") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([tool("mosquitto"), "-c", str(config)], stdout=out, stderr=out)
    if log is not None:
        out.close()
    said = (lambda: f":\n{log.read_text()}") if log is not None else (lambda: "")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mosquitto stopped at start with status {proc.returncode}{said()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"mosquitto did not listen on port {port}{said()}")


def stop_mosquitto(proc: subprocess.Popen | None) -> None:
    """SIGTERM, as systemd stops it: mosquitto writes its database and exits (killed after 10 s)."""
    if proc is None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class Mosquitto:
    """A mosquitto process that can be stopped and started again on the same port."""

    def __init__(self, folder: Path, persistence: bool = False) -> None:
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if persistence:
            # Retained messages, sessions and their queues survive stop() and start() (written every second and
            # on SIGTERM). Run as the current user so that the database can live in pytest's private tmp folder.
            self.data = folder / "mosquitto-data"
            self.data.mkdir(exist_ok=True)
            lines += ["persistence true", f"persistence_location {self.data}/", "autosave_interval 1",
                      f"user {getpass.getuser()}"]
        else:
            lines.append("persistence false")
        self.config.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = run_mosquitto(self.config, self.port)

    def stop(self) -> None:
        stop_mosquitto(self.proc)
        self.proc = None


@pytest.fixture
def mosquitto(tmp_path):
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        pytest.fail("mosquitto is not installed: run packaging/dev.sh setup")
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def persistent_mosquitto(tmp_path):
    """A mosquitto with `persistence true`: stop() and start() keep the port, retained messages and sessions."""
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        pytest.fail("mosquitto is not installed: run packaging/dev.sh setup")
    broker = Mosquitto(tmp_path, persistence=True)
    broker.start()
    yield broker
    broker.stop()


SAMPLES = {
    # file: (schema, length unit, scale to metre, minimum elements with geometry)
    "Duplex_A_20110907.ifc": ("IFC2X3", "METRE", 1.0, 200),
    "Duplex_Electrical_20121207.ifc": ("IFC2X3", "FOOT", 0.3048, 90),
    "Building-Architecture.ifc": ("IFC4", "MILLIMETRE", 0.001, 10),
    "Building-Hvac.ifc": ("IFC4", "MILLIMETRE", 0.001, 4),
}


REPLAY_T0 = 1_800_000_000.0
REPLAY_CHECKS = (5.0, 61.0, 97.0, 150.0, 199.0)
_STANDING = {"unack_active", "ack_active", "unack_rtn", "shelved", "suppressed", "out_of_service"}


@pytest.fixture(scope="session")
def small_recording(small_index, tmp_path_factory):
    """A simulated garage CO build-up (T01) and septic H2S (T02) on the small district, recorded by the engine.

    Returns the recordings folder and what the live engine showed at `REPLAY_CHECKS` seconds:
    {time: {"device_state", "alarms" (standing id -> state), "incidents" (id -> cause)}}.
    """
    import numpy as np

    from twin_app.core.inbox import Readings
    from twin_app.telemetry.runtime import RECORDINGS, build_runtime
    from twin_app.telemetry.simulator import Simulator

    folder = tmp_path_factory.mktemp("replay") / "engine"
    runtime = build_runtime(small_index, None, folder=folder, model={"district": {"towers": 2, "storeys": 6}})
    runtime.recorder.keyframe_s = 60.0
    sim = Simulator(small_index.devices, seed=7)
    sim.start_scenario("garage_co", REPLAY_T0 + 20.0, "T01")
    sim.start_scenario("septic_h2s", REPLAY_T0 + 40.0, "T02")
    everything = np.arange(small_index.n_devices)
    live: dict[float, dict] = {}
    for k in range(200):
        t = REPLAY_T0 + k
        if k % 2 == 0:  # every device reports every 2 s, the rules step every second
            runtime.inbox.put(Readings(everything, sim.values(t), np.full(len(everything), t), 0.0))
        result = runtime.step(t)
        if k in REPLAY_CHECKS:
            engine = runtime.engine
            standing = {a.id: a.to_json()["state"] for a in engine.alarms.alarms.values()
                        if a.to_json()["state"] in _STANDING}
            live[t] = {"device_state": result.device_state.copy(), "alarms": standing,
                       "incidents": {i.id: i.cause for i in engine.incidents.incidents.values()}}
    runtime.stop()
    return folder / RECORDINGS, live
