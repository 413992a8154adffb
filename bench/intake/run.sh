#!/usr/bin/env bash
# Intake benchmark: Postfix's smtp-source against umsgate and, in the same run, against a
# private Postfix relaying to smtp-sink. See bench/README.md.
#
#   bench/intake/run.sh                     10 000 messages, 20 sessions, 4 KiB and 100 KiB,
#                                           each over reused and over new connections
#   N=2000 SIZES=4096 CONNECT=new bench/intake/run.sh   smaller run
#
# Env: N (messages, 10000), SESSIONS (20), SIZES ("4096 102400"), CONNECT ("reuse new":
#      `reuse` sends every message of a session over one connection (smtp-source -d), the
#      best case; `new` opens a connection per message, what a mail server does when it has
#      no backlog), REPORTS (1: umsgate mails a
#      delivery report per job to smtp-sink; 0: report.delete=1), PROFILE (perf: record umsgate
#      with perf during each umsgate run; the top of the report is printed and kept in
#      $PROFILE_OUT, default bench/intake/profile-<size>.txt), UMSGATE_HOLD=true (umsgate keeps
#      accepted mail in smtp-in/ as files, without the intake log and without the worker:
#      the file path alone; umsgate's "processed" column is then the count found durable in
#      smtp-in/),
#      UMSGATE_BIN, BENCH_KEEP=1.
# Needs root (private Postfix), a release build of umsgate, postfix (smtp-source, smtp-sink).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

N=${N:-10000}
SESSIONS=${SESSIONS:-20}
SIZES=${SIZES:-4096 102400}
CONNECT=${CONNECT:-reuse new}
REPORTS=${REPORTS:-1}
PROFILE=${PROFILE:-}
FROM=bench@example.com
TO=+4930123456@fax.example.com
TIMEOUT=${TIMEOUT:-900}

bench_init intake
P_SINK=$(free_port 26100)
P_PF=$(free_port 26200)
note "work folder $WORK; smtp-sink :$P_SINK, postfix :$P_PF"
start_sink "$WORK/sink" "$P_SINK"
start_postfix "$WORK/postfix" "$P_PF" "$P_SINK"

RESULTS=$WORK/results.txt
: > "$RESULTS"

# source PORT SIZE LOG MODE: smtp-source, N messages over SESSIONS parallel sessions, each
# connection reused (MODE reuse, -d) or a new one per message (MODE new); fails on any reply
# other than the expected one (smtp-source aborts without -A).
source_run() {
  local reuse=()
  [ "$4" = reuse ] && reuse=(-d)
  "$SMTP_SOURCE" "${reuse[@]}" -s "$SESSIONS" -m "$N" -l "$2" -f "$FROM" -t "$TO" -S "intake bench" \
    "127.0.0.1:$1" >"$3" 2>&1
}

run_umsgate() {   # SIZE MODE
  local size=$1 mode=$2 dir="$WORK/ums-$1-$2" port t0 t1 t2 cpu0 cpu1 sent perf_pid=""
  port=$(free_port 26300)
  write_umsgate "$dir" "$port" "$P_SINK" "$REPORTS"
  start_umsgate "$dir" "$port"
  local jsonl="$dir/state/bench/gateway/sim/sent.jsonl"
  if [ "$PROFILE" = perf ]; then
    perf record -F 499 -g -p "$UMS_PID" -o "$WORK/perf-$size.data" >/dev/null 2>&1 &
    perf_pid=$!
    on_exit "stop_pid $perf_pid INT"
    sleep 0.5
  fi
  local load0; load0=$(loadavg)
  cpu0=$(cpu_s "$UMS_PID")
  t0=$(now)
  source_run "$port" "$size" "$dir/source.log" "$mode" || { cat "$dir/source.log" >&2; die "smtp-source against umsgate failed"; }
  t1=$(now)
  if [ "${UMSGATE_HOLD:-false}" = true ]; then
    # hold: nothing is processed; "processed" = what is durably in smtp-in/
    t2=$t1; sent=$(find "$dir/state/bench/smtp-in" -maxdepth 1 -name '*.eml' | wc -l)
  else
    t2=$(wait_count "$N" "$TIMEOUT" lines "$jsonl") || t2=$(now)
    sent=$(lines "$jsonl")
  fi
  cpu1=$(cpu_s "$UMS_PID")
  if [ -n "$perf_pid" ]; then
    stop_pid "$perf_pid" INT
    local out=${PROFILE_OUT:-$HERE/profile-$size-$mode.txt}
    perf report -i "$WORK/perf-$size.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
      | grep -v '^$' | grep -E '^ +[0-9]' | head -40 > "$out" || true
    note "profile (self time, top 40) in $out"
  fi
  # leftovers: what is still in smtp-in/ (must be 0 once processed)
  local left=0
  [ "${UMSGATE_HOLD:-false}" = true ] || left=$(find "$dir/state/bench/smtp-in" -maxdepth 1 -name '*.eml' | wc -l)
  stop_pid "$UMS_PID"
  echo "umsgate $size $mode $t0 $t1 $t2 $sent $left $cpu0 $cpu1 [$load0]" >> "$RESULTS"
}

