#!/usr/bin/env bash
# clang-format check (.clang-format; Debian 12's clang-format 14), failing on the first file that is not formatted.
#   scripts/check_format.sh            every tracked C/C++ file (what CI runs: about two CPU seconds for the whole
#                                      tree, and right whatever the clone's depth or branches)
#   scripts/check_format.sh --changed  only the C/C++ files changed since the merge base with origin/main, committed
#                                      or not (without origin/main: those of the last commit), for a quick look
#                                      before committing
set -euo pipefail
cd "$(dirname "$0")/.."
patterns=('*.c' '*.cpp' '*.h' '*.hpp')
if [ "${1:-}" = --changed ]; then
  if base=$(git merge-base HEAD origin/main 2>/dev/null); then
    range=$base
  else
    range=HEAD~1
  fi
  mapfile -t files < <(git diff --name-only --diff-filter=d "$range" -- "${patterns[@]}")
  echo "format: ${#files[@]} C/C++ files changed since $(git rev-parse --short "$range")"
else
  mapfile -t files < <(git ls-files -- "${patterns[@]}")
  echo "format: ${#files[@]} tracked C/C++ files"
fi
[ ${#files[@]} -eq 0 ] || clang-format --dry-run -Werror "${files[@]}"
