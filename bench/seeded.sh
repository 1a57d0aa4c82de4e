#!/usr/bin/env bash
# The big-table report: a release server on a fresh store whose user already owns N jobs,
# then the hot calls timed against it (bench/probe.py).
#
#   bench/seeded.sh postgres|sqlite N [--analyze] [--keep]
#
# N jobs (10 000 000 in minutes, not hours) are written by SQL inside the database, in
# chunks of 1 000 000 (PostgreSQL: generate_series; SQLite: a recursive CTE), for one
# user, Site and App made through the API, in the shape balsam-bench's jobs have: a
# quarter each STAGED_IN, PREPROCESSED, RUNNING and JOB_FINISHED, tags {batch, kind},
# last_update one second apart. The per-(Site, state) counters are kept by the same
# triggers as every other insert; the per-tag counts (kept by the store as it writes)
# are built from the jobs afterwards. No LogEvents are seeded (the job table is
# what the hot calls read). Without --analyze, PostgreSQL plans on a table it has never ANALYZEd (this
# machine runs without autovacuum): the state right after a bulk load.
#
# Then bench/probe.py times, for that user: list pages (one state; -last_update; an
# offset; by tag), the 14 per-state counts the CLI sends for one Site, GET
# /jobs/state-counts, 100-job acquires (and tagged ones: a late batch, a tag no job
# carries), 1 000-job bulk creates and PATCHes.
#
# Environment: PG_URL (default postgres://postgres@127.0.0.1:5432), BENCH_SERVER_BIN (a
# prebuilt server; default: build the release one), PROBE_FLAGS (extra probe.py flags).
set -euo pipefail

log() { echo "[seeded] $*" >&2; }
backend="${1:?usage: bench/seeded.sh postgres|sqlite N [--analyze] [--keep]}"
n="${2:?usage: bench/seeded.sh postgres|sqlite N [--analyze] [--keep]}"
shift 2
analyze=0
keep=0
for a in "$@"; do
    case "$a" in
        --analyze) analyze=1 ;;
        --keep) keep=1 ;;
        *) log "unknown flag $a"; exit 64 ;;
    esac
