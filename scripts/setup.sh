#!/usr/bin/env bash
# Installs what is missing on a Debian 12 machine (as root), fetches the npm-pinned blst sources and builds.
# Usage: scripts/setup.sh [preset]   (default preset: release; output in build/)
#   CACHET_SETUP_BUILD=0: configure only (scripts/test.sh builds in stages).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"

packages=(build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libssl-dev libsqlite3-dev sqlite3 libpq-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev libunistring-dev libgtest-dev libbenchmark-dev
  libsecp256k1-dev libjwt-dev libcrypto++-dev ccache file)  # file: `cpack -G DEB` reads the binary's dependencies
if [ "${CACHET_SETUP_TEST_TOOLS:-0}" = 1 ]; then
  # Test-only tools: promtool checks the metrics text, wrk drives load tests, PostgreSQL backs the shared-db tests,
  # HAProxy balances two signers in the fail-over test, clang builds the libFuzzer targets, lintian and
  # systemd-analyze check the Debian package (whose postinst needs adduser), clang-format checks the formatting,
  # python3 and curl drive the Lodestar end-to-end test.
  packages+=(prometheus wrk postgresql haproxy clang libclang-rt-14-dev curl lintian systemd adduser clang-format
    python3)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# blst C sources, exactly as pinned (integrity hash) in package-lock.json; never run the package's scripts.
stamp=node_modules/.cachet-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -f node_modules/@chainsafe/blst/blst/src/server.c ]; then
  echo "setup: npm ci --ignore-scripts (blst sources)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

jobs=$(nproc)
cmake --preset "$preset" >/dev/null
if [ "${CACHET_SETUP_BUILD:-1}" = 1 ]; then cmake --build --preset "$preset" -j "$jobs"; fi
