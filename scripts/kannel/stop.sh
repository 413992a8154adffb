#!/usr/bin/env bash
# Stops the Kannel started by scripts/kannel/start.sh, by the PIDs in its own pidfiles.
#
#   scripts/kannel/stop.sh STATE_DIR [--purge]      (--purge also deletes STATE_DIR)
set -euo pipefail
STATE=${KANNEL_STATE_DIR:-}; PURGE=0
for a in "$@"; do case "$a" in --purge) PURGE=1;; *) STATE=$a;; esac; done
[ -n "$STATE" ] || { echo "usage: $0 STATE_DIR [--purge]" >&2; exit 2; }
for p in smsbox bearerbox; do
  f="$STATE/$p.pid"
  [ -s "$f" ] || { echo "no $p pidfile in $STATE (not running?)"; continue; }
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "$p $pid ignored SIGTERM, sending SIGKILL" >&2; kill -KILL "$pid"; fi
    echo "$p ($pid) stopped"
  else
    echo "$p ($pid) was not running"
  fi
  rm -f "$f"
done
if [ "$PURGE" = 1 ] && [ -d "$STATE" ]; then rm -rf "$STATE"; echo "removed $STATE"; fi
exit 0
