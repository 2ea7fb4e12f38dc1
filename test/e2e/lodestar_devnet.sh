#!/usr/bin/env bash
# End-to-end: a real validator client signs everything through Cachet on a local devnet, and the chain finalizes.
#
#   test/e2e/lodestar_devnet.sh [BUILD_DIR]      (default BUILD_DIR: build, the release preset's)
#
# The pinned Lodestar 1.5.1 (../shared/e2e/lodestar-devnet, see its README.md; installed once into
# ~/.cache/cachet-e2e by install_lodestar.sh) runs a `lodestar dev` beacon node (interop genesis of 8 validators,
# minimal preset, 2 s slots, altair at epoch 1, bellatrix 2, capella 3) and a `lodestar validator` holding no keys:
# its every signature (randao, blocks of each fork, attestations, aggregates, sync committee messages and
# contributions) is an HTTP request to Cachet, which holds the interop keys 0..7 as EIP-2335 keystores and checks
# slashing protection (SQLite, the default). Passes when
#   - the beacon node reports a finalized epoch >= CACHET_E2E_FINALIZED_EPOCH (default 2) before the deadline;
#   - the validator client logged no error about signing or the external signer;
#   - Cachet answered sign requests of the expected types, each `ok`, and no sign request otherwise.
# Everything listens on 127.0.0.1 on free ports; every process started here is stopped on exit, whatever happens.
#
# Environment: CACHET_SHARED_E2E (default <repo>/../shared/e2e/lodestar-devnet; the test is skipped, saying so,
# when that directory does not exist), CACHET_E2E_CACHE (Lodestar installs, default ~/.cache/cachet-e2e),
# CACHET_E2E_TIMEOUT (seconds from genesis to finality, default 240), CACHET_E2E_KEEP=1 (keep the logs' directory).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
e2e=${CACHET_SHARED_E2E:-$repo/../shared/e2e/lodestar-devnet}
want_finalized=${CACHET_E2E_FINALIZED_EPOCH:-2}
timeout=${CACHET_E2E_TIMEOUT:-240}
validators=8

log() { printf '[e2e %s] %s\n' "$(date +%T)" "$*"; }
if [ ! -d "$e2e" ]; then
  log "SKIPPED: no Lodestar devnet directory at $e2e (set CACHET_SHARED_E2E)"
  exit 0
fi
for bin in cachet cachet_e2e_interop_keystores; do
  [ -x "$build/bin/$bin" ] || { log "missing $build/bin/$bin: build the release preset first"; exit 1; }
done

started=$SECONDS
lodestar=$("$repo/test/e2e/install_lodestar.sh" "$e2e")
log "Lodestar ready in $((SECONDS - started)) s: $lodestar"

work=$(mktemp -d "${TMPDIR:-/tmp}/cachet-e2e.XXXXXX")
cd "$work"  # `lodestar dev` writes genesis.ssz into its working directory
pids=()
status=1
# Each process runs in a process group of its own (setsid), so stopping the group also stops whatever it started.
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    # Up to 10 s to stop cleanly, then killed.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" != 0 ]; then
    for f in cachet beacon validator; do
      printf '\n--- last lines of %s.log\n' "$f"
      tail -n 40 "$work/$f.log" 2>/dev/null || true
    done
  fi
  if [ "${CACHET_E2E_KEEP:-0}" = 1 ] || [ "$status" != 0 ]; then log "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free loopback ports, chosen by the kernel (bound and released at once; nothing else here takes ports meanwhile).
read -r rest_port p2p_port signer_port metrics_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

# Cachet's view of the devnet: Lodestar's minimal-preset chain config (GENESIS_FORK_VERSION and each fork's version
# from @lodestar/config's minimal chainConfig, as `lodestar dev` uses it) with the fork epochs passed to both
# Lodestar processes below. The preset is what this chain's signing roots hang on (SSZ limits: the sync committee's
# size in altair blocks and contributions, withdrawals in capella payloads; Cachet refuses a request whose
# signingRoot is not the one it computes); each message's domain comes from the request's fork_info.
fork_params=(--params.SECONDS_PER_SLOT 2 --params.ALTAIR_FORK_EPOCH 1 --params.BELLATRIX_FORK_EPOCH 2
  --params.CAPELLA_FORK_EPOCH 3)
cat >"$work/config.yaml" <<'YAML'
PRESET_BASE: 'minimal'
GENESIS_FORK_VERSION: 0x00000001
ALTAIR_FORK_VERSION: 0x01000001
ALTAIR_FORK_EPOCH: 1
BELLATRIX_FORK_VERSION: 0x02000001
BELLATRIX_FORK_EPOCH: 2
CAPELLA_FORK_VERSION: 0x03000001
CAPELLA_FORK_EPOCH: 3
YAML

