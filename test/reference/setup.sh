#!/usr/bin/env bash
# Installs test/reference's pinned npm packages with `npm ci` (exact versions from package-lock.json, no install
# scripts) when node_modules is missing or was installed from a different lock file. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v node >/dev/null || { echo "test/reference/setup.sh: node (>= 20) is required" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
if (( major < 20 )); then echo "test/reference/setup.sh: node >= 20 required, found $(node -v)" >&2; exit 1; fi

stamp=node_modules/.cachet-lock-stamp   # lives inside node_modules, so `npm ci` wiping it also drops the stamp
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
npm ci --ignore-scripts --no-audit --no-fund
echo "$want" > "$stamp"
