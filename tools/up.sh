#!/usr/bin/env bash
# Brings up the whole system on this machine (see README): installs what is missing, starts
# PostgreSQL/Redis if needed, then tools/up.ts starts NATS, api, worker, demo agents and applies
# the demo spec, and prints where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh
export SWC_NODE_PROJECT=tsconfig.json
exec node -r @swc-node/register tools/up.ts "$@"
