#!/usr/bin/env bash
# What CI runs (.ci/run): installs what is missing (including test tools), then runs every test in stages ordered so
# that a failure shows early, the quick ones first:
#   1. quick: the formatting check (scripts/check_format.sh) and the release build's unit tests (ctest -L unit),
#      built before anything else is;
#   2. integration: the rest of the release build and its tests (integration, slashing interchange), and the
#      independent reference's self-check against the published vectors;
#   3. end-to-end: a Lodestar beacon node and validator client on a local devnet, every signature from Cachet, until
#      the chain finalizes (test/e2e/lodestar_devnet.sh; Lodestar's install is cached in ~/.cache/cachet-e2e);
#   4. the unit and integration tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   5. the unit, slashing and integration tests under ThreadSanitizer (the concurrency: group commit, key store,
#      signing pool, hash cache, HTTP sessions);
#   6. a short run of every libFuzzer target (clang 19, installed by test/fuzz/run.sh).
# Every build goes through ccache (CMakeLists.txt), whose statistics end the output. Each stage prints its time, and
# the end (or the failure) a table of them. The PostgreSQL tests use one private cluster
# (scripts/postgres-test-cluster.sh) started before the first stage.
# CACHET_TEST_QUICK=1 runs only 1 and 2.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

times=()
stage_name=""
stage_start=$SECONDS
run_start=$SECONDS
end_stage() {
  if [ -n "$stage_name" ]; then
    times+=("$(printf '%-48s %4d s' "$stage_name" $((SECONDS - stage_start)))")
    printf '== %s: %d s\n' "$stage_name" $((SECONDS - stage_start))
  fi
  stage_name=""
}
stage() {
  end_stage
  stage_name=$*
  stage_start=$SECONDS
  printf '\n== %s\n' "$*"
}
# ccache's hits and misses so far (all builds on this machine count; the report shows this run's difference).
ccache_counts() {
  command -v ccache >/dev/null || { echo "0 0"; return; }
  ccache --print-stats | awk '$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { h += $2 }
    $1 == "cache_miss" { m += $2 } END { print h + 0, m + 0 }'
}
read -r ccache_hits0 ccache_misses0 < <(ccache_counts)
report() {
  local failed=$stage_name
  end_stage
  printf '\n== stage times\n'
  printf '%s\n' "${times[@]}"
  printf '%-48s %4d s\n' "total" $((SECONDS - run_start))
  [ -z "$failed" ] || printf 'FAILED in stage: %s\n' "$failed"
  if command -v ccache >/dev/null; then
    local hits misses
    read -r hits misses < <(ccache_counts)
    hits=$((hits - ccache_hits0)) misses=$((misses - ccache_misses0))
    printf '\n== ccache: this run %d hits, %d misses (%d%% hits); since its statistics were zeroed:\n' "$hits" \
      "$misses" $((hits + misses > 0 ? 100 * hits / (hits + misses) : 0))
    ccache -s
  fi
}

pg_dir=""
trap 'report; [ -z "$pg_dir" ] || scripts/postgres-test-cluster.sh stop "$pg_dir"' EXIT
trap 'exit 130' INT TERM

stage "setup (packages, blst sources, configure)"
CACHET_SETUP_TEST_TOOLS=1 CACHET_SETUP_BUILD=0 scripts/setup.sh release
# The Commit-Boost integration tests check signatures with the reference's verifier (verify_commit_boost.mjs).
bash test/reference/setup.sh
summary=$(mktemp)

# One private PostgreSQL cluster (loopback, a free port, a temporary directory) for every stage's tests: each test
# creates its own databases in it. Stopped and removed on exit, whether the tests passed or not.
pg_dir=$(mktemp -d)
CACHET_TEST_PG_URL=$(scripts/postgres-test-cluster.sh start "$pg_dir")
export CACHET_TEST_PG_URL

stage "quick: formatting, unit tests"
scripts/check_format.sh
cmake --build --preset release -j "$jobs" --target cachet_unit
ctest --preset release -j "$jobs" -L unit | tee "$summary"

stage "integration: release build, integration and interchange tests"
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs" -LE unit | tee -a "$summary"
# The independent reference (lodestar SSZ + noble BLS from npm) must still reproduce every published vector,
# or the vectors the integration tests compare against would prove nothing.
node test/reference/selfcheck.mjs

if [ "${CACHET_TEST_QUICK:-0}" = 1 ]; then
  end_stage
  exit 0
fi

stage "end-to-end: Lodestar devnet signing through Cachet"
test/e2e/lodestar_devnet.sh build

# The multi-process PostgreSQL tests (PostgresSharedDatabase: two release signers, HAProxy, outages) and the
# timing bound on a hung server check wall-clock promises of the uninstrumented binary; the sanitizers cover the
# same code through the conformance suite, which runs on both databases.
timing_bound="PostgresSharedDatabase|AStoppedOrHung"

stage "AddressSanitizer + UndefinedBehaviorSanitizer"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  ctest --test-dir build-asan -j "$jobs" --output-on-failure -E "LargeDatabase|$timing_bound"

stage "ThreadSanitizer"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan -j "$jobs" --output-on-failure -E "LargeDatabase|Throughput|Mutation|$timing_bound"

stage "fuzzing (20 s a target)"
test/fuzz/run.sh 20

# The release suite's summaries again, for whoever reads only the end (stage times and ccache follow).
end_stage
printf '\n== all stages passed\n'
grep -E "tests passed, .* tests failed out of" "$summary"
