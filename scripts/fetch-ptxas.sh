#!/usr/bin/env bash
# Fetches a standalone ptxas (CUDA 11.8, supports sm_90 and PTX ISA 7.8) from Debian bookworm's non-free
# nvidia-cuda-toolkit package into a cache directory, without installing anything system-wide, and prints its path.
# ~84 MB download, a few seconds; cached between runs. Exit status non-zero (and nothing printed) when it cannot.
set -euo pipefail
cache="${FATHOM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fathom}/ptxas"
ptxas="$cache/bin/ptxas"
if [ -x "$ptxas" ]; then echo "$ptxas"; exit 0; fi

work="$cache/apt"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc"
echo "deb http://deb.debian.org/debian bookworm non-free" > "$work/etc/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1
      -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq >&2
(cd "$work" && apt-get "${opts[@]}" download nvidia-cuda-toolkit >&2)
dpkg -x "$work"/nvidia-cuda-toolkit_*.deb "$work/root"
mkdir -p "$cache/bin" && cp "$work/root/usr/bin/ptxas" "$ptxas"   # only ptxas is kept (19 MB)
rm -rf "$work"
"$ptxas" --version >&2
echo "$ptxas"
