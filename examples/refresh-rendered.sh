#!/bin/sh
# Re-renders the golden files under examples/rendered/ after an intended change to a renderer or
# an example. Review the diff (git diff examples/rendered) before committing it.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
for spec in "$ROOT"/examples/*.yaml; do
  name=$(basename "$spec" .yaml)
  rm -rf "$ROOT/examples/rendered/$name"
  "$ROOT/bin/triad" render --spec "$spec" --out "$ROOT/examples/rendered/$name" >/dev/null
done
