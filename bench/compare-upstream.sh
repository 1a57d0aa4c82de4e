#!/usr/bin/env bash
# Benchmarks balsam-rs on SQLite, balsam-rs on PostgreSQL and the upstream Python server
# (PyPI balsam==0.7.0a24, conformance/upstream/) on PostgreSQL in one run, and prints one
# table: scenario x target with throughput, p50 and p99, plus ours-postgres/upstream.
#
#   bench/compare-upstream.sh [--quick] [--sizes "FLAGS"] [--upstream-sizes "FLAGS"|same]
#                             [--targets ours-sqlite,ours-postgres,upstream-postgres]
#
#   --quick            small sizes for every target (a few minutes in all)
#   --sizes "F"        balsam-bench size flags for our two runs (default: run.sh's report
#                      sizes plus the ws defaults)
#   --upstream-sizes "F"|same
#                      size flags for upstream (default: the report sizes with --jobs and
#                      --list-jobs cut 5x; "same" = ours). Throughput is per item, so the
#                      ratio stays comparable; the output says when sizes differ.
#   --targets LIST     run only these (comma-separated)
#   --stats MODE       PostgreSQL planner statistics for both PostgreSQL targets alike:
#                      auto (default: ANALYZE every 15 s when autovacuum is off), none
#                      (never ANALYZEd: the state right after a bulk load), analyzed
#                      (ANALYZE every 15 s), both (the whole comparison twice: none, then
#                      analyzed; two tables)
#   --scale            the scale report: the report's sizes for every target, upstream
#                      too (bulk-create 100 000, then the table grown to 1 000 000 jobs
#                      before list, bulk-patch, acquire and the counts); with --stats both
#                      (the default for --scale): with and without statistics
#
# Every target gets a fresh store: a new SQLite data directory, a new PostgreSQL database
# (dropped afterwards) on PG_URL (default postgres://postgres@127.0.0.1:5432, trust
# auth). Our server is the release build (BENCH_PROFILE=debug for a debug one); upstream
# runs in the virtualenv conformance/upstream/serve.sh installs (.build/upstream-ref-venv,
# or UPSTREAM_VENV), one uvicorn worker. Everything started here is stopped by PID.
# BENCH_SERVER_BIN=PATH uses that balsam-server instead of building one; BENCH_KEEP=1
# keeps the work directory (logs). When the PostgreSQL server has autovacuum off (this
# machine's CI configuration), both PostgreSQL targets get bench/pg-autoanalyze.sh
# (ANALYZE every 15 s) so that neither plans on a million rows with empty-table
# statistics; BENCH_PG_ANALYZE=0 turns that off, =1 forces it.
# Results: bench/results/compare-<UTC stamp>.{txt,json} and the per-target JSON files.
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
log() { echo "[compare] $*" >&2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO="${CARGO:-cargo}"
PROFILE="${BENCH_PROFILE:-release}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
PG_URL="${PG_URL%/}"
PYTHON="${PYTHON:-python3}"

# run.sh's report sizes.
REPORT_SIZES="$("$ROOT/bench/run.sh" --print-sizes)"
QUICK_SIZES="--jobs 5000 --batch 1000 --list-jobs 50000 --fill-batch 5000 --list-requests 5 --launchers 4 --acquire-max 256 --state-count-requests 10 --ws-subscribers 10 --ws-jobs 5000"

sizes=""
upstream_sizes=""
quick=0
targets="ours-sqlite,ours-postgres,upstream-postgres"
stats=""
scale=0
all_args=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --stats) stats="${2:?--stats needs a value}"; shift ;;
        --scale) scale=1 ;;
        --sizes) sizes="${2:?--sizes needs a value}"; shift ;;
        --upstream-sizes) upstream_sizes="${2:?--upstream-sizes needs a value}"; shift ;;
        --targets) targets="${2:?--targets needs a value}"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 64 ;;
    esac
    shift
done
[ "$scale" = 1 ] && stats="${stats:-both}"
case "${stats:-auto}" in
    both)
        # The whole comparison twice, each with its own table: no statistics, then analyzed.
        rest=()
        skip=0
        for a in "${all_args[@]}"; do
            if [ "$skip" = 1 ]; then skip=0; continue; fi
            [ "$a" = --stats ] && { skip=1; continue; }
            rest+=("$a")
        done
        worst=0
        for mode in none analyzed; do
            log "--stats both: the comparison with --stats $mode"
            set +e
            "$0" "${rest[@]}" --stats "$mode"
            rc=$?
            set -e
            [ "$rc" -gt "$worst" ] && worst="$rc"
        done
        exit "$worst"
        ;;
    none) export BENCH_PG_ANALYZE=0 ;;
    analyzed) export BENCH_PG_ANALYZE=1 ;;
    auto) ;;
    *) log "--stats must be auto, none, analyzed or both"; exit 64 ;;
