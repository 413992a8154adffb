#!/usr/bin/env bash
# Fax submission to HylaFAX: umsgate's persistent hfaxd client (one logged-in control
# connection, durable job record per job) against one `sendfax` process per job, same document,
# same N, on a private faxq + hfaxd (scripts/hylafax/start.sh) in one run. Measures submission
# only: every job goes to a number ending in 8, which the peer's fake modem answers "busy", so
# nothing waits for a transmission. Prints jobs/s of both and their ratio (target: >= 10x).
#
# Usage: bench/engines/hylafax.sh [N]   (default 100)
# Needs root (faxq, hfaxd), hylafax-server hylafax-client libtiff-tools; builds and runs the
# umsgate example `hylafax_bench` (release). HYLAFAX_PORT: the peer's port (default: the
# first free from 26400).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=${1:-100}
target=${CARGO_TARGET_DIR:-$root/target}
for tool in sendfax tiff2pdf; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
port=${HYLAFAX_PORT:-26400}
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done

tmp=$(mktemp -d /tmp/umsgate-bench-hylafax.XXXXXX)
trap '"$root/scripts/hylafax/stop.sh" "$tmp/peer" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
(cd "$root" && cargo build --quiet --release -p umsgate --example hylafax_bench)
HYLAFAX_PORT=$port "$root/scripts/hylafax/start.sh" "$tmp/peer" >/dev/null 2>&1
tiff2pdf -o "$tmp/doc.pdf" "$root/testdata/samples/fax_1p_g3_1d.tif"

echo "document: 1-page PDF ($(stat -c %s "$tmp/doc.pdf") bytes); $n jobs each; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r _ ums < <("$target/release/examples/hylafax_bench" 127.0.0.1 "$port" "$n" "$tmp/doc.pdf" +4930555558)
t0=$(date +%s.%N)
for ((i = 0; i < n; i++)); do
  sendfax -h "127.0.0.1:$port" -n -d 0305555558 "$tmp/doc.pdf" < /dev/null > /dev/null
done
t1=$(date +%s.%N)
jobs=$(find "$tmp/peer/spool/sendq" "$tmp/peer/spool/doneq" -name 'q[0-9]*' | wc -l)
[ "$jobs" -eq $((2 * n)) ] || { echo "expected $((2 * n)) jobs in HylaFAX, found $jobs" >&2; exit 1; }
awk -v n="$n" -v ums="$ums" -v t0="$t0" -v t1="$t1" 'BEGIN {
  s = t1 - t0
  printf "%-44s %8.1f jobs/s  (%.3f s)\n", "umsgate hfaxd client (one connection)", n / ums, ums
  printf "%-44s %8.1f jobs/s  (%.3f s)\n", "sendfax per job", n / s, s
  printf "ratio: %.1fx\n", s / ums
}'
