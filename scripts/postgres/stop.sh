#!/usr/bin/env bash
# Stops the cluster started by scripts/postgres/start.sh (pg_ctl stop -m fast: open sessions
# are ended, as when a database server goes away).
#
#   scripts/postgres/stop.sh STATE_DIR [--purge]      (--purge also deletes STATE_DIR)
set -euo pipefail
STATE=${PG_STATE_DIR:-}; PURGE=0
for a in "$@"; do case "$a" in --purge) PURGE=1;; *) STATE=$a;; esac; done
[ -n "$STATE" ] || { echo "usage: $0 STATE_DIR [--purge]" >&2; exit 2; }
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -n "$BIN" ] && [ -s "$STATE/data/postmaster.pid" ]; then
  setpriv --reuid=postgres --regid=postgres --init-groups "$BIN/pg_ctl" -D "$STATE/data" -m fast -w stop >/dev/null \
    && echo "postgres in $STATE stopped"
else
  echo "no running postgres in $STATE"
fi
if [ "$PURGE" = 1 ] && [ -d "$STATE" ]; then rm -rf "$STATE"; echo "removed $STATE"; fi
exit 0
