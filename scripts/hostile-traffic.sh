#!/usr/bin/env bash
# The hostile-traffic suite of issue #18 for longer than the tests run it: ROUNDS rounds of the generator (seed,
# seed+1, ...; each ~800 bodies: extreme and non-finite numbers, wrong types, 1-5 MB strings, 100k-element arrays,
# 10k-deep nesting, invalid UTF-8, every sampling field at and beyond its range) with bounded concurrency against
# URL, while four innocent greedy streams (OpenAI .NET client) run; prints counts by status class, connection
# failures (resets), timeouts, the contract's violations, and whether the innocent outputs equalled their solo runs.
# Exit status 0 only when nothing broke the contract. Only loopback servers are meant as targets.
# Usage:
#   scripts/hostile-traffic.sh URL [--model stories260K] [--key KEY] [--rounds 3] [--seed 18] [--concurrency 8]
#       [--mutations 500] [--timeout-s 60] [--huge true|false]
#   e.g. scripts/hostile-traffic.sh http://127.0.0.1:5000 --rounds 10
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
URL=$1; shift
case $URL in
  http://127.0.0.1:*|http://localhost:*|http://\[::1\]:*) ;;
  *) echo "hostile-traffic: $URL is not a loopback address; refusing" >&2; exit 2 ;;
esac
dotnet build -c Release -v q -nologo tests/Fathom.Benchmarks.EndToEnd >/dev/null || { echo "hostile-traffic: build failed" >&2; exit 1; }
exec dotnet tests/Fathom.Benchmarks.EndToEnd/bin/Release/net10.0/Fathom.Benchmarks.EndToEnd.dll hostile --url "$URL" "$@"
