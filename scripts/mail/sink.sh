#!/usr/bin/env bash
# Postfix's smtp-sink as a stand-in SMTP server (e.g. for the gateway port, or as a fast mail
# server for benchmarks). Runs in the background; stopped by the PID in STATE_DIR/sink.pid.
#
#   scripts/mail/sink.sh start STATE_DIR [PORT]   (PORT default ${SINK_PORT:-10025}; listens on 127.0.0.1)
#   scripts/mail/sink.sh stop  STATE_DIR [--purge]
#
# Env: SINK_DUMP=1 writes every message (with X-Rcpt-Args etc.) to STATE_DIR/dump/;
#      SINK_BACKLOG (default 64); SINK_ARGS extra smtp-sink options (e.g. "-c" for counters, "-L" for LMTP).
# Writes STATE_DIR/env with SINK_PORT, SINK_DUMP_DIR, SINK_STATE_DIR.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
die() { echo "mail/sink.sh: $*" >&2; exit 1; }
CMD=${1:-}; STATE=${2:-}
[ -n "$CMD" ] && [ -n "$STATE" ] || die "usage: $0 start STATE_DIR [PORT] | stop STATE_DIR [--purge]"
case "$CMD" in
start)
  PORT=${3:-${SINK_PORT:-10025}}
  SINK=$(command -v smtp-sink) || die "smtp-sink not found (package postfix)"
  mkdir -p "$STATE"; STATE=$(cd "$STATE" && pwd); chmod 755 "$STATE"
  if [ -s "$STATE/sink.pid" ] && kill -0 "$(cat "$STATE/sink.pid")" 2>/dev/null; then die "smtp-sink already running for $STATE"; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then die "127.0.0.1:$PORT is already in use"; fi
  args=(-h sink.test)
  [ "$(id -u)" = 0 ] && args+=(-u nobody)
  DUMP=""
  if [ "${SINK_DUMP:-0}" = 1 ]; then
    DUMP=$STATE/dump; mkdir -p "$DUMP"; chown nobody "$DUMP" 2>/dev/null || true
    args+=(-d "$DUMP/%Y%m%d%H%M%S.")
  fi
  # shellcheck disable=SC2206
  args+=(${SINK_ARGS:-})
  setsid "$SINK" "${args[@]}" "127.0.0.1:$PORT" "${SINK_BACKLOG:-64}" >"$STATE/sink.log" 2>&1 < /dev/null &
  echo $! > "$STATE/sink.pid"
  for i in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$(cat "$STATE/sink.pid")" 2>/dev/null || { cat "$STATE/sink.log" >&2; die "smtp-sink exited"; }
    [ "$i" = 50 ] && die "smtp-sink not listening on 127.0.0.1:$PORT after 5 s"
    sleep 0.1
  done
  printf "export SINK_PORT=%s\nexport SINK_DUMP_DIR='%s'\nexport SINK_STATE_DIR='%s'\n" "$PORT" "$DUMP" "$STATE" > "$STATE/env"
  cat "$STATE/env"
  echo "# smtp-sink pid $(cat "$STATE/sink.pid"); stop with: $0 stop $STATE [--purge]" >&2
  ;;
stop)
  PURGE=0; [ "${3:-}" = --purge ] && PURGE=1
  if [ -s "$STATE/sink.pid" ]; then
    pid=$(cat "$STATE/sink.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
      echo "smtp-sink ($pid) stopped"
    fi
    rm -f "$STATE/sink.pid"
  else
    echo "no smtp-sink pidfile in $STATE"
  fi
  if [ "$PURGE" = 1 ] && [ -d "$STATE" ]; then rm -rf "$STATE"; echo "removed $STATE"; fi
  ;;
*) die "unknown command $CMD (start|stop)";;
esac
