#!/usr/bin/env bash
# Run on an H100/H200 machine (no .NET needed), from the repository root, with .gpu/ from scripts/gpu-pack.sh:
#   device run: bash scripts/gpu-check.sh   (carry: .gpu; ~6-8 minutes)
# 1. unpacks the self-contained CLI; 2. checks CUDA against the CPU backend on stories260K (greedy tokens equal,
# logits close); 3. generates Llama-3.1-8B-shaped synthetic models (F16, Q8_0, Q4_0, Q4_K) one at a time and
# runs device-bench on each (copy bandwidth, decode tok/s at batch 1/8/32/64, bandwidth utilisation).
# Kernel structure (8 launches per layer, 9 with split-K decode attention) is described in docs/gpu.md.
# Results go to ${OUT:-/tmp/gpu-check}/results.jsonl and the log; paste them into docs/benchmarks.md.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp/gpu-check}"; mkdir -p "$out"
work="${GPU_CHECK_WORK:-/tmp/fathom-gpu}"; mkdir -p "$work/bin" "$work/models"
log="$out/gpu-check.log"
exec > >(tee -a "$log") 2>&1
types="${GPU_CHECK_TYPES:-f16 q8_0 q4_0 q4_k}"
batches="${GPU_CHECK_BATCHES:-1,8,32,64}"
steps="${GPU_CHECK_STEPS:-32}"

echo "== machine"; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv || true
t=$SECONDS; tar -C "$work/bin" -xJf .gpu/fathom-linux-x64.tar.xz; echo "unpacked CLI in $(( SECONDS - t ))s"
fathom="$work/bin/fathom"
export DOTNET_TieredPGO=1

echo "== CUDA vs CPU on stories260K"
ids=1,403,407,261,378
"$fathom" generate --model .gpu/stories260K.gguf --backend cpu --prompt-ids $ids --max-tokens 32 --temperature 0 --json > "$out/stories-cpu.json"; echo "cpu exit $?"
"$fathom" generate --model .gpu/stories260K.gguf --backend cuda --prompt-ids $ids --max-tokens 32 --temperature 0 --json > "$out/stories-cuda.json"; echo "cuda exit $?"
if cmp -s "$out/stories-cpu.json" "$out/stories-cuda.json"; then echo "stories260K: CUDA greedy tokens == CPU"; else echo "stories260K: DIFFER"; diff "$out/stories-cpu.json" "$out/stories-cuda.json" | head -5; fi
"$fathom" device-bench --model .gpu/stories260K.gguf --backend cuda --batches 1,8 --steps 16 --json | tee -a "$out/results.jsonl"

for type in $types; do
  model="$work/models/llama3-8b-$type.gguf"
  t=$SECONDS; "$fathom" synthetic --out "$model" --type "$type" --shape llama3-8b; echo "generated $type in $(( SECONDS - t ))s"
  t=$SECONDS
  "$fathom" device-bench --model "$model" --backend cuda --batches "$batches" --steps "$steps" --json \
    | sed "s/^{/{\"model\":\"llama3-8b-$type\",/" | tee -a "$out/results.jsonl"
  echo "benchmarked $type in $(( SECONDS - t ))s"
  rm -f "$model"
done
echo "== done; results in $out/results.jsonl"
