#!/usr/bin/env bash
# Runs every Fuzz target of the module for a short time (FUZZTIME, default 5s).
# Any crash fails the run; the failing input is kept under testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
count=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $pkg $target ($fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >/tmp/fuzz-smoke.log 2>&1 || { cat /tmp/fuzz-smoke.log; exit 1; }
    count=$((count + 1))
  done
done
[ "$count" -gt 0 ] || { echo "fuzz: no fuzz targets found"; exit 1; }
echo "fuzz: $count targets passed"
