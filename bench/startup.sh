#!/usr/bin/env bash
# Start-up time of the signer with a keystore directory, cold (no key cache) or warm (the cache from an earlier run):
# seconds until /upcheck answers, then until one sign request for every key has answered 200; resident memory; and
# optionally the time of a reload that adds one new keystore.
#   bench/startup.sh --keystores DIR [--data-dir DIR] [--reload-one] [--build-dir build] [-- extra cachet flags]
# DIR holds keys/ and passwords/ (cachet-make-keystores' layout). The same --data-dir twice: the second run is warm.
set -euo pipefail
BUILD=build PORT=28280 KS= DATA= RELOAD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keystores) KS=$2; shift 2 ;;
    --data-dir) DATA=$2; shift 2 ;;
    --reload-one) RELOAD=1; shift ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$KS" ] || { echo "--keystores DIR is required" >&2; exit 2; }
BIN=$BUILD/bin
TMP=$(mktemp -d /tmp/cachet-startup.XXXXXX)
DATA=${DATA:-$TMP/data}
trap '[ -n "${SIGNER:-}" ] && kill "$SIGNER" 2>/dev/null; rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
START=$(now)
"$BIN/cachet" --data-dir "$DATA" --keystores-path "$KS/keys" --keystores-passwords-path "$KS/passwords" \
  --port "$PORT" --metrics-port $((PORT + 1)) "$@" >"$TMP/signer.log" 2>&1 &
SIGNER=$!
until curl -sf "http://127.0.0.1:$PORT/upcheck" >/dev/null; do
  kill -0 "$SIGNER" 2>/dev/null || { cat "$TMP/signer.log"; exit 1; }
  sleep 0.05
done
UP=$(now)
curl -sf "http://127.0.0.1:$PORT/api/v1/eth2/publicKeys" | tr -d '[]"' | tr ',' '\n' >"$TMP/pubkeys.txt"
echo >>"$TMP/pubkeys.txt"
KEYS=$(wc -l <"$TMP/pubkeys.txt")
# One request a key: each of the 16 connections signs with its own keys in turn.
"$BIN/cachet-load" --port "$PORT" --keys "$TMP/pubkeys.txt" --workload unique-randao --connections 16 \
  --requests "$KEYS" >"$TMP/load.txt"
SIGNED=$(now)
OK=$(awk -F= '/^status_2xx=/{print $2}' "$TMP/load.txt")
RSS=$(awk '/^VmRSS/{printf "%.1f MiB", $2/1024}' "/proc/$SIGNER/status")
echo "keys=$KEYS upcheck=$(echo "$UP - $START" | bc)s all-signed=$(echo "$SIGNED - $START" | bc)s ($OK/$KEYS ok) rss=$RSS"
grep -E "keystores loaded|key cache" "$TMP/signer.log" | sed 's/^/  log: /'

if [ "$RELOAD" = 1 ]; then
  "$BIN/cachet-make-keystores" --count 1 --first 900000 --kdf pbkdf2 --pbkdf2-c 16 --out "$TMP/one" >/dev/null
  cp "$TMP/one/keys/keystore-900000.json" "$KS/keys/"
  cp "$TMP/one/passwords/keystore-900000.txt" "$KS/passwords/"
  AUTH="Authorization: Bearer $(cat "$DATA/api-token.txt")"
  R0=$(now)
  curl -sf -X POST -H "$AUTH" "http://127.0.0.1:$PORT/reload" >/dev/null
  until curl -sf -H "$AUTH" "http://127.0.0.1:$PORT/reload" | grep -q '"status":"completed"\|"status":"failed"'; do sleep 0.01; done
  R1=$(now)
  echo "reload of one new key among $KEYS: $(echo "$R1 - $R0" | bc)s: $(curl -sf -H "$AUTH" "http://127.0.0.1:$PORT/reload")"
  rm -f "$KS/keys/keystore-900000.json" "$KS/passwords/keystore-900000.txt"
fi
kill -TERM "$SIGNER"
wait "$SIGNER" || true
SIGNER=
