#!/usr/bin/env bash
# Quick start: install what is missing (including test tools), build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHET_SETUP_TEST_TOOLS=1 scripts/setup.sh release
ctest --preset release -j "$(nproc)"
# The independent reference (lodestar SSZ + noble BLS from npm) must still reproduce every published vector,
# or the vectors the integration tests compare against would prove nothing.
bash test/reference/setup.sh
node test/reference/selfcheck.mjs
