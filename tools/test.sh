#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, checks generated files and
# migrations are current, typechecks, lints, then runs every test — unit, integration against the
# real PostgreSQL/Redis/NATS and HA tools, and end to end. Prints "N passed, N failed" last.
#   bash tools/test.sh                   # the default suite (every test but the long lab scenarios)
#   bash tools/test.sh --long            # everything: also *.long.e2e.spec.ts (remediation, scale-out on the lab); CI runs this
#   bash tools/test.sh libs/spec         # only tests under a path (checks still run)
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--long" ]; then
  export TRIAD_LONG_TESTS=1
  shift
fi
export NX_DAEMON=false NX_NO_CLOUD=true SWC_NODE_PROJECT=tsconfig.json
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"

bash tools/install.sh || { echo "install failed"; exit 1; }

failures=()
step() {
  local name=$1; shift
  local t0=$SECONDS
  if "$@"; then echo "[test] ok: $name ($((SECONDS - t0))s)"; else echo "[test] FAILED: $name"; failures+=("$name"); fi
}

stale() { # regenerate, then fail if the committed copy differs
  local script=$1; shift
  bash "$script" && git diff --exit-code --stat -- "$@"
}

step "proto types are current" stale tools/gen-proto.sh libs/protocol/src/generated
[ -f tools/gen-schema.sh ] && step "GraphQL schema is current" stale tools/gen-schema.sh apps/api/schema.graphql
[ -f tools/db.sh ] && step "migrations match entities" bash tools/db.sh check
step "typecheck" npx tsc -p tsconfig.json --noEmit
step "lint" bash -c 'npx nx show projects >/dev/null && npx eslint . --max-warnings=0'

report=$(mktemp)
t0=$SECONDS
# --forceExit: a test that leaks a handle must not hang CI; leaks are still reported by Jest above.
npx jest --ci --forceExit --json --outputFile="$report" "$@"
jest_rc=$?
echo "[test] jest finished in $((SECONDS - t0))s"
read -r passed failed skipped < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites || 0), r.numPendingTests);
' "$report" 2>/dev/null || echo "0 1 0")
rm -f "$report"
[ "$jest_rc" -ne 0 ] && [ "$failed" = 0 ] && failed=1

if [ ${#failures[@]} -gt 0 ]; then
  echo "[test] failed checks: ${failures[*]}"
  failed=$((failed + ${#failures[@]}))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
