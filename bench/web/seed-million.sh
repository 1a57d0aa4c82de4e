#!/usr/bin/env bash
# A store for bench/web/million.mjs: one user (bench / bench-password-1) owning N jobs and
# their LogEvents, written by SQL inside the database (minutes, not hours), on SQLite or
# PostgreSQL, with the history a busy week leaves:
#
#   bench/web/seed-million.sh sqlite|postgres DIR [N]     (N: 1 000 000 by default)
#
# DIR is the server's data dir (SQLite database, token secret); on PostgreSQL the database
# PG_DB (`balsam_million`) on PG_URL is dropped and made again, and DIR/database-url names it
# (million.mjs reads it). One Site and App are made through the API (as the SDK does).
# Jobs: 1 in 20 RUNNING, 1 in 20 PREPROCESSED, 1 in 20 STAGED_IN, the rest JOB_FINISHED;
# the newest 250 000 moved in the last hour (about 212 000 finished), the others over the
# six days and 23 hours before, every `last_update` distinct. LogEvents: each job's path
# CREATED → STAGED_IN → PREPROCESSED → RUNNING → RUN_DONE → JOB_FINISHED as far as its state,
# a minute apart, the last at its `last_update` (about 4.6 M for 1 M jobs). The per-(Site,
# state) counters are kept by the same triggers as every insert; the charts' per-minute
# rollup is built from the LogEvents as migration 0009 does. No ANALYZE.
#
# Environment: PG_URL (postgres://postgres@127.0.0.1:5432), PG_DB (balsam_million; another name
# keeps two benches on one PostgreSQL apart), BALSAM_SERVER_BIN
# (target/release/balsam-server).
set -euo pipefail
log() { echo "[seed-million] $*" >&2; }
usage="usage: bench/web/seed-million.sh sqlite|postgres DIR [N]"
backend="${1:?$usage}"
dir="${2:?$usage}"
n="${3:-1000000}"
case "$backend" in postgres | sqlite) ;; *) log "$usage"; exit 64 ;; esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
server_bin="${BALSAM_SERVER_BIN:-$ROOT/target/release/balsam-server}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
PG_URL="${PG_URL%/}"
PG_DB="${PG_DB:-balsam_million}"
case "$PG_DB" in *[!a-z0-9_]* | '') log "PG_DB: lower-case letters, digits and _ only"; exit 64 ;; esac

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
args=(serve --bind "127.0.0.1:0" --data-dir "$dir")
if [ "$backend" = postgres ]; then
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" -qc "CREATE DATABASE $PG_DB"
    echo "$PG_URL/$PG_DB" >"$dir/database-url"
    args+=(--database-url "$PG_URL/$PG_DB")
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
args[2]="127.0.0.1:$port"
BALSAM_TELEMETRY__LOG_FILTER=warn "$server_bin" "${args[@]}" >"$dir/seed-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
api="http://127.0.0.1:$port/api/v1"
for _ in $(seq 240); do
    curl -sf "$api/auth/how" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -sf -X POST "$api/auth/password/register" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"bench-password-1"}' >/dev/null
