#!/usr/bin/env bash
# Serving throughput on one machine: the engine service (driven by `fathom bench serve`) against llama.cpp's own
# batched generation (LLamaSharp BatchedExecutor, tests/Fathom.Benchmarks.EndToEnd `llama-batched`) on the same GGUF
# file and thread count, alternating, at concurrency 1 and 8. Every request: a distinct prompt of PROMPT tokens and
# exactly GEN greedy output tokens (EOS ignored). Usage:
#   scripts/bench-serve.sh [MODEL]   (default: the 1B-shape Q8_0 model tests/Fathom.Benchmarks.EndToEnd writes)
#   env: THREADS (2), PROMPT (128), GEN (64), ROUNDS (2), CONCURRENCY ("1 8"), PORT (5391),
#        ENGINE_ARGS (extra engine service switches, e.g. "--max-num-batched-tokens 512")
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-/tmp/fathom-bench/synthetic-1b-Q8_0.gguf}
THREADS=${THREADS:-2} PROMPT=${PROMPT:-128} GEN=${GEN:-64} ROUNDS=${ROUNDS:-2} PORT=${PORT:-5391}
CONCURRENCY=${CONCURRENCY:-"1 8"}
read -r -a ENGINE_EXTRA <<<"${ENGINE_ARGS:-}"
[ -f "$MODEL" ] || { echo "bench-serve: $MODEL not found (run tests/Fathom.Benchmarks.EndToEnd --shape 1b --types Q8_0 once)" >&2; exit 2; }
for project in src/Fathom.EngineService src/Fathom.Cli tests/Fathom.Benchmarks.EndToEnd; do
  dotnet build -c Release -v q -nologo "$project" >/dev/null || { echo "bench-serve: building $project failed" >&2; exit 1; }
done
bin() { echo "$1/bin/Release/net10.0/$2"; }
dotnet "$(bin src/Fathom.EngineService Fathom.EngineService.dll)" --model "$MODEL" --threads "$THREADS" "${ENGINE_EXTRA[@]}" \
  --urls "http://127.0.0.1:$PORT" >/tmp/fathom-bench-serve-engine.log 2>&1 &
ENGINE=$!
trap 'kill $ENGINE 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break
  kill -0 $ENGINE 2>/dev/null || { echo "bench-serve: the engine service exited; see /tmp/fathom-bench-serve-engine.log" >&2; exit 1; }
  sleep 1
done
echo "model $MODEL, threads $THREADS, prompt $PROMPT, gen $GEN, engine args '${ENGINE_ARGS:-}'; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  for c in $CONCURRENCY; do
    requests=$(( c == 1 ? 2 : c ))
    echo "round $round, concurrency $c: Fathom engine service ($requests requests)"
    dotnet "$(bin src/Fathom.Cli fathom.dll)" bench serve --url "http://127.0.0.1:$PORT" --concurrency "$c" \
      --requests "$requests" --prompt-tokens "$PROMPT" --gen-tokens "$GEN"
    dotnet "$(bin tests/Fathom.Benchmarks.EndToEnd Fathom.Benchmarks.EndToEnd.dll)" llama-batched --model "$MODEL" \
      --threads "$THREADS" --concurrency "$c" --prompt "$PROMPT" --gen "$GEN"
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
