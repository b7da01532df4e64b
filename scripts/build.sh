#!/usr/bin/env bash
# Configures (Ninja, RelWithDebInfo, ccache) and builds smsd into build/ (or $SMSD_BUILD_DIR).
# Usage: scripts/build.sh [TARGET...]   (no target: everything, tests and benchmarks included)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build_dir="$(smsd_build_dir)"
export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}"
mkdir -p "$CCACHE_DIR"
jobs="$(nproc)"

mkdir -p "$build_dir"
[[ -f "$build_dir/build.ninja" ]] || log "configuring $build_dir"
# Re-running configure is cheap and picks up new folders; CMakeLists.txt adds ccache when found.
if ! cmake -S "$SMSD_ROOT" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$build_dir/configure.log" 2>&1; then
  cat "$build_dir/configure.log" >&2
  die "cmake configure failed (log: $build_dir/configure.log)"
fi

targets=()
for t in "$@"; do
  targets+=(--target "$t")
done
log "building ${*:-everything} in $build_dir with $jobs jobs"
cmake --build "$build_dir" -j "$jobs" "${targets[@]}" || die "build failed"
