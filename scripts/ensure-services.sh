#!/usr/bin/env bash
# Makes sure the services the test suite uses are up: PostgreSQL on 127.0.0.1:5432
# (trust auth, user postgres) and Redis on 127.0.0.1:6379. Starts the machine's own
# servers when they are installed but down; installs them from Debian's packages when
# they are missing and we are root.
set -euo pipefail

log() { echo "[services] $*" >&2; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing PostgreSQL from Debian's packages"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        log "error: PostgreSQL is not installed (apt-get install postgresql)"; exit 1
    fi
fi

if ! pg_up; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
        log "starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    fi
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { log "error: PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }

# Tests connect as postgres without a password (trust auth on loopback, as on CI).
if ! psql -h 127.0.0.1 -U postgres -Atc 'select 1' >/dev/null 2>&1; then
    log "error: cannot connect as postgres@127.0.0.1 without a password; allow trust auth for loopback in pg_hba.conf"
    exit 1
fi
log "PostgreSQL is up on 127.0.0.1:5432"

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing Redis from Debian's packages"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        log "error: Redis is not installed (apt-get install redis-server)"; exit 1
    fi
fi
if ! redis_up; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
redis_up || { log "error: Redis is not reachable on 127.0.0.1:6379"; exit 1; }
log "Redis is up on 127.0.0.1:6379"
