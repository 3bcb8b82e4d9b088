#!/usr/bin/env bash
# Build the twin-app bundle and its packages.
#
#   packaging/build.sh [bundle]   the PyInstaller one-folder bundle: dist/twin-app/ (start dist/twin-app/twin-app)
#   packaging/build.sh deb        the Debian package dist/twin-app_<version>_amd64.deb (builds the bundle if missing)
#   packaging/build.sh nsis       the Windows installer from the bundle: dist/twin-app-<version>-setup.exe with
#                                 makensis (on Linux this compiles the script against the Linux bundle: a check)
#   packaging/build.sh version    print the version (pyproject.toml's [project] version)
#
# Environment:
#   TWIN_APP_VENV      the Python environment with the app installed (default .venv, made by packaging/dev.sh setup);
#                      PyInstaller (packaging/requirements-build.txt) is installed into it when missing
#   TWIN_APP_BUNDLE    the bundle folder that deb and nsis package (default dist/twin-app)
#   TWIN_APP_DIST      where the results go (default dist)
#   TWIN_APP_CLEAN=1   build from scratch (PyInstaller --clean)
#   TWIN_APP_DEB_COMPRESSION, TWIN_APP_DEB_LEVEL  dpkg-deb's compressor and level (default zstd -z9: 7 s, 225 MB;
#                      xz: 160 s, 177 MB; zstd needs dpkg 1.21.18 or newer to install: Debian 12, Ubuntu 22.04)
#
#   TWIN_APP_BUILD_DIR where the intermediate files go (default build)
#
# Needs (Debian packages, beyond packaging/dev.sh's): binutils (PyInstaller runs objdump and objcopy; the spec strips
# with strip), the shared libpython of the venv's Python (libpython3.N, in python3-dev), dpkg-deb (in dpkg) for
# `deb`, nsis for `nsis`, fonts-noto-cjk for the bundled CJK font (without it the bundle relies on the system's
# fonts, with a warning). PyInstaller itself comes from PyPI (packaging/requirements-build.txt).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGING=$ROOT/packaging
VENV=${TWIN_APP_VENV:-$ROOT/.venv}
DIST=${TWIN_APP_DIST:-$ROOT/dist}
BUNDLE=${TWIN_APP_BUNDLE:-$DIST/twin-app}
WORK=${TWIN_APP_BUILD_DIR:-$ROOT/build}
PYTHON=$VENV/bin/python
[ -x "$PYTHON" ] || PYTHON=$VENV/Scripts/python.exe  # a Windows virtual environment (the GitHub workflow)

log() { printf '[twin-app build] %s\n' "$*" >&2; }
# A path as native programs want it: C:\... under Git Bash on Windows (cygpath), unchanged elsewhere.
native() { if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s' "$1"; fi; }
die() { log "error: $*"; exit 1; }

version() {
  # The [project] version of pyproject.toml (tomllib: Python 3.11+, the system's python3 or the venv's).
  local py=python3
  [ -x "$PYTHON" ] && py=$PYTHON
  "$py" - "$ROOT/pyproject.toml" <<'EOF'
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    print(tomllib.load(f)["project"]["version"])
EOF
}

ensure_python() {
  # The app's environment, up to date (packaging/dev.sh setup does only what is missing); on Windows the workflow
  # makes it itself.
  case "$(uname -s)" in
    Linux) "$PACKAGING/dev.sh" setup; PYTHON=$VENV/bin/python ;;
  esac
  [ -x "$PYTHON" ] || die "no Python environment at $VENV (packaging/dev.sh setup, or TWIN_APP_VENV=...)"
  # the app itself, then the pinned build tools
  "$PYTHON" -c 'import twin_app' 2>/dev/null || die "twin_app is not installed in $VENV (packaging/dev.sh setup)"
  if ! "$PYTHON" - "$PACKAGING/requirements-build.txt" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, _, wanted = line.partition("==")
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
  then
    log "installing the build tools (packaging/requirements-build.txt) into $VENV"
    "$PYTHON" -m pip install -q -r "$PACKAGING/requirements-build.txt"
  fi
}

