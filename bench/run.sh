#!/usr/bin/env bash
# Reproduces the benchmark report against a fresh balsam-rs server:
#
#   bench/run.sh [sqlite|postgres] [extra balsam-bench flags...]
#   bench/run.sh --print-sizes        # the report's size flags (used by compare-upstream.sh)
#
# Builds balsam-server and balsam-bench (release by default), starts the server on a
# free loopback port with a fresh data directory (and, for postgres, a fresh database on
# postgres://postgres@127.0.0.1:5432 that is dropped afterwards), runs balsam-bench with
# the report's sizes, prints the table, and stops the server.
#
# Extra flags are appended after the report sizes and override them, e.g. a quick check:
#   bench/run.sh sqlite --jobs 2000 --list-jobs 10000 --list-requests 5
#
# Environment:
#   BENCH_PROFILE=release|debug   build profile of both binaries (default release)
#   PG_URL=postgres://USER@HOST:PORT   PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
#   BENCH_SERVER_BIN=PATH         use this balsam-server binary instead of building one
#   BENCH_KEEP=1                  keep the work directory (server log, SQLite file)
#   RUST_LOG=...                  passed to the server (its default filter is info,sqlx=warn)
#   BENCH_PG_ANALYZE=auto|1|0     postgres: ANALYZE the database every 15 s during the run
#                                 (bench/pg-autoanalyze.sh); auto = when the PostgreSQL
#                                 server has autovacuum off (default auto)
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
log() { echo "[run.sh] $*" >&2; }

backend="${1:-sqlite}"
[ $# -gt 0 ] && shift
case "$backend" in
    sqlite | postgres | --print-sizes) ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 64 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO="${CARGO:-cargo}"
PROFILE="${BENCH_PROFILE:-release}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
PG_URL="${PG_URL%/}"

# The report's sizes.
SIZES=(--jobs 100000 --batch 1000 --list-jobs 1000000 --fill-batch 5000 --list-requests 20
       --launchers 4 --acquire-max 256 --state-count-requests 50
       --ws-subscribers 10 --ws-jobs 20000)
[ "$backend" = --print-sizes ] && { echo "${SIZES[*]}"; exit 0; }

case "$PROFILE" in
    release) profile_flag=(--release) ;;
    debug) profile_flag=() ;;
    *) log "BENCH_PROFILE must be release or debug"; exit 64 ;;
esac

# ---- build -----------------------------------------------------------------------
if [ -n "${BENCH_SERVER_BIN:-}" ]; then
    server_bin="$BENCH_SERVER_BIN"
    # The server starts from the work directory: make a relative path absolute.
    case "$server_bin" in /*) ;; *) server_bin="$PWD/$server_bin" ;; esac
    log "using the prebuilt server $server_bin"
else
    log "building balsam-server ($PROFILE)"
    (cd "$ROOT" && "$CARGO" build "${profile_flag[@]}" -p balsam-server)
    server_bin="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/balsam-server"
fi

log "building balsam-bench ($PROFILE)"
if grep -q '^\[workspace\]' "$ROOT/bench/Cargo.toml"; then
    # Standalone (not yet a workspace member): its own target directory.
    "$CARGO" build "${profile_flag[@]}" --manifest-path "$ROOT/bench/Cargo.toml"
    bench_bin="${CARGO_TARGET_DIR:-$ROOT/bench/target}/$PROFILE/balsam-bench"
else
    (cd "$ROOT" && "$CARGO" build "${profile_flag[@]}" -p balsam-bench)
    bench_bin="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/balsam-bench"
fi

# ---- fresh state -----------------------------------------------------------------
# What cleanup() undoes; empty means nothing to undo (compare-upstream.sh has the same shape).
WORK="$(mktemp -d "${TMPDIR:-/tmp}/balsam-bench.XXXXXX")"
DB_NAME=""
DB_URL=""
SERVER_PID=""
ANALYZE_PID=""

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

cleanup() {
    local rc=$?
    if [ -n "$ANALYZE_PID" ]; then
        kill -TERM "$ANALYZE_PID" 2>/dev/null || true
        wait "$ANALYZE_PID" 2>/dev/null || true
    fi
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        log "stopping the server (pid $SERVER_PID)"
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$DB_NAME" ]; then drop_database "$DB_NAME"; fi
    finish_work_dir "$rc" "$WORK/server.log" server
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$backend" = postgres ]; then
    ensure_postgres
    DB_NAME="balsam_bench_$(date +%s)_$$"
    psql_admin "DROP DATABASE IF EXISTS \"$DB_NAME\""
    DB_URL="$PG_URL/$DB_NAME"
fi

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    log "no free port found"; exit 1
}
PORT="$(free_port)"
API="http://127.0.0.1:$PORT/api/v1"

# ---- server ----------------------------------------------------------------------
server_args=(serve --bind "127.0.0.1:$PORT" --data-dir "$WORK/data")
[ -n "$DB_URL" ] && server_args+=(--database-url "$DB_URL")
log "starting $server_bin on 127.0.0.1:$PORT ($backend)"
# Started from the work directory so that no stray ./balsam.toml is picked up.
(cd "$WORK" && exec "$server_bin" "${server_args[@]}") >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for i in $(seq 1 240); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then log "the server exited during startup"; exit 1; fi
    if curl -fsS -o /dev/null "$API/auth/how" 2>/dev/null; then break; fi
    [ "$i" = 240 ] && { log "the server did not answer within 120 s"; exit 1; }
    sleep 0.5
done

# ---- benchmark -------------------------------------------------------------------
rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo '+dirty' || true)"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
analyze_note=""
if [ "$backend" = postgres ]; then
    case "${BENCH_PG_ANALYZE:-auto}" in
        1) analyze=1 ;;
        0) analyze=0 ;;
        *) [ "$(psql_admin "SHOW autovacuum" 2>/dev/null || echo on)" = off ] && analyze=1 || analyze=0 ;;
    esac
    if [ "$analyze" = 1 ]; then
        log "ANALYZE every 15 s during the run (bench/pg-autoanalyze.sh; the server's autovacuum: $(psql_admin "SHOW autovacuum" 2>/dev/null || echo '?'))"
        "$ROOT/bench/pg-autoanalyze.sh" "$DB_URL" 15 &
        ANALYZE_PID=$!
        analyze_note=", ANALYZE every 15 s"
    fi
fi
# With a prebuilt server the checkout's revision need not be the binary's: say so.
prebuilt=""
[ -n "${BENCH_SERVER_BIN:-}" ] && prebuilt=" (prebuilt server of $(date -u -r "$server_bin" +%Y-%m-%dT%H:%MZ 2>/dev/null || echo '?'))"
label="balsam-rs $rev$dirty$prebuilt, $backend$analyze_note, $PROFILE build, $(nproc 2>/dev/null || echo '?') CPUs${cpu:+ ($cpu)}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$ROOT/bench/results"
out="$ROOT/bench/results/$backend-$stamp"

log "running balsam-bench against $API"
set +e
"$bench_bin" --url "$API" "${SIZES[@]}" --label "$label" --json "$out.json" "$@" | tee "$out.txt"
rc=${PIPESTATUS[0]}
set -e
log "results: $out.txt and $out.json"
exit "$rc"
