#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store tests: `start` installs Debian's postgresql if it is
# missing, creates a cluster in a new temporary folder (owned by the postgres user when run as root,
# since PostgreSQL refuses to run as root), listens on 127.0.0.1 only, on a free port, creates a
# user and a database, and prints two shell assignments for eval:
#   AIGC_TEST_POSTGRES_URL=postgres://aigc:...@127.0.0.1:PORT/aigc_test
#   AIGC_TEST_POSTGRES_DIR=/tmp/aigc-postgres.XXXXXX
# `stop DIR` stops that server and removes DIR. `start DIR` with the folder of a running server
# prints its assignments again (idempotent). Everything else goes to stderr.
#   eval "$(scripts/postgres-test-server.sh start)"; ...; scripts/postgres-test-server.sh stop "$AIGC_TEST_POSTGRES_DIR"
set -euo pipefail

log() { echo "postgres-test-server: $*" >&2; }

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The newest installed server's bin folder (Debian keeps initdb and pg_ctl out of PATH).
server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_if_missing() {
  if [ -n "$(server_bin)" ] && [ -x "$(server_bin)/initdb" ]; then return; fi
  log "installing postgresql with apt"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  [ -x "$(server_bin)/initdb" ] || { log "postgresql was installed but initdb was not found under /usr/lib/postgresql"; exit 1; }
}

# Runs a command as the owner of the cluster: postgres when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

print_assignments() {
  echo "AIGC_TEST_POSTGRES_URL=$(cat "$1/url")"
  echo "AIGC_TEST_POSTGRES_DIR=$1"
}

start() {
  local dir="${1:-}"
  if [ -n "$dir" ] && [ -f "$dir/url" ] && as_owner "$(server_bin)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    print_assignments "$dir"
    return
  fi
  install_if_missing
  local bin; bin="$(server_bin)"
  dir="$(mktemp -d /tmp/aigc-postgres.XXXXXX)"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  local password; password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1; }
  # A free port can be taken between the check and the start: try a few.
  local port started=""
  for _ in 1 2 3 4 5; do
    port="$(free_port)"
    # fsync off: a test cluster needs no durability against power loss, and it makes tests faster.
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
         -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=300" start >/dev/null; then
      started=1; break
    fi
  done
  [ -n "$started" ] || { log "the server did not start:"; tail -n 20 "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE aigc LOGIN PASSWORD '$password'" -c "CREATE DATABASE aigc_test OWNER aigc" >&2
  echo "postgres://aigc:$password@127.0.0.1:$port/aigc_test" >"$dir/url"
  chmod 600 "$dir/url"
  log "started PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port in $dir"
  print_assignments "$dir"
}

stop() {
  local dir="${1:-${AIGC_TEST_POSTGRES_DIR:-}}"
  [ -n "$dir" ] || { log "usage: $0 stop DIR (the AIGC_TEST_POSTGRES_DIR that start printed)"; exit 2; }
  case "$dir" in /tmp/aigc-postgres.*) ;; *) log "refusing to remove $dir: not a folder made by start"; exit 2 ;; esac
  if [ -d "$dir/data" ]; then
    as_owner "$(server_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start [DIR] | stop DIR" >&2; exit 2 ;;
esac
