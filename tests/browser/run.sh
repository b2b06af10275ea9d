#!/usr/bin/env bash
# Browser tests of caremesh's web pages in Debian's headless Chromium, driven by playwright-core.
#
#   tests/browser/run.sh workshop|report|all CAREMESH_BINARY [DEPS_DIR]
#
# Installs playwright-core from package-lock.json with `npm ci` into DEPS_DIR (default:
# build/browser-deps, outside the source tree) when it is missing or the lock file changed,
# then runs the tests with node's built-in test runner. No browser is downloaded: the tests
# use /usr/bin/chromium (or $CAREMESH_CHROMIUM). Exit status: 0 passed, 1 failed, 77 skipped
# (no node or no Chromium).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
which_tests="${1:-}"
bin="${2:-}"
deps="${3:-$here/../../build/browser-deps}"

case "$which_tests" in
  workshop) files=("$here/workshop.test.js") ;;
  report) files=("$here/report.test.js") ;;
  all) files=("$here/workshop.test.js" "$here/report.test.js") ;;
  *)
    echo "usage: $0 workshop|report|all CAREMESH_BINARY [DEPS_DIR]" >&2
    exit 2
    ;;
esac
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "run.sh: caremesh binary not found: '$bin'" >&2
  exit 2
fi
chromium="${CAREMESH_CHROMIUM:-/usr/bin/chromium}"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "run.sh: node/npm not installed; skipping the browser tests" >&2
  exit 77
fi
if [ ! -x "$chromium" ]; then
  echo "run.sh: $chromium not installed; skipping the browser tests" >&2
  exit 77
fi

# npm ci once per lock file; a lock serialises parallel ctest jobs.
mkdir -p "$deps"
deps="$(cd "$deps" && pwd)"
(
  flock 9
  if [ ! -d "$deps/node_modules/playwright-core" ] ||
    ! cmp -s "$here/package-lock.json" "$deps/package-lock.json"; then
    cp "$here/package.json" "$here/package-lock.json" "$deps/"
    echo "run.sh: npm ci in $deps" >&2
    (cd "$deps" && npm ci --no-audit --no-fund --loglevel=error)
  fi
) 9>"$deps/.install.lock"

export NODE_PATH="$deps/node_modules"
export CAREMESH_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export CAREMESH_CHROMIUM="$chromium"
cd "$here"
exec node --test --test-reporter=spec "${files[@]}"
