"""Layering and style are part of the build: import-linter contracts and ruff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_import_contracts_hold() -> None:
    run = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_core_imports_without_qt_or_vtk() -> None:
    code = (
        "import sys, twin_app.core.model, twin_app.core.registry, twin_app.core.district, twin_app.core.kinds\n"
        "heavy = ('PySide6', 'vtk', 'vtkmodules', 'pyvista', 'ifcopenshell', 'paho')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_is_clean() -> None:
    run = subprocess.run([_tool("ruff"), "check", "twin_app", "tests"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
