#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (coverage, AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for a bounded time (docs/reliability.md).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  time per target (default 60); TARGET: scenario, design, checkpoint, http, workshop
#            (default: all that are built).
# Environment: CXX (default clang++), JOBS (build jobs, default nproc), BUILD_DIR (default
#              build-fuzz).
# New interesting inputs go to BUILD_DIR/fuzz-work/TARGET (not committed); the committed seeds
# in fuzz/corpus/TARGET/ are only read. A crash, leak, timeout or out-of-memory input is saved
# as BUILD_DIR/artifacts/TARGET-crash-... and the script exits 1: add the input to
# fuzz/corpus/TARGET/ (it then runs in the normal test suite, FuzzCorpus.*) and fix the cause.
# Reproduce one with: BUILD_DIR/fuzz/fuzz_TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
jobs=${JOBS:-$(nproc)}
build=${BUILD_DIR:-build-fuzz}
cxx=${CXX:-clang++}

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAREMESH_FUZZ=ON -DCAREMESH_BUILD_TESTS=OFF -DCAREMESH_BUILD_BENCH=OFF >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(scenario design checkpoint http)
  [ -f fuzz/fuzz_workshop.cpp ] && [ -f models/socialcare/workshop/workshop.hpp ] && targets+=(workshop)
fi
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
rm -rf "$build/artifacts"
mkdir -p "$build/artifacts"
failed=()
for t in "${targets[@]}"; do
  work=$build/fuzz-work/$t
  mkdir -p "$work"
  seeds=("fuzz/corpus/$t")
  case "$t" in
    scenario) seeds+=(scenarios tests/data/bad) ;;
    design) [ -d tests/data/designs ] && seeds+=(tests/data/designs) ;;
  esac
  args=(-max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=16384
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-")
  [ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
  echo "== fuzz_$t for ${secs}s (seeds: ${seeds[*]})"
  rc=0
  "$build/fuzz/fuzz_$t" "${args[@]}" "$work" "${seeds[@]}" >"$build/fuzz-$t.log" 2>&1 || rc=$?
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|==[0-9]+==|SUMMARY|stat::(number_of_executed_units|peak_rss_mb|new_units_added)|Test unit written|fuzz finding)' \
    "$build/fuzz-$t.log" || true
  [ "$rc" -ne 0 ] && failed+=("$t")
done

found=$(find "$build/artifacts" -type f | sort)
if [ ${#failed[@]} -ne 0 ] || [ -n "$found" ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  [ -n "$found" ] && echo "$found" >&2
  echo "fuzz: add each input to fuzz/corpus/TARGET/ and fix the cause; logs in $build/fuzz-*.log" >&2
  exit 1
fi
echo "fuzz: no findings (${targets[*]}, ${secs}s each)"
