#!/usr/bin/env bash
# Stops everything tools/up.sh started, by PID (TERM, then KILL after 10 s). Keeps .triad/ state
# (database, identities, keys) so the next `up` resumes; `--purge` also deletes it and the database.
set -uo pipefail
cd "$(dirname "$0")/.."
run=.triad/run
[ -d "$run" ] || { echo "[down] nothing to stop"; exit 0; }
stop_pid() {
  local name=$1 pid=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { echo "[down] stopped $name"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null; echo "[down] killed $name (did not stop within 10 s)"
}
# Agents first (they stop their haproxy), then the control plane, then NATS.
for f in "$run"/agent-*.pid "$run"/standin-*.pid "$run"/worker.pid "$run"/api.pid "$run"/nats.pid; do
  [ -f "$f" ] || continue
  stop_pid "$(basename "$f" .pid)" "$(cat "$f")"
  rm -f "$f"
done
if [ "${1:-}" = "--purge" ]; then
  rm -rf .triad
  PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -qc 'drop database if exists triad' && echo "[down] purged state and database"
  redis-cli --scan --pattern 'triad-demo:*' | xargs -r redis-cli del >/dev/null
fi
