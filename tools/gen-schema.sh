#!/usr/bin/env bash
# Regenerates apps/api/schema.graphql from the code-first resolvers (no database needed).
# CI (tools/test.sh) runs it and fails when the committed file differs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=apps/api/schema.graphql
tmp=$(mktemp)
SWC_NODE_PROJECT=tsconfig.json node -r @swc-node/register apps/api/src/print-schema.ts >"$tmp"
mv "$tmp" "$out"
chmod 644 "$out"