build_bundle() {
  ensure_python
  local started=$SECONDS
  local clean=()
  [ "${TWIN_APP_CLEAN:-0}" = 1 ] && clean=(--clean)
  # The app as its wheel installs it (twin_app/ with its package data, resources/ as twin_app/resources/): the
  # editable install's import hook that maps resources/ is invisible to PyInstaller. Installed from a clean copy of
  # what building the wheel reads, so that no stale build/ or egg-info of the working tree leaks in.
  log "installing the app into $WORK/app (pip install --target, from a clean copy of the tree)"
  rm -rf "$WORK/app" "$WORK/app-source"
  mkdir -p "$WORK/app-source"
  local name
  for name in pyproject.toml README.md twin_app resources; do
    cp -R "$ROOT/$name" "$WORK/app-source/"
  done
  find "$WORK/app-source" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
  "$PYTHON" -m pip install -q --no-deps --no-build-isolation --no-index --no-compile --target "$(native "$WORK/app")" \
      "$(native "$WORK/app-source")" || die "pip could not install the app into $WORK/app"
  log "PyInstaller: packaging/twin-app.spec -> $DIST/twin-app"
  rm -rf "$DIST/twin-app"
  (cd "$ROOT" && PYTHONNOUSERSITE=1 TWIN_APP_PYINSTALLER_APP="$(native "$WORK/app")" "$PYTHON" -m PyInstaller \
      --noconfirm "${clean[@]}" --log-level WARN --distpath "$(native "$DIST")" \
      --workpath "$(native "$WORK/pyinstaller")" "$(native "$PACKAGING/twin-app.spec")")
  local exe=$DIST/twin-app/twin-app
  [ -f "$exe" ] || [ -f "$exe.exe" ] || die "PyInstaller made no $exe"
  log "bundle: $DIST/twin-app ($(du -sh "$DIST/twin-app" | cut -f1), $(find "$DIST/twin-app" -type f | wc -l) files)" \
      "in $((SECONDS - started)) s"
}

# The per-machine configuration file the packages install (/etc/twin-app/config.toml, ProgramData on Windows):
# packaging/deb/config.toml's header, then the app's example with every line commented out (the defaults apply).
make_config() {
  local out=$1 example=$ROOT/resources/config.example.toml
  mkdir -p "$(dirname "$out")"
  {
    cat "$PACKAGING/deb/config.toml"
    if [ -f "$example" ]; then
      sed -e 's/^\([^#]\)/# \1/' -e 's/^#\([^ ]\)/# #\1/' "$example"
    fi
  } >"$out"
  chmod 0644 "$out"
}

