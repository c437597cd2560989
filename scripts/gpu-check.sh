#!/usr/bin/env bash
# Run on an H100/H200 machine (no .NET needed), from the repository root, with .gpu/ from scripts/gpu-pack.sh:
#   device run: bash scripts/gpu-check.sh   (carry: .gpu; about 8-10 minutes on an H100, every step time-limited)
# 1. finds the CUDA driver (a driver-only install may ship only libcuda.so.1, while ILGPU loads libcuda.so: the
#    script links it into a writable directory on LD_LIBRARY_PATH) and fails fast with a clear message if the
#    CLI still sees no CUDA device;
# 2. stories260K: greedy tokens equal and logits close, CUDA against the CPU backend (fathom device-compare);
# 3. synthetic Llama-3-8B- and 70B-width models cut to 2 layers, in Q4_K, Q6_K, Q8_0 and BF16 (fathom synthetic):
#    device-compare with a 300-token prompt (so decode attention runs split-K), then device-bench (copy
#    bandwidth; decode tok/s at batch 1 and 64; bandwidth utilisation counting every weight but token_embd,
#    of which a step reads one row per token).
# A device-compare that fails (not one that times out) is rerun once with the three kernel switches off
# (FATHOM_ILGPU_TENSOR_CORES=0 FATHOM_ILGPU_INT8_INPUT=0 FATHOM_ILGPU_FLASH_ATTENTION=0: warp-per-row f32-input matmuls,
# warp-per-(token, head) attention), and a "BISECT" line says whether that combination passes (see docs/gpu.md).
# Results: ${OUT:-/tmp/gpu-check}/results.jsonl (one JSON line per check) and gpu-check.log; a summary table last.
# Knobs: GPU_CHECK_SHAPES ("llama3-8b llama3-70b"), GPU_CHECK_TYPES ("q4_k q6_k q8_0 bf16"), GPU_CHECK_LAYERS (2),
# GPU_CHECK_PROMPT (300), GPU_CHECK_BATCHES (1,64), GPU_CHECK_STEPS (16), GPU_CHECK_STEP_LIMIT (seconds per step, 120).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp/gpu-check}"; mkdir -p "$out"
work="${GPU_CHECK_WORK:-/tmp/fathom-gpu}"; mkdir -p "$work/bin" "$work/models" "$work/lib"
log="$out/gpu-check.log"
results="$out/results.jsonl"; : > "$results"
exec > >(tee -a "$log") 2>&1
shapes="${GPU_CHECK_SHAPES:-llama3-8b llama3-70b}"
types="${GPU_CHECK_TYPES:-q4_k q6_k q8_0 bf16}"
layers="${GPU_CHECK_LAYERS:-2}"
prompt="${GPU_CHECK_PROMPT:-300}"
batches="${GPU_CHECK_BATCHES:-1,64}"
steps="${GPU_CHECK_STEPS:-16}"
limit="${GPU_CHECK_STEP_LIMIT:-120}"
started=$SECONDS
failures=0
summary=()

die() { echo "gpu-check: FATAL: $*" >&2; exit 2; }
# step NAME SECONDS 'COMMAND': runs COMMAND (a pipeline: its first failure counts) under timeout and records
# its status and time; never aborts the run. Called outside pipelines, so the records survive.
step() {
  local name=$1 seconds=$2 t=$SECONDS
  timeout --kill-after=10 "$seconds" bash -o pipefail -c "$3"
  local rc=$?
  local what=ok
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && what="TIMEOUT after ${seconds}s"
  [ $rc -ne 0 ] && [ "$what" = ok ] && what="FAILED (exit $rc)"
  [ $rc -ne 0 ] && failures=$((failures + 1))
  summary+=("$(printf '%-40s %-22s %4ss' "$name" "$what" $(( SECONDS - t )))")
  return $rc
}

