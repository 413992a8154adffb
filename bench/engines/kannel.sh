#!/usr/bin/env bash
# SMS hand-over benchmark: how fast umsgate hands SMS to a real Kannel, against a plain HTTP
# client calling the same sendsms with the same concurrency, in one run on one Kannel.
#
#   plain:   curl --parallel (C transfers at once, keep-alive) sends N sendsms GETs with the
#            parameters umsgate sends (to, from, text, charset, coding, dlr-mask, dlr-url);
#            rate = N / time until the last 202.
#   umsgate: smtp-source sends N mails to +4930123456@sms.example.com over C reused SMTP
#            sessions; umsgate (outbound worker: 32 messages at once for Kannel) records each job, calls
#            sendsms and takes Kannel's DLRs; rate = N / time from the first mail until the
#            N-th job is logged as handed over (msgid.log `job id=`, written after the 202).
#
# Both phases send to the same bearerbox + smsbox (scripts/kannel/start.sh) whose SMS centre
# is a Python client on the fake SMSC port that only reads (kannel_smsc.py); a phase starts
# when the SMS centre has every SMS of the one before. umsgate's report mails are switched
# off (report.delete=1) and go to an smtp-sink anyway.
#
#   bench/engines/kannel.sh          N=2000 C=8 ROUNDS=1 (C: the SMTP sessions and curl's
#                                    transfers; umsgate hands over up to 32 SMS at once to
#                                    Kannel; ROUNDS: plain and umsgate take turns that often,
#                                    each round's ratio and the median are printed)
#
# Needs root (smtp-sink), kannel, postfix (smtp-source, smtp-sink), curl, python3, a release
# build of umsgate (UMSGATE_BIN, see bench/README.md).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../intake/common.sh
. "$HERE/../intake/common.sh"
N=${N:-2000}
C=${C:-8}
command -v curl >/dev/null || die "curl missing"
bench_init kannel

P_SINK=$(free_port 26700)
P_ADMIN=$(free_port 26710)
P_BOX=$(free_port 26711)
P_SMSC=$(free_port 26712)
P_SENDSMS=$(free_port 26713)
P_CB=$(free_port 26720)
P_DLR=$(free_port 26721)
P_SMTP=$(free_port 26730)
SECRET=benchkey

start_sink "$WORK/sink" "$P_SINK"
KANNEL_ADMIN_PORT=$P_ADMIN KANNEL_SMSBOX_PORT=$P_BOX KANNEL_SMSC_PORT=$P_SMSC \
  KANNEL_SENDSMS_PORT=$P_SENDSMS KANNEL_CALLBACK_PORT=$P_CB KANNEL_CALLBACK_SECRET=$SECRET \
  "$BENCH_REPO/scripts/kannel/start.sh" "$WORK/kannel" >/dev/null || die "kannel did not start"
on_exit "'$BENCH_REPO/scripts/kannel/stop.sh' '$WORK/kannel'"
# quieter logs: Kannel's log-level 1 writes several lines per SMS
sed -i 's/^log-level = 1/log-level = 3/' "$WORK/kannel/kannel.conf"
"$BENCH_REPO/scripts/kannel/stop.sh" "$WORK/kannel" >/dev/null
( cd "$WORK/kannel"
  setsid /usr/sbin/bearerbox kannel.conf >bearerbox.out 2>&1 </dev/null & echo $! > bearerbox.pid
  for _ in $(seq 1 100); do port_busy "$P_BOX" && break; sleep 0.1; done
  setsid /usr/sbin/smsbox kannel.conf >smsbox.out 2>&1 </dev/null & echo $! > smsbox.pid
  for _ in $(seq 1 100); do port_busy "$P_SENDSMS" && break; sleep 0.1; done )
