#!/usr/bin/env bash
# Fuzz the REST API with schemathesis against a real server, on SQLite and/or PostgreSQL +
# Redis: every phase (examples, coverage, fuzzing, stateful), authenticated, 0 failures
# expected. `make fuzz-api` (part of `make test`) runs both backends.
#
#   scripts/schemathesis.sh [sqlite|postgres]...     (default: sqlite postgres)
#
# What it does, per backend:
#   * installs the pinned schemathesis into $FUZZ_VENV (default .build/schemathesis-venv,
#     ignored by git) when missing or when the pin changed;
#   * starts target/debug/balsam-server (built here unless FUZZ_SKIP_BUILD=1; FUZZ_SERVER_BIN
#     picks another binary) on a free port, on a fresh SQLite data dir or a fresh PostgreSQL
#     database with a Redis channel layer (PG_URL, REDIS_URL as in the Makefile);
#   * registers two users: one whose token authenticates every call, one whose token only
#     `POST /auth/logout` gets (logout revokes all of a user's tokens; the first user's
#     must outlive the run);
#   * runs `st run` with a fixed seed, bounded examples and no example database, so a run
#     is reproducible; prints the operations and response codes covered, and the time.
# The exit code is non-zero if any backend had a failure (or the server died).
#
# Knobs: FUZZ_MAX_EXAMPLES (default 50 per operation and phase:
# ~6 000 requests and ~75 s per backend on 2 cores), FUZZ_SEED (default 12),
# FUZZ_STATEFUL_STEPS (default 10), FUZZ_KEEP=1 keeps the work dir (server log, reports).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# 4.32.5: the newest release when this was written. Its coverage phase runs on our schema
# (an older 4.x crashed inside schemathesis there), so every phase is on.
SCHEMATHESIS_VERSION="4.32.5"
VENV="${FUZZ_VENV:-$ROOT/.build/schemathesis-venv}"
PYTHON="${PYTHON:-python3}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-50}"
SEED="${FUZZ_SEED:-12}"
STATEFUL_STEPS="${FUZZ_STATEFUL_STEPS:-10}"
BIN="${FUZZ_SERVER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/balsam-server}"

log() { echo "[fuzz-api] $*" >&2; }

backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

# ---- schemathesis ---------------------------------------------------------------
stamp="$VENV/.schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -f "$stamp" ]; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "schemathesis==$SCHEMATHESIS_VERSION"
    touch "$stamp"
fi

# ---- server ----------------------------------------------------------------------
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ] && [ -z "${FUZZ_SERVER_BIN:-}" ]; then
    log "cargo build -p balsam-server"
    (cd "$ROOT" && cargo build -q -p balsam-server)
fi
[ -x "$BIN" ] || { log "error: no server binary at $BIN"; exit 2; }

WORK="$(mktemp -d /tmp/balsam-fuzz.XXXXXX)"
SERVER_PID=""
PG_DB=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "$PG_DB" ]; then
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [ "${FUZZ_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_server() { # $1: backend, $2: its work dir
    local backend="$1" dir="$2" port
    port="$(free_port)"
    local args=(serve --bind "127.0.0.1:$port" --data-dir "$dir/data")
    local env=(BALSAM_TELEMETRY__LOG_FILTER="warn" BALSAM_TELEMETRY__LOG_FORMAT=json BALSAM_CHANNELS__REDIS_URL="")
    if [ "$backend" = postgres ]; then
        PG_DB="balsam_fuzz_$$_$port"
        args+=(--database-url "$PG_URL/$PG_DB")
        env=(BALSAM_TELEMETRY__LOG_FILTER="warn" BALSAM_TELEMETRY__LOG_FORMAT=json BALSAM_CHANNELS__REDIS_URL="$REDIS_URL"
             BALSAM_CHANNELS__REDIS_PREFIX="balsam-fuzz:$$:$port:")
    fi
    env "${env[@]}" "$BIN" "${args[@]}" >"$dir/server.log" 2>&1 </dev/null &
    SERVER_PID=$!
    API="http://127.0.0.1:$port/api/v1"
    for _ in $(seq 1 300); do
        curl -fsS "$API/health" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited:"; cat "$dir/server.log" >&2; return 1; }
        sleep 0.1
    done
    log "server not ready after 30 s"; return 1
}

