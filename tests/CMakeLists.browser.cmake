# Browser tests (tests/browser/): Debian's headless Chromium driven by playwright-core from npm.
# Included from tests/CMakeLists.txt; registered only where /usr/bin/chromium, node and npm exist
# (scripts/install-deps.sh installs them, so CI runs them). run.sh installs playwright-core with
# `npm ci` into the build tree on first use and exits 77 (skipped) without node or Chromium.
find_program(CAREMESH_NODE node)
find_program(CAREMESH_NPM npm)
find_program(CAREMESH_BASH bash)
set(CAREMESH_CHROMIUM /usr/bin/chromium CACHE FILEPATH "Chromium for the browser tests")
if(CAREMESH_NODE AND CAREMESH_NPM AND CAREMESH_BASH AND EXISTS ${CAREMESH_CHROMIUM})
  foreach(page workshop report)
    add_test(NAME browser_${page}
             COMMAND ${CAREMESH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/browser/run.sh ${page}
                     $<TARGET_FILE:caremesh> ${CMAKE_BINARY_DIR}/browser-deps)
    set_tests_properties(browser_${page} PROPERTIES
                         TIMEOUT 300
                         SKIP_RETURN_CODE 77
                         ENVIRONMENT "CAREMESH_CHROMIUM=${CAREMESH_CHROMIUM}"
                         LABELS browser)
  endforeach()
  # npm ci runs once, under a lock, whichever browser test starts first
else()
  message(STATUS "browser tests off: needs node, npm and ${CAREMESH_CHROMIUM} "
                 "(scripts/install-deps.sh installs nodejs, npm, chromium)")
endif()
