# Shell helpers shared by the bench scripts. Source it after setting PG_URL, ROOT and WORK
# and defining log().

psql_admin() { psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -qAtc "$1"; }

# Starts the local PostgreSQL through scripts/ensure-services.sh if it is not answering.
ensure_postgres() {
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ -x "$ROOT/scripts/ensure-services.sh" ]; then
        "$ROOT/scripts/ensure-services.sh"
    fi
}

# Drops database $1, forcing its connections off where PostgreSQL can (13+).
drop_database() {
    log "dropping database $1"
    psql_admin "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" 2>/dev/null \
        || psql_admin "DROP DATABASE IF EXISTS \"$1\"" \
        || log "warning: could not drop database $1"
}

# Ends a run: after a failure ($1 non-zero) shows the last lines of log file $2 (named $3);
# keeps $WORK with BENCH_KEEP=1, else removes it.
finish_work_dir() {
    if [ "$1" -ne 0 ] && [ -f "$2" ]; then
        log "last lines of the $3 log:"
        tail -n 20 "$2" >&2 || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
