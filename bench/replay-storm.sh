#!/usr/bin/env bash
# A resume storm: N websockets resume, at once, the backlog that `SECONDS_OF_BACKLOG`
# seconds of job updates at `RATE` per second leave in one user's event log, while the
# server's resident memory is sampled. Shows that replay memory is bounded by
# ws.max_concurrent_replays × ws.replay_page_kib, not by sockets × backlog.
#
#   bench/replay-storm.sh [--sockets 100] [--seconds 60] [--rate 10000] [--batch 1000]
#                         [--backend sqlite|postgres]
#
# The backlog is made of one real call, copied: the server PATCHes `--batch` jobs once
# (a bulk-update job entry with full instances, its LogEvents and the state counts), and
# those entries are repeated in SQL until they stand for seconds × rate job updates,
# numbered on (writing 600 000 real updates would take longer than the storm itself).
# Uses target/release/{balsam-server,replay-storm} (built unless STORM_SKIP_BUILD=1;
# STORM_PROFILE=debug for debug builds). Prints the replay-storm facts: entries and MB per
# socket, seconds, and the server's RSS before and at its peak.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOCKETS=100 SECS=60 RATE=10000 BATCH=1000 BACKEND=sqlite
while [ $# -gt 0 ]; do
    case "$1" in
        --sockets) SOCKETS="$2"; shift 2 ;;
        --seconds) SECS="$2"; shift 2 ;;
        --rate) RATE="$2"; shift 2 ;;
        --batch) BATCH="$2"; shift 2 ;;
        --backend) BACKEND="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
PROFILE="${STORM_PROFILE:-release}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
log() { echo "[replay-storm] $*" >&2; }

if [ "${STORM_SKIP_BUILD:-0}" != 1 ]; then
    flag=(); [ "$PROFILE" = release ] && flag=(--release)
    (cd "$ROOT" && cargo build -q "${flag[@]}" -p balsam-server -p balsam-bench)
fi

WORK="$(mktemp -d /tmp/balsam-storm.XXXXXX)"
PID="" DB=""
cleanup() {
    [ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    [ -n "$DB" ] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
args=(serve --bind "127.0.0.1:$port" --data-dir "$WORK/data")
if [ "$BACKEND" = postgres ]; then DB="balsam_storm_$$"; args+=(--database-url "$PG_URL/$DB"); fi
# The storm's sockets all come from loopback: lift the per-address websocket limit.
BALSAM_WS__MAX_PER_ADDRESS=0 BALSAM_TELEMETRY__LOG_FILTER=warn \
    "$TARGET/balsam-server" "${args[@]}" >"$WORK/server.log" 2>&1 </dev/null &
PID=$!
API="http://127.0.0.1:$port/api/v1"
for _ in $(seq 1 300); do curl -fsS "$API/health" >/dev/null 2>&1 && break; sleep 0.1; done

calls=$(( SECS * RATE / BATCH ))
log "$BACKEND: one PATCH of $BATCH jobs, copied to $calls calls ($SECS s at $RATE updates/s)"
read -r TOKEN LAST FIRST_SEQ END_SEQ < <(python3 - "$API" "$BATCH" <<'PY'
import json, sys, urllib.request
api, batch = sys.argv[1], int(sys.argv[2])
def call(method, path, body=None, token=None, form=False):
    data = None
    headers = {"Authorization": "Bearer " + token} if token else {}
    if body is not None:
        if form:
            data = body.encode(); headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode(); headers["Content-Type"] = "application/json"
    req = urllib.request.Request(api + path, method=method, data=data, headers=headers)
    with urllib.request.urlopen(req) as r:
        return json.load(r) if r.status != 204 else None, r.headers
call("POST", "/auth/password/register", {"username": "storm", "password": "storm-password-1"})
token = call("POST", "/auth/password/login", "username=storm&password=storm-password-1", form=True)[0]["access_token"]
site = call("POST", "/sites/", {"name": "storm", "path": "/storm"}, token)[0]["id"]
app = call("POST", "/apps/", {"site_id": site, "name": "Storm", "serialized_class": "",
    "source_code": "", "parameters": {}, "transfers": {}}, token)[0]["id"]
jobs = call("POST", "/jobs/", [{"workdir": f"storm/{i}", "app_id": app, "tags": {"run": "storm"},
    "parameters": {}} for i in range(batch)], token)[0]
seq = lambda: int(call("GET", "/sites/", None, token)[1]["x-balsam-seq"])
before = seq()
call("PATCH", "/jobs/", [{"id": j["id"], "state": "PREPROCESSED"} for j in jobs], token)
print(token, before, before + 1, seq())
PY
)
n=$(( END_SEQ - LAST ))
sql="INSERT INTO event_log (user_id, seq, created_at, payload)
     SELECT e.user_id, e.seq + k.k * $n, e.created_at, e.payload
     FROM event_log e, (SELECT generate_series AS k FROM generate_series(1, $(( calls - 1 )))) k
     WHERE e.user_id = 1 AND e.seq BETWEEN $FIRST_SEQ AND $END_SEQ;
     UPDATE user_event_seq SET seq = $END_SEQ + $(( (calls - 1) * n )) WHERE user_id = 1;"
if [ "$BACKEND" = postgres ]; then
    psql "$PG_URL/$DB" -qc "$sql" >/dev/null
else
    python3 - "$WORK/data/balsam.db" "$FIRST_SEQ" "$END_SEQ" "$n" "$calls" <<'PY'
import sqlite3, sys
path, first, end, n, calls = sys.argv[1], *map(int, sys.argv[2:])
db = sqlite3.connect(path)
rows = db.execute("SELECT user_id, seq, created_at, payload FROM event_log WHERE user_id = 1 AND seq BETWEEN ? AND ?", (first, end)).fetchall()
with db:
    for k in range(1, calls):
        db.executemany("INSERT INTO event_log VALUES (?, ?, ?, ?)", [(u, s + k * n, c, p) for u, s, c, p in rows])
    db.execute("UPDATE user_event_seq SET seq = ? WHERE user_id = 1", (end + (calls - 1) * n,))
PY
fi
log "$BACKEND: $SOCKETS sockets resume $(( calls * n )) entries at once"
"$TARGET/replay-storm" --url "$API" --token "$TOKEN" --sockets "$SOCKETS" --last-seq "$LAST" --server-pid "$PID"