esac
if [ "$scale" = 1 ]; then
    sizes="${sizes:-$REPORT_SIZES}"
    upstream_sizes="${upstream_sizes:-same}"
fi
if [ "$quick" = 1 ]; then
    sizes="${sizes:-$QUICK_SIZES}"
    upstream_sizes="${upstream_sizes:-same}"
fi
sizes="${sizes:-$REPORT_SIZES}"
upstream_sizes="${upstream_sizes:-same}"
[ "$upstream_sizes" = same ] && upstream_sizes="$sizes"
for t in ${targets//,/ }; do
    case "$t" in ours-sqlite | ours-postgres | upstream-postgres) ;;
        *) log "unknown target $t"; exit 64 ;;
    esac
done
wants() { [[ ",$targets," == *",$1,"* ]]; }

case "$PROFILE" in
    release) profile_flag=(--release) ;;
    debug) profile_flag=() ;;
    *) log "BENCH_PROFILE must be release or debug"; exit 64 ;;
esac

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$ROOT/bench/results" "$ROOT/.build"
OUT="$ROOT/bench/results/compare-$stamp"
# What cleanup() undoes; empty means nothing to undo (run.sh has the same shape).
WORK="$(mktemp -d "${TMPDIR:-/tmp}/balsam-compare.XXXXXX")"
RUN_PID=""
BENCH_PID=""
UP_PID=""
ANALYZE_PID=""
UP_DB=""

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

# Children run in their own process group (set -m), so that stopping one reaches what it
# started (run.sh's server, serve.sh's pip/bootstrap) and nothing else.
start_group() { # VAR OUT ERR CMD... (ERR "-": inherited); sets VAR to the PID = PGID
    local var="$1" out="$2" err="$3"; shift 3
    set -m
    if [ "$err" = - ]; then "$@" >"$out" & else "$@" >"$out" 2>"$err" & fi
    printf -v "$var" '%s' "$!"
    set +m
}
stop_group() { # PID NAME
    local pid="$1"
    kill -0 -- "-$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    log "stopping $2 (process group $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    # run.sh, on TERM, stops its server and drops its database itself.
    [ -n "$RUN_PID" ] && stop_group "$RUN_PID" "bench/run.sh"
    [ -n "$BENCH_PID" ] && stop_group "$BENCH_PID" "balsam-bench"
    [ -n "$ANALYZE_PID" ] && stop_group "$ANALYZE_PID" "pg-autoanalyze"
    [ -n "$UP_PID" ] && stop_group "$UP_PID" "the upstream server"
    if [ -n "$UP_DB" ]; then drop_database "$UP_DB"; fi
    finish_work_dir "$rc" "$WORK/upstream.log" upstream
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if wants ours-postgres || wants upstream-postgres; then
    ensure_postgres
fi

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

declare -A rcs
# shellcheck disable=SC2206
ours_flags=($sizes)
# shellcheck disable=SC2206
up_flags=($upstream_sizes)

# ---- ours: bench/run.sh does build, fresh state, start, run, stop, drop --------------
if wants ours-sqlite || wants ours-postgres; then
    if [ -n "${BENCH_SERVER_BIN:-}" ]; then
        server_bin="$BENCH_SERVER_BIN"
        log "using the prebuilt server $server_bin; building balsam-bench ($PROFILE)"
        (cd "$ROOT" && "$CARGO" build "${profile_flag[@]}" -p balsam-bench)
    else
        log "building balsam-server and balsam-bench ($PROFILE)"
        (cd "$ROOT" && "$CARGO" build "${profile_flag[@]}" -p balsam-server -p balsam-bench)
        server_bin="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/balsam-server"
    fi
    for backend in sqlite postgres; do
        wants "ours-$backend" || continue
        log "ours-$backend: bench/run.sh $backend ${ours_flags[*]}"
        start_group RUN_PID "$WORK/ours-$backend.txt" - env BENCH_SERVER_BIN="$server_bin" \
            "$ROOT/bench/run.sh" "$backend" "${ours_flags[@]}" -q --json "$WORK/ours-$backend.json"
        set +e
        wait "$RUN_PID"
        rcs[ours-$backend]=$?
        set -e
        RUN_PID=""
        cat "$WORK/ours-$backend.txt" >&2
        log "ours-$backend: exit code ${rcs[ours-$backend]}"
    done
fi

# ---- upstream -------------------------------------------------------------------------
if wants upstream-postgres; then
    bench_bin="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/balsam-bench"
    if [ ! -x "$bench_bin" ] || ! (wants ours-sqlite || wants ours-postgres); then
        (cd "$ROOT" && "$CARGO" build "${profile_flag[@]}" -p balsam-bench)
    fi
    UP_DB="balsam_bench_upstream_$(date +%s)_$$"
    PORT="$(free_port)"
    log "upstream-postgres: starting conformance/upstream/serve.sh on 127.0.0.1:$PORT (database $UP_DB; installs the virtualenv on first use)"
    # serve.sh (re)creates the database, then execs uvicorn: $UP_PID is the server.
    # Its throw-away HOME (mktemp -d) lands in $WORK through TMPDIR.
    mkdir -p "$WORK/tmp"
    start_group UP_PID "$WORK/upstream.out" "$WORK/upstream.log" env TMPDIR="$WORK/tmp" \
        UPSTREAM_VENV="${UPSTREAM_VENV:-$ROOT/.build/upstream-ref-venv}" \
        UPSTREAM_DATABASE_URL="${PG_URL/#postgres:/postgresql:}/$UP_DB" \
        "$ROOT/conformance/upstream/serve.sh" "$PORT"
    for i in $(seq 1 1200); do
        if ! kill -0 "$UP_PID" 2>/dev/null; then log "the upstream server exited during startup"; exit 1; fi
        if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/auth/how" 2>/dev/null; then break; fi
        [ "$i" = 1200 ] && { log "the upstream server did not answer within 600 s"; exit 1; }
        sleep 0.5
    done
    analyze_note=""
    case "${BENCH_PG_ANALYZE:-auto}" in
        1) analyze=1 ;;
        0) analyze=0 ;;
        *) [ "$(psql_admin "SHOW autovacuum" 2>/dev/null || echo on)" = off ] && analyze=1 || analyze=0 ;;
    esac
    if [ "$analyze" = 1 ]; then
        log "upstream-postgres: ANALYZE every 15 s during the run (bench/pg-autoanalyze.sh), as for ours"
        start_group ANALYZE_PID /dev/null - "$ROOT/bench/pg-autoanalyze.sh" "$PG_URL/$UP_DB" 15
        analyze_note=", ANALYZE every 15 s"
    fi
    up_label="upstream balsam 0.7.0a24 (conformance/upstream), postgres$analyze_note, 1 uvicorn worker, $(nproc 2>/dev/null || echo '?') CPUs"
    log "upstream-postgres: balsam-bench ${up_flags[*]}"
    start_group BENCH_PID "$WORK/upstream-postgres.txt" - "$bench_bin" --url "http://127.0.0.1:$PORT" \
        "${up_flags[@]}" -q --label "$up_label" --json "$WORK/upstream-postgres.json"
    set +e
    wait "$BENCH_PID"
    rcs[upstream-postgres]=$?
    set -e
    BENCH_PID=""
    cat "$WORK/upstream-postgres.txt" >&2
    log "upstream-postgres: exit code ${rcs[upstream-postgres]}"
    if [ -n "$ANALYZE_PID" ]; then stop_group "$ANALYZE_PID" "pg-autoanalyze"; ANALYZE_PID=""; fi
    stop_group "$UP_PID" "the upstream server"
    UP_PID=""
    grep -c "Exception in ASGI application" "$WORK/upstream.log" >"$WORK/upstream-exceptions" || true
