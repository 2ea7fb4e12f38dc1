#!/usr/bin/env bash
# The Debian package end to end, on a scratch machine as root (CI's fresh Debian 12): cpack builds it from the
# already-built tree, lintian finds no error, dpkg installs it (the cachet user, /var/lib/cachet 0700), the installed
# binary and config start a signer, systemd-analyze verifies the unit, `dpkg -r` keeps the data, and `dpkg --purge`
# keeps /var/lib/cachet while it holds a slashing-protection database and deletes it once it holds only what the
# signer recreates. The machine is left as it was found.
# Usage: deb_package_test.sh BUILD_DIR   (exit 77: skipped)
set -euo pipefail
build_dir=$(realpath "$1")
state=/var/lib/cachet

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || skip "needs root: installs and purges the package"
for tool in cpack dpkg-deb lintian systemd-analyze adduser setpriv; do
  command -v "$tool" >/dev/null || skip "$tool is missing (CACHET_SETUP_TEST_TOOLS=1 scripts/setup.sh installs it)"
done
# Never on a machine where Cachet is in use: everything below is removed at the end.
if dpkg-query -W -f='${Status}' cachet 2>/dev/null | grep -qv "not-installed"; then skip "a cachet package is installed"; fi
if getent passwd cachet >/dev/null || getent group cachet >/dev/null; then skip "a cachet user or group exists"; fi
if [ -e "$state" ] || [ -e /etc/cachet ]; then skip "$state or /etc/cachet exists"; fi

work=$(mktemp -d)
signer_pid=
cleanup() {
  set +e # every step, whatever failed before
  [ -n "$signer_pid" ] && kill "$signer_pid" 2>/dev/null
  dpkg --purge cachet >/dev/null 2>&1
  rm -rf "$state" /etc/cachet "$work"
  if getent passwd cachet >/dev/null; then userdel cachet; fi
  if getent group cachet >/dev/null; then groupdel cachet; fi
}
trap cleanup EXIT

echo "== cpack"
(cd "$build_dir" && cpack -G DEB -B "$work" >"$work/cpack.log") || { cat "$work/cpack.log"; fail "cpack"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
deb="$work/cachet_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $deb: $(ls "$work")"
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/cachet ./lib/systemd/system/cachet.service ./etc/cachet/cachet.toml \
  ./usr/share/doc/cachet/copyright; do
  grep -q " $path\$" <<<"$contents" || fail "$path is not in the package"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/cachet/cachet.toml || fail "cachet.toml is not a conffile"

echo "== lintian"
lintian_out=$(lintian --tag-display-limit 0 --fail-on none "$deb" 2>&1)
echo "$lintian_out"
if grep -q "^E: " <<<"$lintian_out"; then fail "lintian reports errors"; fi

echo "== dpkg -i"
dpkg -i "$deb"
IFS=: read -r _ _ _ _ _ home shell <<<"$(getent passwd cachet)"
[ "$home" = "$state" ] || fail "cachet's home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "cachet's shell is $shell"
[ "$(stat -c '%a %U %G' "$state")" = "700 cachet cachet" ] || fail "$state: $(stat -c '%a %U %G' "$state")"
/usr/bin/cachet --version | grep -q "^cachet $version " || fail "cachet --version: $(/usr/bin/cachet --version)"
setpriv --reuid=cachet --regid=cachet --init-groups /usr/bin/cachet --config-file /etc/cachet/cachet.toml --print-config >"$work/config.txt"
grep -Eq "^port = 9000 +# file /etc/cachet/cachet.toml$" "$work/config.txt" || fail "packaged config: $(cat "$work/config.txt")"
# verify exits 0 on an unknown key or a bad value (it says "ignoring"): any output at all is a failure.
verify_out=$(systemd-analyze verify /lib/systemd/system/cachet.service 2>&1) || fail "systemd-analyze: $verify_out"
[ -z "$verify_out" ] || fail "systemd-analyze verify: $verify_out"

echo "== the packaged config starts a signer (ports 0: any free ones)"
setpriv --reuid=cachet --regid=cachet --init-groups /usr/bin/cachet --config-file /etc/cachet/cachet.toml --port 0 --metrics-port 0 \
  --key-cache-scrypt-n 1024 >"$work/signer.log" 2>&1 &
signer_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/signer.log" && break
  kill -0 "$signer_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "listening on" "$work/signer.log" || fail "signer did not start: $(cat "$work/signer.log")"
kill -TERM "$signer_pid"
wait "$signer_pid" || fail "signer exit $?: $(cat "$work/signer.log")"
signer_pid=
[ -f "$state/slashing-protection.sqlite" ] || fail "no slashing database in $state: $(ls -A "$state")"

echo "== dpkg -r keeps the data"
dpkg -r cachet
[ ! -e /usr/bin/cachet ] || fail "/usr/bin/cachet is still there"
[ -f "$state/slashing-protection.sqlite" ] || fail "remove deleted the slashing database"
[ -f /etc/cachet/cachet.toml ] || fail "remove deleted the conffile"

echo "== dpkg --purge keeps a slashing database"
dpkg --purge cachet 2>"$work/purge.log"
cat "$work/purge.log"
[ -f "$state/slashing-protection.sqlite" ] || fail "purge deleted the slashing database"
grep -q "kept $state" "$work/purge.log" || fail "purge did not say it kept $state"
[ ! -e /etc/cachet ] || fail "purge left /etc/cachet"

echo "== dpkg --purge deletes what the signer recreates"
dpkg -i "$deb" >/dev/null
[ "$(stat -c '%a %U %G' "$state")" = "700 cachet cachet" ] || fail "reinstall: $state: $(stat -c '%a %U %G' "$state")"
find "$state" -mindepth 1 ! -type d ! -name api-token.txt ! -name key-cache -delete
dpkg --purge cachet
[ ! -e "$state" ] || fail "purge left $state: $(find "$state")"

trap - EXIT
cleanup
set -e
getent passwd cachet >/dev/null && fail "the cachet user is left"
dpkg-query -W -f='${Status}' cachet 2>/dev/null | grep -qv "not-installed" && fail "the package is left"
echo "PASS"
