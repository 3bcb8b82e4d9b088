"""The wheel that district offices install: built from a copy of the tree, installed (not editable) in a fresh
virtual environment outside the source tree, and run from there: a screenshot of the small district, and
``twin-app serve`` configured by a file against a real mosquitto.

The fresh environment reaches the third-party packages of the test run's own environment through a ``.pth`` line
(nothing is downloaded); a folder added by a ``.pth`` line is not scanned for ``.pth`` files itself, so the editable
install of the development environment stays out, and every ``twin_app`` module and resource comes from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREE = ("pyproject.toml", "README.md", "twin_app", "resources")  # what building the wheel reads


@dataclass
class Installed:
    wheel: Path
    venv: Path
    python: Path
    app: Path
    purelib: Path
    work: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")}
        env.update(TWIN_APP_CACHE_DIR=str(self.work / "cache"), TWIN_APP_DATA_DIR=str(self.work / "data"),
                   TWIN_APP_SITE_CONFIG="", TWIN_APP_USER_CONFIG="", TWIN_APP_SOUND="0", **extra)
        return env

    def run(self, *argv: str | Path, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in argv], cwd=self.work, env=self.env(**extra), capture_output=True,
                              text=True, timeout=timeout)


def _run(argv: list, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in TREE:  # a clean copy: no build/ or egg-info of the working tree can leak into the wheel
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = work / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", dist, source], cwd=work)
    (wheel,) = dist.glob("twin_app-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=work)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
         cwd=work)
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=work).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))  # this run's third-party packages
    (purelib / "zz-twin-app-test-dependencies.pth").write_text("\n".join(ours) + "\n")
    app = venv / ("Scripts/twin-app.exe" if os.name == "nt" else "bin/twin-app")
    assert app.exists(), "the wheel installs no twin-app command"
    return Installed(wheel, venv, python, app, purelib, work)


def test_the_development_install_maps_the_resources_in_place() -> None:
    """``pip install -e .`` (packaging/dev.sh): twin_app.resources is the top-level resources/ folder itself."""
    from twin_app import resources
    from twin_app.core.dispatch import read_units

    assert Path(str(resources.path("units.csv"))) == ROOT / "resources" / "units.csv"
    assert read_units()  # the dispatcher's default reads it


@pytest.mark.slow
def test_the_wheel_holds_every_package_the_resources_and_nothing_else(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    packages = {str(p.parent.relative_to(ROOT)).replace(os.sep, ".") for p in (ROOT / "twin_app").rglob("__init__.py")
                if "__pycache__" not in p.parts}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert set(declared) == packages | {"twin_app.resources"}, "pyproject.toml lists every package (no find)"
    for module in (ROOT / "twin_app").rglob("*.py"):
        assert module.relative_to(ROOT).as_posix() in names, module
    for resource in (ROOT / "resources").iterdir():
        if resource.is_file():
            assert f"twin_app/resources/{resource.name}" in names, resource
    assert "twin_app/py.typed" in names
    assert not [n for n in names if n.startswith(("assets/", "tests/", "packaging/", "resources/"))
                or n.endswith((".png", ".mcap", ".ifc", ".parquet"))]
    metadata = zipfile.ZipFile(installed.wheel).read(f"{installed.wheel.name.split('-py3')[0]}.dist-info/METADATA")
    assert b"Requires-Dist: platformdirs" in metadata


@pytest.mark.slow
def test_the_installed_app_reads_its_files_from_the_installation(installed: Installed) -> None:
    code = (
        "import importlib.metadata, json, sys, twin_app, twin_app.resources as r\n"
        "from twin_app.core.dispatch import read_matrix, read_units\n"
        "print(json.dumps({'twin_app': twin_app.__file__, 'units': str(r.path('units.csv')),\n"
        "  'matrix': str(r.path('responsibility.csv')), 'example': str(r.path('config.example.toml')),\n"
        "  'n_units': len(read_units()), 'n_rows': len(read_matrix()), 'version': importlib.metadata.version(\n"
        "  'twin-app'), 'dist': str(importlib.metadata.distribution('twin-app')._path),\n"
        "  'editable': [m for m in sys.modules if 'editable' in m],\n"
        "  'typed': (__import__('pathlib').Path(twin_app.__file__).parent / 'py.typed').is_file()}))\n"
    )
    done = installed.run(installed.python, "-c", code)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    for key in ("twin_app", "units", "matrix", "example", "dist"):
        path = Path(seen[key]).resolve()
        assert path.is_relative_to(installed.purelib.resolve()), f"{key} from {path}, not the installation"
        assert not path.is_relative_to(ROOT), f"{key} from the source tree: {path}"
    assert Path(seen["units"]).parent == Path(seen["twin_app"]).parent / "resources"
    assert seen["n_units"] > 5 and seen["n_rows"] > 5 and seen["editable"] == [] and seen["typed"]


@pytest.mark.slow
def test_config_check_runs_from_the_installation(installed: Installed) -> None:
    example = installed.purelib / "twin_app" / "resources" / "config.example.toml"
    done = installed.run(installed.app, "config", "check", example)
    assert done.returncode == 2 and done.stdout == ""
    assert f"twin-app: error: {example}: key 'broker.ca_file': missing file /etc/twin-app/ca.crt" in done.stderr
    site = installed.work / "site"
    site.mkdir()
    (site / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (site / "m.ifc").write_text("ISO-10303-21;\n")
    (site / "devices.parquet").write_bytes(b"PAR1")
    text = (example.read_text().replace("/etc/twin-app/", "").replace("/var/lib/twin-app/model/mumianling.ifc",
                                                                       "m.ifc")
            .replace("/var/lib/twin-app/model/", ""))
    (site / "config.toml").write_text(text)
    done = installed.run(installed.app, "config", "check", site / "config.toml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{site / 'config.toml'}: ok: broker.url=mqtts://") and done.stdout.count("\n") == 1


@pytest.mark.slow
def test_the_installed_console_makes_a_screenshot_of_the_small_district(installed: Installed) -> None:
    from PySide6.QtGui import QImage

    png = installed.work / "shot.png"
    started = time.monotonic()
    done = installed.run(installed.app, "--screenshot", png, "--towers", "2", "--storeys", "6", "--size", "1280x800",
                         timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert png.is_file() and png.stat().st_size > 10_000
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1280, 800)
    colours = {image.pixelColor(x, y).name() for x in range(350, 900, 25) for y in range(60, 580, 25)}
    assert len(colours) > 10, "the 3D view is blank"
    assert time.monotonic() - started < 120


@pytest.mark.slow
def test_the_installed_engine_serves_as_its_configuration_file_says(installed: Installed, mosquitto) -> None:
    import paho.mqtt.client as mqtt

    district = installed.work / "district"
    done = installed.run(installed.app, "generate", district, "--towers", "2", "--storeys", "6", "--quiet")
    assert done.returncode == 0, done.stderr
    config = installed.work / "engine.toml"
    config.write_text(f"[broker]\nurl = '{mosquitto.url}'\nroot = 'site-x/v1'\n"
                      f"[model]\nifc = 'district/mumianling.ifc'\n")  # relative to the file's folder
    done = installed.run(installed.app, "serve", "--config", config, "--duration", "5", "--report-every", "1",
                         "--data-dir", installed.work / "engine", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) >= 3
    for line in lines:
        assert {"uptime_s", "incidents", "errors", "broker", "reconnects", "max_step_ms"} <= set(line), line
    assert any(line["broker"] == "connected" for line in lines)
    assert lines[-1]["devices"]["no data"] > 1000  # the small district's registry, beside the configured model
    assert f"serve: broker mqtt://127.0.0.1:{mosquitto.port}: connected" in done.stderr
    assert "serve: stopped after" in done.stderr and "Traceback" not in done.stderr
    # the engine published under the configured root
    got: list[str] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="wheel-test")
    client.on_connect = lambda c, *_: c.subscribe("site-x/v1/kpi/summary")
    client.on_message = lambda _c, _u, message: got.append(message.topic)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    assert got == ["site-x/v1/kpi/summary"]
