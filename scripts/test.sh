#!/usr/bin/env bash
# Quick start: install what is missing (including test tools), build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHET_SETUP_TEST_TOOLS=1 scripts/setup.sh release
ctest --preset release -j "$(nproc)"
