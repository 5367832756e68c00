#!/usr/bin/env bash
# Installs what Triad needs on a Debian machine (run as root) and starts the services it uses if
# they are not running: PostgreSQL, Redis, NATS (JetStream). Idempotent: a second run changes
# nothing. Used by tools/up.sh and tools/test.sh; safe to run on its own.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[install] %s\n' "$*" >&2; }

need_apt=()
want() { command -v "$1" >/dev/null 2>&1 || need_apt+=("${@:2}"); }
want haproxy haproxy
want socat socat
want crm_verify pacemaker-cli-utils pacemaker
want corosync corosync
want mariadbd mariadb-server mariadb-client
want rabbitmq-server rabbitmq-server
want nats-server nats-server
want redis-server redis-server
want psql postgresql postgresql-client
want ip iproute2
want pgrep procps
want rsync rsync
want mariabackup mariadb-backup
want curl curl
# ocf:heartbeat:rabbitmq-cluster lists the online nodes with xmllint; without it RabbitMQ never clusters.
want xmllint libxml2-utils
[ -e /usr/lib/galera/libgalera_smm.so ] || need_apt+=(galera-4)
[ -d /usr/lib/ocf/resource.d/heartbeat ] || need_apt+=(resource-agents)

if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  created_policy=0
  # Keep packages from starting their own daemons (we start what we need, on our terms).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# --- PostgreSQL -------------------------------------------------------------------------------
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  log "starting PostgreSQL"
  ver=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.2; done
fi
# Tests and the control plane connect over TCP as postgres/postgres. A fresh Debian cluster uses
# scram on 127.0.0.1, so give the role that password (harmless where auth is trust).
if ! PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  log "setting the postgres role's password for local TCP connections"
  runuser -u postgres -- psql -Atqc "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null
fi

# --- Redis ------------------------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/triad.log
  for _ in $(seq 1 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# --- NATS with JetStream ----------------------------------------------------------------------
if ! curl -fsS 'http://127.0.0.1:8222/healthz?js-enabled-only=true' >/dev/null 2>&1 \
   && ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  log "starting nats-server with JetStream"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.1; done
fi

# --- npm packages -----------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: the registry here serves @swc/core's binary for this platform only, so the lock
  # cannot list the other platforms' optional binaries and `npm ci` refuses it as out of sync.
  # `npm install` installs exactly the locked versions (checked: the lock stays unchanged).
  log "installing npm packages (npm install from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
log "ready"
