#!/usr/bin/env bash
# The API gateway benchmark (issue 8; docs/benchmarks.md "API gateway"). Two engine replicas (Redis tier off)
# behind the API, once per routing policy (fresh replicas each time, so both start cold): 8 conversations x 6
# turns, each with its own long system prompt, streamed; prefix-cache hit rate, mean TTFT and the replica of each
# turn. Then the gateway's added latency on a trivial generation: the same request straight to an engine and
# through the API, alternating, N times. Usage:
#   scripts/bench-gateway.sh [MODEL]   (default: /tmp/fathom-bench/synthetic-124m-Q8_0.gguf, written once)
#   env: THREADS (1 per replica), KV (per replica, e.g. 96MiB; empty: the engine's default), POLICIES
#        ("prefix round-robin"), SYSTEM_CHARS (800, about 1100 tokens), N (200), PORT (5491: replicas PORT, PORT+1, API PORT+2)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-/tmp/fathom-bench/synthetic-124m-Q8_0.gguf}
THREADS=${THREADS:-1} KV=${KV:-} POLICIES=${POLICIES:-"prefix round-robin"} SYSTEM_CHARS=${SYSTEM_CHARS:-800}
N=${N:-200} PORT=${PORT:-5491}
for project in src/Fathom.EngineService src/Fathom.Api tests/Fathom.Benchmarks.EndToEnd; do
  dotnet build -c Release -v q -nologo "$project" >/dev/null || { echo "bench-gateway: building $project failed" >&2; exit 1; }
done
bin() { echo "$1/bin/Release/net10.0/$2"; }
BENCH=$(bin tests/Fathom.Benchmarks.EndToEnd Fathom.Benchmarks.EndToEnd.dll)
dotnet "$BENCH" gateway-model --out "$MODEL"
PIDS=()
stop() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap stop EXIT
wait_ready() {
  for _ in $(seq 1 300); do
    curl -sf "$1" >/dev/null && return 0
    sleep 0.5
  done
  echo "bench-gateway: $1 never became ready" >&2; exit 1
}
start_engine() { # port
  local kv=(); [ -n "$KV" ] && kv=(--kv-cache-memory "$KV")
  env -u ConnectionStrings__kvcache dotnet "$(bin src/Fathom.EngineService Fathom.EngineService.dll)" --model "$MODEL" \
    --served-model-name bench --threads "$THREADS" "${kv[@]}" --urls "http://127.0.0.1:$1" >"/tmp/fathom-bench-gateway-engine-$1.log" 2>&1 &
  PIDS+=($!)
}
start_api() { # routing replicas...
  local routing=$1; shift
  local env=(Fathom__Api__Routing="$routing" Fathom__Api__AllowAnonymous=true Fathom__Api__RequestsPerMinute=0 Fathom__Api__ConcurrentStreams=0)
  local i=0; for r in "$@"; do env+=("services__engine__http__$i=$r"); i=$((i + 1)); done
  env -u ConnectionStrings__kvcache "${env[@]}" dotnet "$(bin src/Fathom.Api Fathom.Api.dll)" \
    --urls "http://127.0.0.1:$((PORT + 2))" >/tmp/fathom-bench-gateway-api.log 2>&1 &
  PIDS+=($!)
  wait_ready "http://127.0.0.1:$((PORT + 2))/health/ready"
}
A=http://127.0.0.1:$PORT B=http://127.0.0.1:$((PORT + 1)) API=http://127.0.0.1:$((PORT + 2))
echo "model $MODEL, threads $THREADS per replica, KV ${KV:-default} per replica, system prompt ~$SYSTEM_CHARS chars; $(date -u +%FT%TZ); uptime:$(uptime)"
for policy in $POLICIES; do
  start_engine "$PORT"; start_engine "$((PORT + 1))"
  wait_ready "$A/health/ready"; wait_ready "$B/health/ready"
  start_api "$policy" "$A" "$B"
  sleep 3 # the API's first health probes and load poll
  echo "== routing $policy (replicas A=$A B=$B); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  dotnet "$BENCH" gateway-workload --api "$API" --engines "$A,$B" --system-chars "$SYSTEM_CHARS"
  stop
done
echo "== gateway overhead: $N trivial requests (1 output token) direct vs through the API; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
start_engine "$PORT"; wait_ready "$A/health/ready"
start_api prefix "$A"
dotnet "$BENCH" gateway-overhead --api "$API" --engine "$A" --n "$N"
stop
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
