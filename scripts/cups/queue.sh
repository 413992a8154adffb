#!/usr/bin/env bash
# Adds (or resets) a queue NAME on the cupsd of scripts/cups/start.sh whose device is the file
# STATE_DIR/out/NAME.pdf (created empty: the file: device does not create it), accepting and
# enabled. Prints the queue's IPP URI.
#
#   scripts/cups/queue.sh STATE_DIR NAME
set -euo pipefail
STATE=$1 NAME=$2
[[ "$NAME" =~ ^[A-Za-z0-9_-]{1,100}$ ]] || { echo "queue.sh: bad queue name '$NAME'" >&2; exit 2; }
# shellcheck disable=SC1091
. "$STATE/env"
OUT="$CUPS_OUT_DIR/$NAME.pdf"
: > "$OUT"; chown lp:lp "$OUT"
lpadmin -h "$CUPS_SERVER" -p "$NAME" -E -v "file://$OUT" -m "${CUPS_PPD#/usr/share/ppd/}" \
  -o printer-error-policy=abort-job 2>/dev/null \
  || lpadmin -h "$CUPS_SERVER" -p "$NAME" -E -v "file://$OUT" -P "$CUPS_PPD" -o printer-error-policy=abort-job 2>/dev/null
echo "ipp://$CUPS_SERVER/printers/$NAME"