MT=$WORK/mt.txt
: > "$MT"
python3 "$HERE/kannel_smsc.py" "$P_SMSC" "$MT" & SMSC_PID=$!
on_exit "stop_pid $SMSC_PID"
python3 "$HERE/kannel_dlr_sink.py" "$P_DLR" & DLR_PID=$!
on_exit "stop_pid $DLR_PID"
for _ in $(seq 1 100); do port_busy "$P_DLR" && break; sleep 0.1; done

SENDSMS="http://127.0.0.1:$P_SENDSMS/cgi-bin/sendsms"
TEXT="Bench SMS: please call back about the offer of today, thank you."
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# kcpu: CPU seconds bearerbox and smsbox have used so far (what each phase costs Kannel).
kcpu() {
  cat "/proc/$(cat "$WORK/kannel/bearerbox.pid")/stat" "/proc/$(cat "$WORK/kannel/smsbox.pid")/stat" |
    awk '{ t += $14 + $15 } END { printf "%.2f", t / 100 }'
}

# --- plain client ----------------------------------------------------------------------------
note "plain: $N sendsms calls, $C at once"
CFG=$WORK/curl.cfg
ETEXT=$(enc "$TEXT")
python3 - "$CFG" "$N" "$SENDSMS" "$ETEXT" "$P_DLR" <<'PY'
import sys, urllib.parse
cfg, n, url, text, dlr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
with open(cfg, "w") as f:
    for i in range(n):
        d = urllib.parse.quote(f"http://127.0.0.1:{dlr}/dlr?key=benchkey&job=P{i}&type=%d&status=%A&smscid=%F&ts=%T", safe="")
        q = (f"username=umsgate&password=sms-secret&to=%2B4930123456&from=%2B4981424799"
             f"&coding=0&charset=UTF-8&dlr-mask=31&dlr-url={d}&text={text}")
        f.write(f'url = "{url}?{q}"\noutput = "/dev/null"\n')
PY
# run_plain: N sendsms calls, C at once; sets PLAIN.
run_plain() {
  local t0 t1 ok mt0
  mt0=$(lines "$MT")
  t0=$(now)
  curl -s --parallel --parallel-max "$C" -w '%{http_code}\n' -K "$CFG" > "$WORK/codes.txt"
  t1=$(now)
  ok=$(grep -c '^202$' "$WORK/codes.txt" || true)
  [ "$ok" = "$N" ] || die "plain: $ok of $N accepted ($(sort "$WORK/codes.txt" | uniq -c | tr '\n' ' '))"
  PLAIN=$(rate "$N" "$t0" "$t1")
  wait_count $((mt0 + N)) 300 lines "$MT" >/dev/null || die "the SMS centre did not get the plain client's $N SMS"
}

