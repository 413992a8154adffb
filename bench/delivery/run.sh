#!/usr/bin/env bash
# Delivery benchmark: N received messages (half SMS, half 3-page faxes) in umsgate's received/
# folder, composed and delivered by umsgate to smtp-sink; in the same run, a private Postfix
# delivers the same number of ready-made mails (copies of the mails umsgate composed) from its
# queue to the same smtp-sink. See bench/README.md.
#
#   bench/delivery/run.sh             N=10000
#
# umsgate: received/<id>/message.json (+ fax.tif, testdata/samples/fax_3p_g4.tif) are written
# before umsgate starts; the clock runs from the start of `umsgate run` until smtp.log holds
# N "out delivered" lines (and smtp-out/ is empty).
# Postfix: the mails are injected with smtp-source into the hold queue (smtpd_data_restrictions
# = check_client_access static:HOLD), untimed; the clock runs from `postsuper -H ALL` until
# maillog holds N more "status=sent" lines.
# Env: N, FAX_TIF, UMSGATE_BIN, BENCH_KEEP=1.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../intake/common.sh
. "$HERE/../intake/common.sh"

N=${N:-10000}
FAX_TIF=${FAX_TIF:-$BENCH_REPO/testdata/samples/fax_3p_g4.tif}
TIMEOUT=${TIMEOUT:-1200}
[ -f "$FAX_TIF" ] || die "no fax sample $FAX_TIF"

bench_init delivery
P_SINK=$(free_port 26100)
P_PF=$(free_port 26200)
P_UMS=$(free_port 26300)
P_DEAD=$(free_port 26400)   # nothing listens here: mail stays in smtp-out/
note "work folder $WORK; smtp-sink :$P_SINK, postfix :$P_PF, umsgate :$P_UMS"
start_sink "$WORK/sink" "$P_SINK"

# gen_received DIR COUNT: COUNT received messages, alternating SMS and 3-page fax.
gen_received() {
  python3 - "$1" "$2" "$FAX_TIF" <<'PY'
import json, os, shutil, sys
root, n, tif = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(root, exist_ok=True)
for i in range(n):
    d = os.path.join(root, f"B{i:015X}")
    os.mkdir(d)
    if i % 2:
        m = {"service": "fax", "calling": "+49 30 9876543 20", "called": "+49 8142 4799123",
             "received_at": "2026-11-26T10:15:00Z", "pages": 3, "csid": "+49 30 9876543 20",
             "files": ["fax.tif"], "text": None, "duration_s": None}
        shutil.copyfile(tif, os.path.join(d, "fax.tif"))
    else:
        m = {"service": "sms", "calling": "+49 151 2345678", "called": "+49 8142 4799123",
             "received_at": "2026-11-26T10:15:00Z", "pages": None, "csid": None, "files": [],
             "text": f"Benchmark SMS number {i}: please call back about the offer.", "duration_s": None}
    with open(os.path.join(d, "message.json"), "w") as f:
        json.dump(m, f)
PY
  sync
}

delivered() { grep -c ' out delivered ' "$1/log/bench/smtp.log" 2>/dev/null || true; }
emls() { find "$1" -maxdepth 1 -name '*.eml' | wc -l; }

