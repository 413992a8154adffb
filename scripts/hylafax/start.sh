#!/usr/bin/env bash
# A HylaFAX test peer without a modem for umsgate's fax engine tests: faxq + hfaxd on a private
# copy of the spool in STATE_DIR (nothing under /etc/hylafax or /var/spool/hylafax is changed),
# hfaxd on 127.0.0.1 only, a fake modem "ttyFAKE" and a fake SendFaxCmd that decides by the
# number's last digit: 8 = busy (requeued after 10 s), 9 = failed, anything else = sent.
# Notification mails are captured in STATE_DIR/mail, faxq's notify events in
# STATE_DIR/notify.log.
#
#   scripts/hylafax/start.sh STATE_DIR        (port: $HYLAFAX_PORT, default 14559; it and the port below it must be free)
#   HYLAFAX_NO_MODEM=1: announce no modem, so jobs stay queued (benchmarks of submission)
#
# Writes STATE_DIR/env: HYLAFAX_HOST HYLAFAX_PORT HYLAFAX_SPOOL HYLAFAX_STATE_DIR
# HYLAFAX_MAIL_DIR HYLAFAX_NOTIFY_LOG. Stop: scripts/hylafax/stop.sh STATE_DIR [--purge].
# A received fax: scripts/hylafax/inject.sh. Needs root (faxq and hfaxd drop to uucp; hfaxd
# chroots into the spool) and: hylafax-server hylafax-client.
# Pitfall: Debian's /usr/sbin/fax* tools are wrappers that bind-mount /etc/hylafax onto
# /var/spool/hylafax/etc; only /usr/sbin/faxq, /usr/sbin/hfaxd (real binaries) and the tools in
# /usr/lib/hylafax/bin (with -q SPOOL) are used here.
set -euo pipefail
STATE=${1:-${HYLAFAX_STATE_DIR:-}}
[ -n "$STATE" ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
PORT=${HYLAFAX_PORT:-14559}
L=/usr/lib/hylafax/bin
die() { echo "scripts/hylafax/start.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (faxq, hfaxd)"
[ -x /usr/sbin/faxq ] && [ -x /usr/sbin/hfaxd ] || die "faxq/hfaxd missing: apt-get install hylafax-server"
[ -d /var/spool/hylafax ] || die "/var/spool/hylafax missing: apt-get install hylafax-server"
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is taken"
# In active mode hfaxd opens each data connection from its own port - 1 (as FTP servers use
# port 20): a listener there makes every STOT and LIST hang until the client gives up.
(exec 3<>"/dev/tcp/127.0.0.1/$((PORT - 1))") 2>/dev/null && die "port $((PORT - 1)) is taken (hfaxd's data connections come from port $PORT - 1)"

mkdir -p "$STATE"; STATE=$(cd "$STATE" && pwd)
S=$STATE/spool
if [ -s "$STATE/faxq.pid" ] && kill -0 "$(cat "$STATE/faxq.pid")" 2>/dev/null; then
  die "faxq already running for $STATE"
fi
rm -rf "$S"
chmod 755 "$STATE"                      # the uucp scripts must traverse it
cp -a /var/spool/hylafax "$S"
cp -a /etc/hylafax/. "$S/etc/"
mkdir -p "$STATE/mail" "$STATE/lock"; chmod 777 "$STATE/mail"; chown uucp:uucp "$STATE/lock"
touch "$STATE/notify.log"; chmod 666 "$STATE/notify.log"   # bin/notify runs as uucp
printf '127.0.0.1\nlocalhost\n' > "$S/etc/hosts.hfaxd"
chown uucp:uucp "$S/etc/hosts.hfaxd"; chmod 600 "$S/etc/hosts.hfaxd"
cat > "$STATE/sendmail" <<EOS
#!/bin/sh
f=$STATE/mail/\$(date +%s%N).eml; { echo "X-Sendmail-Args: \$*"; cat; } > "\$f"
EOS
chmod 755 "$STATE/sendmail"
chmod u+w "$S/etc/setup.cache"
sed -i -e "s|^SENDMAIL=.*|SENDMAIL='$STATE/sendmail'|" -e "s|^SPOOL=.*|SPOOL='$S'|" \
       -e "s|^SBIN=.*|SBIN='$L'|" "$S/etc/setup.cache"
cat >> "$S/etc/config" <<EOC
ServerTracing:		0xFFF
SendFaxCmd:		bin/fakesend
UUCPLockDir:		$STATE/lock
JobReqBusy:		10
JobReqOther:		10
RecvFileMode:		0644
EOC
touch "$S/etc/config.ttyFAKE"
cat > "$S/bin/fakesend" <<'EOS'
#!/bin/bash
# faxq runs "SendFaxCmd -m DEVID qfile..." in the spool dir; exit code = FaxSendStatus
# (0 send_retry, 1 send_failed, 2 send_done, 3 send_reformat); the qfile is updated here.
# Outcome by the number's last digit: 8 busy (retry in 10 s), 9 failed, anything else done.
echo "$(date +%T) fakesend $*" >> log/fakesend.log
dev=ttyFAKE; while getopts m:c:lp o; do [ "$o" = m ] && dev=$OPTARG; done; shift $((OPTIND-1))
# faxq leaves a faxmodem(8)-announced modem unusable after a few sends (no faxgetty reports
# "ready"): announce it again once this process has exited.
touch tmp/fakesend.busy
trap 'rm -f tmp/fakesend.busy; ( sleep 1; /usr/lib/hylafax/bin/faxmodem -q "$PWD" "$dev" ) </dev/null >/dev/null 2>&1 &' EXIT
rc=2
for q in "$@"; do
  get() { sed -n "s/^$1://p" "$q" | head -1 | tr -d ' '; }
  num=$(get number); tot=$(get totpages); td=$(( $(get totdials) + 1 )); nd=$(( $(get ndials) + 0 ))
  tt=$(( $(get tottries) + 0 )); tts=$(get tts)
  case "$num" in
    *8) rc=0; st="Busy signal detected"; np=0; nd=$((nd+1)); tts=$(( $(date +%s) + 10 )) ;;
    *9) rc=1; st="Fake failure (number ends in 9)"; np=0; tt=$((tt+1)) ;;
    *)  rc=2; st=""; np=${tot:-1}; nd=0; tt=$((tt+1)) ;;
  esac
  body=$(grep -v -E '^(status|returned|npages|commid|csi|signalrate|dataformat|totdials|ndials|tottries|tts):' "$q")
  printf '%s\ntts:%s\ntotdials:%d\nndials:%d\ntottries:%d\nstatus:%s\nreturned:%d\nnpages:%d\ncommid:%08d\ncsi:+49 30 FAKE\nsignalrate:14400\ndataformat:2-D MMR\n' \
    "$body" "$tts" "$td" "$nd" "$tt" "$st" "$rc" "$np" "$RANDOM" > "$q"   # same inode
  [ "$rc" = 2 ] || break
