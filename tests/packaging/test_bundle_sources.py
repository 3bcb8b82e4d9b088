"""What the bundle is built from, checked without building it (fast, in every test run).

- packaging/shims/vtk.py, the bundle's stand-in for VTK's ``vtk`` module, offers every ``vtk.NAME`` that twin_app
  uses, and the working (OpenGL, FreeType) implementations behind them;
- the icon files are the sizes their names say, the ICO holds them all;
- the desktop entry has what the menu needs;
- build.sh reports pyproject.toml's version; the shell scripts parse.
"""

from __future__ import annotations

import configparser
import importlib.util
import re
import shutil
import struct
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.packaging.bundles import BUILD_SH, PACKAGING, ROOT, version

ASSETS = ROOT / "assets"


def _shim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("twin_app_bundle_vtk_shim", PACKAGING / "shims" / "vtk.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _vtk_names_used() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "twin_app").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*import vtk\b", text, re.MULTILINE):
            names |= set(re.findall(r"\bvtk\.(\w+)", text))
    return names


def test_the_vtk_shim_offers_every_vtk_name_the_app_uses() -> None:
    shim = _shim()
    used = _vtk_names_used()
    assert used, "twin_app uses no vtk.NAME any more: the shim (and its place in the spec) can go"
    missing = sorted(name for name in used if not hasattr(shim, name))
    assert not missing, f"add their VTK modules to packaging/shims/vtk.py: {missing}"


def test_the_vtk_shim_makes_working_classes() -> None:
    shim = _shim()
    assert shim.vtkPolyDataMapper().GetClassName() == "vtkOpenGLPolyDataMapper"
    assert "FreeType" in shim.vtkTextRenderer().GetClassName()
    with pytest.raises(AttributeError, match=r"packaging/shims/vtk\.py"):
        _ = shim.vtkNoSuchClass


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_icons() -> None:
    assert (ASSETS / "twin-app.svg").read_text().lstrip().startswith("<?xml")
    assert _png_size(ASSETS / "twin-app.png") == (256, 256)
    sizes = []
    for path in sorted((ASSETS / "icons").glob("twin-app-*.png")):
        size = int(path.stem.rsplit("-", 1)[1])
        assert _png_size(path) == (size, size), path
        sizes.append(size)
    assert {48, 256} <= set(sizes)
    data = (ASSETS / "twin-app.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1) and count >= 4
    ico_sizes = {struct.unpack_from("<B", data, 6 + 16 * i)[0] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= ico_sizes


def test_desktop_entry() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "deb" / "twin-app.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"] == "twin-app"  # no field code: twin-app takes no file without --ifc
    assert section["Icon"] == "twin-app"
    assert section["Terminal"] == "false"
    assert section["Categories"].endswith(";")
    validate = shutil.which("desktop-file-validate")
    if validate:
        run = subprocess.run([validate, str(PACKAGING / "deb" / "twin-app.desktop")], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_build_sh_reports_the_version() -> None:
    run = subprocess.run([str(BUILD_SH), "version"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == version()


@pytest.mark.parametrize("script", ["build.sh", "smoke.sh", "deb/postinst", "deb/prerm", "deb/postrm"])
def test_shell_scripts_parse(script: str) -> None:
    path = PACKAGING / script
    shell = "bash" if script.endswith(".sh") else "sh"
    run = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert path.stat().st_mode & 0o111, f"{script} is not executable"


def test_the_window_icon_is_the_packages_icon() -> None:
    """The app shows the icon its packages install (the package data copy equals the one the packages render)."""
    assert (ROOT / "resources" / "twin-app.svg").read_bytes() == (ROOT / "assets" / "twin-app.svg").read_bytes()
