#!/usr/bin/env bash
# The bundle's smoke test: build the PyInstaller bundle, copy it out of the source tree and run it there in a clean
# environment (no PYTHONPATH, no virtual environment on PATH, its own HOME, cache and data folders), like a user would.
#
#   packaging/smoke.sh              build the bundle (packaging/build.sh bundle), then check it
#   packaging/smoke.sh --no-build   check the bundle already built (dist/twin-app, or $TWIN_APP_BUNDLE)
#   packaging/smoke.sh --deb        also build the .deb from the checked bundle (packaging/build.sh deb)
#
# Checks, each under a time limit (the whole run stays within a few minutes):
#   --help; inspect --json on a sample IFC (the IFC worker process, ifcopenshell's schemas and geometry plugins);
#   generate (the small district: ifcopenshell.api, pyarrow); two --screenshot starts on it without telemetry (the
#   window, VTK, Qt; the PNG must show the district, not a blank window; first and second start timed); a
#   --screenshot with the embedded broker and simulator (amqtt, paho-mqtt); serve against a real mosquitto while
#   the bundle's simulate feeds it (the engine ingests readings).
# Exit status: 0 when every check passed, 1 naming the first that failed (its output is printed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${TWIN_APP_VENV:-$ROOT/.venv}
BUNDLE=${TWIN_APP_BUNDLE:-$ROOT/dist/twin-app}
MAX_MB=${TWIN_APP_BUNDLE_MAX_MB:-800}  # a guard against a dependency dragging in a whole library again
build=1
deb=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --deb) deb=1 ;;
    *) echo "usage: packaging/smoke.sh [--no-build] [--deb]" >&2; exit 2 ;;
  esac
done

log() { printf '[twin-app smoke] %s\n' "$*" >&2; }
started=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/twin-app-smoke.XXXXXX")
export TWIN_APP_SETTINGS="$WORK/settings.ini"  # the console's own settings (theme, layouts): none of this user's
MOSQUITTO_PID=""
SERVE_PID=""
cleanup() {
  local pid
  for pid in "$SERVE_PID" "$MOSQUITTO_PID"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  log "FAILED: $1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    log "--- output ---"
    tail -n 40 "$2" >&2
  fi
  exit 1
}

if [ "$build" = 1 ]; then
  build_started=$SECONDS
  "$ROOT/packaging/build.sh" bundle
  log "build: $((SECONDS - build_started)) s"
fi
[ -x "$BUNDLE/twin-app" ] || fail "no bundle at $BUNDLE (packaging/build.sh bundle)"
size_mb=$(du -sm "$BUNDLE" | cut -f1)
log "bundle $BUNDLE: $size_mb MB, $(find "$BUNDLE" -type f | wc -l) files"
[ "$size_mb" -le "$MAX_MB" ] || fail "the bundle is $size_mb MB, over the $MAX_MB MB guard (TWIN_APP_BUNDLE_MAX_MB)"
if find "$BUNDLE" -xtype l | grep -q .; then
  fail "dangling links in the bundle: $(find "$BUNDLE" -xtype l | head -5 | tr '\n' ' ')"
fi

# The CJK font, where the build found one, is what fontconfig sees through the bundle's configuration.
if [ -f "$BUNDLE/_internal/fonts/fonts.conf" ] && command -v fc-list >/dev/null; then
  FONTCONFIG_FILE="$BUNDLE/_internal/fonts/fonts.conf" XDG_CACHE_HOME="$WORK/fc-cache" fc-list :lang=zh-cn file \
      | grep -q "$BUNDLE/_internal/fonts/" || fail "fontconfig does not see the bundled CJK font"
  log "ok: the bundled CJK font is visible to fontconfig"
fi

# Outside the source tree: a copy of the bundle, the sample file, and a clean environment.
cp -a "$BUNDLE" "$WORK/twin-app"
cp "$ROOT/tests/data/Duplex_A_20110907.ifc" "$WORK/sample.ifc"
mkdir -p "$WORK/home"
APP=$WORK/twin-app/twin-app
PNG_PYTHON=$VENV/bin/python  # only to look at the screenshots (Pillow comes with the app's dependencies)
XVFB=(xvfb-run -a -s "-screen 0 1920x1080x24")
command -v xvfb-run >/dev/null || fail "xvfb-run is missing (packaging/dev.sh setup)"
cd "$WORK"

clean_env() {
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 \
      XDG_CONFIG_HOME="$WORK/home/.config" XDG_CACHE_HOME="$WORK/home/.cache" XDG_DATA_HOME="$WORK/home/.local/share" \
      TWIN_APP_CACHE_DIR="$WORK/cache" TWIN_APP_DATA_DIR="$WORK/data" TWIN_APP_SOUND=0 \
      TWIN_APP_SITE_CONFIG="" TWIN_APP_USER_CONFIG="" "$@"  # no configuration of this machine's
}

# check NAME SECONDS COMMAND...: run it in the clean environment under a time limit, its output in $WORK/NAME.log
check() {
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS status=0
  clean_env timeout -k 5 "$limit" "$@" >"$WORK/$name.log" 2>&1 || status=$?
  [ "$status" = 0 ] || fail "$name (exit $status$([ "$status" = 124 ] && echo ": over $limit s")): $*" "$WORK/$name.log"
  log "ok: $name ($((SECONDS - t0)) s)"
}

