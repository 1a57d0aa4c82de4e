#!/usr/bin/env bash
# OPTIONAL: run the upstream balsam 0.7.0a24 server as a reference oracle.
#
#   conformance/upstream/serve.sh [PORT]          # default 18765; runs in the foreground
#   CONFORMANCE_API_ROOT=http://127.0.0.1:18765 CONFORMANCE_UPSTREAM=1 conformance/run.sh
#
# With CONFORMANCE_UPSTREAM=1 the tests marked `upstream_differs` (places where the
# spec asks balsam-rs to do better than upstream) are expected to fail.
# Needs PostgreSQL (default: postgresql://postgres@127.0.0.1:5432, trust auth; the
# database named below is DROPPED and re-created) and optionally Redis.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${UPSTREAM_VENV:-$ROOT/.build/upstream-ref-venv}"
PORT="${1:-18765}"
STAMP="$VENV/.requirements.sha256"

if [ ! -x "$VENV/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$VENV"
fi
want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ "$want" != "$(cat "$STAMP" 2>/dev/null || true)" ]; then
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$HERE/requirements.txt"
    echo "$want" > "$STAMP"
fi

export BALSAM_DATABASE_URL="${UPSTREAM_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/balsam_conformance_upstream}"
export BALSAM_REDIS_PARAMS="${BALSAM_REDIS_PARAMS:-{\"host\": \"127.0.0.1\", \"port\": 6379\}}"
export BALSAM_LOG_LEVEL="${BALSAM_LOG_LEVEL:-WARNING}"
export HOME="$(mktemp -d)"   # the server never needs ~/.balsam
cd "$HOME"
"$VENV/bin/python" "$HERE/bootstrap_db.py"
exec "$VENV/bin/uvicorn" balsam.server.main:app --host 127.0.0.1 --port "$PORT"
