#!/usr/bin/env bash
# A production-shaped balsam-rs cluster on loopback only: PostgreSQL and Redis (the
# machine's own), N balsam-server replicas and NGINX with deploy/nginx.conf in front.
#
#   deploy/local-cluster.sh up        # build, start everything, print the URL
#   deploy/local-cluster.sh status    # what runs, and whether each replica is ready
#   deploy/local-cluster.sh down      # stop everything it started (by PID)
#   deploy/local-cluster.sh kill N    # kill replica N (for failover tests)
#   deploy/local-cluster.sh start N   # start replica N again
#
# Environment: CLUSTER_PORT (NGINX, default 18300), REPLICA_BASE_PORT (default 18301),
# REPLICAS (default 2), PG_URL (default postgres://postgres@127.0.0.1:5432),
# REDIS_URL (default redis://127.0.0.1:6379), CLUSTER_DB (default balsam_cluster),
# SERVER_BIN (default target/debug/balsam-server, built if missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.build/cluster"
CLUSTER_PORT="${CLUSTER_PORT:-18300}"
REPLICA_BASE_PORT="${REPLICA_BASE_PORT:-18301}"
REPLICAS="${REPLICAS:-2}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
CLUSTER_DB="${CLUSTER_DB:-balsam_cluster}"
SERVER_BIN="${SERVER_BIN:-$ROOT/target/debug/balsam-server}"

log() { echo "[cluster] $*" >&2; }
pidfile() { echo "$STATE/run/$1.pid"; }
alive() { [ -f "$(pidfile "$1")" ] && kill -0 "$(cat "$(pidfile "$1")")" 2>/dev/null; }
replica_port() { echo $((REPLICA_BASE_PORT + $1 - 1)); }

wait_ready() {
    local url=$1
    for _ in $(seq 1 100); do
        curl -fsS "$url" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    log "error: $url did not become ready"; return 1
}

start_replica() {
    local n=$1 port
    port=$(replica_port "$n")
    mkdir -p "$STATE/data/replica-$n" "$STATE/logs"
    BALSAM_AUTH__SECRET_KEY="$(cat "$STATE/secret")" \
    BALSAM_METRICS__ENABLED=true \
    BALSAM_METRICS__BEARER_TOKEN="$(cat "$STATE/metrics-token")" \
    BALSAM_TELEMETRY__LOG_FORMAT=json \
    RUST_LOG="${RUST_LOG:-info,sqlx=warn}" \
        "$SERVER_BIN" --data-dir "$STATE/data/replica-$n" \
        --database-url "$PG_URL/$CLUSTER_DB" serve \
        --bind "127.0.0.1:$port" --redis-url "$REDIS_URL" \
        >"$STATE/logs/replica-$n.log" 2>&1 &
    echo $! >"$(pidfile "replica-$n")"
    wait_ready "http://127.0.0.1:$port/api/v1/ready"
    log "replica $n: pid $(cat "$(pidfile "replica-$n")"), http://127.0.0.1:$port"
}

stop_pid() {
    local name=$1 pid
    [ -f "$(pidfile "$name")" ] || return 0
    pid=$(cat "$(pidfile "$name")")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$(pidfile "$name")"
}

nginx_conf() {
    local upstreams="" n
    for n in $(seq 1 "$REPLICAS"); do
        upstreams+="    server 127.0.0.1:$(replica_port "$n") max_fails=1 fail_timeout=2s;\n"
    done
    # deploy/nginx.conf, with the marked values rewritten, inside a minimal main context
    # whose files all live under .build/cluster (no root needed, nothing system-wide).
    {
        echo "daemon on;"
        echo "worker_processes 2;"
        echo "pid $STATE/run/nginx.pid;"
        echo "error_log $STATE/logs/nginx-error.log warn;"
        echo "events { worker_connections 1024; }"
        echo "http {"
        echo "    include /etc/nginx/mime.types;"
        echo "    default_type application/octet-stream;"
        echo "    access_log $STATE/logs/nginx-access.log;"
        for d in client_body proxy fastcgi uwsgi scgi; do echo "    ${d}_temp_path $STATE/nginx/$d;"; done
        awk -v ups="$upstreams" -v root="$ROOT/web/dist" -v port="$CLUSTER_PORT" '
            /# replica 1/ { printf "%s", ups; next }
            /# replica 2/ { next }
            /^    listen 80;/ { print "    listen 127.0.0.1:" port ";"; next }
            /^    root \/srv\/balsam\/web;/ { print "    root " root ";"; next }
            { print "    " $0 }' "$ROOT/deploy/nginx.conf" | sed 's/\\n/\n/g'
        echo "}"
    } >"$STATE/nginx.conf"
}