switches_off="FATHOM_ILGPU_TENSOR_CORES=0 FATHOM_ILGPU_INT8_INPUT=0 FATHOM_ILGPU_FLASH_ATTENTION=0"
# compare NAME SECONDS TAG 'ARGS': fathom device-compare ARGS --json as a step, its JSON line tagged with TAG; when it
# fails (not on a timeout, nor when the CLI sees no CUDA device), reruns it once with every switch off and says
# which combination passed.
compare() {
  local name=$1 seconds=$2 tag=$3 args=$4
  step "$name" "$seconds" "'$fathom' device-compare $args --json | sed 's/^{/{\"shape\":\"$tag\",/' | tee -a '$results'"
  local rc=$?
  [ $rc -eq 0 ] && return 0
  if [ $rc -eq 124 ] || [ $rc -eq 137 ] || grep -q "no CUDA device\|not available here" "$log"; then
    return $rc
  fi
  echo "gpu-check: $name failed; rerunning once with $switches_off"
  if step "$name, switches off" "$seconds" "export $switches_off; '$fathom' device-compare $args --json | sed 's/^{/{\"shape\":\"$tag switches-off\",/' | tee -a '$results'"; then
    echo "gpu-check: BISECT $name: FAILS with the default kernels, PASSES with tensor cores, int8 input and flash attention all off: one of those paths is wrong; rerun with one FATHOM_ILGPU_* switch at a time"
  else
    echo "gpu-check: BISECT $name: fails with the default kernels AND with all three switches off: the fault is outside those paths (warp-per-row matmul, attention, elementwise)"
  fi
  return $rc
}

echo "== machine"
command -v nvidia-smi >/dev/null && timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv || echo "nvidia-smi: not available"
[ -f .gpu/fathom-linux-x64.tar.xz ] || die ".gpu/fathom-linux-x64.tar.xz is missing: run scripts/gpu-pack.sh here first and carry .gpu"

echo "== CUDA driver"
# ILGPU opens libcuda.so; driver-only installs (containers with the driver mounted) often have only libcuda.so.1.
find_lib() {
  { ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n { print $NF }'
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/local/cuda/lib64/stubs /usr/lib/wsl/lib; do
      [ -e "$d/$1" ] && echo "$d/$1"; done; } | head -n1
}
so=$(find_lib libcuda.so); so1=$(find_lib libcuda.so.1)
if [ -n "$so" ] && [[ "$so" != */stubs/* ]]; then
  echo "libcuda.so: $so"
elif [ -n "$so1" ]; then
  ln -sf "$so1" "$work/lib/libcuda.so"
  export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "only libcuda.so.1 ($so1): linked $work/lib/libcuda.so to it and put $work/lib on LD_LIBRARY_PATH"
else
  die "no libcuda.so or libcuda.so.1 (the NVIDIA driver's library) on this machine: is the driver installed and mounted?"
fi

t=$SECONDS; tar -C "$work/bin" -xJf .gpu/fathom-linux-x64.tar.xz || die "could not unpack the CLI"; echo "unpacked CLI in $(( SECONDS - t ))s"
fathom="$work/bin/fathom"
export DOTNET_TieredPGO=1 DOTNET_gcServer=0

echo "== CUDA vs CPU on stories260K (fail fast: no device, no run)"
compare "stories260K compare" 60 stories260K "--model .gpu/stories260K.gguf --backend cuda --prompt-tokens 40 --tokens 24 --tolerance 5e-3"
if grep -q "no CUDA device\|not available here" "$log"; then
  die "the CLI sees no CUDA device (see the line above); LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
fi
step "stories260K bench" 60 "'$fathom' device-bench --model .gpu/stories260K.gguf --backend cuda --batches 1,8 --steps 16 --json | tee -a '$results'"

for shape in $shapes; do
  for type in $types; do
    name="$shape-${layers}L-$type"
    model="$work/models/$name.gguf"
    step "$name generate" "$limit" "'$fathom' synthetic --out '$model' --type $type --shape $shape --layers $layers" || { rm -f "$model"; continue; }
    compare "$name compare (${prompt}-token prompt)" "$limit" "$name" "--model '$model' --backend cuda --prompt-tokens $prompt --tokens 8"
    step "$name bench" "$limit" "'$fathom' device-bench --model '$model' --backend cuda --batches '$batches' --steps $steps --json | sed 's/^{/{\"model\":\"$name\",/' | tee -a '$results'"
    rm -f "$model"
    echo "-- $name done at $(( SECONDS - started ))s"
  done
done

echo "== summary ($(( SECONDS - started ))s, $failures failed or timed out; results in $results)"
printf '%s\n' "${summary[@]}"
python3 - "$results" <<'PY' 2>/dev/null || true
import json, sys
for line in open(sys.argv[1]):
    try: r = json.loads(line)
    except ValueError: continue
    if "pass" in r:
        print(f"{r.get('shape', r['model']):24} tokens_equal={r['tokens_equal']!s:5} max_rel_logit_error={r['max_rel_logit_error']:.2e} pass={r['pass']}")
    elif "tok_s" in r:
        print(f"{r.get('model', '?'):24} batch {r['batch']:>3} {r['tok_s']:>10} tok/s  bw {r['bandwidth_utilisation']:.1%} of {r['copy_gb_s']} GB/s")
PY
[ "$failures" -eq 0 ]
