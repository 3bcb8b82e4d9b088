"""What the packaging tests share: the repository's paths, the version, the built bundle, a fake bundle."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
BUILD_SH = PACKAGING / "build.sh"
SAMPLE_IFC = ROOT / "tests" / "data" / "Duplex_A_20110907.ifc"


def version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def real_bundle() -> Path | None:
    """The PyInstaller bundle that packaging/build.sh bundle (or packaging/smoke.sh) built, if there is one:
    $TWIN_APP_BUNDLE, else dist/twin-app."""
    folder = Path(os.environ.get("TWIN_APP_BUNDLE") or ROOT / "dist" / "twin-app")
    if (folder / "twin-app").is_file() and (folder / "_internal" / "base_library.zip").is_file():
        return folder
    return None


FAKE_MAIN = """#!/bin/sh
# a stand-in for the bundle's executable: enough for the packaging tests
case "$1" in
  --help) echo "usage: twin-app [options] (fake bundle): generate, inspect, serve, config"; exit 0 ;;
  inspect) printf '{"schema": "IFC2X3", "elements_with_geometry": 1, "fake": true}\\n'; exit 0 ;;
  config) echo "$3: ok (fake bundle)"; exit 0 ;;
esac
echo "fake twin-app: unknown command $1" >&2
exit 2
"""


def fake_bundle(folder: Path) -> Path:
    """A small folder shaped like the one-folder bundle: the executable and an _internal/ tree."""
    folder.mkdir(parents=True)
    main = folder / "twin-app"
    main.write_text(FAKE_MAIN)
    main.chmod(main.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    internal = folder / "_internal"
    (internal / "twin_app" / "resources").mkdir(parents=True)
    (internal / "twin_app" / "resources" / "units.csv").write_text("unit,party\n")
    (internal / "lib" / "deep" / "deeper").mkdir(parents=True)
    (internal / "lib" / "deep" / "deeper" / "libfake.so.1").write_bytes(b"\x7fELF fake")
    return folder