fi

# ---- the table ------------------------------------------------------------------------
args=()
for t in ours-sqlite ours-postgres upstream-postgres; do
    wants "$t" || continue
    args+=("$t=$WORK/$t.json")
    [ -f "$WORK/$t.json" ] && cp "$WORK/$t.json" "$OUT-$t.json"
done
ratio=()
if wants ours-postgres && wants upstream-postgres; then ratio=(--ratio ours-postgres/upstream-postgres); fi
rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
case "${BENCH_PG_ANALYZE:-auto}" in
    0) stats_note=", PostgreSQL never ANALYZEd" ;;
    1) stats_note=", PostgreSQL ANALYZEd every 15 s" ;;
    *) stats_note="" ;;
esac
title="balsam-bench comparison, $stamp, balsam-rs $rev ($PROFILE build), $(nproc 2>/dev/null || echo '?') CPUs$stats_note"
set +e
"$PYTHON" "$ROOT/bench/compare_table.py" --title "$title" "${ratio[@]}" --json "$OUT.json" "${args[@]}" >"$OUT.txt"
table_rc=$?
set -e
{
    for t in "${!rcs[@]}"; do
        [ "${rcs[$t]}" = 0 ] || echo "$t: balsam-bench exit code ${rcs[$t]} (1 request failed, 2 check failed, 3 duplicate acquire)"
    done
    n="$(cat "$WORK/upstream-exceptions" 2>/dev/null || echo 0)"
    [ "${n:-0}" != 0 ] && echo "upstream-postgres: the server logged $n 'Exception in ASGI application' (e.g. DELETE /sessions/{id} sends a body with its 204, which breaks the kept-alive connection)"
    true
} >>"$OUT.txt"
cat "$OUT.txt"
log "table: $OUT.txt (and .json, per-target JSON alongside)"
worst=0
for t in "${!rcs[@]}"; do [ "${rcs[$t]}" -gt "$worst" ] && worst="${rcs[$t]}"; done
[ "$table_rc" -ne 0 ] && [ "$worst" = 0 ] && worst=1
exit "$worst"
