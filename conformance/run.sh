#!/usr/bin/env bash
# Run the balsam-rs conformance suite (official Python SDK against our server).
#
#   conformance/run.sh [pytest args...]
#
# Idempotent:
#   * creates the virtualenv $REPO/.build/conformance-venv if missing and
#     (re)installs requirements.txt only when its hash (or the Python version)
#     changed since the last successful install;
#   * runs `cargo build -p balsam-server` (a no-op when up to date);
#   * runs pytest from this directory with all arguments passed through.
# The exit code is pytest's.
#
# Environment knobs:
#   PYTHON                      interpreter used to create the venv (default python3)
#   CONFORMANCE_VENV            venv location (default $REPO/.build/conformance-venv)
#   CONFORMANCE_SKIP_BUILD=1    do not run cargo build
#   CONFORMANCE_SERVER_BIN      server binary (default $CARGO_TARGET_DIR or $REPO/target, /debug/balsam-server)
#   CONFORMANCE_DATABASE_URL    passed to the server as --database-url (default: SQLite in a temp data dir)
#   CONFORMANCE_API_ROOT        test an already running server instead of starting one
#                               (e.g. http://127.0.0.1:8000/api/v1); implies no build; start it
#                               with BALSAM_AUTH__MIN_PASSWORD_LENGTH=1 (the SDK's tests
#                               register one-character passwords)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="${CONFORMANCE_VENV:-$ROOT/.build/conformance-venv}"
PYTHON="${PYTHON:-python3}"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.conformance-requirements.stamp"

log() { echo "[conformance] $*" >&2; }

# ---- virtualenv -----------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || { log "error: $PYTHON not found"; exit 2; }
    log "creating virtualenv $VENV with $("$PYTHON" --version 2>&1)"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
    rm -f "$STAMP"
fi

pyver="$("$VENV/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
case "$pyver" in
    3.11.*) ;;
    *) log "warning: venv Python is $pyver; requirements.txt was verified on 3.11" ;;
esac

want="$( (cat "$REQ"; echo "python=$pyver") | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    log "installing requirements into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
    "$VENV/bin/python" -c 'import balsam.api; from balsam.client import BasicAuthRequestsClient' \
        2>/dev/null || { log "error: balsam SDK does not import in $VENV"; exit 2; }
    echo "$want" > "$STAMP"
fi

# ---- server binary ----------------------------------------------------------
if [ -z "${CONFORMANCE_API_ROOT:-}" ] && [ "${CONFORMANCE_SKIP_BUILD:-0}" != "1" ]; then
    log "cargo build -p balsam-server"
    (cd "$ROOT" && cargo build -p balsam-server)
fi

# ---- tests --------------------------------------------------------------------
# Upstream's SDK tests register one-character passwords ("x"); the server's default
# auth.min_password_length (8) would refuse them. Servers started here inherit this.
export BALSAM_AUTH__MIN_PASSWORD_LENGTH="${BALSAM_AUTH__MIN_PASSWORD_LENGTH:-1}"
cd "$HERE"
export CONFORMANCE_REPO_ROOT="$ROOT"
set +e
"$VENV/bin/python" -m pytest -o cache_dir="$ROOT/.build/conformance-pytest-cache" "$@"
rc=$?
set -e
exit "$rc"
