#!/usr/bin/env bash
# The soak run of issue #18 (docs/benchmarks.md "Soak"): redis-server, two engine services sharing it as their KV
# tier, and the API in front of them (also on redis for its shared limits, per-key limits off); 64 concurrent
# streams through the API for --minutes; at about 1/3 of the run engine A is killed (SIGKILL) and restarted on its
# port, at about 2/3 redis-server is. Every request has a client timeout (a hang counts as a timeout). The C# driver
# (tests/Fathom.Benchmarks.EndToEnd `soak`) samples each server's VmRSS every 3 s and prints a markdown table.
# Usage:
#   scripts/load-soak.sh [--minutes 10] [--model PATH|1b] [--streams 64] [--max-tokens 64] [--timeout-s 120] [--threads 1]
#   --model 1b writes (once) and serves the 1B-shape Q8_0 synthetic model, /tmp/fathom-bench/synthetic-1b-Q8_0.gguf.
#   env: PORT (5591: engines PORT, PORT+1, API PORT+2, redis PORT+3), OUT (markdown file, default /tmp/fathom-soak/soak.md)
#   REDIS_MAXMEMORY (1gb, LRU eviction, as a deployment caps the KV tier)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=10 MODEL=../shared/models/stories260K.gguf STREAMS=64 MAX_TOKENS=64 TIMEOUT_S=120 THREADS=1
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) MINUTES=$2 ;; --model) MODEL=$2 ;; --streams) STREAMS=$2 ;; --max-tokens) MAX_TOKENS=$2 ;;
    --timeout-s) TIMEOUT_S=$2 ;; --threads) THREADS=$2 ;;
    *) echo "load-soak: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
REDIS_MAXMEMORY=${REDIS_MAXMEMORY:-1gb} PORT=${PORT:-5591} RUN=/tmp/fathom-soak OUT=${OUT:-/tmp/fathom-soak/soak.md}
command -v redis-server >/dev/null || { echo "load-soak: redis-server is not on PATH (apt-get install redis-server)" >&2; exit 2; }
for project in src/Fathom.EngineService src/Fathom.Api tests/Fathom.Benchmarks.EndToEnd; do
  dotnet build -c Release -v q -nologo "$project" >/dev/null || { echo "load-soak: building $project failed" >&2; exit 1; }
done
bin() { echo "$1/bin/Release/net10.0/$2"; }
BENCH=$(bin tests/Fathom.Benchmarks.EndToEnd Fathom.Benchmarks.EndToEnd.dll)
if [ "$MODEL" = 1b ]; then
  MODEL=/tmp/fathom-bench/synthetic-1b-Q8_0.gguf
  dotnet "$BENCH" synthetic-model --out "$MODEL"
fi
[ -f "$MODEL" ] || { echo "load-soak: $MODEL not found" >&2; exit 2; }
NAME=$(basename "$MODEL" .gguf)
rm -rf "$RUN/pids"; mkdir -p "$RUN/pids"
A=http://127.0.0.1:$PORT B=http://127.0.0.1:$((PORT + 1)) API=http://127.0.0.1:$((PORT + 2)) REDIS_PORT=$((PORT + 3))
KV=127.0.0.1:$REDIS_PORT
stop() {
  for f in "$RUN"/pids/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  [ -n "${CHAOS:-}" ] && kill "$CHAOS" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT
wait_ready() {
  for _ in $(seq 1 600); do curl -sf "$1" >/dev/null && return 0; sleep 0.5; done
  echo "load-soak: $1 never became ready" >&2; exit 1
}
start_redis() {
  # A killed server may hold its port for a moment: retry until one answers PING.
  for _ in 1 2 3 4 5; do
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --protected-mode no --maxmemory "$REDIS_MAXMEMORY" --maxmemory-policy allkeys-lru >>"$RUN/redis.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$RUN/pids/redis-server.pid"
    for _ in $(seq 1 50); do
      redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    sleep 1
  done
  echo "load-soak: redis-server did not start on port $REDIS_PORT (see $RUN/redis.log)" >&2
}
kill_and_wait() { # pid: SIGKILL, then wait until it is gone (its port free)
  kill -9 "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ] || return 0; sleep 0.1; done
}
start_engine() { # name port
  ConnectionStrings__kvcache=$KV dotnet "$(bin src/Fathom.EngineService Fathom.EngineService.dll)" --model "$MODEL" \
    --threads "$THREADS" --urls "http://127.0.0.1:$2" >>"$RUN/$1.log" 2>&1 &
  echo $! >"$RUN/pids/$1.pid"
}
start_redis
start_engine engine-a "$PORT"; start_engine engine-b "$((PORT + 1))"
wait_ready "$A/health/ready"; wait_ready "$B/health/ready"
ConnectionStrings__kvcache=$KV Fathom__Api__AllowAnonymous=true Fathom__Api__RequestsPerMinute=0 Fathom__Api__ConcurrentStreams=0 \
  services__engine__http__0=$A services__engine__http__1=$B \
  dotnet "$(bin src/Fathom.Api Fathom.Api.dll)" --urls "$API" >>"$RUN/api.log" 2>&1 &
echo $! >"$RUN/pids/api.pid"
wait_ready "$API/health/ready"
sleep 3 # the API's first health probes
SECONDS_TOTAL=$(awk "BEGIN { printf \"%d\", $MINUTES * 60 }")
(
  sleep $((SECONDS_TOTAL / 3))
  echo "load-soak: $(date -u +%T) killing engine-a (pid $(cat "$RUN/pids/engine-a.pid")) and restarting it"
  kill_and_wait "$(cat "$RUN/pids/engine-a.pid")"
  start_engine engine-a "$PORT"
  wait_ready "$A/health/ready" && echo "load-soak: $(date -u +%T) engine-a ready again"
  sleep $((SECONDS_TOTAL / 3))
  echo "load-soak: $(date -u +%T) killing redis-server (pid $(cat "$RUN/pids/redis-server.pid")) and restarting it"
  kill_and_wait "$(cat "$RUN/pids/redis-server.pid")"
  start_redis && echo "load-soak: $(date -u +%T) redis-server answers again (pid $(cat "$RUN/pids/redis-server.pid"))"
) &
CHAOS=$!
echo "load-soak: model $MODEL ($NAME), $STREAMS streams, $MINUTES min, client timeout ${TIMEOUT_S}s, threads $THREADS per engine; $(date -u +%FT%TZ); load average $(cut -d' ' -f1-3 /proc/loadavg); logs in $RUN"
rc=0
dotnet "$BENCH" soak --api "$API" --model "$NAME" --streams "$STREAMS" --minutes "$MINUTES" --max-tokens "$MAX_TOKENS" \
  --timeout-s "$TIMEOUT_S" --pid-dir "$RUN/pids" --out "$OUT" || rc=$?
echo "load-soak: the table is in $OUT; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
