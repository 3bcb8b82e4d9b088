"""The Debian package (packaging/build.sh deb): built, installed with dpkg, used, upgraded, removed and purged.

Two packages go through the same cycle:

- one made from a fake bundle (a shell script and a small tree), always: the packaging itself (paths, the command on
  the PATH, the desktop entry and icons, the conffile kept on upgrade and removal, nothing left after a purge), in
  seconds;
- the real one, when a bundle has been built (packaging/smoke.sh or packaging/build.sh bundle: dist/twin-app, or
  $TWIN_APP_BUNDLE; $TWIN_APP_DEB names a .deb already built from it): the same, plus the installed twin-app runs
  --help, inspect --json and config check.

dpkg installs into the real system: these tests run as root (CI does) and skip otherwise, and never touch a twin-app
package that was installed before they started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.bundles import BUILD_SH, ROOT, SAMPLE_IFC, fake_bundle, real_bundle, version

PACKAGE = "twin-app"
# Where the package puts things, and what must be as it was after a purge (names directly in these folders).
WATCHED = ("/opt", "/etc", "/usr/bin", "/usr/share/applications", "/usr/share/doc", "/lib/systemd/system",
           "/var/lib", "/var/cache", "/etc/systemd/system")
ICONS = ("/usr/share/icons/hicolor/scalable/apps/twin-app.svg", "/usr/share/icons/hicolor/256x256/apps/twin-app.png",
         "/usr/share/icons/hicolor/48x48/apps/twin-app.png")


def _require_dpkg() -> None:
    if shutil.which("dpkg") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg and dpkg-deb are missing: not a Debian system")
    if os.geteuid() != 0:
        pytest.skip("installing a .deb needs root (CI runs as root)")
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True)
    if status.returncode == 0 and "not-installed" not in status.stdout:
        pytest.skip(f"a {PACKAGE} package is already on this machine ({status.stdout.strip()}): left alone")


def _dpkg(*args: str) -> subprocess.CompletedProcess:
    run = subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    assert run.returncode == 0, f"dpkg {' '.join(args)}: {run.stdout}{run.stderr}"
    return run


def _state() -> str:
    run = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True)
    return run.stdout.strip() if run.returncode == 0 else "unknown"


def _snapshot() -> dict[str, set[str]]:
    return {folder: set(os.listdir(folder)) if os.path.isdir(folder) else set() for folder in WATCHED}


def _account(name: str) -> bool:
    return subprocess.run(["getent", "passwd", name], capture_output=True).returncode == 0


def _build_deb(bundle: Path, out: Path) -> Path:
    env = {**os.environ, "TWIN_APP_BUNDLE": str(bundle), "TWIN_APP_DIST": str(out),
           "TWIN_APP_BUILD_DIR": str(out / "build")}
    run = subprocess.run([str(BUILD_SH), "deb"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    debs = sorted(out.glob("*.deb"))
    assert [deb.name for deb in debs] == [f"twin-app_{version()}_{_arch()}.deb"]
    return debs[0]


def _arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()


def _installed_app(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    """The installed command, found on the PATH as a user would, in a clean environment."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8",
           "TWIN_APP_CACHE_DIR": str(tmp / "cache"), "TWIN_APP_DATA_DIR": str(tmp / "data")}
    return subprocess.run(["twin-app", *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def clean_dpkg() -> Iterator[None]:
    """Purge whatever the test left installed, whatever happened."""
    _require_dpkg()
    yield
    if _state() != "unknown":
        subprocess.run(["dpkg", "--purge", PACKAGE], capture_output=True, timeout=300)


def _cycle(deb: Path, tmp: Path, real: bool) -> None:
    before = _snapshot()
    account_before = _account("twin-app")

    _dpkg("-i", str(deb))
    assert _state() == "install ok installed"
    assert os.access("/opt/twin-app/twin-app", os.X_OK)
    assert os.path.realpath("/usr/bin/twin-app") == "/opt/twin-app/twin-app"
    assert shutil.which("twin-app", path="/usr/bin") == "/usr/bin/twin-app"
    desktop = Path("/usr/share/applications/twin-app.desktop").read_text()
    assert "Exec=twin-app" in desktop and "Icon=twin-app" in desktop
    for icon in ICONS:
        assert Path(icon).is_file(), icon
    assert Path("/lib/systemd/system/twin-app-serve.service").is_file()
    conffiles = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}", PACKAGE], capture_output=True,
                               text=True).stdout
    assert "/etc/twin-app/config.toml" in conffiles
    assert _account("twin-app"), "postinst makes the engine's account"

    # the installed command works from anywhere
    run = _installed_app("--help", tmp=tmp)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "serve" in run.stdout
    run = _installed_app("inspect", str(SAMPLE_IFC), "--json", tmp=tmp)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["schema"] == "IFC2X3"
    if real:
        assert report["elements_with_geometry"] > 100
        assert len(report["bbox_m"]) == 6
    if "config" in _installed_app("--help", tmp=tmp).stdout:
        run = _installed_app("config", "check", "/etc/twin-app/config.toml", tmp=tmp)
        assert run.returncode == 0, run.stdout + run.stderr

    # an administrator's edit survives an upgrade (here: the same package again)
    config = Path("/etc/twin-app/config.toml")
    config.write_text(config.read_text() + "\n# edited by the administrator\n")
    _dpkg("-i", str(deb))
    assert _state() == "install ok installed"
    assert config.read_text().endswith("# edited by the administrator\n")
    assert os.access("/opt/twin-app/twin-app", os.X_OK)

    # remove: nothing left but the configuration
    _dpkg("-r", PACKAGE)
    assert _state() == "deinstall ok config-files"
    after = _snapshot()
    assert after["/etc"] - before["/etc"] == {"twin-app"}
    assert os.listdir("/etc/twin-app") == ["config.toml"]
    assert config.read_text().endswith("# edited by the administrator\n")
    assert {k: v for k, v in after.items() if k != "/etc"} == {k: v for k, v in before.items() if k != "/etc"}
    for icon in ICONS:
        assert not Path(icon).exists(), icon

    # purge: nothing at all
    _dpkg("-P", PACKAGE)
    assert _state() == "unknown"
    assert _snapshot() == before
    assert not Path("/etc/twin-app").exists()
    assert _account("twin-app") == account_before


