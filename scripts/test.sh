#!/usr/bin/env bash
# Second command of the README: installs what is missing, builds and runs the whole test suite,
# then the reliability checks of docs/reliability.md. This is what CI runs (.ci/run).
#
# Usage: scripts/test.sh [--quick]
#   1. release  Release build (warnings are errors), the whole suite with ctest
#   2. asan     scripts/sanitizers.sh asan: the suite under AddressSanitizer + UBSan, no leaks
#   3. tsan     scripts/sanitizers.sh tsan: the threaded tests under ThreadSanitizer
#   4. fuzz     scripts/fuzz.sh: each fuzz target for FUZZ_SECONDS (default 60) seconds
# --quick (or CAREMESH_QUICK=1) runs stage 1 only: the developer's loop.
# Every stage runs even when an earlier one failed; the exit status is 1 if any failed.
# Each stage's wall time is printed at the end (docs/reliability.md lists measured ones).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${CAREMESH_QUICK:-0}
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "usage: scripts/test.sh [--quick]" >&2
      exit 2
      ;;
  esac
done
jobs=$(nproc)

scripts/install-deps.sh

release_suite() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCAREMESH_WERROR=ON &&
    cmake --build build -j"$jobs" &&
    ctest --test-dir build --output-on-failure -j"$jobs"
}

timings=()
failed=()
stage() {  # name, command...
  local name=$1 start=$SECONDS rc=0
  shift
  echo "== test.sh: stage $name"
  "$@" || rc=$?
  timings+=("$(printf '%-8s %5d s  %s' "$name" $((SECONDS - start)) "$([ $rc -eq 0 ] && echo ok || echo FAILED)")")
  [ $rc -eq 0 ] || failed+=("$name")
}

stage release release_suite
if [ "$quick" = 1 ]; then
  echo "test.sh: --quick: sanitizers and fuzzing skipped"
else
  stage asan scripts/sanitizers.sh asan
  stage tsan scripts/sanitizers.sh tsan
  stage fuzz scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi

echo "== test.sh: wall time per stage"
printf '  %s\n' "${timings[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all stages passed"
