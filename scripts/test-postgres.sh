#!/usr/bin/env bash
# npm run test:postgres — the whole test suite against Temporal on PostgreSQL: `agent-runtime up --postgres` in a
# throw-away home (its own PostgreSQL cluster, the Temporal server, the Web UI, two workers), then `jest` with
# AGENT_RUNTIME_TEST_TEMPORAL_ADDRESS pointing at it (each run in a namespace of its own), then the stack stopped.
# Extra arguments go to jest. The first run builds the server binaries with Go (a few minutes, cached after).
set -uo pipefail
cd "$(dirname "$0")/.."

home=$(mktemp -d "${TMPDIR:-/tmp}/agent-runtime-test-pg-XXXXXX")
chmod 755 "$home" # the postgres user reaches its data directory inside
port=${AGENT_RUNTIME_TEST_PG_TEMPORAL_PORT:-7733}
log="$home/up.log"

echo "== up --postgres in $home (Temporal on 127.0.0.1:$port)"
env -u TEMPORAL_ADDRESS -u TEMPORAL_NAMESPACE \
  AGENT_RUNTIME_HOME="$home" AGENT_RUNTIME_TEMPORAL_PORT="$port" PORT="$((port + 20))" \
  TEMPORAL_UI_PORT="$((port + 21))" AGENT_RUNTIME_PG_PORT="$((port + 22))" AGENT_RUNTIME_DAEMON=off \
  node dist/cli.js up --postgres --workers 2 >"$log" 2>&1 &
up=$!
stop() {
  if kill -0 "$up" 2>/dev/null; then
    kill -INT "$up"
    wait "$up"
  fi
}
trap stop EXIT

for _ in $(seq 1 1200); do
  grep -q 'agent-runtime is up' "$log" && break
  if ! kill -0 "$up" 2>/dev/null; then
    echo "up --postgres exited before it was up:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  sleep 0.5
done
if ! grep -q 'agent-runtime is up' "$log"; then
  echo "up --postgres was not up after 10 minutes:" >&2
  tail -20 "$log" >&2
  exit 1
fi
grep -v '^\s*$' "$log" | head -12

echo "== jest against Temporal on PostgreSQL"
AGENT_RUNTIME_TEST_TEMPORAL_ADDRESS="127.0.0.1:$port" npx jest "$@"
