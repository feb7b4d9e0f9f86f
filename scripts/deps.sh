#!/usr/bin/env bash
# Installs the Debian 12 packages redial needs to build, test and run.
# Idempotent: when every package is already installed it touches nothing
# (no apt-get update), so it is cheap to call before every build.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  libuv1-dev libhiredis-dev libcurl4-openssl-dev libssl-dev libmsgpack-dev
  libjemalloc-dev libjansson-dev libhttp-parser-dev libcmocka-dev
  redis-server redis-tools tzdata curl python3 python3-redis python3-msgpack nodejs
  prometheus chromium chromium-driver
)
# npm (the Node examples' packages): Debian's, unless one came with nodejs.
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