"$build/bin/cachet_e2e_interop_keystores" "$validators" "$work/keystores" >/dev/null
setsid "$build/bin/cachet" --host 127.0.0.1 --port "$signer_port" --metrics-host 127.0.0.1 --metrics-port "$metrics_port" \
  --data-dir "$work/cachet-data" --keystores-path "$work/keystores/keys" \
  --keystores-passwords-path "$work/keystores/passwords" --network "$work/config.yaml" >"$work/cachet.log" 2>&1 &
pids+=($!)

# Waits until "$@" succeeds, for at most $1 seconds; fails naming $2.
wait_for() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then log "FAILED: no $what within $limit s"; return 1; fi
    local pid
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { log "FAILED: process $pid exited while waiting for $what"; return 1; }
    done
    sleep 0.5
  done
}
keys_loaded() { curl -fsS "http://127.0.0.1:$signer_port/health" | grep -q "\"keys_loaded\":$validators"; }
wait_for 30 "Cachet with $validators keys" keys_loaded
log "Cachet serving $validators interop keys on 127.0.0.1:$signer_port"

# Genesis a few seconds ahead so that the validator client is connected before slot 0.
genesis_time=$(($(date +%s) + 15))
setsid "$lodestar" dev --dataDir "$work/beacon" --genesisValidators "$validators" --genesisTime "$genesis_time" \
  --rest.address 127.0.0.1 --rest.port "$rest_port" --listenAddress 127.0.0.1 --port "$p2p_port" \
  --discv5 false "${fork_params[@]}" >"$work/beacon.log" 2>&1 &
pids+=($!)
wait_for 60 "beacon node REST API" curl -fsS "http://127.0.0.1:$rest_port/eth/v1/node/version"
log "beacon node up on 127.0.0.1:$rest_port, genesis at $(date -d "@$genesis_time" +%T)"

setsid "$lodestar" validator --network dev --dataDir "$work/validator" "${fork_params[@]}" \
  --beaconNodes "http://127.0.0.1:$rest_port" --externalSigner.url "http://127.0.0.1:$signer_port" \
  --externalSigner.fetch >"$work/validator.log" 2>&1 &
pids+=($!)

finalized_epoch() {
  curl -fsS "http://127.0.0.1:$rest_port/eth/v1/beacon/states/head/finality_checkpoints" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["finalized"]["epoch"])'
}
finalized() { [ "$(finalized_epoch)" -ge "$want_finalized" ]; }
wait_for $((genesis_time - $(date +%s) + timeout)) "finalized epoch $want_finalized" finalized
log "finalized epoch $(finalized_epoch) reached $(($(date +%s) - genesis_time)) s after genesis"

# The validator client: no error line about signing or the external signer (Lodestar logs `error:` at that level,
# with the signer's answer, e.g. Cachet's "signing_root … does not match the computed signing root"). Other error
# lines are shown, not failed on: a healthy run has none, but they are not about the signer.
if grep -iE 'error' "$work/validator.log" | grep -iE 'sign|external|remote|web3signer'; then
  log "FAILED: the validator client logged signing errors (above)"
  exit 1
fi
sed 's/\x1b\[[0-9;]*m//g' "$work/validator.log" | grep -E '\] +error: ' >"$work/validator-errors.txt" || true
if [ -s "$work/validator-errors.txt" ]; then
  log "the validator client logged $(wc -l <"$work/validator-errors.txt") other error lines:"
  head -20 "$work/validator-errors.txt"
fi

# Cachet: no error in its log,
if grep -E '^[0-9T:.-]+Z (error|critical) ' "$work/cachet.log"; then
  log "FAILED: Cachet logged errors (above)"
  exit 1
fi
# and sign requests answered `ok` for every duty of an 8-validator minimal-preset chain past altair (each
# validator is an aggregator and in the sync committee there), and none answered otherwise.
curl -fsS "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt"
python3 - "$work/metrics.txt" <<'PY'
import re, sys
counts = {}
for line in open(sys.argv[1]):
    m = re.match(r'cachet_signing_requests_total\{type="(\w+)",status="(\w+)"\} (\d+)', line)
    if m and int(m[3]):
        counts[(m[1], m[2])] = int(m[3])
ok = {t: n for (t, s), n in counts.items() if s == "ok"}
bad = {f"{t} {s}": n for (t, s), n in counts.items() if s != "ok"}
print("[e2e] Cachet signed:", ", ".join(f"{t} {n}" for t, n in sorted(ok.items())))
expected = ["RANDAO_REVEAL", "BLOCK_V2", "ATTESTATION", "AGGREGATION_SLOT", "AGGREGATE_AND_PROOF",
            "SYNC_COMMITTEE_MESSAGE", "SYNC_COMMITTEE_SELECTION_PROOF", "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF"]
missing = [t for t in expected if t not in ok]
if missing:
    sys.exit(f"[e2e] FAILED: no successful sign request of type {', '.join(missing)}")
if bad:
    sys.exit(f"[e2e] FAILED: sign requests not answered ok: {bad}")
PY
status=0
log "PASSED in $((SECONDS - started)) s (Lodestar install included)"
