#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each on a copy of its seed corpus (the committed corpus is never written).
# Usage: test/fuzz/run.sh SECONDS [BUILD_DIR]      (BUILD_DIR default: build-fuzz, the `fuzz` preset's)
#   SECONDS 0 only replays the corpus (regression inputs included) once.
# Configures and builds the `fuzz` preset (clang 19, ASan + UBSan + libFuzzer) when needed, installing clang 19 with
# apt when it is missing. Prints per target: executions, coverage (cov: edges, ft: features), corpus growth, and
# whether anything was found; a finding's input is kept in BUILD_DIR/fuzz-findings/<target>/ and the exit status is 1.
# Environment: FUZZ_TARGETS="a b" to run some targets only; FUZZ_JOBS=2 runs two targets at a time;
# FUZZ_KEEP_CORPUS=DIR keeps each run's grown corpus in DIR/<target>/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
seconds="${1:?usage: test/fuzz/run.sh SECONDS [BUILD_DIR]}"
build="${2:-$repo/build-fuzz}"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
targets=(${FUZZ_TARGETS:-sign_request_fuzz keystore_fuzz interchange_fuzz keymanager_body_fuzz commit_boost_body_fuzz})
jobs="${FUZZ_JOBS:-1}"

if ! command -v clang++-19 >/dev/null 2>&1 || [ ! -d /usr/lib/llvm-19/lib/clang/19/lib/linux ] ||
  ! ls /usr/lib/llvm-19/lib/clang/19/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz: installing clang-19 libclang-rt-19-dev"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends clang-19 libclang-rt-19-dev >/dev/null
fi

cd "$repo"
if [ ! -f "$build/build.ninja" ]; then
  cmake --preset fuzz -B "$build" >/dev/null
fi
start=$(date +%s)
cmake --build "$build" --target cachet_fuzz -j "$(nproc)" | tail -1
echo "fuzz: build $(($(date +%s) - start)) s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
findings="$build/fuzz-findings"

run_one() {
  local t="$1" name="${1%_fuzz}"
  local dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$here/corpus/$name/"* "$dir/corpus/"
  local seeds
  seeds=$(ls "$dir/corpus" | wc -l)
  local args=(-dict="$here/$name.dict" -artifact_prefix="$dir/artifacts/" -print_final_stats=1
    -timeout=10 -rss_limit_mb=2560 -max_len=65536)
  if [ "$seconds" = 0 ]; then args+=(-runs=0); else args+=(-max_total_time="$seconds"); fi
  local rc=0
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}" \
    ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" \
    "$build/bin/$t" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  local execs cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
  local grown
  grown=$(ls "$dir/corpus" | wc -l)
  local verdict="no findings"
  if [ "$rc" != 0 ] || [ -n "$(ls "$dir/artifacts")" ]; then
    verdict="FINDING (exit $rc)"
    mkdir -p "$findings/$t"
    cp "$dir/artifacts/"* "$findings/$t/" 2>/dev/null || true
    cp "$dir/log" "$findings/$t/log.txt"
    {
      echo "---- $t log (last 60 lines); inputs in $findings/$t/"
      tail -60 "$dir/log"
    } >"$dir/report"
  fi
  if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
    mkdir -p "$FUZZ_KEEP_CORPUS/$name"
    cp "$dir/corpus/"* "$FUZZ_KEEP_CORPUS/$name/"
  fi
  printf '%-22s %10s execs  cov: %-5s ft: %-6s corpus %s -> %s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "$seeds" "$grown" "$verdict" >"$dir/summary"
  [ "$rc" = 0 ] && [ -z "$(ls "$dir/artifacts")" ]
}

echo "fuzz: ${#targets[@]} targets, ${seconds} s each, ${jobs} at a time"
status=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done

for t in "${targets[@]}"; do cat "$work/$t/summary"; done
for t in "${targets[@]}"; do [ -f "$work/$t/report" ] && cat "$work/$t/report"; done
if [ "$status" = 0 ]; then echo "fuzz: no findings"; else echo "fuzz: FINDINGS (see above)"; fi
exit "$status"