def test_deb_packaging_from_a_fake_bundle(tmp_path: Path, clean_dpkg: None) -> None:
    deb = _build_deb(fake_bundle(tmp_path / "bundle"), tmp_path / "out")
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True).stdout
    assert "./opt/twin-app/_internal/lib/deep/deeper/libfake.so.1" in listing
    assert "./usr/bin/twin-app -> ../../opt/twin-app/twin-app" in listing
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture"],
                            capture_output=True, text=True).stdout
    assert f"Version: {version()}" in fields
    home = tmp_path / "home"
    home.mkdir()
    _cycle(deb, home, real=False)


def test_deb_of_the_real_bundle(tmp_path: Path, clean_dpkg: None) -> None:
    deb = Path(os.environ["TWIN_APP_DEB"]) if os.environ.get("TWIN_APP_DEB") else None
    bundle = real_bundle()
    if deb is None:
        built = ROOT / "dist" / f"twin-app_{version()}_{_arch()}.deb"
        if bundle is not None and built.is_file() and built.stat().st_mtime >= (bundle / "twin-app").stat().st_mtime:
            deb = built  # packaging/build.sh deb made it from this bundle
        elif bundle is not None:
            deb = _build_deb(bundle, tmp_path / "out")
        else:
            pytest.skip("no bundle built (packaging/smoke.sh or packaging/build.sh bundle makes dist/twin-app)")
    home = tmp_path / "home"
    home.mkdir()
    _cycle(deb, home, real=True)
