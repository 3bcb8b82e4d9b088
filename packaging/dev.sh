#!/usr/bin/env bash
# The two commands of the README, with all the set-up they need on a fresh Debian/Ubuntu machine.
#
#   packaging/dev.sh app  [twin-app options]   set up, then start the operator console
#   packaging/dev.sh test [pytest options]     set up, then run the whole test suite (under Xvfb)
#   packaging/dev.sh setup                     set up only
#
# Set-up is idempotent: system packages through apt-get (as root, or through sudo) when some are
# missing, a virtual environment in .venv, and the project with its dev extras through pip.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${TWIN_APP_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

# Qt's xcb platform plugin, Mesa OpenGL for VTK, Xvfb for tests and headless screenshots,
# mosquitto for the broker tests, a font for labels.
APT_PACKAGES=(
  xvfb xauth mosquitto mosquitto-clients openssl
  libgl1 libegl1 libglx-mesa0 libgl1-mesa-dri libglu1-mesa
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxrender1 libxi6
  libxrandr2 libxtst6 libdbus-1-3 libfontconfig1 fonts-dejavu-core
  # the bundle and its packages (packaging/build.sh, packaging/smoke.sh, tests/packaging)
  binutils nsis fonts-noto-cjk fontconfig desktop-file-utils
)

log() { printf '[twin-app setup] %s\n' "$*" >&2; }

install_system_packages() {
  command -v dpkg-query >/dev/null 2>&1 || { log "not a Debian system: install Xvfb, Mesa GL and mosquitto yourself"; return 0; }
  local wanted=("${APT_PACKAGES[@]}")
  if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    wanted+=(python3-venv)
  fi
  local missing=()
  for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      log "missing system packages and no root: apt-get install ${missing[*]}"; exit 1
    fi
  fi
  log "installing system packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # the mosquitto package starts a system broker on port 1883; the app and tests start their own
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
    $sudo systemctl stop mosquitto || true
  fi
}

check_python() {
  "$PYTHON" - <<'EOF' || { log "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
EOF
}

install_python_packages() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating the virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.twin-app-installed"
  local want
  want=$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing Python packages (pip install -e .[dev])"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"
    echo "$want" >"$stamp"
  fi
}

setup() {
  install_system_packages
  check_python
  install_python_packages
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  setup)
    setup ;;
  app)
    setup
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      log "no display: starting the console on a virtual screen (xvfb-run); use --screenshot PNG to see it"
      exec xvfb-run -a -s "-screen 0 1920x1080x24" "$VENV/bin/twin-app" "$@"
    fi
    exec "$VENV/bin/twin-app" "$@" ;;
  test)
    setup
    cd "$ROOT"
    exec "$VENV/bin/python" -m pytest "$@" ;;
  *)
    echo "usage: packaging/dev.sh app|test|setup [options]" >&2
    exit 2 ;;
esac
