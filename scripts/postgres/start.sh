#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for umsgate's shared-store tests and benches: its
# data, socket and log in STATE_DIR (the Debian cluster under /etc/postgresql is never touched),
# fsync off (test data only), password authentication (scram) over TCP.
#
#   scripts/postgres/start.sh STATE_DIR     (port: $PG_PORT, default 15432; must be free)
#
# The first start creates the cluster, a role `umsgate` (password `pg-secret`, CREATEDB so
# that each test can have a database of its own) and its database `umsgate`; a later start of
# the same STATE_DIR (after scripts/postgres/stop.sh without --purge) only starts the server.
# Writes STATE_DIR/env: DATABASE_URL PG_ADMIN_URL PG_PORT PG_STATE_DIR.
# Needs root (initdb refuses root, so the server runs as user postgres through setpriv) and the
# packages postgresql postgresql-client. Stop: scripts/postgres/stop.sh STATE_DIR [--purge].
set -euo pipefail
STATE=${1:-${PG_STATE_DIR:-}}
[ -n "$STATE" ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
PORT=${PG_PORT:-15432}
die() { echo "scripts/postgres/start.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (the server runs as user postgres)"
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$BIN" ] && [ -x "$BIN/initdb" ] || die "PostgreSQL missing: apt-get install postgresql postgresql-client"
id postgres >/dev/null 2>&1 || die "no user postgres (apt-get install postgresql)"
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is taken"
asp() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$STATE"; STATE=$(cd "$STATE" && pwd)
chown postgres:postgres "$STATE"; chmod 700 "$STATE"
fresh=0
if [ ! -s "$STATE/data/PG_VERSION" ]; then
  fresh=1
  echo 'pg-admin-secret' > "$STATE/pw"; chown postgres "$STATE/pw"; chmod 600 "$STATE/pw"
  asp "$BIN/initdb" -D "$STATE/data" -U postgres --pwfile="$STATE/pw" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$STATE/initdb.log" 2>&1 \
    || { tail -n 20 "$STATE/initdb.log" >&2; die "initdb failed"; }
fi
asp "$BIN/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w -t 60 \
    -o "-p $PORT -k $STATE -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { tail -n 20 "$STATE/server.log" >&2; die "the server did not start"; }
if [ "$fresh" = 1 ]; then
  # one -c per statement: psql runs a single -c with several statements in one transaction
  asp "$BIN/psql" -h "$STATE" -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -q \
      -c "create role umsgate login createdb password 'pg-secret'" \
      -c "create database umsgate owner umsgate" || die "cannot create the role and database"
fi
cat > "$STATE/env" <<ENV
DATABASE_URL=postgres://umsgate:pg-secret@127.0.0.1:$PORT/umsgate
PG_ADMIN_URL=postgres://postgres:pg-admin-secret@127.0.0.1:$PORT/postgres
PG_PORT=$PORT
PG_STATE_DIR=$STATE
ENV
cat "$STATE/env"
