#!/usr/bin/env bash
# Stop the Postfix instance started by scripts/mail/start.sh (postfix -c STATE/etc stop, then the
# master PID from its own pidfile if needed).
#
#   scripts/mail/stop.sh STATE_DIR [--purge]      (--purge also deletes STATE_DIR)
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
STATE=${MAIL_STATE_DIR:-}; PURGE=0
for a in "$@"; do case "$a" in --purge) PURGE=1;; *) STATE=$a;; esac; done
[ -n "$STATE" ] || { echo "usage: $0 STATE_DIR [--purge]" >&2; exit 2; }
PIDF="$STATE/spool/pid/master.pid"
if [ -s "$PIDF" ] && pid=$(tr -d ' ' < "$PIDF") && kill -0 "$pid" 2>/dev/null; then
  postfix -c "$STATE/etc" stop >/dev/null 2>&1 < /dev/null || kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "postfix master $pid still alive, SIGKILL" >&2; kill -KILL "$pid"; fi
  echo "postfix (master $pid) stopped"
else
  echo "postfix for $STATE not running"
fi
if [ "$PURGE" = 1 ] && [ -d "$STATE" ]; then rm -rf "$STATE"; echo "removed $STATE"; fi
exit 0
