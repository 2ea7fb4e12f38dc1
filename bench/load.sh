#!/usr/bin/env bash
# Cachet's load test, in one command: builds, makes N test keystores, measures the raw blst baseline, starts the
# real signer on loopback with a fresh data dir (slashing protection on: SQLite, durable) and drives it with
# cachet-load, then prints one table of signs/s, p50/p99 and the ratio to the baseline measured in this run.
#
#   bench/load.sh                       # 64 keys, about 2.5 minutes
#   bench/load.sh --keys 64,1000,10000 --repeat 3 --compare-slashing-protection   # the README's figures
#   bench/load.sh --build-dir build-bench --seconds 10 --compare-slashing-protection
#   bench/load.sh --postgres-comparison-only    # PostgreSQL vs SQLite only, about 1.5 minutes
#
# Options:
#   --keys N[,N...]              keystores (default 64), cached in /tmp/cachet-bench-keys-N (pbkdf2, c = 16: the
#                                KDF is not what is measured, start-up is). With several counts (64,1000,10000) the
#                                first gets every run and each further one the shared and pinned peaks and open loop
#   --seconds S                  length of each load run (default 8)
#   --repeat N                   run each load N times; the table shows medians (503s and errors: sums)
#   --raw-seconds S              length of each raw baseline figure (default 2)
#   --connections C              connections of the closed-loop runs (default 16)
#   --open-connections C         connection slots of the open-loop runs (default 64, at most --keys)
#   --build-dir DIR              build here (configured as RelWithDebInfo + Ninja if new) instead of the
#                                `release` preset's build/
#   --no-build                   use what is built already
#   --cachet PATH                the signer binary to run (default DIR/bin/cachet)
#   --port P                     signing port on 127.0.0.1 (default 28080; metrics on P+1)
#   --slashing-protection-enabled=false   run the whole test with slashing protection off
#   --compare-slashing-protection         also run the attestation workload with it off, for the on/off ratio
#   --compare-postgres           also run the attestation workload with the slashing database in PostgreSQL (a
#                                private cluster on loopback, scripts/postgres-test-cluster.sh) and in SQLite, with
#                                one signer and with two (PostgreSQL: one shared database; SQLite: one each), the
#                                keys split between two clients; prints the PostgreSQL/SQLite ratios
#   --postgres-comparison-only   only those runs (and the raw baseline)
#   --no-pinned                  skip the pinned configuration (server on core 0, client on core 1)
#   --pinned-only                only the pinned configuration (and the raw baseline)
#   --no-overload                skip the overload run (a signer with --max-queued-requests 64, offered twice its
#                                peak over 256 connections: the excess must get 503 at once, not time out)
#   --rss-only                   start the signer with the keys, report its resident memory, stop
#   --out DIR                    keep every tool's output here (default /tmp/cachet-bench-run-<time>)
#
# Configurations:
#   shared  the signer with all cores (default --workers), the client unpinned: they share the cores;
#           ratios are to raw_sign_allcores_per_s (all cores, no HTTP, no client taking CPU)
#   pinned  `taskset -c 0 cachet --workers 1`, `taskset -c 1 cachet-load`; ratios to
#           raw_sign_1core_per_s measured with `taskset -c 0`
# Only 127.0.0.1 is ever contacted. The signer is stopped on exit, whatever happens.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEY_COUNTS=64
RUN_SECONDS=8
REPEAT=1
RAW_SECONDS=2
CONNECTIONS=16
OPEN_CONNECTIONS=64
BUILD_DIR=""
BUILD=1
CACHET=""
PORT=28080
SLASHING=true
COMPARE_SP=0
PINNED=1
PINNED_ONLY=0
OVERLOAD=1
COMPARE_PG=0
PG_ONLY=0
RSS_ONLY=0
OUT=""

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --keys) KEY_COUNTS=$2; shift ;;
    --seconds) RUN_SECONDS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --raw-seconds) RAW_SECONDS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --open-connections) OPEN_CONNECTIONS=$2; shift ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --no-build) BUILD=0 ;;
    --cachet) CACHET=$2; shift ;;
    --port) PORT=$2; shift ;;
    --slashing-protection-enabled=*) SLASHING=${1#*=} ;;
    --slashing-protection-enabled) SLASHING=$2; shift ;;
    --compare-slashing-protection) COMPARE_SP=1 ;;
    --no-pinned) PINNED=0 ;;
    --pinned-only) PINNED_ONLY=1 ;;
    --no-overload) OVERLOAD=0 ;;
    --compare-postgres) COMPARE_PG=1 ;;
    --postgres-comparison-only) COMPARE_PG=1 PG_ONLY=1 ;;
    --rss-only) RSS_ONLY=1 ;;
    --out) OUT=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "load.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
  shift
