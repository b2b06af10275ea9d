#!/usr/bin/env bash
# Builds caremesh and its tests under sanitizers and runs them (docs/reliability.md):
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (leak detection on), the whole suite;
#   tsan  ThreadSanitizer, the tests about threads: Determinism*, *Thread*, Parallel*.
# The tests run the sanitized caremesh binary too, so the command line is checked as well.
#
# Usage: scripts/sanitizers.sh [asan|tsan|all]      (default: all)
# Environment: CXX (default g++), JOBS (default: nproc), BUILD_ROOT (default: the repository),
#              CTEST_ARGS (extra ctest arguments, e.g. "-R Checkpoint").
# Exit status: 0 when every selected test passed without a sanitizer report, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-all}
jobs=${JOBS:-$(nproc)}
cxx=${CXX:-g++}
build_root=${BUILD_ROOT:-$root}
ctest_args=${CTEST_ARGS:-}

case "$mode" in
  asan | tsan | all) ;;
  *)
    echo "usage: scripts/sanitizers.sh [asan|tsan|all]" >&2
    exit 2
    ;;
esac

configure_and_build() {  # dir, flags
  local dir=$1 flags=$2
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCAREMESH_BUILD_BENCH=OFF \
    -DCAREMESH_BUILD_TESTS=ON >/dev/null
  cmake --build "$dir" -j"$jobs"
}

failed=0

if [ "$mode" = asan ] || [ "$mode" = all ]; then
  dir=$build_root/build-asan
  echo "== sanitizers: AddressSanitizer + UndefinedBehaviorSanitizer ($cxx) in $dir"
  configure_and_build "$dir" \
    "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g"
  # A report makes the test's process exit non-zero (the CLI's too), so the test fails.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="report_objects=1"
  # shellcheck disable=SC2086
  if ! ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 1800 $ctest_args; then
    failed=1
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

if [ "$mode" = tsan ] || [ "$mode" = all ]; then
  dir=$build_root/build-tsan
  echo "== sanitizers: ThreadSanitizer ($cxx) in $dir"
  configure_and_build "$dir" "-fsanitize=thread -fno-omit-frame-pointer -g"
  # oneTBB comes uninstrumented from Debian: its scheduler's hand-over of tasks is invisible to
  # TSan, so races reported inside libtbb itself are not ours. Races in our frames still fail.
  supp=$dir/tsan.supp
  printf '%s\n' "called_from_lib:libtbb.so.12" "race:libtbb.so.12" >"$supp"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp"
  # shellcheck disable=SC2086
  if ! ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 1800 \
    -R 'Determinism|Thread|Parallel' $ctest_args; then
    failed=1
  fi
  unset TSAN_OPTIONS
fi

if [ "$failed" -ne 0 ]; then
  echo "sanitizers: FAILED (see the reports above)" >&2
  exit 1
fi
echo "sanitizers: all selected tests passed with no report"