# --- 1. sample mails: what umsgate composes, for Postfix to carry -------------------------
S=$WORK/sample
write_umsgate "$S" "$P_UMS" "$P_DEAD"
gen_received "$S/state/bench/received" 2
start_umsgate "$S" "$P_UMS"
wait_count 2 60 emls "$S/state/bench/smtp-out" >/dev/null || die "sample mails not composed"
stop_pid "$UMS_PID"
for f in "$S"/state/bench/smtp-out/*.eml; do
  if grep -q '^Content-Type: application/pdf' "$f"; then kind=fax; else kind=sms; fi
  # smtp-source -F appends CRLF to each line itself
  sed 's/\r$//' "$f" > "$WORK/$kind.eml"
done
[ -s "$WORK/fax.eml" ] && [ -s "$WORK/sms.eml" ] || die "did not get one SMS and one fax sample mail"
SMS_BYTES=$(stat -c %s "$S"/state/bench/smtp-out/*.eml | sort -n | head -1)
FAX_BYTES=$(stat -c %s "$S"/state/bench/smtp-out/*.eml | sort -n | tail -1)

# --- 2. Postfix: inject into hold (untimed), release, time the delivery --------------------
start_postfix "$WORK/postfix" "$P_PF" "$P_SINK"
PFC=$WORK/postfix/etc
postconf -c "$PFC" -e 'smtpd_data_restrictions = check_client_access static:HOLD'
postfix -c "$PFC" reload >/dev/null 2>&1
sleep 1
note "postfix: injecting $N mails into the hold queue"
half=$((N / 2))
"$SMTP_SOURCE" -d -s 10 -m "$half" -F "$WORK/sms.eml" -f ums@example.com -t bench@fax.example.com "127.0.0.1:$P_PF" >/dev/null
"$SMTP_SOURCE" -d -s 10 -m $((N - half)) -F "$WORK/fax.eml" -f ums@example.com -t bench@fax.example.com "127.0.0.1:$P_PF" >/dev/null
held() { find "$WORK/postfix/spool/hold" -type f | wc -l; }
wait_count "$N" 300 held >/dev/null || die "postfix hold queue did not fill"
sync; sleep 2
base=$(postfix_sent "$WORK/postfix")
PF_LOAD0=$(loadavg)
PF_T0=$(now)
postsuper -c "$PFC" -H ALL >/dev/null 2>&1
PF_T1=$(wait_count $((base + N)) "$TIMEOUT" postfix_sent "$WORK/postfix") || PF_T1=$(now)
PF_SENT=$(( $(postfix_sent "$WORK/postfix") - base ))
"$BENCH_REPO/scripts/mail/stop.sh" "$WORK/postfix" >/dev/null 2>&1

# --- 3. umsgate: N received messages → mails → smtp-sink ----------------------------------
U=$WORK/ums
write_umsgate "$U" "$P_UMS" "$P_SINK"
note "umsgate: writing $N received messages"
gen_received "$U/state/bench/received" "$N"
UMS_LOAD0=$(loadavg)
UMS_T0=$(now)
start_umsgate "$U" "$P_UMS"
UMS_T1=$(wait_count "$N" "$TIMEOUT" delivered "$U") || UMS_T1=$(now)
UMS_SENT=$(delivered "$U")
UMS_CPU=$(cpu_s "$UMS_PID")
RSS_HWM=$(awk '/VmHWM/ { print $2 }' "/proc/$UMS_PID/status")
LEFT_OUT=$(emls "$U/state/bench/smtp-out")
LEFT_RCV=$( { find "$U/state/bench/received" -mindepth 1 -maxdepth 1 -type d ! -name error ! -name '.*' 2>/dev/null || true; } | wc -l)
BAD=$(emls "$U/state/bench/smtp-out/badmail")
stop_pid "$UMS_PID"

# --- summary -------------------------------------------------------------------------------
ua=$(rate "$UMS_SENT" "$UMS_T0" "$UMS_T1"); pa=$(rate "$PF_SENT" "$PF_T0" "$PF_T1")
echo
echo "## delivery: $N messages ($half SMS, $((N - half)) 3-page faxes), $(date -u +%FT%TZ)"
machine
echo "mail sizes: SMS $SMS_BYTES bytes, fax $FAX_BYTES bytes (PDF attachment); Postfix carries copies of these"
echo
echo "| peer | delivered | seconds | delivered/s | CPU s | left in queue | badmail | load before |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
printf '| umsgate (received/ → compose → smtp-sink) | %s | %.1f | %s | %s | %s received, %s smtp-out | %s | %s |\n' \
  "$UMS_SENT" "$(awk -v a="$UMS_T0" -v b="$UMS_T1" 'BEGIN{print b-a}')" "$ua" "$UMS_CPU" "$LEFT_RCV" "$LEFT_OUT" "$BAD" "$UMS_LOAD0"
printf '| postfix (hold queue → smtp-sink) | %s | %.1f | %s | - | - | - | %s |\n' \
  "$PF_SENT" "$(awk -v a="$PF_T0" -v b="$PF_T1" 'BEGIN{print b-a}')" "$pa" "$PF_LOAD0"
echo
echo "delivery ratio umsgate/postfix: $(ratio "$ua" "$pa") (target >= 2); umsgate peak RSS ${RSS_HWM} kB"
echo "load after: $(loadavg)"
