#!/usr/bin/env bash
# Installs the Debian packages caremesh builds with, if any is missing (Debian 12).
set -euo pipefail
packages=(build-essential cmake pkg-config libeigen3-dev libboost-random-dev libboost-dev
  libtbb-dev libyaml-cpp-dev librandom123-dev libcli11-dev nlohmann-json3-dev libsqlite3-dev libicu-dev
  libgtest-dev libbenchmark-dev nettle-dev libxml2-utils chromium clang
  libclang-rt-14-dev libopenmpi-dev openmpi-bin)
# node and npm run the browser tests; Debian's packages unless the machine already has them
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