done
case "$SLASHING" in true | 1 | on) SLASHING=true ;; false | 0 | off) SLASHING=false ;; *)
  echo "load.sh: --slashing-protection-enabled takes true or false" >&2; exit 2 ;; esac
IFS=, read -r -a KEY_LIST <<<"$KEY_COUNTS"
for k in "${KEY_LIST[@]}"; do [[ $k =~ ^[1-9][0-9]*$ ]] || { echo "load.sh: --keys takes counts like 64,1000" >&2; exit 2; }; done
KEYS=${KEY_LIST[0]}
CONNECTIONS_ASKED=$CONNECTIONS OPEN_CONNECTIONS_ASKED=$OPEN_CONNECTIONS
METRICS_PORT=$((PORT + 1))
OUT=${OUT:-/tmp/cachet-bench-run-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
log() { printf '[load.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- build -------------------------------------------------------------------------------------------------------
TARGETS=(cachet-bench-raw cachet-bench-fsync cachet-load cachet-make-keystores)
[[ -z $CACHET ]] && TARGETS+=(cachet_cli)  # the signer's executable target (output name `cachet`)
if [[ -z $BUILD_DIR ]]; then
  BUILD_DIR=$ROOT/build
  if ((BUILD)); then
    log "building (cmake --preset release) ..."
    (cd "$ROOT" && cmake --preset release >"$OUT/configure.log" 2>&1 || { cat "$OUT/configure.log"; exit 1; })
  fi
else
  [[ $BUILD_DIR = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
  if ((BUILD)) && [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    log "configuring $BUILD_DIR ..."
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$OUT/configure.log" 2>&1 ||
      { cat "$OUT/configure.log"; exit 1; }
  fi
fi
if ((BUILD)); then
  log "building ${TARGETS[*]} in $BUILD_DIR ..."
  if ! cmake --build "$BUILD_DIR" --target "${TARGETS[@]}" >"$OUT/build.log" 2>&1; then
    tail -30 "$OUT/build.log"
    echo "load.sh: build failed (log: $OUT/build.log)" >&2
    exit 1
  fi
fi
BIN=$BUILD_DIR/bin
CACHET=${CACHET:-$BIN/cachet}
for tool in "$CACHET" "$BIN/cachet-bench-raw" "$BIN/cachet-bench-fsync" "$BIN/cachet-load" "$BIN/cachet-make-keystores"; do
  [[ -x $tool ]] || { echo "load.sh: $tool is missing (build it, or give --build-dir / --cachet)" >&2; exit 1; }
done

# --- keys --------------------------------------------------------------------------------------------------------
# use_keys N: the runs that follow use N keys (made once, cached), with at most N connections.
use_keys() {
  KEYS=$1
  KEY_DIR=/tmp/cachet-bench-keys-$KEYS
  if [[ ! -f $KEY_DIR/pubkeys.txt ]] || (($(grep -c . "$KEY_DIR/pubkeys.txt") != KEYS)) ||
    (($(find "$KEY_DIR/keys" -name '*.json' | wc -l) != KEYS)); then
    log "making $KEYS keystores in $KEY_DIR ..."
    rm -rf "$KEY_DIR"
    "$BIN/cachet-make-keystores" --count "$KEYS" --kdf pbkdf2 --pbkdf2-c 16 --out "$KEY_DIR" >/dev/null
  fi
  PUBKEYS=$KEY_DIR/pubkeys.txt
  CONNECTIONS=$CONNECTIONS_ASKED OPEN_CONNECTIONS=$OPEN_CONNECTIONS_ASKED
  ((OPEN_CONNECTIONS > KEYS)) && OPEN_CONNECTIONS=$KEYS
  ((CONNECTIONS > KEYS)) && CONNECTIONS=$KEYS
  return 0
}
use_keys "${KEY_LIST[0]}"

# --- the signer --------------------------------------------------------------------------------------------------
SERVER_PID=""   # the signer started last
SERVER_PIDS=()  # every signer running
DATA_DIRS=()
PG_DIR=""
stop_server() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PID=""
  SERVER_PIDS=()
}
cleanup() {
  stop_server
  ((${#DATA_DIRS[@]})) && rm -rf "${DATA_DIRS[@]}"
  [[ -n $PG_DIR ]] && "$ROOT/scripts/postgres-test-cluster.sh" stop "$PG_DIR"
  return 0
}
trap cleanup EXIT
trap 'echo "load.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# start_server NAME CPU(""=any) WORKERS(""=default) SLASHING(true|false) [EXTRA SIGNER ARGS...]
# Signing port $SERVER_PORT (default --port), metrics on the next one.
start_server() {
  local name=$1 cpu=$2 workers=$3 sp=$4 port=${SERVER_PORT:-$PORT}
  local metrics_port=$((port + 1))
  shift 4
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/upcheck"; then
    echo "load.sh: something already answers on 127.0.0.1:$port (give --port)" >&2
    exit 1
  fi
  local data
  data=$(mktemp -d /tmp/cachet-bench-data.XXXXXX)
  DATA_DIRS+=("$data")
  local cmd=("$CACHET" --host 127.0.0.1 --port "$port" --metrics-host 127.0.0.1 --metrics-port "$metrics_port"
    --data-dir "$data" --keystores-path "$KEY_DIR/keys" --keystores-passwords-path "$KEY_DIR/passwords")
  # Passed only to turn it off: the signer's default is on (and an older signer without the flag still runs).
  [[ $sp == false ]] && cmd+=(--slashing-protection-enabled=false)
  [[ -n $workers ]] && cmd+=(--workers "$workers")
  cmd+=("$@")
  [[ -n $cpu ]] && cmd=(taskset -c "$cpu" "${cmd[@]}")
  echo "${cmd[*]}" >"$OUT/server-$name.cmd"
  local t0=$SECONDS
  "${cmd[@]}" >"$OUT/server-$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  local loaded=""
  for _ in $(seq 6000); do  # up to 10 minutes (10,000 keys)
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -20 "$OUT/server-$name.log" >&2
      echo "load.sh: the signer exited during start-up (log: $OUT/server-$name.log)" >&2
      SERVER_PID=""
      exit 1
    fi
    loaded=$(curl -s --max-time 1 "http://127.0.0.1:$port/health" | sed -n 's/.*"keys_loaded":\([0-9]*\).*/\1/p') || true
    [[ $loaded == "$KEYS" ]] && break
    sleep 0.1
  done
  [[ $loaded == "$KEYS" ]] || { echo "load.sh: the signer did not load $KEYS keys (log: $OUT/server-$name.log)" >&2; exit 1; }
  sleep 0.5
  START_S=$((SECONDS - t0))
  RSS_START_KIB=$(rss_kib "$SERVER_PID")
  # What the signer says it runs with (its start-up line), not what was asked for.
  SERVER_SP=$(sed -n 's/.*slashing-protection=\([A-Za-z]*\).*/\1/p' "$OUT/server-$name.log" | head -1 | tr A-Z a-z)
  SERVER_SP=${SERVER_SP:-"?"}
  METRICS_RSS=$(curl -s --max-time 2 "http://127.0.0.1:$metrics_port/metrics" |
    awk '/^process_resident_memory_bytes/ {printf "%.0f", $2}' || true)
  log "signer up ($name: cpu ${cpu:-any}, workers ${workers:-all}, slashing protection $SERVER_SP): $KEYS keys in ~${START_S}s," \
    "VmRSS $((RSS_START_KIB / 1024)) MiB"
  echo "rss_after_start_kib=$RSS_START_KIB process_resident_memory_bytes=${METRICS_RSS:-?} start_s=$START_S" \
    >"$OUT/server-$name.rss"
}

# --- the raw baseline --------------------------------------------------------------------------------------------
# Measured before and after the load runs; the faster of the two is used (other work on a shared machine only ever
# slows blst down), so the ratios are conservative.
val() { sed -n "s/^$1=//p" "$2" | head -1; }
measure_raw() {
  local when=$1
  log "raw baseline $when, all cores ($RAW_SECONDS s per figure) ..."
  "$BIN/cachet-bench-raw" --seconds "$RAW_SECONDS" >"$OUT/raw-$when.txt"
  if ((PINNED)); then
    log "raw baseline $when, pinned to core 0 ..."
    taskset -c 0 "$BIN/cachet-bench-raw" --seconds "$RAW_SECONDS" --threads 1 >"$OUT/raw-pinned-$when.txt"
  fi
  # The disk under the signers' data dirs: what one durable commit costs before any SQLite work.
  log "fdatasync latency $when in /tmp ..."
  "$BIN/cachet-bench-fsync" --dir /tmp >"$OUT/fsync-$when.txt"
}
# best KEY FILE...: the largest value of a rate (or, for *_us, the smallest time) over the files
best() {
  local key=$1
  shift
  for f in "$@"; do if [[ -f $f ]]; then val "$key" "$f"; fi; done |
    awk -v small="$([[ $key == *_us ]] && echo 1 || echo 0)" \
      'NR == 1 || (small ? $1 < b : $1 > b) {b = $1} END {if (NR) print b}'
}
((RSS_ONLY)) || measure_raw before

# --- load runs ---------------------------------------------------------------------------------------------------
ROWS=$OUT/rows.tsv  # config sp workload connection loop c signs/s p50_us p99_us 503 errors reference keys p999_us cpu_us
: >"$ROWS"
RUN=0
LAST_SIGNS=0

# run_load CONFIG CLIENT_CPU REFERENCE(all|pinned) WORKLOAD MODE(keep-alive|new-connection) RATE CONNECTIONS
run_load() {
  local config=$1 cpu=$2 ref=$3 workload=$4 mode=$5 rate=$6 conns=$7 sp=$SERVER_SP
  RUN=$((RUN + 1))
  local cmd=("$BIN/cachet-load" --host 127.0.0.1 --port "$PORT" --keys "$PUBKEYS" --workload "$workload"
    --connections "$conns" --duration "$RUN_SECONDS" --rate "$rate" --timeout 10)
  [[ $mode == new-connection ]] && cmd+=(--new-connection-per-request)
  [[ -n $cpu ]] && cmd=(taskset -c "$cpu" "${cmd[@]}")
  local files=() file r
  for ((r = 1; r <= REPEAT; r++)); do
    file=$(printf '%s/load-%02d-%s-%s-%s-%s-%d.txt' "$OUT" "$RUN" "$config" "$workload" "$mode" "${rate%.*}" "$r")
    echo "# ${cmd[*]}" >"$file"
    local cpu0 cpu1
    cpu0=$(cpu_ticks "$SERVER_PID")
    "${cmd[@]}" >>"$file" 2>&1 || true
    cpu1=$(cpu_ticks "$SERVER_PID")
    # The signer's CPU time (all its threads, user + system) per answered request: unlike signs/s, not lowered
    # when other processes take the cores for a while, so comparable with raw_sign_cpu_us on a shared machine.
    awk -v c=$((cpu1 - cpu0)) -v t="$(getconf CLK_TCK)" -F= '/^status_2xx=/ && $2 > 0 {
      printf "server_cpu_us_per_2xx=%.1f\n", c * 1e6 / t / $2 }' "$file" >>"$file"
    log "$(grep '^summary:' "$file" || echo "run $RUN: no summary (see $file)")"
    files+=("$file")
  done
  local loop=closed
  [[ $rate != 0 ]] && loop="open@${rate%.*}/s"
  add_row "$config" "$sp" "$workload" "$mode" "$loop" "$conns" "$ref" "${files[@]}"
}
# add_row CONFIG SP WORKLOAD MODE LOOP CONNECTIONS REFERENCE FILE...: one table row from the runs' outputs (medians;
# 503s and errors summed); sets LAST_SIGNS
add_row() {
  local config=$1 sp=$2 workload=$3 mode=$4 loop=$5 conns=$6 ref=$7
  shift 7
  local signs
  signs=$(median signs_per_s "$@")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$config" "$sp" "$workload" "$mode" \
    "$loop" "$conns" "${signs:-0}" "$(median latency_p50_us "$@")" "$(median latency_p99_us "$@")" \
    "$(cat "$@" | awk -F= '/^status_503=/ {n += $2} END {print n + 0}')" \
    "$(cat "$@" | awk -F= '/^(status_4xx|status_other|conn_errors|timeouts)=/ {n += $2} END {print n + 0}')" \
    "$ref" "$KEYS" "$(median latency_p999_us "$@")" "$(median server_cpu_us_per_2xx "$@")" >>"$ROWS"
  LAST_SIGNS=${signs:-0}
}

# compare_once FILE CLIENT... : one closed-loop unique-attestation run of --seconds by the clients at once, each
# PORT:KEYS_FILE:CONNECTIONS; FILE gets the run's figures (signs/s summed, the larger latency percentiles, counts
# summed), each client's own output FILE.N.
compare_once() {
  local file=$1 i=0 spec port keys conns pids=() outs=()
  shift
  for spec in "$@"; do
    i=$((i + 1))
    IFS=: read -r port keys conns <<<"$spec"
    local cmd=("$BIN/cachet-load" --host 127.0.0.1 --port "$port" --keys "$keys" --workload unique-attestation
      --connections "$conns" --duration "$RUN_SECONDS" --rate 0 --timeout 10)
    echo "# ${cmd[*]}" >"$file.$i"
    "${cmd[@]}" >>"$file.$i" 2>&1 &
    pids+=($!)
    outs+=("$file.$i")
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  awk -F= '
    /^signs_per_s=/ {signs += $2}
    /^latency_p50_us=/ && $2 > p50 {p50 = $2}
    /^latency_p99_us=/ && $2 > p99 {p99 = $2}
    /^(status_503|status_4xx|status_other|conn_errors|timeouts)=/ {n[$1] += $2}
    END {printf "signs_per_s=%.1f\nlatency_p50_us=%s\nlatency_p99_us=%s\n", signs, p50, p99
         for (k in n) printf "%s=%d\n", k, n[k]}' "${outs[@]}" >"$file"
  log "$(basename "$file" .txt): $(grep -h '^summary:' "${outs[@]}" | sed 's/;.*//' | tr '\n' ' ')"
}
# median KEY FILE...: the median of a key=value figure over the runs' files
median() {
  local key=$1
  shift
  for f in "$@"; do val "$key" "$f"; done | sort -g | awk '{v[NR] = $1} END {
    if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
half() { awk -v v="$1" 'BEGIN {printf "%d", v / 2}'; }

# The workloads of one configuration: closed-loop peaks (unique and shared roots, keep-alive and a new connection
# per request), then open loop at half of the unique-message peak for the p99.
run_config() {
  local config=$1 cpu=$2 ref=$3 full=$4
  local peak_att peak_randao
  run_load "$config" "$cpu" "$ref" unique-attestation keep-alive 0 "$CONNECTIONS"
  peak_att=$LAST_SIGNS
  run_load "$config" "$cpu" "$ref" unique-randao keep-alive 0 "$CONNECTIONS"
  peak_randao=$LAST_SIGNS
  run_load "$config" "$cpu" "$ref" shared-attestation keep-alive 0 "$CONNECTIONS"
  # Shared roots with no slashing record (RANDAO): what the hash-to-curve cache gives when no commit is owed.
  run_load "$config" "$cpu" "$ref" shared-randao keep-alive 0 "$CONNECTIONS"
  if ((full)); then
    run_load "$config" "$cpu" "$ref" unique-randao new-connection 0 "$CONNECTIONS"
    run_load "$config" "$cpu" "$ref" shared-randao new-connection 0 "$CONNECTIONS"
    (($(half "$peak_randao") > 0)) &&
      run_load "$config" "$cpu" "$ref" unique-randao keep-alive "$(half "$peak_randao")" "$OPEN_CONNECTIONS"
  fi
  OPEN_RATE=$(half "$peak_att")
  ((OPEN_RATE > 0)) &&
    run_load "$config" "$cpu" "$ref" unique-attestation keep-alive "$OPEN_RATE" "$OPEN_CONNECTIONS"
  return 0
}

finish_server() {
  local name=$1
  [[ -n $SERVER_PID ]] || return 0
  echo "rss_after_load_kib=$(rss_kib "$SERVER_PID") vmhwm_kib=$(hwm_kib "$SERVER_PID")" >>"$OUT/server-$name.rss"
  curl -s --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics" >"$OUT/metrics-$name.txt" || true
  stop_server
}

if ((PG_ONLY)); then
  :
elif ((RSS_ONLY)); then
  start_server shared "" "" "$SLASHING"
  finish_server shared
elif ((PINNED_ONLY)); then
  start_server pinned 0 1 "$SLASHING"
  run_config pinned 1 pinned 0
  finish_server pinned
else
  start_server shared "" "" "$SLASHING"
  run_config shared "" all 1
  PEAK_RANDAO=$(awk -F'\t' '$1 == "shared" && $3 == "unique-randao" && $4 == "keep-alive" && $5 == "closed" {print $7}' \
    "$ROWS" | head -1)
  finish_server shared
  if ((OVERLOAD)); then
    start_server overload "" "" "$SLASHING" --max-queued-requests 64
    run_load overload "" all unique-randao keep-alive \
      "$(awk -v v="${PEAK_RANDAO:-0}" 'BEGIN {printf "%d", 2 * v}')" 256
    finish_server overload
  fi
  PINNED_OPEN_RATE=0
  if ((PINNED)); then
    start_server pinned 0 1 "$SLASHING"
    run_config pinned 1 pinned 0
    PINNED_OPEN_RATE=$OPEN_RATE
    finish_server pinned
  fi
  if ((COMPARE_SP)) && [[ $SLASHING == true ]]; then
    start_server shared-sp-off "" "" false
    run_load shared "" all unique-attestation keep-alive 0 "$CONNECTIONS"
    finish_server shared-sp-off
    if ((PINNED)); then
      start_server pinned-sp-off 0 1 false
      run_load pinned 1 pinned unique-attestation keep-alive 0 "$CONNECTIONS"
      # The same open-loop rate as with protection on: the latency with no durable record to wait for.
      ((PINNED_OPEN_RATE > 0)) &&
        run_load pinned 1 pinned unique-attestation keep-alive "$PINNED_OPEN_RATE" "$OPEN_CONNECTIONS"
      finish_server pinned-sp-off
    fi
  fi
fi

# Further key counts: the peaks (unique and shared roots) and the open loop, shared and pinned.
if ((!PG_ONLY)) && ((!RSS_ONLY)); then
  for k in "${KEY_LIST[@]:1}"; do
    use_keys "$k"
    if ((!PINNED_ONLY)); then
      start_server "shared-$k" "" "" "$SLASHING"
      run_config shared "" all 0
      finish_server "shared-$k"
    fi
    if ((PINNED)); then
      start_server "pinned-$k" 0 1 "$SLASHING"
      run_config pinned 1 pinned 0
      finish_server "pinned-$k"
    fi
  done
  use_keys "${KEY_LIST[0]}"
fi

# PostgreSQL vs SQLite: the same keys and unique attestations with one signer and with two (one shared PostgreSQL
# database; SQLite cannot be shared between signers, so there each has its own file). All six signers are started
# first (an idle signer takes no CPU), then the four set-ups take turns, run after run, in alternating order: on a
# shared machine a slow spell then hits both databases, not one.
if ((COMPARE_PG)) && ((!RSS_ONLY)); then
  PG_DIR=$(mktemp -d /tmp/cachet-bench-pg.XXXXXX)
  log "starting a private PostgreSQL cluster in $PG_DIR ..."
  PG_URL=$("$ROOT/scripts/postgres-test-cluster.sh" start "$PG_DIR")
  new_pg_database() {
    local name=bench_$1_$$_$RANDOM
    psql -q "$PG_URL" -c "CREATE DATABASE $name" >/dev/null
    echo "${PG_URL%/*}/$name"
  }
  half=$((KEYS / 2)) conns_half=$((CONNECTIONS / 2))
  ((conns_half > 0)) || conns_half=1
  head -n "$half" "$PUBKEYS" >"$OUT/pubkeys-1.txt"
  tail -n +"$((half + 1))" "$PUBKEYS" >"$OUT/pubkeys-2.txt"
  db_x2=$(new_pg_database x2)
  SERVER_PORT=$PORT start_server sqlite-x1 "" "" true
  SERVER_PORT=$((PORT + 2)) start_server postgres-x1 "" "" true --slashing-protection-db-url "$(new_pg_database x1)"
  SERVER_PORT=$((PORT + 4)) start_server sqlite-x2-a "" "" true
  SERVER_PORT=$((PORT + 6)) start_server sqlite-x2-b "" "" true
  SERVER_PORT=$((PORT + 8)) start_server postgres-x2-a "" "" true --slashing-protection-db-url "$db_x2"
  SERVER_PORT=$((PORT + 10)) start_server postgres-x2-b "" "" true --slashing-protection-db-url "$db_x2"
  declare -A COMPARE_CLIENTS=(
    [sqlite-x1]="$PORT:$PUBKEYS:$CONNECTIONS"
    [postgres-x1]="$((PORT + 2)):$PUBKEYS:$CONNECTIONS"
    [sqlite-x2]="$((PORT + 4)):$OUT/pubkeys-1.txt:$conns_half $((PORT + 6)):$OUT/pubkeys-2.txt:$conns_half"
    [postgres-x2]="$((PORT + 8)):$OUT/pubkeys-1.txt:$conns_half $((PORT + 10)):$OUT/pubkeys-2.txt:$conns_half")
  order=(sqlite-x1 postgres-x1 sqlite-x2 postgres-x2)
  for ((r = 1; r <= REPEAT; r++)); do
    for config in "${order[@]}"; do
      # shellcheck disable=SC2086  # the clients are words
      compare_once "$(printf '%s/compare-%s-%d.txt' "$OUT" "$config" "$r")" ${COMPARE_CLIENTS[$config]}
    done
    order=("${order[3]}" "${order[2]}" "${order[1]}" "${order[0]}")
  done
  for config in sqlite-x1 postgres-x1 sqlite-x2 postgres-x2; do
    conns=$CONNECTIONS
    [[ $config == *-x2 ]] && conns=$((2 * conns_half))
    add_row "$config" "$SERVER_SP" unique-attestation keep-alive closed "$conns" all "$OUT"/compare-"$config"-*.txt
    declare "SIGNS_${config//-/_}=$LAST_SIGNS"
  done
  stop_server
  PG_RATIOS=$(awk -v a="$SIGNS_postgres_x1" -v b="$SIGNS_sqlite_x1" -v c="$SIGNS_postgres_x2" -v d="$SIGNS_sqlite_x2" 'BEGIN {
    printf "PostgreSQL/SQLite signs/s (unique attestations, closed loop): one signer %.0f/%.0f = %.2fx,", a, b, (b > 0 ? a / b : 0)
    printf " two signers %.0f/%.0f = %.2fx", c, d, (d > 0 ? c / d : 0) }')
fi

# --- report ------------------------------------------------------------------------------------------------------
if ((!RSS_ONLY)); then measure_raw after; fi
RAW_FILES=("$OUT"/raw-before.txt "$OUT"/raw-after.txt)
RAWP_FILES=("$OUT"/raw-pinned-before.txt "$OUT"/raw-pinned-after.txt)
RAW_1=$(best raw_sign_1core_per_s "${RAW_FILES[@]}")
RAW_ALL=$(best raw_sign_allcores_per_s "${RAW_FILES[@]}")
RAW_US=$(best raw_sign_us "${RAW_FILES[@]}")
RAWP_1=$(best raw_sign_1core_per_s "${RAWP_FILES[@]}")
RAWP_US=$(best raw_sign_us "${RAWP_FILES[@]}")
RAW_CPU=$(best raw_sign_cpu_us "${RAW_FILES[@]}")
RAWP_CPU=$(best raw_sign_cpu_us "${RAWP_FILES[@]}")
TABLE=$OUT/table.tsv
{
  printf 'config\tkeys\tsp\tworkload\tconnection\tloop\tc\tsigns/s\tp50 ms\tp99 ms\tp99.9 ms\t503\terrors\tvs raw'
  printf '\tp99/sign\tcpu us/req\tcpu vs raw\n'
  awk -F'\t' -v OFS='\t' -v all="${RAW_ALL:-0}" -v all_us="${RAW_US:-0}" -v pin="${RAWP_1:-0}" -v pin_us="${RAWP_US:-0}" \
    -v all_cpu="${RAW_CPU:-0}" -v pin_cpu="${RAWP_CPU:-0}" '
    function ratio(a, b, fmt) { return b > 0 ? sprintf(fmt, a / b) : "-" }
    {
      ref = $12 == "pinned" ? pin : all
      ref_us = $12 == "pinned" ? pin_us : all_us
      ref_cpu = $12 == "pinned" ? pin_cpu : all_cpu
      print $1, $13, $2, $3, $4, $5, $6, $7, sprintf("%.2f", $8 / 1000), sprintf("%.2f", $9 / 1000),
        ($14 == "" ? "-" : sprintf("%.2f", $14 / 1000)), $10 + 0, $11, ratio($7, ref, "%.2fx"), ratio($9, ref_us, "%.1fx"),
        ($15 == "" ? "-" : $15), ($15 > 0 ? ratio(ref_cpu, $15, "%.2fx") : "-")
    }' "$ROWS"
} >"$TABLE"
{
  echo "== Cachet load test: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'), $KEY_COUNTS keys," \
    "$(nproc) cores, ${RUN_SECONDS}s per run x $REPEAT, $(date -u +%Y-%m-%dT%H:%MZ)"
  for when in before after; do
    [[ -f $OUT/raw-$when.txt ]] || continue
    echo "raw blst $when: sign $(val raw_sign_1core_per_s "$OUT/raw-$when.txt")/s on 1 core" \
      "($(val raw_sign_us "$OUT/raw-$when.txt") us), $(val raw_sign_allcores_per_s "$OUT/raw-$when.txt")/s on all;" \
      "hash-to-G2 $(val raw_hash_to_g2_us "$OUT/raw-$when.txt") us; multiply only (shared root)" \
      "$(val raw_sign_prehashed_1core_per_s "$OUT/raw-$when.txt")/s on 1 core," \
      "CPU $(val raw_sign_cpu_us "$OUT/raw-$when.txt") us a signature," \
      "$(val raw_sign_prehashed_allcores_per_s "$OUT/raw-$when.txt")/s on all"
    [[ -f $OUT/raw-pinned-$when.txt ]] &&
      echo "raw blst $when, pinned to core 0: sign $(val raw_sign_1core_per_s "$OUT/raw-pinned-$when.txt")/s" \
        "($(val raw_sign_us "$OUT/raw-pinned-$when.txt") us); multiply only" \
        "$(val raw_sign_prehashed_1core_per_s "$OUT/raw-pinned-$when.txt")/s"
  done
  for when in before after; do
    [[ -f $OUT/fsync-$when.txt ]] &&
      echo "fdatasync of 4 KiB in /tmp $when: p50 $(val fsync_p50_us "$OUT/fsync-$when.txt") us," \
        "p99 $(val fsync_p99_us "$OUT/fsync-$when.txt") us, p99.9 $(val fsync_p999_us "$OUT/fsync-$when.txt") us" \
        "(every protected signature waits for one commit's sync)"
  done
  if ((!RSS_ONLY)); then
    echo "reference (the faster of before/after): all cores ${RAW_ALL}/s, 1 core ${RAW_1}/s (${RAW_US} us)$(
      ((PINNED)) && echo "; pinned core 0 ${RAWP_1}/s (${RAWP_US} us)")"
  fi
  for f in "$OUT"/server-*.rss; do
    echo "signer $(basename "$f" .rss | sed 's/^server-//') memory: $(tr '\n' ' ' <"$f")"
  done
  if ((!RSS_ONLY)); then
    echo
    column -t -s $'\t' "$TABLE"
    echo
    echo "vs raw: signs/s over the raw blst reference on the same cores (shared, overload: all cores; pinned: core 0)."
    echo "cpu us/req: the signer's CPU time (all threads) per 2xx answer; cpu vs raw: raw_sign_cpu_us over it (how"
    echo "many requests the CPU time of one raw signature serves; not lowered by other processes taking the cores)."
    echo "p99/sign: p99 latency over one raw signature on one core. errors: 4xx + other statuses + connection"
    echo "errors + timeouts. overload: --max-queued-requests 64, offered twice the shared unique-randao peak."
  fi
  [[ -n ${PG_RATIOS:-} ]] && echo "$PG_RATIOS (target: >= 0.8x with 64 keys)"
  echo "outputs: $OUT"
} | tee "$OUT/report.txt"
