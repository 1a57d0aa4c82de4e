#!/usr/bin/env bash
# End to end through NGINX: brings the local cluster up (deploy/local-cluster.sh: NGINX,
# two replicas, PostgreSQL, Redis), runs the conformance suite and the cluster's
# Playwright suite against it (including killing replicas), and always brings it down.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_PORT="${CLUSTER_PORT:-18300}"
cd "$ROOT"
# The conformance suite registers upstream's one-character passwords: the replicas (and
# any the browser tests restart) accept them, as conformance/run.sh's own servers do.
export BALSAM_AUTH__MIN_PASSWORD_LENGTH=1
trap 'deploy/local-cluster.sh down' EXIT
deploy/local-cluster.sh up
CONFORMANCE_API_ROOT="http://127.0.0.1:$CLUSTER_PORT/api/v1" \
    ./conformance/run.sh -q -m "not site_agent" -p no:cacheprovider
(cd web && BALSAM_CLUSTER_URL="http://127.0.0.1:$CLUSTER_PORT" npx playwright test -c playwright.cluster.config.ts)
