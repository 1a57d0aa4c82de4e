#!/usr/bin/env bash
# Stands in for autovacuum's ANALYZE on a benchmark database, for PostgreSQL servers that
# run with autovacuum = off (this machine's CI configuration does). Without it a table
# bulk-loaded to a million rows keeps the planner's empty-table estimates for the whole
# run, and list/acquire/PATCH plans are made blind, which no production server sees.
#
#   bench/pg-autoanalyze.sh DATABASE_URL [INTERVAL_SECS]
#
# Runs ANALYZE on the database every INTERVAL (default 15) seconds until it gets SIGTERM
# (run.sh and compare-upstream.sh start and stop it by PID).
set -u
url="${1:?usage: pg-autoanalyze.sh DATABASE_URL [INTERVAL_SECS]}"
every="${2:-15}"
child=""
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
while :; do
    sleep "$every" &
    child=$!
    wait "$child"
    psql "$url" -qAtc "ANALYZE" >/dev/null 2>&1 &
    child=$!
    wait "$child"
done
