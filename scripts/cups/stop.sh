#!/usr/bin/env bash
# Stops the cupsd started by scripts/cups/start.sh, by the PID in its own pidfile.
#
#   scripts/cups/stop.sh STATE_DIR [--purge]      (--purge also deletes STATE_DIR)
set -euo pipefail
STATE=${CUPS_STATE_DIR:-}; PURGE=0
for a in "$@"; do case "$a" in --purge) PURGE=1;; *) STATE=$a;; esac; done
[ -n "$STATE" ] || { echo "usage: $0 STATE_DIR [--purge]" >&2; exit 2; }
PIDFILE="$STATE/run/cupsd.pid"
if [ -s "$PIDFILE" ]; then
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "cupsd $pid ignored SIGTERM, sending SIGKILL" >&2; kill -KILL "$pid"; fi
    echo "cupsd ($pid) stopped"
  else
    echo "cupsd ($pid) was not running"
  fi
  rm -f "$PIDFILE"
else
  echo "no cupsd pidfile in $STATE (not running?)"
fi
if [ "$PURGE" = 1 ] && [ -d "$STATE" ]; then rm -rf "$STATE"; echo "removed $STATE"; fi
exit 0
