#!/usr/bin/env bash
# `make demo`: a living Balsam dashboard on this machine in one command.
#
# Builds the web client and, in release mode, balsam-server and balsam-sim; starts the
# server on a fresh SQLite data dir (.build/demo/data) serving web/dist; creates the user
# `demo`; starts the simulator with 3 Sites feeding it a steady stream of jobs; prints the
# URL and the credentials. Ctrl-C stops the simulator (it deletes its sessions) and then
# the server.
#
# Usage: scripts/demo.sh [--no-build] [extra balsam-sim flags, e.g. --rate 5 --speed 20]
# Environment: BALSAM_DEMO_PORT (8000), BALSAM_DEMO_PASSWORD (demo-password),
#              BALSAM_DEMO_RATE (jobs/s over all Sites, 2), BALSAM_DEMO_SPEED (10).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PORT=${BALSAM_DEMO_PORT:-8000}
PASSWORD=${BALSAM_DEMO_PASSWORD:-demo-password}
RATE=${BALSAM_DEMO_RATE:-2}
SPEED=${BALSAM_DEMO_SPEED:-10}
USERNAME=demo
DEMO_DIR=$ROOT/.build/demo
DATA=$DEMO_DIR/data
CARGO=${CARGO:-cargo}
SERVER=${CARGO_TARGET_DIR:-$ROOT/target}/release/balsam-server
SIM=${CARGO_TARGET_DIR:-$ROOT/target}/release/balsam-sim
BASE=http://127.0.0.1:$PORT
BUILD=1
if [ "${1:-}" = "--no-build" ]; then
    BUILD=0
    shift
fi

if [ -t 2 ]; then B=$'\033[1m' G=$'\033[1;32m' N=$'\033[0m'; else B='' G='' N=''; fi
say() { printf '%s[demo]%s %s\n' "$B" "$N" "$*" >&2; }
die() { say "error: $*"; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
port_in_use && die "127.0.0.1:$PORT is already in use (another server? try BALSAM_DEMO_PORT=8001 make demo)"

if [ "$BUILD" = 1 ]; then
    command -v npm >/dev/null 2>&1 || die "npm (Node.js 20) is needed to build the web client"
    say "building the web client (make web)"
    make --no-print-directory web
    say "building balsam-server and balsam-sim (release; the first build takes a few minutes)"
    "$CARGO" build --release -p balsam-server -p balsam-sim
fi
[ -x "$SERVER" ] && [ -x "$SIM" ] || die "missing $SERVER or $SIM (run without --no-build)"
[ -f web/dist/index.html ] || die "web/dist is missing (run without --no-build, or make web)"

# A fresh data dir every time: a new SQLite database and token secret.
rm -rf "$DATA"
mkdir -p "$DATA"
printf '%s\n' "$PASSWORD" | "$SERVER" --config /dev/null --data-dir "$DATA" user add "$USERNAME" >/dev/null

SERVER_PID=''
SIM_PID=''
STOPPING=0
INTERRUPTED=0

# Interrupts a child, polls until it is gone, kills it after $2 seconds. (No blocking
# `wait` here: it can miss an already reaped child and hang.)
stop_child() {
    local pid=$1 grace=$2 name=$3 ticks=0
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    say "stopping $name"
    kill -INT "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$ticks" -ge $((grace * 10)) ]; then
            say "$name did not stop within ${grace}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        ticks=$((ticks + 1))
    done
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    [ "$STOPPING" = 1 ] && return 0
    STOPPING=1
    trap '' INT TERM
    stop_child "$SIM_PID" 30 "the simulator (it deletes its sessions)"
    stop_child "$SERVER_PID" 15 "the server"
    say "stopped. The demo data stays in ${DATA#"$ROOT"/} until the next make demo; logs: ${DEMO_DIR#"$ROOT"/}/server.log"
}
# The handler only takes note; the main flow stops the children outside trap context.
trap 'INTERRUPTED=1' INT TERM
trap cleanup EXIT

# Children get their own process groups (job control), so a Ctrl-C reaches only this
# script, which then stops them in order: simulator first, server last.
set -m

"$SERVER" --config /dev/null --data-dir "$DATA" serve --bind "127.0.0.1:$PORT" \
    --web-dir "$ROOT/web/dist" >"$DEMO_DIR/server.log" 2>&1 </dev/null &
SERVER_PID=$!

ready() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null "$BASE/api/v1/auth/how" 2>/dev/null
    else
        port_in_use
    fi
}
for _ in $(seq 1 150); do
    [ "$INTERRUPTED" = 1 ] && exit 0
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server did not start; see $DEMO_DIR/server.log:
$(tail -n 20 "$DEMO_DIR/server.log")"
    ready && break
    sleep 0.2
done
ready || die "the server did not answer on $BASE within 30 s; see $DEMO_DIR/server.log"

cat >&2 <<EOF

${G}================================================================${N}
${G}  Balsam demo${N}
${G}  Open       ${B}$BASE/${N}
${G}  Log in as  ${B}$USERNAME${N}${G} / ${B}$PASSWORD${N}
${G}  API root   $BASE/api/v1   (balsam login -u $BASE/api/v1)${N}
${G}  Simulator  3 Sites, ~$RATE jobs/s, simulated time x$SPEED${N}
${G}  Ctrl-C stops the simulator, then the server.${N}
${G}================================================================${N}

EOF

"$SIM" --url "$BASE/api/v1" --username "$USERNAME" --password "$PASSWORD" \
    --sites 3 --site-prefix demo-site --jobs-per-site 0 --rate "$RATE" --speed "$SPEED" \
    "$@" </dev/null &
SIM_PID=$!

# Wait for Ctrl-C (a trapped signal makes `wait` return early).
status=0
while :; do
    wait "$SIM_PID" || status=$?
    [ "$INTERRUPTED" = 1 ] && exit 0
    kill -0 "$SIM_PID" 2>/dev/null || break
done
SIM_PID=''
say "the simulator exited (status $status); the server keeps running until Ctrl-C"
while :; do
    wait "$SERVER_PID" || true
    [ "$INTERRUPTED" = 1 ] && exit 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
done
SERVER_PID=''
die "the server stopped; see $DEMO_DIR/server.log"
