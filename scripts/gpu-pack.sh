#!/usr/bin/env bash
# Run here (with .NET): publishes the CLI self-contained for linux-x64 and packs it, with stories260K, into
# .gpu/ (ignored by git; carried to the GPU machine) for scripts/gpu-check.sh. A GPU machine may have no .NET.
# The driver library (libcuda.so / libcuda.so.1) is found on the GPU machine by gpu-check.sh, not packed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
rm -rf "$out" && mkdir -p "$out/publish"
exclude="$(git rev-parse --git-common-dir)/info/exclude"; grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"
dotnet publish src/Fathom.Cli -c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true -o "$out/publish" >&2
# Fail here, not on the GPU machine's clock, if the published CLI lacks a command gpu-check.sh runs.
for c in device-compare device-bench synthetic; do "$out/publish/fathom" "$c" --help >/dev/null || { echo "the published CLI has no '$c' command" >&2; exit 1; }; done
tar -C "$out/publish" -cJf "$out/fathom-linux-x64.tar.xz" .
rm -rf "$out/publish"
shared="${FATHOM_SHARED:-../shared}"
cp "$shared/models/stories260K.gguf" "$out/"
ls -la "$out"
size=$(du -cb "$out" | tail -1 | cut -f1)
[ "$size" -lt $((60 * 1024 * 1024)) ] || { echo "pack is $size bytes: over the 64 MiB a device call carries" >&2; exit 1; }
