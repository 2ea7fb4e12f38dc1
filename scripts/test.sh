#!/usr/bin/env bash
# Quick start: install what is missing (including test tools), build, and run every test:
#   1. the release build's unit, integration and interchange tests (ctest);
#   2. the independent reference's self-check against the published vectors;
#   3. the unit and integration tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. the unit, slashing and integration tests under ThreadSanitizer (the concurrency: group commit, key store,
#      signing pool, hash cache, HTTP sessions);
#   5. a short run of every libFuzzer target (clang 19, installed by test/fuzz/run.sh).
# The PostgreSQL tests use one private cluster (scripts/postgres-test-cluster.sh) started before the first stage.
# CACHET_TEST_QUICK=1 runs only 1 and 2.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
stage() { printf '\n== %s\n' "$*"; }

stage "release build and tests"
CACHET_SETUP_TEST_TOOLS=1 scripts/setup.sh release
# The Commit-Boost integration tests check signatures with the reference's verifier (verify_commit_boost.mjs).
bash test/reference/setup.sh
summary=$(mktemp)

# One private PostgreSQL cluster (loopback, a free port, a temporary directory) for every stage's tests: each test
# creates its own databases in it. Stopped and removed on exit, whether the tests passed or not.
pg_dir=$(mktemp -d)
trap 'scripts/postgres-test-cluster.sh stop "$pg_dir"' EXIT
trap 'exit 130' INT TERM
CACHET_TEST_PG_URL=$(scripts/postgres-test-cluster.sh start "$pg_dir")
export CACHET_TEST_PG_URL
ctest --preset release -j "$jobs" | tee "$summary"

# The independent reference (lodestar SSZ + noble BLS from npm) must still reproduce every published vector,
# or the vectors the integration tests compare against would prove nothing.
stage "reference self-check"
bash test/reference/setup.sh
node test/reference/selfcheck.mjs

if [ "${CACHET_TEST_QUICK:-0}" = 1 ]; then exit 0; fi

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

# Last line: the release suite's summary again, for whoever reads only the end.
stage "all stages passed"
grep -E "tests passed, .* tests failed out of" "$summary"
