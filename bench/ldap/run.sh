#!/usr/bin/env bash
# LDAP lookup benchmark: umsgate's directory vs Python's ldap3, against slapd with 100 000 users.
#
#   bench/ldap/run.sh [WORK_DIR]          (default /tmp/umsgate-bench-ldap)
#
# Env: USERS (100000), LOOKUPS (20000), CONCURRENCY ("1 8"), BENCH_LDAP_PORT (5389),
#      BENCH_LDAPS_PORT (5636), KEEP=1 leaves slapd running, CARGO_TARGET_DIR as usual.
# Steps: testdata/ldap/gen_users.py → slapadd (scripts/ldap/start.sh with LDAP_EXTRA_LDIF) →
# cargo build --release --example ldap_bench → venv with ldap3 → each client twice (the first
# pass warms slapd's entry cache; the second is reported) → slapd stopped by its pidfile.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${1:-/tmp/umsgate-bench-ldap}
USERS=${USERS:-100000}
LOOKUPS=${LOOKUPS:-20000}
CONCURRENCY=${CONCURRENCY:-1 8}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

if [ ! -s "$WORK/users-$USERS.ldif" ]; then
  python3 "$REPO/testdata/ldap/gen_users.py" "$USERS" -o "$WORK/users-$USERS.ldif"
fi
STATE="$WORK/slapd-$USERS"
started=0
if [ ! -s "$STATE/run/slapd.pid" ] || ! kill -0 "$(cat "$STATE/run/slapd.pid")" 2>/dev/null; then
  LDAP_PORT=${BENCH_LDAP_PORT:-5389} LDAPS_PORT=${BENCH_LDAPS_PORT:-5636} \
    LDAP_EXTRA_LDIF="$WORK/users-$USERS.ldif" "$REPO/scripts/ldap/start.sh" "$STATE" >/dev/null
  started=1
fi
stop() { if [ "$started" = 1 ] && [ "${KEEP:-0}" != 1 ]; then "$REPO/scripts/ldap/stop.sh" "$STATE"; fi; }
trap stop EXIT
. "$STATE/env"

(cd "$REPO" && cargo build --release -q -p umsgate --example ldap_bench)
BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/examples/ldap_bench"
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q ldap3
fi

BASE="ou=Load,$LDAP_BASE_DN"
args=("$LDAP_URL" "$LDAP_RO_DN" "$LDAP_RO_PW" "$BASE" "$USERS" "$LOOKUPS")
echo "# $(date -u +%FT%TZ) $(nproc) cores; slapd $(/usr/sbin/slapd -VV 2>&1 | head -1 | grep -o 'slapd [0-9.]*'); users=$USERS lookups=$LOOKUPS"
for pass in 1 2; do
  for c in $CONCURRENCY; do
    out=$("$BIN" "${args[@]}" "$c")
    [ "$pass" = 2 ] && echo "$out"
  done
  out=$("$WORK/venv/bin/python" "$HERE/bench_ldap3.py" "${args[@]}")
  [ "$pass" = 2 ] && echo "$out"
done
