#!/usr/bin/env bash
# Intake with the PostgreSQL state store against intake with SQLite, in the same run: mails
# through SMTP until each job is reserved (per-day counter), recorded (job record) and handed to
# the simulated engine — the path that touches the store. See bench/README.md.
#
#   bench/intake/store.sh                  N=5000 SESSIONS=20 SIZE=4096 ROUNDS=2
#
# Each round runs umsgate with store = "sqlite" and with a private PostgreSQL cluster
# (scripts/postgres/start.sh, fsync off like the test cluster — so the figure compares the
# store's statements and round trips, not two disks), alternating which goes first; each
# PostgreSQL run has a database of its own. Rate = N / (first mail sent → last job in
# sim/sent.jsonl); reports are switched off (report.delete=1).
# Needs root (the cluster runs as user postgres), postgresql, postfix (smtp-source) and a
# release build of umsgate.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
N=${N:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
ROUNDS=${ROUNDS:-2}
TIMEOUT=${TIMEOUT:-900}
FROM=bench@example.com
TO=+4930123456@fax.example.com
bench_init store
P_PG=$(free_port 26500)
PG_PORT=$P_PG "$BENCH_REPO/scripts/postgres/start.sh" "$WORK/pg" >/dev/null || die "scripts/postgres/start.sh"
on_exit "'$BENCH_REPO/scripts/postgres/stop.sh' '$WORK/pg' --purge"
# shellcheck disable=SC1091
. "$WORK/pg/env"
P_MAIL=$(free_port 26600)   # nothing listens: reports are off
note "work folder $WORK; postgres :$P_PG"
RESULTS=$WORK/results.txt
: > "$RESULTS"

run() {   # BACKEND ROUND
  local backend=$1 round=$2 dir="$WORK/ums-$1-$2" port store t0 t1 sent cpu0 cpu1 load0
  port=$(free_port 26300)
  write_umsgate "$dir" "$port" "$P_MAIL" 0
  if [ "$backend" = postgres ]; then
    local db="bench_$round"
    psql "$DATABASE_URL" -qc "create database $db" >/dev/null
    store="postgres://umsgate:pg-secret@127.0.0.1:$P_PG/$db"
  else
    store=sqlite
  fi
  sed -i "s|^log_dir = \"log\"$|log_dir = \"log\"\nstore = \"$store\"|" "$dir/umsgate.toml"
  start_umsgate "$dir" "$port"
  local jsonl="$dir/state/bench/gateway/sim/sent.jsonl"
  load0=$(loadavg)
  cpu0=$(cpu_s "$UMS_PID")
  t0=$(now)
  "$SMTP_SOURCE" -d -s "$SESSIONS" -m "$N" -l "$SIZE" -f "$FROM" -t "$TO" -S "store bench" \
    "127.0.0.1:$port" >"$dir/source.log" 2>&1 || { cat "$dir/source.log" >&2; die "smtp-source failed"; }
  t1=$(wait_count "$N" "$TIMEOUT" lines "$jsonl") || t1=$(now)
  sent=$(lines "$jsonl")
  cpu1=$(cpu_s "$UMS_PID")
  stop_pid "$UMS_PID"
  echo "$backend $round $t0 $t1 $sent $cpu0 $cpu1 [$load0]" >> "$RESULTS"
}

for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run sqlite "$r"; run postgres "$r"; else run postgres "$r"; run sqlite "$r"; fi
done

echo
echo "## intake to the engine, SQLite vs PostgreSQL store: $N messages of $SIZE bytes, $SESSIONS sessions, $ROUNDS rounds, $(date -u +%FT%TZ)"
machine
echo "postgres: $(psql "$DATABASE_URL" -tAc 'show server_version') on 127.0.0.1 (fsync off)"
echo
echo "| round | backend | jobs | processed/s | CPU s | load at start |"
echo "|---|---|---|---|---|---|"
while read -r backend round t0 t1 sent cpu0 cpu1 load; do
  echo "| $round | $backend | $sent | $(rate "$sent" "$t0" "$t1") | $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }') | ${load//[\[\]]/} |"
done < "$RESULTS"
awk '{ d = $4 - $3; if ($1 == "sqlite") { s += $5; ts += d } else { p += $5; tp += d } }
     END { rs = s / ts; rp = p / tp; printf "\nall rounds: sqlite %.1f/s, postgres %.1f/s: postgres/sqlite = %.2fx\n", rs, rp, rp / rs }' "$RESULTS"
