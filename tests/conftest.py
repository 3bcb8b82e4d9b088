"""Shared fixtures: an isolated cache folder, the generated districts and the sample IFC files."""

from __future__ import annotations

import getpass
import os
import shutil
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
    yield folder
    if previous is None:
        os.environ.pop("TWIN_APP_CACHE_DIR", None)
    else:
        os.environ["TWIN_APP_CACHE_DIR"] = previous


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
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([exe, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
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
