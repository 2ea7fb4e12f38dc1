#!/usr/bin/env bash
# Installs the pinned Lodestar 1.5.1 (beacon node + validator client) from the shared devnet directory's
# package.json and yarn.lock, exactly as its README says, into a cache directory keyed by the lockfile's hash:
# a second run with the same lockfile reuses the install. Prints the path of the `lodestar` executable.
# Usage: test/e2e/install_lodestar.sh E2E_DIR
#   E2E_DIR: the shared lodestar-devnet directory (package.json, yarn.lock with @REGISTRY@ placeholders).
#   CACHET_E2E_CACHE: where installs are kept (default ~/.cache/cachet-e2e).
set -euo pipefail
src=$1
cache=${CACHET_E2E_CACHE:-$HOME/.cache/cachet-e2e}
key=$(cat "$src/package.json" "$src/yarn.lock" | sha256sum | cut -c1-16)
dir=$cache/lodestar-$key
bin=$dir/node_modules/.bin/lodestar
mkdir -p "$cache"
exec 9>"$cache/install.lock"
flock 9  # two runs at once: the second waits for the first's install and then uses it
if [ -f "$dir/.installed" ] && [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

# Install into a fresh directory, then mark it complete: an interrupted install is never taken for a finished one.
rm -rf "$dir"
mkdir -p "$dir"
reg=$(npm config get registry)
reg=${reg%/}
sed "s#@REGISTRY@#$reg#g" "$src/yarn.lock" >"$dir/yarn.lock"
cp "$src/package.json" "$dir/"
printf 'registry "%s"\n' "$reg" >"$dir/.yarnrc"
{
  npm install --prefix "$dir/tools" --no-audit --no-fund --loglevel=error yarn@1.22.22
  (cd "$dir" && tools/node_modules/.bin/yarn install --frozen-lockfile --ignore-engines --non-interactive \
    --network-timeout 600000)
} >&2
"$bin" --version >&2
touch "$dir/.installed"
echo "$bin"
