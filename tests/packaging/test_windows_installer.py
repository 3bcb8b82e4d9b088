"""The Windows installer script (packaging/windows/twin-app.nsi) and its generated file lists.

The installer can only be built for real on Windows (.github/workflows/windows-bundle.yml). Here makensis compiles
the script, warnings as errors, against the Linux bundle's file list (the same folders and names, empty files, the
executable named twin-app.exe), or against a small fake tree when no bundle has been built: a broken script fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.bundles import BUILD_SH, PACKAGING, real_bundle, version

FILELIST = PACKAGING / "windows" / "filelist.py"


def _windows_shaped_copy(source: Path | None, target: Path) -> Path:
    """A tree with the bundle's file names (empty files, no links), shaped like the Windows bundle."""
    if source is None:  # a small tree with the names that need care: spaces, $, non-ASCII
        for name in ("twin-app", "_internal/base_library.zip", "_internal/PySide6/Qt/plugins/platforms/qwindows.dll",
                     "_internal/twin_app/resources/units.csv", "_internal/a folder/$weird name.txt",
                     "_internal/字体/NotoSansCJK-Regular.ttc"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(b"x")
    else:
        for dirpath, _dirnames, filenames in os.walk(source):
            for name in filenames:
                path = Path(dirpath) / name
                if path.is_symlink():
                    continue
                copy = target / path.relative_to(source)
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_bytes(b"")
    (target / "twin-app").rename(target / "twin-app.exe")
    (target / "twin-appw.exe").write_bytes(b"")
    return target


def _file_lists(bundle: Path, out: Path) -> tuple[list[str], list[str]]:
    run = subprocess.run([sys.executable, str(FILELIST), str(bundle), str(out)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return ((out / "install.nsh").read_text(encoding="utf-8").splitlines(),
            (out / "uninstall.nsh").read_text(encoding="utf-8").splitlines())


def test_the_uninstaller_removes_exactly_what_the_installer_installs(tmp_path: Path) -> None:
    bundle = _windows_shaped_copy(None, tmp_path / "bundle")
    install, uninstall = _file_lists(bundle, tmp_path / "nsis")
    installed, folder = set(), None
    for line in install:
        if line.startswith("SetOutPath"):
            folder = re.fullmatch(r'SetOutPath "(.*)"', line).group(1)
        elif line.startswith("File"):
            source = re.fullmatch(r'File "(.*)"', line).group(1)
            assert Path(source).is_file(), source
            installed.add(folder + "\\" + Path(source).name.replace("$", "$$"))
    deleted = {re.fullmatch(r'Delete "(.*)"', line).group(1) for line in uninstall if line.startswith("Delete")}
    assert installed == deleted
    assert "$INSTDIR\\_internal\\a folder\\$$weird name.txt" in deleted  # NSIS would expand a single $
    assert len(installed) == sum(1 for p in bundle.rglob("*") if p.is_file())
    removed = [re.fullmatch(r'RMDir "(.*)"', line).group(1) for line in uninstall if line.startswith("RMDir")]
    assert removed[-1] == "$INSTDIR\\_internal"  # deepest first, the top last
    assert all(line.startswith(("Delete", "RMDir", ";")) for line in uninstall), "never RMDir /r"
    defines = (tmp_path / "nsis" / "bundle.nsh").read_text()
    assert '!define MAIN_EXE "twin-app.exe"' in defines and '!define WINDOW_EXE "twin-appw.exe"' in defines


def test_makensis_compiles_the_installer(tmp_path: Path) -> None:
    if shutil.which("makensis") is None:
        pytest.skip("makensis is missing (apt-get install nsis; packaging/dev.sh setup installs it)")
    bundle = _windows_shaped_copy(real_bundle(), tmp_path / "twin-app")
    out = tmp_path / f"twin-app-{version()}-setup.exe"
    env = {**os.environ, "TWIN_APP_BUNDLE": str(bundle), "TWIN_APP_NSIS_OUT": str(out),
           "TWIN_APP_BUILD_DIR": str(tmp_path / "build")}
    run = subprocess.run([str(BUILD_SH), "nsis"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert out.read_bytes()[:2] == b"MZ"  # a Windows executable
    defines = (tmp_path / "build" / "nsis" / "bundle.nsh").read_text()
    assert "twin-appw.exe" in defines
