#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), corpus seeded from the samples.
#   fuzz/run.sh [SECONDS] [TARGET...]
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
secs=${1:-60}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(smtp_data smtp_session smtp_reply intake_segment mime_to_job user_settings address_template config tiff_reader read_receipt render_part)
seed() {   # seed TARGET FILES...
  local dir=corpus/$1; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$dir/" || true; done
}
seed mime_to_job ../testdata/samples/*.eml
seed read_receipt ../testdata/samples/mdn_displayed.eml ../testdata/samples/sms_plain.eml
seed smtp_data ../testdata/samples/*.eml
seed tiff_reader ../testdata/samples/*.tif
seed render_part ../testdata/samples/*.tif
seed config ../docs/umsgate.example.toml
mkdir -p corpus/user_settings && printf 'ums1;fax.rights=international;sms.per_day=5;fax.headline=Firma%%3B Marketing' > corpus/user_settings/design
mkdir -p corpus/smtp_session && printf 'EHLO x\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<+4930123456@fax.example.com>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n' > corpus/smtp_session/basic
mkdir -p corpus/smtp_reply && printf '220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n354 go\r\n550 5.1.1 no\r\n' > corpus/smtp_reply/ehlo
# a segment of two messages and a retirement, laid out as spool/intake.rs writes it
mkdir -p corpus/intake_segment && python3 - corpus/intake_segment/two <<'PY'
import struct, sys, zlib
def rec(kind, qid, sidecar=b"", eml=b""):
    r = b"UMSQ" + bytes([kind, len(qid)]) + qid + struct.pack("<IQ", len(sidecar), len(eml)) + sidecar + eml
    return r + struct.pack("<I", zlib.crc32(r))
sc = b'{"v":1,"id":"A1","instance":"t","received_at":"2026-11-26T10:00:00Z","origin":"smtp","mail_from":"a@example.com","rcpts":[{"address":"+4930@fax.example.com"}],"size":15}'
open(sys.argv[1], "wb").write(rec(1, b"A1", sc, b"Subject: x\r\n\r\n") + rec(1, b"B2", b"{}", b"body") + rec(2, b"A1"))
PY
status=0
for t in "${targets[@]}"; do
  echo "== $t ($secs s)"
  mkdir -p "corpus/$t"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 || status=1
done
exit $status
