#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the signer with embedded defaults.
# Extra arguments go to `cachet` (for example --keystores-path DIR --keystores-passwords-path DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
exec build/bin/cachet --data-dir "${CACHET_DATA_DIR:-$PWD/data}" "$@"
