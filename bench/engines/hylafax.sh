#!/usr/bin/env bash
# Fax submission to HylaFAX: umsgate's persistent hfaxd client (one logged-in control
# connection, durable job record per job) against one `sendfax` process per job, same document,
# same N, on a private faxq + hfaxd (scripts/hylafax/start.sh) in one run; each one job at a
# time and four at once (umsgate: four control connections; sendfax: four processes). Measures submission
# only: the peer announces no modem (HYLAFAX_NO_MODEM=1), so every job stays queued and faxq
# sends nothing while the jobs come in. Every job dials its own number (each of the four phases
# its own block: +49 301 xxxx … +49 304 xxxx), as faxes to different recipients do: jobs to one
# number wait for each other, and faxq runs its `notify` shell script for every job it so blocks
# (SAME_NUMBER=1 sends every job to +49 30 555558, as earlier runs did).
# Prints jobs/s of each and the ratios (target: >= 10x).
#
# Usage: bench/engines/hylafax.sh [N]   (default 100)
# Needs root (faxq, hfaxd), hylafax-server hylafax-client libtiff-tools; builds and runs the
# umsgate example `hylafax_bench` (release; PROFILE=debug takes the debug build: the client
# waits on hfaxd, not on its CPU). HYLAFAX_PORT: the peer's port (default: the first free from
# 26400).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=${1:-100}
target=${CARGO_TARGET_DIR:-$root/target}
for tool in sendfax tiff2pdf; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
port=${HYLAFAX_PORT:-26400}
# hfaxd's active-mode data connections come from its port - 1: both must be free.
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
while busy "$port" || busy $((port - 1)); do port=$((port + 2)); done

tmp=$(mktemp -d /tmp/umsgate-bench-hylafax.XXXXXX)
chmod 755 "$tmp"   # faxq and hfaxd run as uucp below it
trap '"$root/scripts/hylafax/stop.sh" "$tmp/peer" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
profile=${PROFILE:-release}
if [ "$profile" = release ]; then
  (cd "$root" && cargo build --quiet --release -p umsgate --example hylafax_bench)
else
  (cd "$root" && cargo build --quiet -p umsgate --example hylafax_bench)
fi
HYLAFAX_NO_MODEM=1 HYLAFAX_PORT=$port "$root/scripts/hylafax/start.sh" "$tmp/peer" >/dev/null
tiff2pdf -o "$tmp/doc.pdf" "$root/testdata/samples/fax_1p_g3_1d.tif"

echo "profile: $profile; document: 1-page PDF ($(stat -c %s "$tmp/doc.pdf") bytes); $n jobs each; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$n" -le 10000 ] || { echo "N is at most 10000 (four digits per job number)" >&2; exit 2; }
# number PHASE I: what job I of phase PHASE dials (umsgate: E.164; sendfax: national).
if [ "${SAME_NUMBER:-0}" = 1 ]; then
  ums_number() { echo +4930555558; }
  national() { echo 0305555558; }
else
  ums_number() { echo "+4930$1#"; }
  national() { printf '030%s%04d' "$1" "$2"; }
fi
echo "numbers: $([ "${SAME_NUMBER:-0}" = 1 ] && echo "one for every job" || echo "one per job")"
read -r _ ums1 < <("$target/$profile/examples/hylafax_bench" 127.0.0.1 "$port" "$n" "$tmp/doc.pdf" "$(ums_number 1)" 1)
read -r _ ums4 < <("$target/$profile/examples/hylafax_bench" 127.0.0.1 "$port" "$n" "$tmp/doc.pdf" "$(ums_number 2)" 4)
t0=$(date +%s.%N)
for ((i = 0; i < n; i++)); do
  sendfax -h "127.0.0.1:$port" -n -d "$(national 3 "$i")" "$tmp/doc.pdf" < /dev/null > /dev/null
done
t1=$(date +%s.%N)
for ((i = 0; i < n; i++)); do national 4 "$i"; echo; done |
  xargs -P 4 -I{} sh -c 'sendfax -h "127.0.0.1:$1" -n -d "$3" "$2" < /dev/null > /dev/null' _ "$port" "$tmp/doc.pdf" {}
t2=$(date +%s.%N)
jobs=$(find "$tmp/peer/spool/sendq" "$tmp/peer/spool/doneq" -name 'q[0-9]*' | wc -l)
[ "$jobs" -eq $((4 * n)) ] || { echo "expected $((4 * n)) jobs in HylaFAX, found $jobs" >&2; exit 1; }
awk -v n="$n" -v u1="$ums1" -v u4="$ums4" -v t0="$t0" -v t1="$t1" -v t2="$t2" 'BEGIN {
  s1 = t1 - t0; s4 = t2 - t1
  printf "%-48s %8.1f jobs/s  (%.3f s)\n", "umsgate hfaxd client, one at a time", n / u1, u1
  printf "%-48s %8.1f jobs/s  (%.3f s)\n", "umsgate hfaxd client, 4 at once (4 connections)", n / u4, u4
  printf "%-48s %8.1f jobs/s  (%.3f s)\n", "sendfax per job, one at a time", n / s1, s1
  printf "%-48s %8.1f jobs/s  (%.3f s)\n", "sendfax per job, 4 at once", n / s4, s4
  printf "ratio one at a time: %.1fx; 4 at once: %.1fx; umsgate 4 at once vs sendfax one at a time: %.1fx\n", s1 / u1, s4 / u4, s1 / u4
}'
