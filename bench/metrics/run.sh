#!/usr/bin/env bash
# What a Prometheus scrape costs: `GET /metrics` of a running umsgate whose Badmail holds N
# messages (default 10000 pairs, 2 KiB each). See bench/README.md.
#
#   bench/metrics/run.sh            # BIN=path/to/umsgate (default: the release build), N=10000
#
# 1. a fresh state folder; N pairs written into state/m/smtp-out/badmail/ (what `queue list`
#    counts: the sidecar of each is read);
# 2. `umsgate run` with metrics.listen; the first scrape reads the folders (queue depths
#    refreshed), the next 20 within 5 s serve the cached depths; one more after 5 s reads
#    the folders again;
# 3. prints each time (curl's time_total) and checks that umsgate_queue_messages{state="badmail"}
#    is N.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/umsgate}
N=${N:-10000}
PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "no umsgate at $BIN (cargo build --release)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

WORK=$(mktemp -d /tmp/umsgate-bench-metrics.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SMTP=$(free_port); METRICS=$(free_port)

cat > "$WORK/umsgate.toml" <<TOML
[service]
state_dir = "state"
log_dir = "log"
metrics.listen = "127.0.0.1:$METRICS"
[service.render]
converter = "none"
html = "none"

[[instance]]
id = "m"
[instance.smtp_in]
listen = ["127.0.0.1:$SMTP"]
[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
maildir = "maildir/"
[instance.directory]
kind = "file"
path = "users.toml"
[instance.gateway]
kind = "sim"
TOML
: > "$WORK/users.toml"

BAD="$WORK/state/m/smtp-out/badmail"
mkdir -p "$BAD"
$PY - "$BAD" "$N" <<'PY'
import json, os, sys
folder, n = sys.argv[1], int(sys.argv[2])
body = ("From: <a@example.com>\r\nTo: <b@example.com>\r\nSubject: bench\r\n\r\n" + "x" * 1900 + "\r\n").encode()
for i in range(n):
    qid = "%016X" % (0x1000000 + i)
    with open(os.path.join(folder, qid + ".eml"), "wb") as f:
        f.write(body)
    side = {"v": 1, "id": qid, "instance": "m", "received_at": "2026-12-04T10:00:00Z",
            "origin": "local", "mail_from": "a@example.com",
            "rcpts": [{"address": "b@example.com", "key": 0}], "size": len(body),
            "attempts": 5, "last_error": "retries exhausted"}
    with open(os.path.join(folder, qid + ".json"), "w") as f:
        json.dump(side, f)
PY

(cd "$WORK" && exec "$BIN" --config umsgate.toml run >"$WORK/out.log" 2>&1) &
PID=$!
for _ in $(seq 1 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$METRICS/metrics" && break
    sleep 0.1
done
sleep 5.5   # the readiness probe above was the first scrape: wait until the cache is stale
scrape() { curl -sf -o "$WORK/last" -w '%{time_total}' "http://127.0.0.1:$METRICS/metrics"; }
cold=$(scrape)
cached=()
for _ in $(seq 1 20); do cached+=("$(scrape)"); done
sleep 5.5
again=$(scrape)
got=$(grep '^umsgate_queue_messages{.*state="badmail"' "$WORK/last" | awk '{print $2}')
echo "N=$N badmail pairs; gauge says $got"
echo "scrape reading the folders: ${cold}s (again after 5 s: ${again}s)"
printf 'cached scrapes (20): '; printf '%s ' "${cached[@]}"; echo
[ "$got" = "$N" ] || { echo "the gauge is wrong" >&2; exit 1; }
