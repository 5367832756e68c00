#!/usr/bin/env bash
# Regenerates the TypeScript types for proto/ into libs/protocol/src/generated (committed; CI
# fails when they are stale). Options must match PROTO_LOADER_OPTIONS in agent-proto.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
out=libs/protocol/src/generated
rm -rf "$out"
npx proto-loader-gen-types --keepCase=false --longs=Number --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --includeDirs=proto --outDir="$out" --inputTemplate=%s --outputTemplate=%s__Output \
  triad/agent/v1/agent.proto >/dev/null
