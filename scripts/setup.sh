#!/usr/bin/env bash
# First command of the README: installs what is missing, builds (Release) and runs the
# flagship comparison of fragmented and networked delivery in Warsaw.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
out=out/warsaw-compare
./build/models/caremesh compare scenarios/warsaw.yaml --replications 10 --out "$out"
./build/models/caremesh report "$out" -o "$out/report.html"
echo "flagship comparison written to $out (comparison.json, results.sqlite)"
echo "open the report: $out/report.html"