run_postfix() {   # SIZE MODE
  local size=$1 mode=$2 t0 t1 t2 base sent load0
  base=$(postfix_sent "$WORK/postfix")
  load0=$(loadavg)
  t0=$(now)
  source_run "$P_PF" "$size" "$WORK/pf-source-$size-$mode.log" "$mode" || { cat "$WORK/pf-source-$size-$mode.log" >&2; die "smtp-source against postfix failed"; }
  t1=$(now)
  t2=$(wait_count $((base + N)) "$TIMEOUT" postfix_sent "$WORK/postfix") || t2=$(now)
  sent=$(( $(postfix_sent "$WORK/postfix") - base ))
  echo "postfix $size $mode $t0 $t1 $t2 $sent 0 0 0 [$load0]" >> "$RESULTS"
}

PROBES=()
first=umsgate
for size in $SIZES; do
  for mode in $CONNECT; do
    PROBES+=("$(fsync_probe "$WORK/probe" 300)")
    if [ "$first" = umsgate ]; then
      note "size $size, $mode connections: umsgate"; run_umsgate "$size" "$mode"
      note "size $size, $mode connections: postfix"; run_postfix "$size" "$mode"
      first=postfix
    else
      note "size $size, $mode connections: postfix"; run_postfix "$size" "$mode"
      note "size $size, $mode connections: umsgate"; run_umsgate "$size" "$mode"
      first=umsgate
    fi
  done
done
PROBES+=("$(fsync_probe "$WORK/probe" 300)")

# --- summary -------------------------------------------------------------------------------
echo
echo "## intake: $N messages, $SESSIONS sessions, connections: $CONNECT, reports=$REPORTS, hold=${UMSGATE_HOLD:-false}, $(date -u +%FT%TZ)"
machine
echo "fsync probe (4 KiB write+fsync+rename+dir fsync, 300 cycles) before/between/after: $(printf '%s | ' "${PROBES[@]}" | sed 's/ | $//')   (p50 ms, p99 ms, cycles/s)"
echo
printf '| size | connections | peer | accepted/s | processed/s | accept s | process lag s | processed | left | CPU s | load before |\n'
printf '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n'
while read -r who size mode t0 t1 t2 sent left c0 c1 load; do
  acc=$(rate "$N" "$t0" "$t1"); proc=$(rate "$sent" "$t0" "$t2")
  cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", b - a }')
  [ "$who" = postfix ] && cpu="-"
  printf '| %s | %s | %s | %s | %s | %.1f | %.1f | %s | %s | %s | %s |\n' "$size" "$mode" "$who" "$acc" "$proc" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')" \
    "$sent" "$left" "$cpu" "${load//[\[\]]/}"
done < "$RESULTS"
echo
printf '| size | connections | accept ratio umsgate/postfix (target >= 5) | processing ratio umsgate/postfix |\n|---:|---|---:|---:|\n'
for size in $SIZES; do
  for mode in $CONNECT; do
    u=$(awk -v s="$size" -v m="$mode" '$1 == "umsgate" && $2 == s && $3 == m' "$RESULTS")
    p=$(awk -v s="$size" -v m="$mode" '$1 == "postfix" && $2 == s && $3 == m' "$RESULTS")
    ua=$(awk -v n="$N" '{ print n / ($5 - $4) }' <<<"$u"); pa=$(awk -v n="$N" '{ print n / ($5 - $4) }' <<<"$p")
    up=$(awk '{ print $7 / ($6 - $4) }' <<<"$u"); pp=$(awk '{ print $7 / ($6 - $4) }' <<<"$p")
    printf '| %s | %s | %s | %s |\n' "$size" "$mode" "$(ratio "$ua" "$pa")" "$(ratio "$up" "$pp")"
  done
done
echo "load after: $(loadavg)"
