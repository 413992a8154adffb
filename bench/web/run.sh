#!/usr/bin/env bash
# The console's queue page beside 100 000 queued messages: latency of N requests (p50, p99)
# through the real umsgate binary over HTTP.
#
#   bench/web/run.sh            # MESSAGES=100000 N=200 UMSGATE_BIN=target/release/umsgate
#
# The messages are written straight into the instance's smtp-out/badmail/ in the spool's
# format (.eml + .json sidecar; Badmail is what no worker touches, so the folder stays as it
# is while it is measured), umsgate runs with the web console on a free port, curl logs in and
# times each request (`time_total`: connect to last byte, no process start). Needs python3,
# curl and a build of umsgate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MESSAGES=${MESSAGES:-100000}
N=${N:-200}
BIN=${UMSGATE_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/umsgate}
[ -x "$BIN" ] || { echo "no umsgate binary at $BIN (cargo build --release -p umsgate, or UMSGATE_BIN=)" >&2; exit 1; }

work=$(mktemp -d "${BENCH_TMP:-/tmp}/umsgate-bench-web.XXXXXX")
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
web_port=$(free_port)
smtp_port=$(free_port)
password=bench-console-pw
hash=$(printf '%s' "$password" | "$BIN" hash-password)

cat > "$work/users.toml" <<USERS
[[user]]
mail = "bench@example.com"
name = "Bench"
ums = "ums1;fax.rights=international"
USERS
cat > "$work/umsgate.toml" <<CONF
[service]
state_dir = "state"
log_dir = "log"

[service.web]
listen = "127.0.0.1:$web_port"

[[service.web.admins]]
name = "admin"
password_hash = "$hash"

[[instance]]
id = "bench"

[instance.smtp_in]
listen = ["127.0.0.1:$smtp_port"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
maildir = "maildir/"

[instance.directory]
kind = "file"
path = "users.toml"
CONF

badmail="$work/state/bench/smtp-out/badmail"
mkdir -p "$badmail"
t0=$(date +%s.%N)
python3 - "$badmail" "$MESSAGES" <<'PY'
import json, os, sys
folder, n = sys.argv[1], int(sys.argv[2])
base = 0x63A0000000000
for i in range(n):
    qid = f"{base + i:013X}{i % 4096:03X}"
    rcpt = f"+4981424{i:06d}@fax.example.com"
    eml = (f"From: bench@example.com\r\nTo: {rcpt}\r\nSubject: bench {i}\r\n"
           f"Message-ID: <{qid}@bench>\r\n\r\nbody {i}\r\n").encode()
    side = {"v": 1, "id": qid, "instance": "bench", "received_at": "2026-12-04T10:00:00Z",
            "origin": "smtp", "mail_from": "bench@example.com",
            "rcpts": [{"address": rcpt, "key": 0}], "size": len(eml), "attempts": 5,
            "last_error": "550 5.1.1 mailbox unavailable"}
    with open(os.path.join(folder, qid + ".json"), "w") as f:
        json.dump(side, f)
    with open(os.path.join(folder, qid + ".eml"), "wb") as f:
        f.write(eml)
PY
t1=$(date +%s.%N)

(cd "$work" && exec "$BIN" --config umsgate.toml run >"$work/run.out" 2>"$work/run.err") &
pid=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$web_port/login" && break
    sleep 0.1
done
base="http://127.0.0.1:$web_port"
curl -s -o /dev/null -c "$work/jar" -H "Origin: $base" \
    --data-urlencode name=admin --data-urlencode "password=$password" "$base/login"

# The first request builds the index (one listing of the folder, every sidecar read once).
first=$(curl -s -o "$work/first.html" -w '%{time_total}' -b "$work/jar" "$base/queues?instance=bench&state=badmail")
grep -q "bench $((0))\|class=\"msg\"" "$work/first.html" || { echo "the queue page shows no message" >&2; exit 1; }

measure() { # name url
    local out="$work/$1.times"
    : > "$out"
    for _ in $(seq 1 "$N"); do
        curl -s -o /dev/null -w '%{time_total}\n' -b "$work/jar" "$2" >> "$out"
    done
    python3 - "$1" "$out" <<'PY'
import sys
xs = sorted(float(l) for l in open(sys.argv[2]) if l.strip())
p = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000
print(f"| {sys.argv[1]:<28} | {len(xs):>5} | {p(0.50):>8.1f} | {p(0.99):>8.1f} | {xs[-1]*1000:>8.1f} |")
PY
}

last_page=$(( (MESSAGES + 49) / 50 ))
mid=$(python3 -c "print(f'{0x63A0000000000 + $MESSAGES // 2:013X}{($MESSAGES // 2) % 4096:03X}')")
echo "umsgate web console, $MESSAGES messages in Badmail; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrote the messages in $(python3 -c "print(f'{$t1 - $t0:.1f}')") s; first queue page (index built): $(python3 -c "print(f'{$first * 1000:.0f}')") ms"
echo
echo "| request                      |     n | p50 (ms) | p99 (ms) | max (ms) |"
echo "|---|---:|---:|---:|---:|"
measure "queue page 1" "$base/queues?instance=bench&state=badmail"
measure "queue page $last_page (last)" "$base/queues?instance=bench&state=badmail&page=$last_page"
measure "search a number" "$base/queues?instance=bench&state=badmail&q=%2B49+8142+4012345"
measure "one message" "$base/queues/bench/badmail/$mid"
measure "dashboard" "$base/"
