#!/usr/bin/env bash
# Memory benchmark: umsgate's resident memory (from /proc/PID/status) idle, under the intake
# load, and while one 50 MB message passes. See bench/README.md.
#
#   bench/memory/run.sh
#
# 1. idle: VmRSS 3 s after start (listener bound, nothing queued).
# 2. load: smtp-source, N (10000) messages of SIZE (102400) bytes over 20 sessions, until every
#    job is in sent.jsonl; VmRSS sampled every 100 ms (max), VmHWM at the end.
# 3. big: a fresh umsgate; one mail with a 36 MiB PDF attachment (about 50 MB as sent,
#    base64), sent with python smtplib, until smtp-in/ is empty again; VmHWM minus the idle
#    VmRSS, divided by the message size = how many copies were held at the peak.
# Targets: idle < 30 MB, load < 150 MB, big: fewer than 3 copies.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../intake/common.sh
. "$HERE/../intake/common.sh"

N=${N:-10000}
SIZE=${SIZE:-102400}
SESSIONS=${SESSIONS:-20}
BIG_MB=${BIG_MB:-36}

bench_init memory
P_SINK=$(free_port 26100)
start_sink "$WORK/sink" "$P_SINK"

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# sample_rss PID OUT: max VmRSS (kB) every 100 ms into OUT until PID ends or OUT.stop exists.
sample_rss() {
  local max=0 r
  while kill -0 "$1" 2>/dev/null && [ ! -e "$2.stop" ]; do
    r=$(status_kb "$1" VmRSS 2>/dev/null || echo 0); [ "${r:-0}" -gt "$max" ] && max=$r
    echo "$max" > "$2"; sleep 0.1
  done
}

# --- 1 + 2: idle, then intake load -----------------------------------------------------------
P1=$(free_port 26300)
A=$WORK/load
write_umsgate "$A" "$P1" "$P_SINK"
start_umsgate "$A" "$P1"
sleep 3
IDLE_RSS=$(status_kb "$UMS_PID" VmRSS); IDLE_HWM=$(status_kb "$UMS_PID" VmHWM)
note "idle: VmRSS $IDLE_RSS kB"
sample_rss "$UMS_PID" "$WORK/load.max" &
SAMPLER=$!; on_exit "touch '$WORK/load.max.stop'; stop_pid $SAMPLER"
LOAD0=$(loadavg)
"$SMTP_SOURCE" -d -s "$SESSIONS" -m "$N" -l "$SIZE" -f bench@example.com -t +4930123456@fax.example.com \
  "127.0.0.1:$P1" >"$WORK/source.log" 2>&1 || { cat "$WORK/source.log" >&2; die "smtp-source failed"; }
wait_count "$N" 900 lines "$A/state/bench/gateway/sim/sent.jsonl" >/dev/null || true
touch "$WORK/load.max.stop"; wait "$SAMPLER" 2>/dev/null || true
LOAD_MAX=$(cat "$WORK/load.max"); LOAD_HWM=$(status_kb "$UMS_PID" VmHWM)
LOAD_AFTER=$(status_kb "$UMS_PID" VmRSS)
stop_pid "$UMS_PID"

# --- 3: one 50 MB message ----------------------------------------------------------------------
P2=$(free_port 26350)
B=$WORK/big
write_umsgate "$B" "$P2" "$P_SINK"
start_umsgate "$B" "$P2"
sleep 2
BIG_IDLE=$(status_kb "$UMS_PID" VmRSS)
sample_rss "$UMS_PID" "$WORK/big.max" &
SAMPLER2=$!; on_exit "touch '$WORK/big.max.stop'; stop_pid $SAMPLER2"
BIG_BYTES=$(python3 - "$P2" "$BIG_MB" "$WORK/big.eml" <<'PY'
import base64, os, smtplib, sys
port, mb, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# a one-page PDF whose second object is a large unused stream (random, incompressible)
blob = os.urandom(mb << 20)
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Length %d >>\nstream\n" % len(blob) + blob + b"\nendstream"]
pdf = bytearray(b"%PDF-1.4\n")
offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(pdf)); pdf += b"%d 0 obj\n" % i + o + b"\nendobj\n"
x = len(pdf)
pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs: pdf += b"%010d 00000 n \n" % o
pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
b64 = base64.encodebytes(bytes(pdf)).replace(b"\n", b"\r\n")
msg = (b"From: <bench@example.com>\r\nTo: <+4930123456@fax.example.com>\r\nSubject: big\r\n"
       b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
       b"--b1\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
       b"--b1\r\nContent-Type: application/pdf; name=\"big.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
       b"Content-Disposition: attachment; filename=\"big.pdf\"\r\n\r\n" + b64 + b"--b1--\r\n")
with smtplib.SMTP("127.0.0.1", port, timeout=600) as s:
    s.sendmail("bench@example.com", ["+4930123456@fax.example.com"], msg)
print(len(msg))
PY
) || die "the 50 MB message was not accepted"
# processed: smtp-in/ empty again (a job in sent.jsonl, or a refusal report in smtp-out/)
for _ in $(seq 1 600); do
  [ "$(find "$B/state/bench/smtp-in" -maxdepth 1 -name '*.eml' | wc -l)" = 0 ] && break; sleep 0.1
done
sleep 1
touch "$WORK/big.max.stop"; wait "$SAMPLER2" 2>/dev/null || true
BIG_HWM=$(status_kb "$UMS_PID" VmHWM); BIG_MAX=$(cat "$WORK/big.max")
BIG_JOBS=$(lines "$B/state/bench/gateway/sim/sent.jsonl")
stop_pid "$UMS_PID"

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
copies=$(awk -v h="$BIG_HWM" -v i="$BIG_IDLE" -v b="$BIG_BYTES" 'BEGIN { printf "%.2f", (h - i) * 1024 / b }')
echo
echo "## memory, $(date -u +%FT%TZ)"
machine
echo "load before the intake load: $LOAD0; after: $(loadavg)"
echo
echo "| phase | VmRSS MiB | VmHWM MiB | target | met |"
echo "|---|---:|---:|---|---|"
printf '| idle (3 s after start) | %s | %s | < 30 MiB | %s |\n' "$(mb "$IDLE_RSS")" "$(mb "$IDLE_HWM")" \
  "$([ "$IDLE_RSS" -lt 30720 ] && echo yes || echo no)"
printf '| intake load: %s x %s B, %s sessions (max sampled / after) | %s / %s | %s | < 150 MiB | %s |\n' "$N" "$SIZE" "$SESSIONS" \
  "$(mb "$LOAD_MAX")" "$(mb "$LOAD_AFTER")" "$(mb "$LOAD_HWM")" "$([ "$LOAD_HWM" -lt 153600 ] && echo yes || echo no)"
printf '| one %s-byte message (idle before: %s MiB; jobs: %s) | %s | %s | < 3 copies | %s copies: %s |\n' "$BIG_BYTES" \
  "$(mb "$BIG_IDLE")" "$BIG_JOBS" "$(mb "$BIG_MAX")" "$(mb "$BIG_HWM")" "$copies" \
  "$(awk -v c="$copies" 'BEGIN { print (c < 3) ? "yes" : "no" }')"
