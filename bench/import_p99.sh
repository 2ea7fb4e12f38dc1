#!/usr/bin/env bash
# Sign p99 with and without a concurrent keymanager import: N scrypt keystores (EIP-2335's n = 2^18 by default) and a
# slashing_protection of V validators in one POST /eth/v1/keystores, while cachet-load signs at a fixed rate.
#   bench/import_p99.sh [--keystores 200] [--validators 500] [--rate 300] [--seconds 30] [--scrypt-n 262144]
#                       [--build-dir build] [--import-dir DIR: keystores made before with cachet-make-keystores]
# Prints p50/p99 of an open-loop signing run of --seconds without the import, then of one starting 0.5 s into the
# import (check that the import took longer than the run), and the import's duration.
set -euo pipefail
IMPORT_DIR= KEYSTORES=200 VALIDATORS=500 RATE=300 SCRYPT_N=262144 BUILD=build PORT=28180 SECONDS_=30
while [ $# -gt 0 ]; do
  case "$1" in
    --keystores) KEYSTORES=$2; shift 2 ;;
    --validators) VALIDATORS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --scrypt-n) SCRYPT_N=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --import-dir) IMPORT_DIR=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
BIN=$BUILD/bin
OUT=$(mktemp -d /tmp/cachet-import-p99.XXXXXX)
trap '[ -n "${SIGNER:-}" ] && kill "$SIGNER" 2>/dev/null; rm -rf "$OUT"' EXIT

"$BIN/cachet-make-keystores" --count 64 --kdf pbkdf2 --pbkdf2-c 16 --out "$OUT/sign" >/dev/null
if [ -n "$IMPORT_DIR" ]; then
  ln -s "$(realpath "$IMPORT_DIR")" "$OUT/import"
  KEYSTORES=$(ls "$OUT/import/keys" | wc -l)
else
  "$BIN/cachet-make-keystores" --count "$KEYSTORES" --first 100000 --kdf scrypt --scrypt-n "$SCRYPT_N" \
    --out "$OUT/import" >/dev/null
fi
python3 - "$OUT" "$VALIDATORS" <<'PY'
import json, os, sys
out, validators = sys.argv[1], int(sys.argv[2])
d = os.path.join(out, "import")
names = sorted(n[:-5] for n in os.listdir(os.path.join(d, "keys")))
keystores = [open(os.path.join(d, "keys", n + ".json")).read() for n in names]
passwords = [open(os.path.join(d, "passwords", n + ".txt")).read().rstrip("\n") for n in names]
data = [{"pubkey": "0x%096x" % (0xa0 << 376 | v),
         "signed_blocks": [{"slot": str(v * 10 + s)} for s in range(10)],
         "signed_attestations": [{"source_epoch": str(e), "target_epoch": str(e + 1)} for e in range(10)]}
        for v in range(validators)]
interchange = {"metadata": {"interchange_format_version": "5", "genesis_validators_root":
               "0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673"}, "data": data}
json.dump({"keystores": keystores, "passwords": passwords, "slashing_protection": json.dumps(interchange)},
          open(os.path.join(out, "body.json"), "w"))
PY

"$BIN/cachet" --data-dir "$OUT/data" --keystores-path "$OUT/sign/keys" --keystores-passwords-path \
  "$OUT/sign/passwords" --port "$PORT" --metrics-port $((PORT + 1)) --log-level warning >"$OUT/signer.log" 2>&1 &
SIGNER=$!
until curl -sf "http://127.0.0.1:$PORT/upcheck" >/dev/null; do sleep 0.2; done
TOKEN=$(cat "$OUT/data/api-token.txt")

summary() {
  awk -F= '/^latency_p50_us=/{p50=$2} /^latency_p99_us=/{p99=$2} /^status_2xx=/{ok=$2}
    /^status_4xx=|^status_503=|^status_other=/{bad+=$2} END{printf "p50 %.2f ms, p99 %.2f ms, %d ok, %d not ok\n",
    p50/1000, p99/1000, ok, bad}' "$1"
}
load() {
  "$BIN/cachet-load" --port "$PORT" --keys "$OUT/sign/pubkeys.txt" --workload unique-randao --rate "$RATE" \
    --connections 64 --duration "$SECONDS_" >"$1"
}

load "$OUT/before.txt"
echo "without import: $(summary "$OUT/before.txt")"
START=$(date +%s.%N)
curl -s -w '%{http_code}' -o "$OUT/import.json" -X POST "http://127.0.0.1:$PORT/eth/v1/keystores" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -H 'Expect:' --data-binary "@$OUT/body.json" >"$OUT/import.code" &
IMPORT=$!
sleep 0.5
load "$OUT/during.txt"
LOAD_END=$(date +%s.%N)
wait "$IMPORT" || true
END=$(date +%s.%N)
[ "$(cat "$OUT/import.code")" = 200 ] || { echo "import answered $(cat "$OUT/import.code"): $(head -c 300 "$OUT/import.json")"; }
echo "during import:  $(summary "$OUT/during.txt")"
echo "import: $KEYSTORES scrypt (n=$SCRYPT_N) keystores, $VALIDATORS validators' history: $(echo "$END - $START" | bc) s" \
  "($(grep -o '"imported"' "$OUT/import.json" | wc -l) imported); the signing run ended $(echo "$LOAD_END - $START" | bc) s" \
  "into it"
