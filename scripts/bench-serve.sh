#!/usr/bin/env bash
# Serving throughput on one machine: the engine service (driven by `fathom bench serve`) against llama.cpp's own
# batched generation (LLamaSharp BatchedExecutor, tests/Fathom.Benchmarks.EndToEnd `llama-batched`) on the same GGUF
# file and thread count, alternating, at concurrency 1 and 8. Every request: a distinct prompt of PROMPT tokens and
# exactly GEN greedy output tokens (EOS ignored). After each pair it prints the two served targets of issue #21:
# Fathom's output tok/s over llama.cpp's (target >= 1) and Fathom's inter-token latency p99/p50 (target <= 3); at the
# end, the engine's own forward-step times by kind (decode only, decode + prefill chunk, prefill only), and after each
# Fathom run the engine's garbage collections during it. Usage:
#   scripts/bench-serve.sh [MODEL]   (default: the 1B-shape Q8_0 synthetic model, written on first use by
#                                     tests/Fathom.Benchmarks.EndToEnd `synthetic-model`)
#   env: THREADS (2), PROMPT (128), GEN (64), ROUNDS (2), CONCURRENCY ("1 8"), PORT (5391),
#        ENGINE_ARGS (extra engine service switches, e.g. "--max-num-batched-tokens 512"),
#        OUT (folder for the engine log and each run's per-request timeline; default a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT_MODEL=/tmp/fathom-bench/synthetic-1b-Q8_0.gguf
MODEL=${1:-$DEFAULT_MODEL}
THREADS=${THREADS:-2} PROMPT=${PROMPT:-128} GEN=${GEN:-64} ROUNDS=${ROUNDS:-2} PORT=${PORT:-5391}
CONCURRENCY=${CONCURRENCY:-"1 8"}
OUT=${OUT:-$(mktemp -d /tmp/fathom-bench-serve.XXXXXX)}
mkdir -p "$OUT"
read -r -a ENGINE_EXTRA <<<"${ENGINE_ARGS:-}"
for project in src/Fathom.EngineService src/Fathom.Cli tests/Fathom.Benchmarks.EndToEnd; do
  dotnet build -c Release -v q -nologo "$project" >/dev/null || { echo "bench-serve: building $project failed" >&2; exit 1; }
done
bin() { echo "$1/bin/Release/net10.0/$2"; }
BENCH=$(bin tests/Fathom.Benchmarks.EndToEnd Fathom.Benchmarks.EndToEnd.dll)
if [ ! -f "$MODEL" ]; then
  [ "$MODEL" = "$DEFAULT_MODEL" ] || { echo "bench-serve: $MODEL not found" >&2; exit 2; }
  echo "bench-serve: writing the 1B-shape Q8_0 synthetic model to $MODEL (about 1.2 GB, once)"
  dotnet "$BENCH" synthetic-model --out "$MODEL"
fi
ENGINE_LOG="$OUT/engine.log"
dotnet "$(bin src/Fathom.EngineService Fathom.EngineService.dll)" --model "$MODEL" --threads "$THREADS" "${ENGINE_EXTRA[@]}" \
  --urls "http://127.0.0.1:$PORT" >"$ENGINE_LOG" 2>&1 &
ENGINE=$!
trap 'kill $ENGINE 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break
  kill -0 $ENGINE 2>/dev/null || { echo "bench-serve: the engine service exited; see $ENGINE_LOG" >&2; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { echo "bench-serve: the engine service was not ready in 300 s; see $ENGINE_LOG" >&2; exit 1; }
# The engine process's garbage collections and their pause time so far, from its /metrics: "collections seconds".
gc_totals() {
  curl -sf "http://127.0.0.1:$PORT/metrics" | awk '
    /^dotnet_gc_pause_time_seconds_total/ { pause += $NF }
    /^dotnet_gc_collections_total/ { collections += $NF }
    END { printf "%d %.6f\n", collections, pause }' || echo "0 0"
}
echo "model $MODEL, threads $THREADS, prompt $PROMPT, gen $GEN, engine args '${ENGINE_ARGS:-}'; load average: $(cut -d' ' -f1-3 /proc/loadavg); output in $OUT"
for round in $(seq 1 "$ROUNDS"); do
  for c in $CONCURRENCY; do
    requests=$(( c == 1 ? 2 : c ))
    echo "round $round, concurrency $c: Fathom engine service ($requests requests); load average $(cut -d' ' -f1 /proc/loadavg)"
    read -r gc_before pause_before < <(gc_totals)
    fathom=$(dotnet "$(bin src/Fathom.Cli fathom.dll)" bench serve --url "http://127.0.0.1:$PORT" --concurrency "$c" \
      --requests "$requests" --prompt-tokens "$PROMPT" --gen-tokens "$GEN" --timeline "$OUT/timeline-r$round-c$c.jsonl")
    echo "$fathom"
    read -r gc_after pause_after < <(gc_totals)
    awk -v n=$((gc_after - gc_before)) -v a="$pause_before" -v b="$pause_after" \
      'BEGIN { printf "engine GC during this run: %d collections, %.1f ms paused\n", n, (b - a) * 1000 }'
    llama=$(dotnet "$BENCH" llama-batched --model "$MODEL" --threads "$THREADS" --concurrency "$c" --prompt "$PROMPT" --gen "$GEN")
    echo "$llama"
    awk -v c="$c" -v f="$fathom" -v l="$llama" 'BEGIN {
      n = split(f, lines, "\n")
      for (i = 1; i <= n; i++) {
        split(lines[i], w, " ")
        if (w[1] == "throughput") ftok = w[2]
        if (w[1] == "ITL" && w[2] == "p50") { p50 = w[3]; p90 = w[5]; p99 = w[7] }
      }
      if (match(l, /[0-9.]+ output tok\/s/)) ltok = substr(l, RSTART, RLENGTH - 13) + 0
      ratio = (ltok > 0) ? ftok / ltok : 0
      tail = (p50 > 0) ? p99 / p50 : 0
      throughput = (ratio >= 1) ? "met" : "NOT met"
      latency = (tail > 0 && tail <= 3) ? "met" : "NOT met"
      printf "=> concurrency %d: Fathom %.1f vs llama.cpp %.1f output tok/s = %.2fx (target >= 1: %s); Fathom ITL p50 %.1f / p90 %.1f / p99 %.1f ms, p99/p50 = %.2f (target <= 3: %s)\n", c, ftok, ltok, ratio, throughput, p50, p90, p99, tail, latency
    }'
  done
done
# The engine's own step times (since it started, all rounds): what a client's ITL is made of, before the HTTP path.
METRICS=$(curl -sf "http://127.0.0.1:$PORT/metrics" || true)
echo "$METRICS" | awk '
  /^fathom_engine_step_duration_seconds_(sum|count)\{/ {
    match($0, /fathom_step_kind="[a-z]+"/); kind = substr($0, RSTART + 18, RLENGTH - 19)
    if ($0 ~ /_sum\{/) sum[kind] += $NF; else count[kind] += $NF
  }
  END {
    for (k in count) if (count[k] > 0) printf "engine steps, %s: %d steps, mean %.1f ms\n", k, count[k], sum[k] / count[k] * 1000
  }'
[ -n "$METRICS" ] || echo "bench-serve: could not read the engine's /metrics"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
