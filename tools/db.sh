#!/usr/bin/env bash
# Database schema tool (TypeORM migrations in migrations/, never synchronize).
#   tools/db.sh migrate          apply pending migrations to $DATABASE_URL
#   tools/db.sh revert           revert the last migration on $DATABASE_URL
#   tools/db.sh generate NAME    write migrations/<timestamp>-NAME.ts: the diff between the entities
#                                and a scratch database migrated to the current migrations
#   tools/db.sh check            fail if the entities and the migrations disagree (scratch database)
# generate/check create and drop their own scratch database on $DATABASE_URL's server.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWC_NODE_PROJECT=tsconfig.json
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/triad}"
DS=libs/server/db/src/typeorm-cli.config.ts
typeorm() { node -r @swc-node/register node_modules/typeorm/cli.js "$@"; }

server_url() { # same server, another database
  node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$DATABASE_URL" "$1"
}
psql_admin() { psql "$(server_url postgres)" -v ON_ERROR_STOP=1 -qAt "$@"; }

with_scratch_db() { # run "$@" with DATABASE_URL pointing at a fresh, migrated scratch database
  local db="triad_schema_$$"
  psql_admin -c "CREATE DATABASE $db"
  trap 'psql_admin -c "DROP DATABASE IF EXISTS '"$db"' WITH (FORCE)"' EXIT
  DATABASE_URL="$(server_url "$db")" typeorm migration:run -d "$DS" >/dev/null
  DATABASE_URL="$(server_url "$db")" "$@"
}

case "${1:-}" in
  migrate) DATABASE_URL="$DATABASE_URL" typeorm migration:run -d "$DS" ;;
  revert) DATABASE_URL="$DATABASE_URL" typeorm migration:revert -d "$DS" ;;
  generate)
    name="${2:?usage: tools/db.sh generate NAME}"
    with_scratch_db typeorm migration:generate "migrations/$name" -d "$DS" --pretty
    ;;
  check)
    if ! out=$(with_scratch_db typeorm migration:generate migrations/check -d "$DS" --check 2>&1); then
      echo "$out"
      echo "entities and migrations disagree: run tools/db.sh generate NAME, review, commit" >&2
      exit 1
    fi
    echo "migrations match entities"
    ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
