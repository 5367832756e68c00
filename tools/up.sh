#!/usr/bin/env bash
# Brings up the whole system on this machine (see README): installs what is missing, starts
# PostgreSQL/Redis if needed, then tools/up.ts brings up the lab "triad" (3 controllers), NATS,
# api, worker, the controllers' Corosync/Pacemaker stack and Triad agents, applies the demo spec,
# and prints where to look. Options: --resources none|haproxy-vips|haproxy-vips-galera|all (default all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
export SWC_NODE_PROJECT=tsconfig.json
exec node -r @swc-node/register tools/up.ts "$@"
