#!/usr/bin/env bash
# Brings up the whole system on this machine (see README): installs what is missing, starts
# PostgreSQL/Redis if needed, then tools/up.ts brings up the lab "triad" (3 controllers), NATS,
# api, worker and a Triad agent in every controller, applies the demo spec (the agents' drivers
# bring up Corosync/Pacemaker, HAProxy, Galera, RabbitMQ), checks the VIPs, prints where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
export SWC_NODE_PROJECT=tsconfig.json
exec node -r @swc-node/register tools/up.ts "$@"
