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
# 4. hostile: a fresh umsgate (hold = true: intake alone); HOSTILE_SESSIONS (100) sessions
#    start at once and each sends a HOSTILE_MB (10) MB message slowly, over about
#    HOSTILE_SECONDS (20) s; peak VmRSS (sampled) and VmHWM, and the replies by code (messages
#    that find no room in smtp_in.max_data_memory are deferred with 452).
# Targets: idle < 30 MB, load < 150 MB, big: fewer than 3 copies, hostile: peak < 300 MB.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../intake/common.sh
. "$HERE/../intake/common.sh"

N=${N:-10000}
SIZE=${SIZE:-102400}
SESSIONS=${SESSIONS:-20}
BIG_MB=${BIG_MB:-36}
HOSTILE_SESSIONS=${HOSTILE_SESSIONS:-100}
HOSTILE_MB=${HOSTILE_MB:-10}
HOSTILE_SECONDS=${HOSTILE_SECONDS:-20}

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

# --- 4: hostile DATA: many large messages at once, slowly ------------------------------------
P3=$(free_port 26400)
H=$WORK/hostile
UMSGATE_HOLD=true write_umsgate "$H" "$P3" "$P_SINK"
start_umsgate "$H" "$P3"
sleep 2
HOSTILE_IDLE=$(status_kb "$UMS_PID" VmRSS)
sample_rss "$UMS_PID" "$WORK/hostile.max" &
SAMPLER3=$!; on_exit "touch '$WORK/hostile.max.stop'; stop_pid $SAMPLER3"
HOSTILE_CODES=$(python3 - "$P3" "$HOSTILE_SESSIONS" "$HOSTILE_MB" "$HOSTILE_SECONDS" <<'PY'
import asyncio, collections, sys
port, sessions, mb, seconds = (int(a) for a in sys.argv[1:5])
line = b"x" * 998 + b"\r\n"
chunk = line * 64                                  # 64 000 bytes
chunks = (mb * 1000 * 1000) // len(chunk)
pause = seconds / chunks

async def reply(r):
    while True:
        l = await r.readline()
        if not l:
            return "EOF"
        if l[3:4] != b"-":
            return l[:3].decode()

async def session(n):
    r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        await reply(r)
        for cmd in (b"EHLO hostile%d" % n, b"MAIL FROM:<bench@example.com>",
                    b"RCPT TO:<+4930123456@fax.example.com>", b"DATA"):
            w.write(cmd + b"\r\n"); await w.drain()
            code = await reply(r)
        if code != "354":
            return "DATA:" + code
        w.write(b"From: <bench@example.com>\r\nSubject: hostile %d\r\n\r\n" % n)
        for _ in range(chunks):
            w.write(chunk); await w.drain()
            await asyncio.sleep(pause)
        w.write(b".\r\n"); await w.drain()
        code = await reply(r)
        w.write(b"QUIT\r\n"); await w.drain()
        return code
    except (ConnectionError, asyncio.IncompleteReadError) as e:
        return type(e).__name__
    finally:
        w.close()

async def main():
    codes = await asyncio.gather(*(session(n) for n in range(sessions)))
    print(" ".join("%s x %d" % kv for kv in sorted(collections.Counter(codes).items())))

asyncio.run(main())
PY
) || die "the hostile client failed"
touch "$WORK/hostile.max.stop"; wait "$SAMPLER3" 2>/dev/null || true
HOSTILE_HWM=$(status_kb "$UMS_PID" VmHWM); HOSTILE_MAX=$(cat "$WORK/hostile.max")
HOSTILE_STORED=$(find "$H/state/bench/smtp-in" -maxdepth 1 -name '*.eml' | wc -l)
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
printf '| hostile: %s sessions x %s MB at once over ~%s s (idle before: %s MiB; replies: %s; stored: %s) | %s | %s | < 300 MiB | %s |\n' \
  "$HOSTILE_SESSIONS" "$HOSTILE_MB" "$HOSTILE_SECONDS" "$(mb "$HOSTILE_IDLE")" "$HOSTILE_CODES" "$HOSTILE_STORED" \
  "$(mb "$HOSTILE_MAX")" "$(mb "$HOSTILE_HWM")" "$([ "$HOSTILE_HWM" -lt 307200 ] && echo yes || echo no)"
