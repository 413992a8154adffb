# shellcheck shell=bash
# Helpers shared by bench/{intake,delivery,memory,crash}/run.sh. Sourced, never run.
#
# Everything a bench starts is recorded with `on_exit` and stopped by the EXIT trap that
# `bench_init` installs (by PID or by the peer's own stop script, never by process name).
# Work folders live under ${BENCH_TMP:-/tmp}/umsgate-bench.XXXXXX and are removed at the end
# unless BENCH_KEEP=1.

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
UMSGATE_BIN=${UMSGATE_BIN:-${CARGO_TARGET_DIR:-/var/cache/umsgate/target-bench}/release/umsgate}
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
# The ports other engineers' tests use; never taken here even when free at the moment.
RESERVED_PORTS=" 2525 3389 3636 10025 "

die() { echo "bench: $*" >&2; exit 1; }
note() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# --- cleanup stack ----------------------------------------------------------------------------
_EXIT_CMDS=()
on_exit() { _EXIT_CMDS+=("$*"); }
_bench_cleanup() {
  local rc=$? i
  # a background subshell (a sampler) inherits the trap: only the main shell cleans up
  [ "$BASHPID" = "$_BENCH_MAIN" ] || exit "$rc"
  set +e
  for ((i = ${#_EXIT_CMDS[@]} - 1; i >= 0; i--)); do eval "${_EXIT_CMDS[$i]}" >/dev/null 2>&1; done
  exit "$rc"
}

# bench_init NAME: work folder in $WORK, cleanup trap, binary check.
bench_init() {
  [ "$(id -u)" = 0 ] || die "must run as root (a private Postfix master needs root)"
  [ -x "$UMSGATE_BIN" ] || die "no umsgate binary at $UMSGATE_BIN; build it first:
  CARGO_TARGET_DIR=/var/cache/umsgate/target-bench cargo build --release -p umsgate"
  [ -x "$SMTP_SOURCE" ] || die "smtp-source not found (package postfix)"
  WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/umsgate-bench-$1.XXXXXX")
  chmod 755 "$WORK"
  _BENCH_MAIN=$BASHPID
  trap _bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ "${BENCH_KEEP:-0}" = 1 ]; then note "work folder kept: $WORK"; else on_exit "rm -rf '$WORK'"; fi
}

# --- ports ------------------------------------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
_TAKEN=" "
# free_port START: first free port at or above START not handed out before in this run.
free_port() {
  local p=$1
  while port_busy "$p" || [[ "$_TAKEN$RESERVED_PORTS" == *" $p "* ]]; do
    p=$((p + 1)); [ "$p" -lt $(($1 + 500)) ] || die "no free port near $1"
  done
  _TAKEN+="$p "
  echo "$p"
}

# --- peers ------------------------------------------------------------------------------------
# start_sink DIR PORT: Postfix smtp-sink on 127.0.0.1:PORT (stopped on exit).
start_sink() {
  SINK_BACKLOG=${SINK_BACKLOG:-256} "$BENCH_REPO/scripts/mail/sink.sh" start "$1" "$2" >/dev/null 2>&1 \
    || die "smtp-sink on $2 did not start"
  on_exit "'$BENCH_REPO/scripts/mail/sink.sh' stop '$1'"
}

# start_postfix DIR SMTP_PORT RELAY_PORT: a private Postfix (scripts/mail/start.sh) on
# SMTP_PORT that relays fax/sms/voice.example.com to 127.0.0.1:RELAY_PORT (stopped on exit).
start_postfix() {
  MAIL_SMTP_PORT=$2 GATEWAY_PORT=$3 MAIL_SEED_LDIF=/nonexistent \
    "$BENCH_REPO/scripts/mail/start.sh" "$1" >/dev/null 2>"$WORK/postfix-start.err" \
    || { cat "$WORK/postfix-start.err" >&2; die "postfix did not start"; }
  on_exit "'$BENCH_REPO/scripts/mail/stop.sh' '$1'"
}

# postfix_sent DIR: deliveries Postfix logged as sent.
postfix_sent() { grep -c ' status=sent ' "$1/log/maillog" 2>/dev/null || true; }

# --- umsgate ----------------------------------------------------------------------------------
# write_umsgate DIR LISTEN_PORT MAIL_PORT [REPORTS]: config + users file in DIR.
# The sender bench@example.com has unlimited fax/SMS; REPORTS=0 sets report.delete=1.
# UMSGATE_HOLD=true: accepted mail stays in smtp-in/ (intake alone, no jobs).
write_umsgate() {
  local dir=$1 port=$2 mailport=$3 reports=${4:-1} extra=""
  mkdir -p "$dir"
  [ "$reports" = 1 ] || extra=";report.delete=1"
  cat > "$dir/users.toml" <<U
[[user]]
mail = "bench@example.com"
name = "Bench Sender"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international;fax.per_day=unlimited;sms.rights=international;sms.per_day=unlimited$extra"
U
  cat > "$dir/umsgate.toml" <<C
[service]
state_dir = "state"
log_dir = "log"
log_rotate = { size = "100MB", keep = 2 }

[site]
country_code = "49"
area_code = "8142"
subscriber = "4799"
extension_digits = 3

[[instance]]
id = "bench"
hold = ${UMSGATE_HOLD:-false}

[instance.smtp_in]
listen = ["127.0.0.1:$port"]
allow_from = ["127.0.0.1/32"]
max_message_size = "${UMSGATE_MAX_SIZE:-60MB}"
max_connections = 200
max_connections_per_client = 100

[instance.mail]
server = "127.0.0.1"
port = $mailport
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
retry = ["2s", "5s"]
tls = { mode = "none" }

[instance.directory]
kind = "file"
path = "users.toml"

[instance.gateway]
kind = "sim"
delay = "0s"
${UMSGATE_EXTRA:-}
C
  # (no `umsgate check` here: it also tries the mail server, which may be down on purpose)
}

# start_umsgate DIR PORT: runs umsgate in the background; sets UMS_PID (stopped on exit).
start_umsgate() {
  local dir=$1 port=$2 i
  port_busy "$port" && die "127.0.0.1:$port already taken"
  UMSGATE_LOG=${UMSGATE_LOG:-warn} setsid "$UMSGATE_BIN" --config "$dir/umsgate.toml" run \
    >"$dir/umsgate.out" 2>&1 </dev/null &
  UMS_PID=$!
  echo "$UMS_PID" > "$dir/umsgate.pid"
  on_exit "stop_pid $UMS_PID"
  for i in $(seq 1 200); do
    port_busy "$port" && return 0
    kill -0 "$UMS_PID" 2>/dev/null || { cat "$dir/umsgate.out" >&2; die "umsgate exited at start"; }
    sleep 0.05
  done
  die "umsgate not listening on $port after 10 s"
}

# stop_pid PID [SIGNAL]: TERM (or SIGNAL), wait up to 40 s, then KILL.
stop_pid() {
  local pid=$1 sig=${2:-TERM} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -"$sig" "$pid" 2>/dev/null || return 0
  for i in $(seq 1 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

# lines FILE: number of lines (0 if absent).
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# now: seconds since the epoch with nanoseconds.
now() { date +%s.%N; }
# rate N T0 T1: N / (T1 - T0), one decimal.
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; if (d <= 0) print "inf"; else printf "%.1f", n / d }'; }
# ratio A B: A / B, two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

# wait_count TARGET TIMEOUT_S CMD...: polls CMD (prints a number) every 50 ms until it reaches
# TARGET; prints the time it did (now), or returns 1 on timeout.
wait_count() {
  local target=$1 timeout=$2 t_end c; shift 2
  t_end=$(awk -v t="$(now)" -v d="$timeout" 'BEGIN { printf "%.3f", t + d }')
  while :; do
    c=$("$@")
    if [ "${c:-0}" -ge "$target" ]; then now; return 0; fi
    if awk -v a="$(now)" -v b="$t_end" 'BEGIN { exit !(a > b) }'; then
      note "timeout: $c of $target after ${timeout}s ($*)"; return 1
    fi
    sleep 0.05
  done
}

# fsync_probe DIR CYCLES: write 4 KiB + fsync + rename + folder fsync, CYCLES times, in DIR;
# prints "p50_ms p99_ms cycles_per_s".
fsync_probe() {
  mkdir -p "$1"
  python3 - "$1" "$2" <<'PY'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(d, ".tmp"), exist_ok=True)
data = b"x" * 4096
lat = []
t_all = time.perf_counter()
for i in range(n):
    t = time.perf_counter()
    tmp = os.path.join(d, ".tmp", f"p{i}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, data); os.fsync(fd); os.close(fd)
    os.rename(tmp, os.path.join(d, f"p{i}"))
    dfd = os.open(d, os.O_RDONLY); os.fsync(dfd); os.close(dfd)
    lat.append(time.perf_counter() - t)
total = time.perf_counter() - t_all
for i in range(n):
    os.unlink(os.path.join(d, f"p{i}"))
lat.sort()
print(f"{lat[len(lat)//2]*1e3:.2f} {lat[min(len(lat)-1, int(len(lat)*0.99))]*1e3:.2f} {n/total:.0f}")
PY
}

# cpu_s PID: user+system CPU seconds the process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

machine() {
  echo "nproc: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); kernel: $(uname -r); $(grep -m1 MemTotal /proc/meminfo | tr -s ' ')"
  echo "filesystem of ${BENCH_TMP:-/tmp}: $(df -T "${BENCH_TMP:-/tmp}" | awk 'NR == 2 { print $2 " on " $1 }'); postfix $(postconf -d -h mail_version 2>/dev/null); umsgate $("$UMSGATE_BIN" --version | cut -d' ' -f2)"
}