done
exit $rc
EOS
chmod 755 "$S/bin/fakesend"
# FaxDispatch is sourced by the stock bin/faxrcvd; inject.sh runs FaxRcvdCmd (umsgate's) instead
echo 'SENDTO=fax-inbound@example.com; FILETYPE=pdf; NOTIFY_FAXMASTER=never' > "$S/etc/FaxDispatch"
cat > "$S/etc/FaxNotify" <<EOS
echo "\$(date +%s) why=\$WHY jobid=\$jobid jobtag=\$jobtag number=\$number status=\"\$faxstatus\" npages=\$npages/\$totpages" >> $STATE/notify.log
EOS
cd "$S"
# The descriptor limit a Debian site's faxq and hfaxd get: faxq.service and hfaxd.service set no
# LimitNOFILE, so systemd's DefaultLimitNOFILE (soft 1024) applies. faxq closes every possible
# descriptor in the child it forks per job, so a shell's higher limit (20000 here) would make
# each job cost several thousand close() calls no site pays. HYLAFAX_NOFILE overrides it.
ulimit -S -n "${HYLAFAX_NOFILE:-1024}"
setsid /usr/sbin/faxq -D -q "$S" > "$STATE/faxq.out" 2>&1 < /dev/null &
echo $! > "$STATE/faxq.pid"
for _ in $(seq 1 100); do [ -p "$S/FIFO" ] && break; sleep 0.1; done
[ -p "$S/FIFO" ] || { cat "$STATE/faxq.out" >&2; die "faxq did not start"; }
setsid /usr/sbin/hfaxd -d -q "$S" -l 127.0.0.1 -i "$PORT" > "$STATE/hfaxd.out" 2>&1 < /dev/null &
echo $! > "$STATE/hfaxd.pid"
if [ "${HYLAFAX_NO_MODEM:-0}" = 1 ]; then
  : # no modem: every job stays queued ("W"), for benchmarks of submission alone
else
$L/faxmodem -q "$S" ttyFAKE             # tell faxq a (send-only) modem exists
# Without faxgetty nobody tells faxq the modem is ready again after a job that never reached
# SendFaxCmd (e.g. rejected for too many dials): the modem would stay busy and every later job
# wait ("W") for ever. Announce it again every 5 s while no fakesend runs (announcing it during
# a send makes faxq stall hfaxd's job submissions).
setsid bash -c "while sleep 5; do [ -e '$S/tmp/fakesend.busy' ] || $L/faxmodem -q '$S' ttyFAKE; done" \
  > /dev/null 2>&1 < /dev/null &
echo $! > "$STATE/modem.pid"
fi
for i in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  [ "$i" = 100 ] && { cat "$STATE/hfaxd.out" >&2; die "hfaxd did not listen on $PORT"; }
  sleep 0.1
done
cat > "$STATE/env" <<ENV
export HYLAFAX_HOST=127.0.0.1
export HYLAFAX_PORT=$PORT
export HYLAFAX_SPOOL=$S
export HYLAFAX_STATE_DIR=$STATE
export HYLAFAX_MAIL_DIR=$STATE/mail
export HYLAFAX_NOTIFY_LOG=$STATE/notify.log
ENV
cat "$STATE/env"
echo "# faxq pid $(cat "$STATE/faxq.pid"), hfaxd pid $(cat "$STATE/hfaxd.pid"); stop with: $(dirname "$0")/stop.sh $STATE --purge" >&2