# --- umsgate -----------------------------------------------------------------------------------
# run_umsgate NAME GATEWAY-TOML: N mails through umsgate; sets RATE, CPU, ACCEPT_S.
run_umsgate() {
  local U=$WORK/$1 t0 t1 t2 msgid
  mkdir -p "$U"
  cat > "$U/users.toml" <<USERS
[[user]]
mail = "bench@example.com"
name = "Bench Sender"
numbers = ["+49 8142 4799123"]
ums = "ums1;sms.rights=international;sms.per_day=unlimited;report.delete=1"
USERS
  cat > "$U/umsgate.toml" <<CONF
[service]
state_dir = "state"
log_dir = "log"

[site]
country_code = "49"
area_code = "8142"
subscriber = "4799"
extension_digits = 3

[[instance]]
id = "bench"

[instance.smtp_in]
listen = ["127.0.0.1:$P_SMTP"]
allow_from = ["127.0.0.1/32"]
max_connections = 200
max_connections_per_client = 100

[instance.mail]
server = "127.0.0.1"
port = $P_SINK
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
retry = ["2s", "5s"]
tls = { mode = "none" }

[instance.directory]
kind = "file"
path = "users.toml"

$2
CONF
  start_umsgate "$U" "$P_SMTP"
  msgid="$U/log/bench/msgid.log"
  jobs() { if [ -f "$msgid" ]; then grep -c ' job id=' "$msgid" || true; else echo 0; fi; }
  t0=$(now)
  "$SMTP_SOURCE" -d -s "$C" -m "$N" -F "$BODY" -f bench@example.com -t "+4930123456@sms.example.com" \
    "127.0.0.1:$P_SMTP" > "$U/source.log" 2>&1 || { cat "$U/source.log" >&2; die "smtp-source failed"; }
  t1=$(now)
  t2=$(wait_count "$N" 600 jobs) || die "umsgate ($1) handed over $(jobs) of $N"
  RATE=$(rate "$N" "$t0" "$t2")
  ACCEPT_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  CPU=$(awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$UMS_PID/stat")
  UMS_CPU_R=$CPU
  stop_pid "$UMS_PID"
}

BODY=$WORK/body.txt
printf 'From: bench@example.com\nTo: +4930123456@sms.example.com\nSubject: bench\n\n%s\n' "$TEXT" > "$BODY"

# Plain client and umsgate take turns, ROUNDS times, so that both meet the same moments of a
# shared machine; each round gives a ratio, the median is the figure.
KANNEL_GW="[instance.gateway]
kind = \"kannel\"

[instance.gateway.kannel]
sendsms_url = \"$SENDSMS\"
user = \"umsgate\"
password = \"sms-secret\"
listen = \"127.0.0.1:$P_CB\"
callback_secret = \"$SECRET\""
ROUNDS=${ROUNDS:-1}
RESULTS=$WORK/rounds.txt
: > "$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
  note "round $r: plain, $N sendsms calls, $C at once"
  L0=$(loadavg)
  K0=$(kcpu)
  run_plain
  K1=$(kcpu)
  note "round $r: umsgate, $N mails over $C SMTP sessions"
  MT0=$(lines "$MT")
  L1=$(loadavg)
  run_umsgate "kannel$r" "$KANNEL_GW"
  wait_count $((MT0 + N)) 300 lines "$MT" >/dev/null || die "the SMS centre did not get umsgate's $N SMS"
  K2=$(kcpu)
  KP=$(awk -v a="$K0" -v b="$K1" 'BEGIN { printf "%.1f", b - a }')
  KU=$(awk -v a="$K1" -v b="$K2" 'BEGIN { printf "%.1f", b - a }')
  echo "$r $PLAIN $RATE $(ratio "$RATE" "$PLAIN") $UMS_CPU_R $KP/$KU $ACCEPT_S | $L0 | $L1" >> "$RESULTS"
done
UMS_ACCEPT=$ACCEPT_S UMS_CPU=$CPU

# The same mails with the simulated engine: what umsgate's worker does without Kannel.
note "umsgate with the simulated engine: $N mails"
L2=$(loadavg)
run_umsgate sim "[instance.gateway]
kind = \"sim\"
delay = \"0s\""
SIM=$RATE

printf '\nKannel sendsms, N=%s, C=%s, %s round(s): SMS/s\n' "$N" "$C" "$ROUNDS"
printf '%-6s %10s %10s %7s %8s %12s   %s\n' round plain umsgate ratio "CPU s" "Kannel CPU s" "load (1 5 15 min) at plain | at umsgate"
while read -r r p u q cpu k _ rest; do
  printf '%-6s %10s %10s %7s %8s %12s   %s\n' "$r" "$p" "$u" "$q" "$cpu" "$k" "$rest"
done < "$RESULTS"
printf 'median ratio umsgate / plain: %s (spread %s)\n' \
  "$(awk '{ print $4 }' "$RESULTS" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')" \
  "$(awk '{ print $4 }' "$RESULTS" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }')"
printf '%-40s %10s %s\n' "umsgate, simulated engine (no Kannel)" "$SIM" "$L2"
printf 'umsgate with Kannel (last round): mails accepted in %s s, CPU %s s for %s SMS; SMS centre got %s lines\n' \
  "$UMS_ACCEPT" "$UMS_CPU" "$N" "$(lines "$MT")"