up() {
    mkdir -p "$STATE/run" "$STATE/logs" "$STATE/nginx"
    if alive nginx || alive replica-1; then
        log "already up (deploy/local-cluster.sh down first)"; status; return 0
    fi
    "$ROOT/scripts/ensure-services.sh"
    if ! command -v nginx >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || { log "error: nginx is missing (apt-get install nginx)"; exit 1; }
        log "installing nginx from Debian's packages"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
        # Debian starts a system nginx on :80 after installing; we run our own.
        (command -v systemctl >/dev/null && systemctl stop nginx 2>/dev/null) || nginx -s stop 2>/dev/null || true
    fi
    [ -x "$SERVER_BIN" ] || (cd "$ROOT" && cargo build -p balsam-server)
    [ -f "$ROOT/web/dist/index.html" ] || make -C "$ROOT" web
    [ -f "$STATE/secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/secret"
    chmod 600 "$STATE/secret"
    # /metrics only with a bearer token (docs/security.md): never public, even locally.
    [ -f "$STATE/metrics-token" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/metrics-token"
    chmod 600 "$STATE/metrics-token"
    log "fresh database $CLUSTER_DB"
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$CLUSTER_DB\" WITH (FORCE)" >/dev/null
    for n in $(seq 1 "$REPLICAS"); do start_replica "$n"; done
    nginx_conf
    nginx -t -p "$STATE/nginx" -c "$STATE/nginx.conf" -q
    nginx -p "$STATE/nginx" -c "$STATE/nginx.conf"
    for _ in $(seq 1 50); do [ -s "$STATE/run/nginx.pid" ] && break; sleep 0.1; done
    wait_ready "http://127.0.0.1:$CLUSTER_PORT/api/v1/ready"
    log "up: http://127.0.0.1:$CLUSTER_PORT/  (API root http://127.0.0.1:$CLUSTER_PORT/api/v1)"
    log "metrics: curl -H \"Authorization: Bearer \$(cat $STATE/metrics-token)\" http://127.0.0.1:$(replica_port 1)/metrics"
}

down() {
    [ -d "$STATE/run" ] || { log "nothing to stop"; return 0; }
    if alive nginx; then
        nginx -p "$STATE/nginx" -c "$STATE/nginx.conf" -s quit 2>/dev/null || true
        sleep 0.5
    fi
    stop_pid nginx
    for f in "$STATE"/run/replica-*.pid; do
        [ -e "$f" ] || continue
        stop_pid "$(basename "$f" .pid)"
    done
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$CLUSTER_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    log "down"
}

status() {
    local n port
    if alive nginx; then echo "nginx      pid $(cat "$(pidfile nginx)")  http://127.0.0.1:$CLUSTER_PORT/"; else echo "nginx      stopped"; fi
    for n in $(seq 1 "$REPLICAS"); do
        port=$(replica_port "$n")
        if alive "replica-$n"; then
            local ready
            ready=$(curl -fsS "http://127.0.0.1:$port/api/v1/ready" 2>/dev/null | head -c 200 || echo "not ready")
            echo "replica-$n  pid $(cat "$(pidfile "replica-$n")")  :$port  $ready"
        else
            echo "replica-$n  stopped"
        fi
    done
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    kill)
        alive "replica-${2:?replica number}" || { log "replica $2 is not running"; exit 1; }
        kill -9 "$(cat "$(pidfile "replica-$2")")"
        rm -f "$(pidfile "replica-$2")"
        log "killed replica $2 (SIGKILL)" ;;
    start) start_replica "${2:?replica number}" ;;
    *) sed -n '2,16p' "$0"; exit 64 ;;
esac
