#!/usr/bin/env bash
# Measured Fathom CPU decode runs for the planner's calibration test (tests/Fathom.Planner.Tests/Data/fathom-cpu-runs.json):
# writes synthetic Llama-3.2-1B-shaped models (`fathom synthetic --shape llama3-1b`, cached under /tmp/fathom-bench) and
# runs `fathom bench --calibration-out` on each for each thread count, recording the load average around every run.
# Usage:
#   scripts/planner-cpu-runs.sh [OUT.json]   (default: tests/Fathom.Planner.Tests/Data/fathom-cpu-runs.json)
#   env: TYPES ("q8_0 q4_0"), THREADS ("1 2"), PROMPT (128), GEN (64), RUNS (3), DEVICE (cpu-dev-2c), MACHINE (description)
#   ONLY="q4_0-2t q8_0-1t" reruns just those points and replaces them in an existing OUT (e.g. a point measured under load).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-tests/Fathom.Planner.Tests/Data/fathom-cpu-runs.json}
TYPES=${TYPES:-"q8_0 q4_0"} THREADS=${THREADS:-"1 2"} PROMPT=${PROMPT:-128} GEN=${GEN:-64} RUNS=${RUNS:-3}
DEVICE=${DEVICE:-cpu-dev-2c} ONLY=${ONLY:-}
MACHINE=${MACHINE:-"dev-2c: Debian 12, AMD EPYC Zen5-class 2 vCPU, AVX-512 + AVX-VNNI, 24 GiB"}
CACHE=/tmp/fathom-bench
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CACHE" "$(dirname "$OUT")"
dotnet build -c Release -v q -nologo src/Fathom.Cli >/dev/null || { echo "planner-cpu-runs: build failed" >&2; exit 1; }
fathom() { dotnet src/Fathom.Cli/bin/Release/net10.0/fathom.dll "$@"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

for type in $TYPES; do
  model="$CACHE/synthetic-llama3-1b-$type.gguf"
  if [ ! -f "$model" ]; then
    fathom synthetic --out "$model.tmp" --type "$type" --shape llama3-1b && mv "$model.tmp" "$model"
  fi
  fathom inspect "$model" --json >"$WORK/inspect-$type.json"
  for t in $THREADS; do
    id="$type-${t}t"
    if [ -n "$ONLY" ] && [[ " $ONLY " != *" $id "* ]]; then continue; fi
    before=$(load)
    started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    echo "planner-cpu-runs: $id (load $before)" >&2
    fathom bench --model "$model" --threads "$t" --prompt-tokens "$PROMPT" --gen-tokens "$GEN" --runs "$RUNS" \
      --device "$DEVICE" --json --calibration-out "$WORK/cal-$id.json" >"$WORK/bench-$id.json"
    after=$(load)
    printf '{"id":"%s","type":"%s","threads":%s,"load_before":"%s","load_after":"%s","date":"%s","command":"%s"}\n' \
      "$id" "$type" "$t" "$before" "$after" "$started" \
      "fathom bench --model $model --threads $t --prompt-tokens $PROMPT --gen-tokens $GEN --runs $RUNS --device $DEVICE --json --calibration-out FILE" \
      >"$WORK/run-$id.json"
  done
done

python3 - "$WORK" "$OUT" "$MACHINE" "$PROMPT" "$GEN" <<'PY'
import glob, json, os, sys
work, out, machine, prompt, gen = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def model_of(path):
    info = json.load(open(path))
    meta, tensors = info["metadata"], info["tensors"]
    by_type = {}
    for t in tensors:
        by_type[t["type"]] = by_type.get(t["type"], 0) + t["bytes"]
    embd = next(t for t in tensors if t["name"] == "token_embd.weight")
    output = next((t for t in tensors if t["name"] == "output.weight"), None)
    heads = meta["llama.attention.head_count"]
    return {
        "file": os.path.basename(info["file"]),
        "layers": meta["llama.block_count"], "hidden": meta["llama.embedding_length"], "heads": heads,
        "kv_heads": meta["llama.attention.head_count_kv"], "head_dim": meta["llama.embedding_length"] // heads,
        "ffn": meta["llama.feed_forward_length"], "vocab": embd["shape"][1], "context": meta["llama.context_length"],
        "bytes_by_type": by_type, "embedding_type": embd["type"], "embedding_bytes": embd["bytes"],
        "output_bytes": output["bytes"] if output else 0,
    }

runs = []
if os.path.exists(out):
    runs = json.load(open(out)).get("runs", [])
for path in sorted(glob.glob(os.path.join(work, "run-*.json"))):
    run = json.load(open(path))
    rid = run["id"]
    bench = json.load(open(os.path.join(work, f"bench-{rid}.json")))
    record = json.load(open(os.path.join(work, f"cal-{rid}.json")))[0]
    entry = {
        "id": rid, "model": model_of(os.path.join(work, f"inspect-{run['type']}.json")), "weights": record["weights"],
        "threads": run["threads"], "prompt_tokens": prompt, "gen_tokens": gen,
        "measured_decode_tok_s": bench["decode_tok_s"], "measured_prefill_tok_s": bench["prefill_tok_s"],
        "load_average_before": run["load_before"], "load_average_after": run["load_after"],
        "date": run["date"], "command": run["command"], "calibration": record,
    }
    runs = [r for r in runs if r["id"] != rid] + [entry]
runs.sort(key=lambda r: r["id"])
doc = {
    "description": "Fathom CPU decode runs (synthetic Llama-3.2-1B-shaped models) with the calibration record each run wrote; "
                   "the planner, calibrated from one run, must predict the others of the same format within 15% and those of the other format within 30% (FathomCpuRunsTests).",
    "machine": machine,
    "source": "scripts/planner-cpu-runs.sh (fathom bench --calibration-out)",
    "runs": runs,
}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
print(f"planner-cpu-runs: wrote {len(runs)} runs to {out}", file=sys.stderr)
for r in runs:
    print(f"  {r['id']}: {r['measured_decode_tok_s']} tok/s decode (load {r['load_average_before']} -> {r['load_average_after']}, {r['date']})", file=sys.stderr)
PY
