#!/usr/bin/env bash
# Extract every translatable string of twin_app/ into the zh_CN translation and compile it.
#
#   packaging/i18n.sh            lupdate (keeps existing translations, drops obsolete ones), then lrelease
#   packaging/i18n.sh update     lupdate only: resources/i18n/twin_app_zh_CN.ts gains the new strings
#   packaging/i18n.sh release    lrelease only: resources/i18n/twin_app_zh_CN.qm from the .ts
#
# Workflow for a new string: write it in the code as self.tr("...") / QCoreApplication.translate("Ctx", "...") /
# twin_app.core.i18n.translate("Ctx", "..."), run `packaging/i18n.sh update`, translate the entries marked
# type="unfinished" in the .ts (Qt Linguist, or by hand: fill <translation> and remove type="unfinished"), then run
# `packaging/i18n.sh release` and commit both the .ts and the .qm. tests/test_i18n.py fails, listing the strings,
# while any source string is untranslated or the .qm is stale.
#
# The tools are pyside6-lupdate and pyside6-lrelease from the virtual environment ($TWIN_APP_VENV, default .venv).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${TWIN_APP_VENV:-$ROOT/.venv}
BIN=$VENV/bin
TS_DIR=$ROOT/resources/i18n
LANGS=(zh_CN)
MODE=${1:-all}

cd "$ROOT"
if [[ $MODE == all || $MODE == update ]]; then
  mapfile -t SOURCES < <(find twin_app -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort)
  for lang in "${LANGS[@]}"; do
    "$BIN/pyside6-lupdate" "${SOURCES[@]}" -no-obsolete -locations none -source-language en \
      -target-language "$lang" -ts "$TS_DIR/twin_app_$lang.ts"
  done
fi
if [[ $MODE == all || $MODE == release ]]; then
  for lang in "${LANGS[@]}"; do
    "$BIN/pyside6-lrelease" -silent "$TS_DIR/twin_app_$lang.ts" -qm "$TS_DIR/twin_app_$lang.qm"
  done
fi
if [[ $MODE != all && $MODE != update && $MODE != release ]]; then
  echo "usage: packaging/i18n.sh [all|update|release]" >&2
  exit 2
fi
