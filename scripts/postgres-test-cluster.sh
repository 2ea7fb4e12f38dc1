#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests (scripts/test.sh runs one for the whole run and exports its URL as
# CACHET_TEST_PG_URL; test/support/postgres_cluster.hpp starts its own the same way when that is unset).
#   scripts/postgres-test-cluster.sh start DIR   # initdb in DIR (new or empty), start; prints the admin URL
#   scripts/postgres-test-cluster.sh stop DIR    # fast shutdown, then removes DIR
# Loopback only (127.0.0.1, trust authentication), a free port, the unix socket in DIR, fsync on, small buffers.
# As root, everything runs as the `postgres` OS user (initdb and the server refuse root), which owns DIR.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
command=$1
dir=$(realpath -m "$2")
bindir=${CACHET_TEST_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[ -x "$bindir/initdb" ] || { echo "no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)" >&2; exit 1; }

as_server_user() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}

case "$command" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_server_user "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
# cachet tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
shared_buffers = 32MB
max_connections = 300
max_wal_size = 256MB
recovery_init_sync_method = syncfs
log_min_messages = warning
CONF
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$dir/data/pg_hba.conf"
  # A port that is free now; should another process take it first, the start fails and another one is tried.
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    if as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port" start \
      >"$dir/pg_ctl.log" 2>&1; then
      echo "postgresql://postgres@127.0.0.1:$port/postgres"
      exit 0
    fi
  done
  cat "$dir/pg_ctl.log" "$dir/server.log" >&2
  exit 1
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null ||
      as_server_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