check help 60 "$APP" --help
grep -q "serve" "$WORK/help.log" || fail "help: no subcommands listed" "$WORK/help.log"

if grep -q "config" "$WORK/help.log"; then  # the configuration files' reader (tomllib, the checks)
  printf '[console]\nlanguage = "zh_CN"\n' >"$WORK/config.toml"
  check config 60 "$APP" config check "$WORK/config.toml"
fi

check inspect 180 "$APP" inspect "$WORK/sample.ifc" --json
python3 - "$WORK/inspect.log" <<'EOF' || fail "inspect: unexpected report" "$WORK/inspect.log"
import json, sys
report = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert report["schema"] == "IFC2X3", report["schema"]
assert report["elements_with_geometry"] > 100, report["elements_with_geometry"]
assert len(report["bbox_m"]) == 6
EOF

check generate 180 "$APP" generate "$WORK/district" --towers 2 --storeys 6 --quiet
[ -s "$WORK/district/mumianling.ifc" ] && [ -s "$WORK/district/devices.parquet" ] \
    || fail "generate: no mumianling.ifc and devices.parquet" "$WORK/generate.log"

# Two starts: the first builds the small district and its tessellation cache, the second reads the cache.
screenshot_args=(--no-telemetry --towers 2 --storeys 6 --size 1920x1080)
t0=$(date +%s.%N)
check screenshot-first 240 "${XVFB[@]}" "$APP" --screenshot "$WORK/first.png" "${screenshot_args[@]}"
t1=$(date +%s.%N)
check screenshot-second 240 "${XVFB[@]}" "$APP" --screenshot "$WORK/second.png" "${screenshot_args[@]}"
t2=$(date +%s.%N)
first_s=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
second_s=$(python3 -c "print(f'{$t2 - $t1:.1f}')")
log "start to --screenshot saved: first $first_s s, second $second_s s"

# The PNG shows the district: a 1920x1080 window whose 3D view (the middle) holds the towers, not one flat colour.
png_check() {
  "$PNG_PYTHON" - "$1" <<'EOF'
import sys
from PIL import Image

image = Image.open(sys.argv[1]).convert("RGB")
assert image.size == (1920, 1080), f"size {image.size}"
w, h = image.size
view = image.crop((int(w * 0.2), int(h * 0.08), int(w * 0.78), int(h * 0.6)))  # the 3D view between the docks
colours = view.getcolors(maxcolors=1 << 20)
assert colours is not None and len(colours) >= 50, f"{len(colours or [])} colours in the 3D view: blank?"
# the towers are lighter than the sky and the ground in both themes (grey in the dark one, beige in the light one):
# some such pixels, and not everywhere
light = sum(n for n, (r, g, b) in colours if min(r, g, b) > 95)
share = light / (view.size[0] * view.size[1])
assert 0.005 < share < 0.6, f"light (tower) pixels: {share:.1%} of the 3D view"
print(f"{len(colours)} colours in the 3D view, towers {share:.1%}")
EOF
}
png_check "$WORK/first.png" >"$WORK/png-first.log" 2>&1 || fail "the first screenshot does not show the district" \
    "$WORK/png-first.log"
png_check "$WORK/second.png" >"$WORK/png-second.log" 2>&1 || fail "the second screenshot does not show the district" \
    "$WORK/png-second.log"
log "ok: screenshots show the district ($(cat "$WORK/png-first.log"))"

# The embedded broker (amqtt) and simulator: the screenshot waits for the first live telemetry.
check screenshot-live 240 "${XVFB[@]}" "$APP" --screenshot "$WORK/live.png" --towers 2 --storeys 6 \
    --scenario garage_co --screenshot-delay 1

# serve against a real mosquitto, fed by the bundle's own simulate.
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQUITTO" ] || fail "mosquitto is missing (packaging/dev.sh setup)"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$WORK/mosquitto.conf"
"$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
MOSQUITTO_PID=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null && break
  sleep 0.1
done
BROKER=mqtt://127.0.0.1:$PORT
clean_env timeout -k 5 120 "$APP" serve --broker "$BROKER" --ifc "$WORK/district/mumianling.ifc" --duration 12 \
    --report-every 2 --data-dir "$WORK/serve" --no-login >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
sleep 3
check simulate 60 "$APP" simulate --broker "$BROKER" --ifc "$WORK/district/mumianling.ifc" --duration 5 --rate 0.5
serve_status=0
wait "$SERVE_PID" || serve_status=$?
SERVE_PID=""
cat "$WORK/serve.out" "$WORK/serve.err" >"$WORK/serve.log"
[ "$serve_status" = 0 ] || fail "serve (exit $serve_status)" "$WORK/serve.log"
python3 - "$WORK/serve.out" <<'EOF' || fail "serve: no readings ingested from the simulator" "$WORK/serve.log"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
assert lines, "no summary line"
assert any(line["broker"] == "connected" for line in lines), "never connected"
assert max(line["messages"] for line in lines) > 0, "no message ingested"
assert any(line["devices"]["no data"] < 7880 for line in lines), "no device got a reading"
EOF
log "ok: serve ingested the simulator's telemetry through mosquitto"

if [ "$deb" = 1 ]; then
  TWIN_APP_BUNDLE=$BUNDLE "$ROOT/packaging/build.sh" deb
fi
log "all checks passed in $((SECONDS - started)) s"
