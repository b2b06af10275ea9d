#!/usr/bin/env bash
# Builds caremesh and its tests under sanitizers and runs them (docs/reliability.md):
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (leak detection on), the whole suite
#         but the browser tests (they test the pages' JavaScript, which no sanitizer sees);
#   tsan  ThreadSanitizer, the tests that run code on several threads (TSAN_TESTS below).
# The tests run the sanitized caremesh binary too, so the command line is checked as well.
# Both builds use -O1 (quicker to build, still fast enough to run) with debug information.
#
# Usage: scripts/sanitizers.sh [asan|tsan|all]      (default: all)
# Environment: CXX (default g++), JOBS (default: nproc), BUILD_ROOT (default: the repository),
#              CTEST_ARGS (extra ctest arguments, e.g. "-R Checkpoint").
# Exit status: 0 when every selected test passed without a sanitizer report, 1 otherwise
# (a report makes the reporting process exit non-zero, so its test fails), 2 on a bad argument.
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

# The tests that run code on several threads: TBB loops (Determinism, thread counts, Parallel),
# the results store's writers, the workshop server's request threads, experiments and sweeps.
# Not ServeCli.*: TSan defers a signal handler until the receiving thread next passes through
# certain interceptors, and a SIGTERM that lands on the thread blocked in accept() is then
# never handled (the server runs on; without TSan it stops at once: release and asan stages).
TSAN_TESTS='Determinism|Partition\.|Thread|Parallel|Concurrent|SameSeedSameState|Signals|WorkshopServer|WorkshopLoad|WorkshopHttp|Workshop\.|ExperimentsTest|SweepTest'

configure_and_build() {  # dir, flags
  local dir=$1 flags=$2
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCAREMESH_BUILD_BENCH=OFF -DCAREMESH_BUILD_TESTS=ON \
    >/dev/null
  cmake --build "$dir" -j"$jobs" --target caremesh caremesh_tests
}

failed=0

# Every report of every process (the test binary and each caremesh it starts) is also written to
# a file in REPORTS: a report fails the run even where a test would not notice it (a caremesh
# that was expected to fail anyway, a child whose exit status is not checked). A report also
# sets the reporting process's exit status to 86 (TSan: 66), which no caremesh command uses.
reports_of() {  # dir -> the report directory, emptied
  rm -rf "$1/sanitizer-reports"
  mkdir -p "$1/sanitizer-reports"
  echo "$1/sanitizer-reports"
}
check_reports() {  # report directory
  local found
  found=$(find "$1" -type f | sort)
  if [ -n "$found" ]; then
    echo "sanitizers: reports in $1:" >&2
    for f in $found; do
      echo "---- $f" >&2
      head -60 "$f" >&2
    done
    failed=1
  fi
}

if [ "$mode" = asan ] || [ "$mode" = all ]; then
  dir=$build_root/build-asan
  echo "== sanitizers: AddressSanitizer + UndefinedBehaviorSanitizer ($cxx) in $dir"
  configure_and_build "$dir" \
    "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -D_GLIBCXX_ASSERTIONS"
  reports=$(reports_of "$dir")
  export ASAN_OPTIONS="detect_leaks=1:exitcode=86:log_path=$reports/asan:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$reports/ubsan"
  export LSAN_OPTIONS="report_objects=1"
  # shellcheck disable=SC2086
  if ! ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 1800 -LE browser \
    $ctest_args; then
    failed=1
  fi
  check_reports "$reports"
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

if [ "$mode" = tsan ] || [ "$mode" = all ]; then
  dir=$build_root/build-tsan
  echo "== sanitizers: ThreadSanitizer ($cxx) in $dir"
  configure_and_build "$dir" "-fsanitize=thread -fno-omit-frame-pointer"
  # oneTBB comes uninstrumented from Debian: engine/tsan.hpp makes TBB's hand-over of loop
  # bodies visible to TSan, tests/sanitizers/tsan.supp suppresses reports on TBB's own
  # bookkeeping (why each line is safe is written there). The canary proves both: its race-free
  # loops must run clean, and a deliberate race in a parallel loop must be reported.
  supp=$root/tests/sanitizers/tsan.supp
  canary=$dir/tsan_canary
  "$cxx" -std=c++20 -O1 -g -fsanitize=thread -fno-omit-frame-pointer -I"$root" \
    "$root/tests/sanitizers/tsan_canary.cpp" -ltbb -pthread -o "$canary"
  canary_options="halt_on_error=1:exitcode=66:history_size=7:suppressions=$supp"
  if ! TSAN_OPTIONS=$canary_options "$canary" >/dev/null; then
    echo "sanitizers: TSan reports a race in the race-free canary (false report: see above)" >&2
    failed=1
  fi
  rc=0
  TSAN_OPTIONS=$canary_options "$canary" race >/dev/null 2>"$dir/tsan_canary.log" || rc=$?
  if [ "$rc" -ne 66 ] || ! grep -q "tsan_canary.cpp" "$dir/tsan_canary.log"; then
    echo "sanitizers: TSan did not report the canary's deliberate race (status $rc):" \
      "the suppressions or annotations hide races in parallel loops" >&2
    failed=1
  fi
  reports=$(reports_of "$dir")
  # history_size=7 (the most): a report whose earlier access TSan can no longer place in its
  # history shows "[failed to restore the stack]", and then no suppression can match it: that was
  # TBB's fold_tree writing the pending-task tree on the stack of the thread that ran the loop
  # (tsan.supp), reported when that thread's later frames reused the place.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=7:suppressions=$supp:log_path=$reports/tsan"
  # shellcheck disable=SC2086
  if ! ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 1800 \
    -R "$TSAN_TESTS" $ctest_args; then
    failed=1
  fi
  check_reports "$reports"
  unset TSAN_OPTIONS
fi

if [ "$failed" -ne 0 ]; then
  echo "sanitizers: FAILED (see the reports above)" >&2
  exit 1
fi
echo "sanitizers: all selected tests passed with no report"
