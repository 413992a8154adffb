#!/usr/bin/env bash
# Crash benchmark: SIGKILL umsgate at random moments while it takes mail over SMTP (outbound)
# and turns received SMS into mail for smtp-sink (inbound), ROUNDS times, restarting it on
# the same state folder each time; then let it drain and count. See bench/README.md.
#
#   bench/crash/run.sh                ROUNDS=5, kill after 1.0–4.0 s of each run
#
# Outbound: load.py smtp (THREADS=20 sessions) records a tag only after its 250; it resends
#   an unacknowledged message with the same tag. Count: tags in sent.jsonl (job "subject").
# Inbound: load.py received writes SMS into received/ as an engine would (RATE=150/s); the
#   calling number is the tag. Count: From: of the mails smtp-sink dumped, plus Badmail.
# Delivery reports are off (report.delete=1) so that the sink holds only inbound mail.
# Lost must be 0. Duplicates (at-least-once after a kill) are counted and reported.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../intake/common.sh
. "$HERE/../intake/common.sh"

ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-20}
RATE=${RATE:-150}
MIN_MS=${MIN_MS:-1000}
MAX_MS=${MAX_MS:-4000}

bench_init crash
P_SINK=$(free_port 26100)
P_UMS=$(free_port 26300)
SINK_DUMP=1 start_sink "$WORK/sink" "$P_SINK"
U=$WORK/ums
write_umsgate "$U" "$P_UMS" "$P_SINK" 0
ST=$U/state/bench
mkdir -p "$ST/received"
: > "$WORK/out-accepted.log"; : > "$WORK/in-written.log"

python3 "$HERE/load.py" received "$ST/received" "$WORK/in-written.log" "$WORK/stop" "$RATE" &
GEN=$!; on_exit "touch '$WORK/stop'; stop_pid $GEN"
start_umsgate "$U" "$P_UMS"
python3 "$HERE/load.py" smtp "$P_UMS" "$WORK/out-accepted.log" "$WORK/stop" "$THREADS" &
CLIENT=$!; on_exit "touch '$WORK/stop'; stop_pid $CLIENT"

KILLS=()
for r in $(seq 1 "$ROUNDS"); do
  ms=$((MIN_MS + RANDOM % (MAX_MS - MIN_MS + 1)))
  sleep "$(awk -v m="$ms" 'BEGIN { print m / 1000 }')"
  a=$(lines "$WORK/out-accepted.log"); j=$(lines "$ST/gateway/sim/sent.jsonl")
  kill -KILL "$UMS_PID"; wait "$UMS_PID" 2>/dev/null || true
  KILLS+=("round $r: SIGKILL after ${ms} ms (250s so far $a, jobs so far $j)")
  note "${KILLS[-1]}"
  start_umsgate "$U" "$P_UMS"
done
sleep 2
touch "$WORK/stop"
wait "$CLIENT" 2>/dev/null || true
wait "$GEN" 2>/dev/null || true

# drain: smtp-in/ (its files and its intake log), received/ and smtp-out/ empty (badmail aside)
pending() {
  local a b c
  a=$("$UMSGATE_BIN" --config "$U/umsgate.toml" queue list --json 2>/dev/null \
    | grep -c '"state": "incoming"' || true)
  b=$( { find "$ST/received" -mindepth 1 -maxdepth 1 -type d ! -name error ! -name '.*' 2>/dev/null || true; } | wc -l)
  c=$(find "$ST/smtp-out" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l)
  echo $((a + b + c))
}
for _ in $(seq 1 1200); do [ "$(pending)" = 0 ] && break; sleep 0.25; done
sleep 1
LEFT=$(pending)
stop_pid "$UMS_PID"
RECOVERY=$(grep -c 'spool.recovered' "$U/umsgate.out" 2>/dev/null || true)
CORRUPT=$(find "$ST" -path '*corrupt*' -type f | wc -l)
R=$(python3 "$HERE/load.py" count "$ST" "$WORK/sink/dump" "$WORK/out-accepted.log" "$WORK/in-written.log")
j() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v if not isinstance(v, list) else " ".join(v) or "-")' "$R" "$1"; }

echo
echo "## crash: $ROUNDS x SIGKILL under load ($THREADS SMTP sessions in, $RATE received SMS/s), $(date -u +%FT%TZ)"
machine
printf '%s\n' "${KILLS[@]}"
echo "left unprocessed after drain: $LEFT; files in corrupt/: $CORRUPT; load after: $(loadavg)"
echo
echo "duplicates: outbound = a tag at the gateway more than once (the client resent a message whose 250 it never saw, or the gateway took a job twice: same job id); inbound = a tag at the sink more than once (composed twice: new Message-ID; or sent twice: same Message-ID)"
echo "| direction | acknowledged | reached target | Badmail / archived | lost | duplicates | other |"
echo "|---|---:|---:|---:|---:|---:|---|"
echo "| outbound (250 → sent.jsonl) | $(j out_accepted_unique) | $(j out_at_gateway_unique) | $(j out_archived_smtp_in_error) | $(j out_lost) | $(j out_duplicate_jobs) | same job id twice: $(j out_duplicate_job_ids); jobs without a 250 (resent by the client): $(j out_at_gateway_without_250); torn lines: $(j out_torn_lines) |"
echo "| inbound (received/ → smtp-sink) | $(j in_written) | $(j in_delivered_unique) | $(j in_badmail) | $(j in_lost) | $(j in_duplicate_mails) | same Message-ID twice: $(j in_same_message_id_twice); received/error: $(j in_received_error) |"
[ "$(j out_lost)" = 0 ] || echo "LOST outbound (first 20): $(j out_lost_tags)"
[ "$(j in_lost)" = 0 ] || echo "LOST inbound (first 20): $(j in_lost_tags)"
if [ "$(j out_lost)" = 0 ] && [ "$(j in_lost)" = 0 ] && [ "$LEFT" = 0 ]; then echo "RESULT: 0 lost"; else echo "RESULT: LOSS OR BACKLOG"; exit 1; fi