token=$(curl -sf -X POST "$api/auth/password/login" --data-urlencode username=bench \
    --data-urlencode password=bench-password-1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
auth=(-H "authorization: Bearer $token" -H 'content-type: application/json')
site=$(curl -sf -X POST "$api/sites/" "${auth[@]}" -d '{"name":"theta","path":"/projects/bench"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
app=$(curl -sf -X POST "$api/apps/" "${auth[@]}" \
    -d "{\"site_id\":$site,\"name\":\"Simulate\",\"serialized_class\":\"x\",\"source_code\":\"y\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
kill $server
wait $server 2>/dev/null || true
trap - EXIT

now_us=$(python3 -c 'import time; print(int(time.time() * 1e6))')
recent=250000
[ "$recent" -gt "$n" ] && recent=$n
older=$((n - recent))
t0=$(date +%s)
log "writing $n jobs and their LogEvents ($backend)"
# Job g's last_update, in µs: the newest $recent over the last hour, the rest over the 6 days
# 23 hours before; + g keeps them distinct.
when="CASE WHEN g > $older THEN $now_us - ($n - g) * 3600000000 / $recent \
           ELSE $now_us - 3600000000 - ($older - g) * (167 * 3600000000 / greatest_older) END + g"
state="CASE g % 20 WHEN 0 THEN 'RUNNING' WHEN 1 THEN 'PREPROCESSED' WHEN 2 THEN 'STAGED_IN' ELSE 'JOB_FINISHED' END"
steps="(1, 'CREATED', 'STAGED_IN'), (2, 'STAGED_IN', 'PREPROCESSED'), (3, 'PREPROCESSED', 'RUNNING'), \
       (4, 'RUNNING', 'RUN_DONE'), (5, 'RUN_DONE', 'JOB_FINISHED')"
depth="CASE j.state WHEN 'STAGED_IN' THEN 1 WHEN 'PREPROCESSED' THEN 2 WHEN 'RUNNING' THEN 3 ELSE 5 END"
if [ "$backend" = postgres ]; then
    url="$PG_URL/$PG_DB"
    w="${when//greatest_older/greatest($older, 1)}"
    psql "$url" -v ON_ERROR_STOP=1 -q <<SQL
INSERT INTO jobs (owner_id, site_id, app_id, workdir, tags, serialized_parameters, state,
   last_update, data, parent_ids, num_nodes, ranks_per_node, threads_per_rank,
   threads_per_core, launch_params, gpus_per_rank, node_packing_count, wall_time_min)
SELECT s.owner_id, s.id, $app, 'bench/' || g,
   jsonb_build_object('batch', (g / 1000)::text, 'kind', CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END),
   '', $state, timestamp 'epoch' + ($w) * interval '1 microsecond',
   '{}', '[]', 1, 1, 1, 1, '{}', 0, 1, 0
FROM generate_series(1, $n) g, sites s WHERE s.id = $site;
INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state, data)
SELECT j.id, j.owner_id, j.last_update - (($depth) - s.i) * interval '60 seconds', s.f, s.t, '{}'
FROM jobs j, (VALUES $steps) s(i, f, t) WHERE s.i <= $depth;
-- The per-tag counts the store keeps as it writes (migration 0010), from the jobs.
INSERT INTO job_tag_counts (owner_id, key, value, shard, count)
SELECT j.owner_id, t.key, t.value, 0, count(*)
FROM jobs j CROSS JOIN LATERAL jsonb_each_text(j.tags) t GROUP BY 1, 2, 3;
-- The charts' per-minute rollup, as migration 0009 builds it from existing LogEvents.
INSERT INTO log_event_minutes (owner_id, minute, site_id, shard, finished, moved, moved_s)
SELECT e.owner_id, m.minute, j.site_id, 0,
       count(*) FILTER (WHERE e.to_state = 'JOB_FINISHED'),
       COALESCE(sum(m.sign * j.num_nodes::float8 / greatest(1, j.node_packing_count)), 0),
       COALESCE(sum(m.sign * j.num_nodes::float8 / greatest(1, j.node_packing_count)
                    * (m.epoch - m.minute * 60)), 0)
FROM log_events e JOIN jobs j ON j.id = e.job_id
CROSS JOIN LATERAL (
    SELECT EXTRACT(EPOCH FROM e.timestamp)::float8 AS epoch,
           floor(EXTRACT(EPOCH FROM e.timestamp)::float8 / 60)::int8 AS minute,
           CASE WHEN e.to_state = 'RUNNING' AND e.from_state <> 'RUNNING' THEN 1
                WHEN e.from_state = 'RUNNING' AND e.to_state <> 'RUNNING' THEN -1
                ELSE 0 END AS sign) m
WHERE e.to_state IN ('JOB_FINISHED', 'RUNNING') OR e.from_state = 'RUNNING'
GROUP BY e.owner_id, m.minute, j.site_id;
SQL
else
    w="${when//greatest_older/max($older, 1)}"
    python3 - "$dir/balsam.db" <<PY
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=60)
db.execute("PRAGMA journal_mode=WAL")
owner = db.execute("SELECT owner_id FROM sites WHERE id = $site").fetchone()[0]
db.execute(f"""
  WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < $n)
  INSERT INTO jobs (owner_id, site_id, app_id, workdir, tags, serialized_parameters, state,
     last_update, data, parent_ids, num_nodes, ranks_per_node, threads_per_rank,
     threads_per_core, launch_params, gpus_per_rank, node_packing_count, wall_time_min)
  SELECT {owner}, $site, $app, 'bench/' || g,
     json_object('batch', CAST(g / 1000 AS TEXT), 'kind', CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END),
     '', $state, $w, '{{}}', '[]', 1, 1, 1, 1, '{{}}', 0, 1, 0
  FROM n""")
db.commit()
db.execute("""
  WITH s(i, f, t) AS (VALUES $steps)
  INSERT INTO log_events (job_id, owner_id, timestamp, from_state, to_state, data)
  SELECT j.id, j.owner_id, j.last_update - (($depth) - s.i) * 60000000, s.f, s.t, '{}'
  FROM jobs j, s WHERE s.i <= $depth""")
db.commit()
# The per-tag counts the store keeps as it writes (migration 0010), from the jobs.
db.execute("""
  INSERT INTO job_tag_counts (owner_id, key, value, shard, count)
  SELECT j.owner_id, t.key, t.value, 0, count(*) FROM jobs j, json_each(j.tags) t GROUP BY 1, 2, 3""")
db.commit()
# The charts' per-minute rollup, as migration 0009 builds it from existing LogEvents.
db.execute("""
  INSERT INTO log_event_minutes (owner_id, minute, site_id, shard, finished, moved, moved_s)
  SELECT owner_id, minute, site_id, 0, sum(to_state = 'JOB_FINISHED'), sum(sign * w),
         sum(sign * w * (ts - minute * 60000000) / 1000000.0)
  FROM (SELECT e.owner_id, e.to_state, e.timestamp AS ts, j.site_id,
               (e.timestamp - (((e.timestamp % 60000000) + 60000000) % 60000000)) / 60000000 AS minute,
               CAST(j.num_nodes AS REAL) / max(1, j.node_packing_count) AS w,
               CASE WHEN e.to_state = 'RUNNING' AND e.from_state <> 'RUNNING' THEN 1
                    WHEN e.from_state = 'RUNNING' AND e.to_state <> 'RUNNING' THEN -1
                    ELSE 0 END AS sign
        FROM log_events e JOIN jobs j ON j.id = e.job_id
        WHERE e.to_state IN ('JOB_FINISHED', 'RUNNING') OR e.from_state = 'RUNNING')
  GROUP BY owner_id, minute, site_id""")
db.commit()
PY
fi
log "done in $(($(date +%s) - t0)) s: $dir"
