#!/usr/bin/env bash
# A private Kannel (bearerbox + smsbox) on 127.0.0.1 for umsgate's SMS tests: its own config,
# message store and logs in STATE_DIR, nothing under /etc/kannel is used, runs as any user.
# Its SMS centre is Kannel's "fake" SMSC driver: the test itself connects to KANNEL_SMSC_PORT and
# IS the SMS centre (it reads MT lines "FROM TO text|ucs-2|udh … TEXT" and writes MO lines
# "FROM TO text TEXT"), so no fakesmsc (kannel-extras) is needed. Until a client connects,
# sendsms answers "3: Queued for later delivery" and bearerbox keeps the SMS.
#
#   scripts/kannel/start.sh STATE_DIR
#
# Ports (each must be free): KANNEL_ADMIN_PORT (default 13000, status page), KANNEL_SMSBOX_PORT
# (13001, bearerbox <-> smsbox), KANNEL_SMSC_PORT (13010, the fake SMSC), KANNEL_SENDSMS_PORT
# (13013). umsgate's callback listener: KANNEL_CALLBACK_URL (default
# http://127.0.0.1:$KANNEL_CALLBACK_PORT, port default 10080) with KANNEL_CALLBACK_SECRET (default
# a random one); received SMS are passed with get-url, or post-url when KANNEL_MO=post.
#
# Writes STATE_DIR/env: KANNEL_SENDSMS_URL KANNEL_USER KANNEL_PASSWORD KANNEL_STATUS_URL
# KANNEL_STATUS_PASSWORD KANNEL_SMSC_PORT KANNEL_CALLBACK_PORT KANNEL_CALLBACK_URL
# KANNEL_CALLBACK_SECRET KANNEL_STATE_DIR. Stop: scripts/kannel/stop.sh STATE_DIR.
# Needs: kannel (bearerbox, smsbox).
set -euo pipefail
STATE=${1:-${KANNEL_STATE_DIR:-}}
[ -n "$STATE" ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
die() { echo "scripts/kannel/start.sh: $*" >&2; exit 1; }
[ -x /usr/sbin/bearerbox ] && [ -x /usr/sbin/smsbox ] || die "bearerbox/smsbox missing: apt-get install kannel"
ADMIN=${KANNEL_ADMIN_PORT:-13000}
BOX=${KANNEL_SMSBOX_PORT:-13001}
SMSC=${KANNEL_SMSC_PORT:-13010}
SENDSMS=${KANNEL_SENDSMS_PORT:-13013}
CB_PORT=${KANNEL_CALLBACK_PORT:-10080}
CB_URL=${KANNEL_CALLBACK_URL:-http://127.0.0.1:$CB_PORT}
SECRET=${KANNEL_CALLBACK_SECRET:-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
MO=${KANNEL_MO:-get}
for p in "$ADMIN" "$BOX" "$SMSC" "$SENDSMS"; do
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && die "port $p is taken"
done

mkdir -p "$STATE"; STATE=$(cd "$STATE" && pwd)
for p in bearerbox smsbox; do
  if [ -s "$STATE/$p.pid" ] && kill -0 "$(cat "$STATE/$p.pid")" 2>/dev/null; then
    die "$p already running for $STATE"
  fi
done
mkdir -p "$STATE/store"
MO_QUERY="key=$SECRET&from=%p&to=%P&coding=%c&charset=%C&id=%I&smsc=%i"
if [ "$MO" = post ]; then
  MO_LINE="post-url = \"$CB_URL/mo?$MO_QUERY\""
else
  MO_LINE="get-url = \"$CB_URL/mo?$MO_QUERY&text=%a\""
fi
cat > "$STATE/kannel.conf" <<CONF
group = core
admin-port = $ADMIN
admin-interface = 127.0.0.1
admin-password = admin-secret
status-password = status-secret
admin-allow-ip = "127.0.0.1"
smsbox-port = $BOX
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$STATE/bearerbox.log"
log-level = 1
access-log = "$STATE/access.log"
# queued MT survive a bearerbox restart; production DLRs belong in redis/mysql/pgsql
store-type = file
store-location = "$STATE/store/kannel.store"
dlr-storage = internal
sms-resend-freq = 5
sms-resend-retry = 3

group = smsc
smsc = fake
smsc-id = fake1
port = $SMSC
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1
# numbers from the SMS centre in national or 00 form become +E.164
unified-prefix = "+49,0049,0;+,00"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $BOX
sendsms-port = $SENDSMS
sendsms-interface = 127.0.0.1
log-file = "$STATE/smsbox.log"
log-level = 1
access-log = "$STATE/smsbox-access.log"
# received UCS-2 SMS reach umsgate as UTF-8
mo-recode = true
# a callback umsgate could not store (HTTP 5xx) is tried again
http-request-retry = 3
http-queue-delay = 2

group = sendsms-user
username = umsgate
password = sms-secret
# long texts: up to 10 concatenated parts
concatenation = true
max-messages = 10
user-allow-ip = "127.0.0.1"

group = sms-service
keyword = default
catch-all = true
# the SMS goes to umsgate; no reply SMS
max-messages = 0
accept-x-kannel-headers = false
$MO_LINE
CONF
chmod 600 "$STATE/kannel.conf"
cd "$STATE"
setsid /usr/sbin/bearerbox -v 1 kannel.conf > bearerbox.out 2>&1 < /dev/null & echo $! > bearerbox.pid
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$BOX") 2>/dev/null && break; sleep 0.1
  [ "$i" = 100 ] && die "bearerbox did not open port $BOX (see $STATE/bearerbox.out)"; done
setsid /usr/sbin/smsbox -v 1 kannel.conf > smsbox.out 2>&1 < /dev/null & echo $! > smsbox.pid
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SENDSMS") 2>/dev/null && break; sleep 0.1
  [ "$i" = 100 ] && die "smsbox did not open port $SENDSMS (see $STATE/smsbox.out)"; done
cat > "$STATE/env" <<ENV
export KANNEL_SENDSMS_URL=http://127.0.0.1:$SENDSMS/cgi-bin/sendsms
export KANNEL_USER=umsgate
export KANNEL_PASSWORD=sms-secret
export KANNEL_STATUS_URL=http://127.0.0.1:$ADMIN/status.xml
export KANNEL_STATUS_PASSWORD=status-secret
export KANNEL_SMSC_PORT=$SMSC
export KANNEL_CALLBACK_PORT=$CB_PORT
export KANNEL_CALLBACK_URL=$CB_URL
export KANNEL_CALLBACK_SECRET=$SECRET
export KANNEL_STATE_DIR=$STATE
ENV
cat "$STATE/env"
