#!/usr/bin/env bash
# A private CUPS scheduler on 127.0.0.1 for umsgate's print-unread tests: its own config, spool
# and logs in STATE_DIR (nothing under /etc/cups or /run/cups is used), no browsing, no TLS, no
# authentication, loopback only; and a queue "faxprint" whose device is a file, so a printed
# job is the PDF in STATE_DIR/out/faxprint.pdf. More queues: scripts/cups/queue.sh.
#
#   scripts/cups/start.sh STATE_DIR        (port: $CUPS_PORT, default 16310; must be free)
#
# Writes STATE_DIR/env: CUPS_SERVER CUPS_PORT CUPS_STATE_DIR CUPS_OUT_DIR CUPS_PPD
# IPP_PRINTER_URI CUPS_OUT (the faxprint queue's file). Stop: scripts/cups/stop.sh STATE_DIR.
# Needs root (cupsd) and: cups-daemon cups-client cups-filters (the Generic PDF PPD and the
# pdftopdf filter) poppler-utils (pdfinfo, for the tests).
# Pitfalls: a file: device is opened O_WRONLY without O_CREAT (CUPS 2.4.2), so queue.sh creates
# the file first, and a later job writes over it without truncating: a queue per test. Never run
# `lpinfo -v` against this daemon (it probes the network backends).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${1:-${CUPS_STATE_DIR:-}}
[ -n "$STATE" ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
PORT=${CUPS_PORT:-16310}
die() { echo "scripts/cups/start.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (cupsd)"
[ -x /usr/sbin/cupsd ] || die "cupsd missing: apt-get install cups-daemon"
command -v lpadmin >/dev/null || die "lpadmin missing: apt-get install cups-client"
PPD=/usr/share/ppd/cupsfilters/Generic-PDF_Printer-PDF.ppd
[ -f "$PPD" ] || die "$PPD missing: apt-get install cups-filters"
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is taken"

mkdir -p "$STATE"; STATE=$(cd "$STATE" && pwd)
if [ -s "$STATE/run/cupsd.pid" ] && kill -0 "$(cat "$STATE/run/cupsd.pid")" 2>/dev/null; then
  die "cupsd already running for $STATE"
fi
mkdir -p "$STATE"/{etc,spool/tmp,cache,run,log,out}
chmod 755 "$STATE"                      # filters run as lp and must reach spool/tmp
chmod 1777 "$STATE/spool/tmp"
chown lp:lp "$STATE/out"

cat > "$STATE/etc/cups-files.conf" <<CONF
ServerRoot $STATE/etc
RequestRoot $STATE/spool
TempDir $STATE/spool/tmp
CacheDir $STATE/cache
StateDir $STATE/run
AccessLog $STATE/log/access_log
ErrorLog $STATE/log/error_log
PageLog $STATE/log/page_log
FileDevice Yes
User lp
Group lp
SystemGroup root
CONF
cat > "$STATE/etc/cupsd.conf" <<CONF
Listen 127.0.0.1:$PORT
LogLevel ${CUPS_LOGLEVEL:-info}
Browsing No
BrowseLocalProtocols none
DefaultAuthType None
DefaultEncryption Never
WebInterface No
PreserveJobHistory Yes
PreserveJobFiles No
MaxJobs 0
<Location />
  Order allow,deny
  Allow from 127.0.0.1
</Location>
<Location /admin>
  Order allow,deny
  Allow from 127.0.0.1
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
CONF
/usr/sbin/cupsd -t -c "$STATE/etc/cupsd.conf" -s "$STATE/etc/cups-files.conf" >/dev/null 2>&1 \
  || die "cupsd -t refuses the configuration in $STATE/etc"
# -f: foreground, so that its PID is known; setsid: it outlives the caller's shell
setsid /usr/sbin/cupsd -f -c "$STATE/etc/cupsd.conf" -s "$STATE/etc/cups-files.conf" \
  > "$STATE/log/cupsd.out" 2>&1 < /dev/null &
echo $! > "$STATE/run/cupsd.pid"
for i in $(seq 1 100); do
  lpstat -h "127.0.0.1:$PORT" -r 2>/dev/null | grep -q 'is running' && break
  if ! kill -0 "$(cat "$STATE/run/cupsd.pid")" 2>/dev/null || [ "$i" = 100 ]; then
    tail -n 30 "$STATE/log/cupsd.out" "$STATE/log/error_log" >&2 2>/dev/null || true
    die "cupsd did not come up"
  fi
  sleep 0.1
done
cat > "$STATE/env" <<ENV
export CUPS_SERVER=127.0.0.1:$PORT
export CUPS_PORT=$PORT
export CUPS_STATE_DIR=$STATE
export CUPS_OUT_DIR=$STATE/out
export CUPS_PPD=$PPD
export IPP_PRINTER_URI=ipp://127.0.0.1:$PORT/printers/faxprint
export CUPS_OUT=$STATE/out/faxprint.pdf
ENV
"$HERE/queue.sh" "$STATE" faxprint >/dev/null
cat "$STATE/env"
echo "# cupsd pid $(cat "$STATE/run/cupsd.pid"); stop with: $HERE/stop.sh $STATE --purge" >&2
