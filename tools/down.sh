#!/usr/bin/env bash
# Stops everything tools/up.sh started: the lab "triad" (its agents, Pacemaker/Corosync, HAProxy,
# Galera, RabbitMQ, stand-ins: tools/lab/lab down), then by PID (TERM, then KILL after 10 s) the
# worker, the api and NATS. Keeps .triad/ state (database, agent identities, keys) so the next
# `up` resumes; `--purge` also deletes it and the database (closing any session still using it).
set -uo pipefail
cd "$(dirname "$0")/.."
run=.triad/run
if [ -d /var/lib/triad-lab/triad ]; then
  tools/lab/lab --name triad down || echo "[down] the lab did not go away cleanly: see above" >&2
fi
stop_pid() {
  local name=$1 pid=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { echo "[down] stopped $name"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null; echo "[down] killed $name (did not stop within 10 s)"
}
if [ -d "$run" ]; then
  # agent-*/standin-*: local agents of an earlier up (before the lab); then the control plane, then NATS.
  for f in "$run"/agent-*.pid "$run"/standin-*.pid "$run"/worker.pid "$run"/api.pid "$run"/nats.pid; do
    [ -f "$f" ] || continue
    stop_pid "$(basename "$f" .pid)" "$(cat "$f")"
    rm -f "$f"
  done
fi
if [ "${1:-}" = "--purge" ]; then
  rm -rf .triad
  PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -qc 'drop database if exists triad with (force)' && echo "[down] purged state and database"
  redis-cli --scan --pattern 'triad-demo:*' | xargs -r redis-cli del >/dev/null
fi
