#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the journal tests (runs/ JournalStoreTest).
#
#   eval "$(tools/postgres-test-server.sh start)"   # starts it, exports NPS_TEST_POSTGRES_URL/_USER/_PASSWORD
#   ./mvnw -pl runs test
#   tools/postgres-test-server.sh stop              # stops it and deletes its data
#
# start installs Debian's postgresql first if no /usr/lib/postgresql/*/bin/initdb exists (apt-get,
# with sudo when not root), initdb's a fresh cluster in a new temp folder (as user postgres when
# run as root: initdb refuses root), listens on 127.0.0.1 only (port NPS_TEST_POSTGRES_PORT,
# default 55432; its socket in the temp folder), and creates role and database nps_test. Only the
# export lines go to stdout; progress goes to stderr. Running start twice replaces the first server.
set -euo pipefail

PORT="${NPS_TEST_POSTGRES_PORT:-55432}"
POINTER="/tmp/nps-postgres-test-$PORT.dir"   # where stop finds the server's folder
DB=nps_test
ROLE=nps_test
PASSWORD=nps_test

log() { echo "postgres-test-server: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

ensure_binaries() {
  if [ -z "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ]; then
    log "no PostgreSQL server binaries under /usr/lib/postgresql: installing Debian's postgresql"
    as_root apt-get update -q >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
  fi
  [ -n "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] || { log "postgresql installed but no initdb found"; exit 1; }
}

# Runs a server binary as the cluster's owner: postgres when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  [ -f "$POINTER" ] || { log "no test server on port $PORT"; return 0; }
  local dir; dir="$(cat "$POINTER")"
  if [ -d "$dir/data" ]; then
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >&2 || log "pg_ctl stop failed (server not running?)"
  fi
  rm -rf "$dir" "$POINTER"
  log "stopped and removed $dir"
}

start() {
  ensure_binaries
  stop
  local bin dir
  bin="$(pg_bin)"
  # /tmp, not $TMPDIR: user postgres must reach the folder when we are root.
  dir="$(mktemp -d /tmp/nps-postgres-test.XXXXXX)"
  echo "$dir" > "$POINTER"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || { log "user postgres does not exist (is the postgresql package fully installed?)"; exit 1; }
    chown postgres: "$dir"
  fi
  # Local socket: trust (the setup below); TCP: password only, as a real deployment would.
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >/dev/null
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $dir" start >&2 \
    || { log "server did not start:"; cat "$dir/server.log" >&2; exit 1; }
  for _ in $(seq 1 60); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
  done
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" || { log "server not ready after 30 s"; cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/psql" -q -v ON_ERROR_STOP=1 -h "$dir" -p "$PORT" -U postgres -d postgres \
    -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" -c "CREATE DATABASE $DB OWNER $ROLE" >&2
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') up on 127.0.0.1:$PORT, data in $dir"
  echo "export NPS_TEST_POSTGRES_URL=jdbc:postgresql://127.0.0.1:$PORT/$DB"
  echo "export NPS_TEST_POSTGRES_USER=$ROLE"
  echo "export NPS_TEST_POSTGRES_PASSWORD=$PASSWORD"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop   (start prints export lines: eval \"\$($0 start)\")" >&2; exit 2 ;;
esac