# The .deb: the bundle under /opt/twin-app, /usr/bin/twin-app, a desktop entry and icons, /etc/twin-app/config.toml
# (a conffile), the engine's systemd unit (not enabled: see packaging/systemd/twin-app-serve.service).
build_deb() {
  command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (a Debian/Ubuntu machine: apt-get install dpkg)"
  if [ ! -x "$BUNDLE/twin-app" ]; then
    [ -n "${TWIN_APP_BUNDLE:-}" ] && die "TWIN_APP_BUNDLE=$BUNDLE holds no twin-app executable"
    build_bundle
  fi
  local ver arch stage deb
  ver=$(version)
  arch=$(dpkg --print-architecture)
  stage=$WORK/deb/twin-app_${ver}_${arch}
  deb=$DIST/twin-app_${ver}_${arch}.deb
  log "staging $stage"
  rm -rf "$stage"
  mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
      "$stage/usr/share/doc/twin-app" "$stage/etc/twin-app" "$stage/lib/systemd/system"
  cp -a "$BUNDLE" "$stage/opt/twin-app"
  # files readable by everyone, nothing writable but by root (umask-proof)
  chmod -R u+rwX,go+rX,go-w "$stage/opt/twin-app"
  ln -s ../../opt/twin-app/twin-app "$stage/usr/bin/twin-app"
  install -m 0644 "$PACKAGING/deb/twin-app.desktop" "$stage/usr/share/applications/twin-app.desktop"
  install -D -m 0644 "$ROOT/assets/twin-app.svg" "$stage/usr/share/icons/hicolor/scalable/apps/twin-app.svg"
  local icon size
  for icon in "$ROOT"/assets/icons/twin-app-*.png; do
    size=$(basename "$icon" .png)
    size=${size#twin-app-}
    install -D -m 0644 "$icon" "$stage/usr/share/icons/hicolor/${size}x${size}/apps/twin-app.png"
  done
  make_config "$stage/etc/twin-app/config.toml"
  install -m 0644 "$PACKAGING/systemd/twin-app-serve.service" "$stage/lib/systemd/system/twin-app-serve.service"
  install -m 0644 "$PACKAGING/deb/copyright" "$stage/usr/share/doc/twin-app/copyright"
  install -m 0644 "$ROOT/README.md" "$stage/usr/share/doc/twin-app/README.md"
  printf 'twin-app (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- Mumianling twin_app engineers <twin-app@localhost>  %s\n' \
      "$ver" "$ver" "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}")" \
      | gzip -9n >"$stage/usr/share/doc/twin-app/changelog.gz"
  local script
  for script in postinst prerm postrm; do
    install -m 0755 "$PACKAGING/deb/$script" "$stage/DEBIAN/$script"
  done
  install -m 0644 "$PACKAGING/deb/conffiles" "$stage/DEBIAN/conffiles"
  local installed_size
  installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
  sed -e "s/@VERSION@/$ver/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
      "$PACKAGING/deb/control" >"$stage/DEBIAN/control"
  mkdir -p "$DIST"
  rm -f "$DIST"/twin-app_*_"$arch".deb
  local started=$SECONDS
  log "dpkg-deb -> $deb"
  local compression=${TWIN_APP_DEB_COMPRESSION:-zstd} level=${TWIN_APP_DEB_LEVEL:-}
  [ -z "$level" ] && [ "$compression" = zstd ] && level=9
  dpkg-deb --root-owner-group -Z"$compression" ${level:+-z"$level"} --build "$stage" "$deb" >/dev/null
  log "$(basename "$deb"): $(du -h "$deb" | cut -f1), installed $((installed_size / 1024)) MB," \
      "in $((SECONDS - started)) s"
}

# The Windows installer: makensis on packaging/windows/twin-app.nsi with the bundle's file list.
build_nsis() {
  command -v makensis >/dev/null || die "makensis is missing (apt-get install nsis)"
  [ -f "$BUNDLE/twin-app.exe" ] || [ -f "$BUNDLE/twin-app" ] || die "no bundle at $BUNDLE (packaging/build.sh bundle)"
  local ver out
  ver=$(version)
  out=${TWIN_APP_NSIS_OUT:-$DIST/twin-app-$ver-setup.exe}
  mkdir -p "$WORK/nsis" "$(dirname "$out")"
  local py=python3
  [ -x "$PYTHON" ] && py=$PYTHON
  "$py" "$(native "$PACKAGING/windows/filelist.py")" "$(native "$BUNDLE")" "$(native "$WORK/nsis")"
  make_config "$WORK/nsis/config.toml"
  # Windows wants four numbers in the file version (0.1.0 -> 0.1.0.0)
  local quad
  quad=$(printf '%s' "$ver" | sed -E 's/^([0-9]+(\.[0-9]+){0,3}).*/\1/')
  while [ "$(printf '%s' "$quad" | tr -cd . | wc -c)" -lt 3 ]; do quad=$quad.0; done
  log "makensis -> $out"
  makensis -V2 -WX -NOCD -INPUTCHARSET UTF8 "-DVERSION=$ver" "-DVERSION_QUAD=$quad" \
      "-DFILELIST_DIR=$(native "$WORK/nsis")" "-DASSETS_DIR=$(native "$ROOT/assets")" \
      "-DCONFIG_FILE=$(native "$WORK/nsis/config.toml")" "-DOUTFILE=$(native "$out")" \
      "$(native "$PACKAGING/windows/twin-app.nsi")"
  log "$(basename "$out"): $(du -h "$out" | cut -f1)"
}

command=${1:-bundle}
case "$command" in
  bundle) build_bundle ;;
  deb) build_deb ;;
  nsis) build_nsis ;;
  version) version ;;
  *) echo "usage: packaging/build.sh [bundle|deb|nsis|version]" >&2; exit 2 ;;
esac