token_for() { # $1: username; registers it and prints an access token
    local user="$1" pass="fuzz-$1-$RANDOM$RANDOM"
    curl -fsS -H 'content-type: application/json' \
        -d "{\"username\":\"$user\",\"password\":\"$pass\"}" "$API/auth/password/register" >/dev/null
    curl -fsS --data-urlencode "username=$user" --data-urlencode "password=$pass" \
        "$API/auth/password/login" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

seed_data() { # $1: token. A Site, an App, a BatchJob, Jobs with TransferItems and a child,
    # Sessions and an acquire: list pages then hold real instances to check against the
    # schema, and their ids feed generated parameters (extra-data-sources below).
    "$PYTHON" - "$API" "$1" <<'PY'
import json, sys, urllib.request, uuid
api, token = sys.argv[1], sys.argv[2]
def call(method, path, body):
    req = urllib.request.Request(api + path, method=method, data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
site = call("POST", "/sites/", {"name": "seed", "path": "/sites/seed",
    "transfer_locations": {"here": f"globus://{uuid.uuid4()}"}})["id"]
app = call("POST", "/apps/", {"site_id": site, "name": "Hello", "serialized_class": "",
    "source_code": "", "description": "seed", "parameters": {"name": {"required": True}},
    "transfers": {"in1": {"required": False, "direction": "in", "local_path": "in.txt",
                          "description": "", "recursive": False}}})["id"]
jobs = call("POST", "/jobs/", [
    {"workdir": f"w/{i}", "app_id": app, "tags": {"k": str(i)}, "parameters": {"name": "x"},
     "transfers": {"in1": {"location_alias": "here", "path": f"/data/{i}"}} if i % 2 else {}}
    for i in range(6)])
call("POST", "/jobs/", [{"workdir": "w/child", "app_id": app, "parameters": {"name": "c"},
                         "parent_ids": [jobs[0]["id"]]}])
batch = call("POST", "/batch-jobs/", {"site_id": site, "project": "p", "queue": "q",
    "num_nodes": 1, "wall_time_min": 10, "job_mode": "mpi", "filter_tags": {}})["id"]
session = call("POST", "/sessions/", {"site_id": site, "batch_job_id": batch})["id"]
call("POST", "/sessions/", {"site_id": site})
call("POST", f"/sessions/{session}", {"max_num_jobs": 2, "max_wall_time_min": 60,
    "acquire": ["STAGED_IN", "PREPROCESSED"], "filter_tags": {}, "states": ["STAGED_IN"]})
PY
}

write_config() { # $1: file, $2: the logout user's token
    cat >"$1" <<EOF
# Generated by scripts/schemathesis.sh.
seed = $SEED
workers = 1
suppress-health-check = ["too_slow", "filter_too_much", "data_too_large", "large_base_example"]

[generation]
max-examples = $MAX_EXAMPLES
database = "none"
deterministic = true

[phases.stateful]
max-steps = $STATEFUL_STEPS
# Our creates answer 201 with the instance, no Location header: let schemathesis link
# operations by their parameters and fields (POST /sites/ -> GET /sites/{site_id} ...).
inference.algorithms = ["location-headers", "dependency-analysis"]

# Reuse values of earlier responses (the seeded ids) in generated requests.
[phases.coverage]
extra-data-sources.responses = true
[phases.fuzzing]
extra-data-sources.responses = true

# Checks left out, and why:
# * negative_data_rejection: the server coerces like upstream's pydantic v1 (the number 7
#   is accepted for a string field, "7" for an integer, 7.9 truncated), which the official
#   client relies on; JSON Schema types are stricter than the wire.
# * positive_data_acceptance: validation has rules JSON Schema does not express (absolute
#   paths, Python class names, ids that must exist, state machine transitions, datetimes in
#   query strings), so a schema-valid request may rightly get 400/404/422.
# Every other check runs, not_a_server_error and status_code_conformance (every status
# the server gives is declared) among them.
[checks]
negative_data_rejection.enabled = false
positive_data_acceptance.enabled = false

# Logout revokes every token of its user: it gets the second user's token, so the
# first user's keeps working for the rest of the run.
[[operations]]
include-path = "/auth/logout"
headers = { Authorization = "Bearer $2" }
EOF
}

summarize() { # $1: ndjson report, $2: backend, $3: seconds
    "$PYTHON" - "$1" "$2" "$3" <<'EOF'
import collections, json, sys
path, backend, secs = sys.argv[1], sys.argv[2], sys.argv[3]
codes = collections.defaultdict(collections.Counter)
calls = 0
for line in open(path):
    event = json.loads(line)
    done = event.get("ScenarioFinished")
    if not done:
        continue
    for interaction in (done["recorder"].get("interactions") or {}).values():
        req, resp = interaction["request"], interaction.get("response")
        if not resp:
            continue
        op = req["method"].upper() + " " + req["uri"].split("/api/v1", 1)[-1].split("?", 1)[0]
        label = done["recorder"].get("label") or op
        calls += 1
        codes[label][resp["status_code"]] += 1
all_codes = collections.Counter()
for c in codes.values():
    all_codes.update(c)
ops = [label for label in codes if label != "Stateful tests"]
print(f"[fuzz-api] {backend}: {calls} requests over {len(ops)} operations (stateful sequences included) in {secs} s")
print("[fuzz-api]   codes: " + ", ".join(f"{k}×{v}" for k, v in sorted(all_codes.items())))
for label in sorted(codes):
    print(f"[fuzz-api]   {label:<42} " + " ".join(f"{k}×{v}" for k, v in sorted(codes[label].items())))
fives = sum(v for k, v in all_codes.items() if k >= 500)
if fives:
    print(f"[fuzz-api] {backend}: {fives} responses were 5xx", file=sys.stderr)
    sys.exit(1)
EOF
}

failed=()
for backend in "${backends[@]}"; do
    case "$backend" in sqlite | postgres) ;; *) log "unknown backend $backend"; exit 2 ;; esac
    dir="$WORK/$backend"
    mkdir -p "$dir"
    log "$backend: starting the server"
    start_server "$backend" "$dir"
    main_token="$(token_for fuzz)"
    logout_token="$(token_for fuzz-logout)"
    seed_data "$main_token"
    write_config "$dir/schemathesis.toml" "$logout_token"
    log "$backend: st run (seed $SEED, $MAX_EXAMPLES examples per operation)"
    start=$SECONDS
    set +e
    (cd "$dir" && "$VENV/bin/st" --config-file "$dir/schemathesis.toml" run "$API/openapi.json" \
        --url "$API" -H "Authorization: Bearer $main_token" \
        --report ndjson --report-ndjson-path "$dir/report.ndjson" --no-color \
        >"$dir/st.log" 2>&1)
    rc=$?
    set -e
    secs=$((SECONDS - start))
    sed -n '/= SUMMARY =/,$p' "$dir/st.log" | grep -v '^$' >&2 || true
    summarize "$dir/report.ndjson" "$backend" "$secs" || rc=1
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then log "$backend: the server died"; rc=1; fi
    if grep -q '"level":"ERROR"\|panicked' "$dir/server.log"; then
        log "$backend: the server logged errors:"; grep -m 20 '"level":"ERROR"\|panicked' "$dir/server.log" >&2; rc=1
    fi
    if [ "$rc" != 0 ]; then
        log "$backend: FAILED (schemathesis output: below)"
        cat "$dir/st.log" >&2
        failed+=("$backend")
    fi
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    if [ -n "$PG_DB" ]; then
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
        PG_DB=""
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    log "failures on: ${failed[*]}"
    exit 1
fi
log "0 failures on: ${backends[*]}"