done
case "$backend" in postgres | sqlite) ;; *) log "backend must be postgres or sqlite"; exit 64 ;; esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
PG_URL="${PG_URL%/}"
if [ -n "${BENCH_SERVER_BIN:-}" ]; then
    server_bin="$BENCH_SERVER_BIN"
    # The server starts from the work directory: make a relative path absolute.
    case "$server_bin" in /*) ;; *) server_bin="$PWD/$server_bin" ;; esac
else
    (cd "$ROOT" && cargo build --release -p balsam-server)
    server_bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/balsam-server"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/balsam-seeded.XXXXXX")"
DB_NAME=""
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    if [ "$keep" = 0 ]; then
        [ -n "$DB_NAME" ] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB_NAME" || true
        rm -rf "$WORK"
    else
        log "kept $WORK ${DB_NAME:+and database $DB_NAME}"
    fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
args=(serve --bind "127.0.0.1:$port" --data-dir "$WORK/data")
if [ "$backend" = postgres ]; then
    DB_NAME="balsam_seeded_$$"
    psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB_NAME"
    args+=(--database-url "$PG_URL/$DB_NAME")
fi
(cd "$WORK" && exec "$server_bin" "${args[@]}") >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
api="http://127.0.0.1:$port/api/v1"
for i in $(seq 240); do
    curl -sf "$api/auth/how" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { log "the server exited"; tail "$WORK/server.log"; exit 1; }
    sleep 0.5
done

# User, Site and App through the API (what the SDK sends).
user="seeded_$$"
pass="pw-seeded-$$-balsam"
curl -sf -X POST "$api/auth/password/register" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$pass\"}" >/dev/null
token=$(curl -sf -X POST "$api/auth/password/login" --data-urlencode "username=$user" \
    --data-urlencode "password=$pass" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
auth=(-H "authorization: Bearer $token" -H 'content-type: application/json')
site=$(curl -sf -X POST "$api/sites/" "${auth[@]}" -d '{"name":"seeded","path":"/tmp/seeded"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
app=$(curl -sf -X POST "$api/apps/" "${auth[@]}" \
    -d "{\"site_id\":$site,\"name\":\"SeededApp\",\"serialized_class\":\"x\",\"source_code\":\"y\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

chunk=1000000
t0=$(date +%s)
log "seeding $n jobs ($backend) in chunks of $chunk"
if [ "$backend" = postgres ]; then
    for ((lo = 1; lo <= n; lo += chunk)); do
        hi=$((lo + chunk - 1)); [ "$hi" -gt "$n" ] && hi=$n
        psql "$PG_URL/$DB_NAME" -v ON_ERROR_STOP=1 -qc "
          INSERT INTO jobs (owner_id, site_id, app_id, workdir, tags, serialized_parameters, state,
             last_update, data, parent_ids, num_nodes, ranks_per_node, threads_per_rank,
             threads_per_core, launch_params, gpus_per_rank, node_packing_count, wall_time_min)
          SELECT s.owner_id, s.id, $app, 'seeded/' || g,
             jsonb_build_object('batch', (g / 1000)::text, 'kind', CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END),
             '', (ARRAY['STAGED_IN','PREPROCESSED','RUNNING','JOB_FINISHED'])[1 + g % 4],
             timestamp '2026-01-01' + g * interval '1 second', '{}', '[]', 1, 1, 1, 1, '{}', 0, 1, 0
          FROM generate_series($lo, $hi) g, sites s WHERE s.id = $site"
        log "  $hi jobs ($(( $(date +%s) - t0 )) s)"
    done
    # The per-tag counts the store keeps as it writes (migration 0010), from the jobs.
    psql "$PG_URL/$DB_NAME" -v ON_ERROR_STOP=1 -qc "
      INSERT INTO job_tag_counts (owner_id, key, value, shard, count)
      SELECT j.owner_id, t.key, t.value, 0, count(*)
      FROM jobs j CROSS JOIN LATERAL jsonb_each_text(j.tags) t GROUP BY 1, 2, 3"
    [ "$analyze" = 1 ] && { log "ANALYZE"; psql "$PG_URL/$DB_NAME" -qc "ANALYZE"; }
else
    python3 - "$WORK/data/balsam.db" "$n" "$chunk" "$site" "$app" <<'PY'
import sqlite3, sys, time
path, n, chunk, site, app = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
db = sqlite3.connect(path, timeout=60)
db.execute("PRAGMA journal_mode=WAL")
owner = db.execute("SELECT owner_id FROM sites WHERE id = ?", (site,)).fetchone()[0]
t0 = time.time()
base = 1767225600 * 1000000  # 2026-01-01 in microseconds
for lo in range(1, n + 1, chunk):
    hi = min(lo + chunk - 1, n)
    db.execute("""
      WITH RECURSIVE g(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM g WHERE x < ?)
      INSERT INTO jobs (owner_id, site_id, app_id, workdir, tags, serialized_parameters, state,
         last_update, data, parent_ids, num_nodes, ranks_per_node, threads_per_rank,
         threads_per_core, launch_params, gpus_per_rank, node_packing_count, wall_time_min)
      SELECT ?, ?, ?, 'seeded/' || x,
         json_object('batch', CAST(x / 1000 AS TEXT), 'kind', CASE WHEN x % 2 = 0 THEN 'even' ELSE 'odd' END),
         '', CASE x % 4 WHEN 0 THEN 'STAGED_IN' WHEN 1 THEN 'PREPROCESSED' WHEN 2 THEN 'RUNNING' ELSE 'JOB_FINISHED' END,
         ? + x * 1000000, '{}', '[]', 1, 1, 1, 1, '{}', 0, 1, 0
      FROM g""", (lo, hi, owner, site, app, base))
    db.commit()
    print(f"[seeded]   {hi} jobs ({time.time() - t0:.0f} s)", file=sys.stderr)
# The per-tag counts the store keeps as it writes (migration 0010), from the jobs.
db.execute("""
  INSERT INTO job_tag_counts (owner_id, key, value, shard, count)
  SELECT j.owner_id, t.key, t.value, 0, count(*) FROM jobs j, json_each(j.tags) t GROUP BY 1, 2, 3""")
db.commit()
PY
    [ "$analyze" = 1 ] && { log "ANALYZE"; python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('ANALYZE')" "$WORK/data/balsam.db"; }
fi
log "seeded in $(( $(date +%s) - t0 )) s"

python3 "$ROOT/bench/probe.py" --url "$api" --token "$token" --site "$site" --app "$app" \
    --label "$backend, $n seeded jobs, $([ "$analyze" = 1 ] && echo ANALYZEd || echo 'no statistics')" \
    ${PROBE_FLAGS:-}
