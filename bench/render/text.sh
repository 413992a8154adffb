#!/usr/bin/env bash
# Plain text → fax-ready TIFF G4 pages (204 × 196 dpi, A4): umsgate's text_to_tiff against
# HylaFAX's own path for the same text (textfmt to PostScript, Ghostscript's tiffg4 device),
# whole process against whole process, in one run; prints pages per second and the ratio.
#
#   bench/render/text.sh [RUNS] [PAGES]      RUNS=10 documents each side, PAGES≈20
#
# umsgate: the umsgate-render example `text_tiff` (layout::paginate + tiff::text_to_tiff, the
# library calls the renderer makes), one process per document, release build.
# HylaFAX:  textfmt -B -p 11 -s a4 < body.txt | gs -q -dSAFER -dBATCH -dNOPAUSE
#           -sDEVICE=tiffg4 -r204x196 -sPAPERSIZE=a4 -sOutputFile=out.tif -
# Pages are each side's own count (textfmt's 11 pt font gives fewer lines a page than
# umsgate's 80 × 60): pages/s compares the work per fax page the engine transmits.
# Needs: hylafax-client (textfmt), ghostscript, libtiff-tools; cargo. Env: CARGO_TARGET_DIR.
set -euo pipefail
RUNS=${1:-10}
PAGES=${2:-20}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/umsgate-bench-text.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
die() { echo "text.sh: $*" >&2; exit 1; }
for t in textfmt gs tiffinfo cargo; do
  command -v "$t" >/dev/null || die "$t not found (textfmt: apt-get install hylafax-client)"
done

# A deterministic body of about PAGES pages of 60 lines: paragraphs of wrapped words.
awk -v lines=$((PAGES * 55)) 'BEGIN {
  split("the fax gateway sends every page of this message to its recipient with care and " \
        "speed while the engine waits for a free line umsgate renders plain text quickly " \
        "invoice order delivery schedule 2026 Hamburg Munich pallets", w, " ");
  n = length(w); s = 7;
  for (i = 1; i <= lines; i++) {
    if (i % 9 == 0) { print ""; continue }
    s = (s * 1103515245 + 12345) % 2147483648; k = 3 + s % 12; line = "";
    for (j = 0; j < k; j++) { s = (s * 1103515245 + 12345) % 2147483648; line = line (j ? " " : "") w[1 + s % n] }
    print line
  }
}' > "$WORK/body.txt"

(cd "$ROOT" && cargo build -q --release -p umsgate-render --example text_tiff)
BIN=$TARGET/release/examples/text_tiff
[ -x "$BIN" ] || die "no $BIN"

count_pages() { tiffinfo "$1" 2>/dev/null | grep -c '^TIFF Directory'; }

# One warm-up each (page cache, gs resources), then RUNS timed documents.
"$BIN" "$WORK/body.txt" "$WORK/ums.tif" g4 0 >/dev/null
textfmt -B -p 11 -s a4 < "$WORK/body.txt" 2>/dev/null \
  | gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=tiffg4 -r204x196 -sPAPERSIZE=a4 -sOutputFile="$WORK/hfx.tif" -

# bash's `time` of a subshell: wall, user and system seconds of everything it ran.
TIMEFORMAT='%R %U %S'
{ time (
  for _ in $(seq "$RUNS"); do "$BIN" "$WORK/body.txt" "$WORK/ums.tif" g4 0 >/dev/null; done
) ; } 2> "$WORK/ums.time"
{ time (
  for _ in $(seq "$RUNS"); do
    textfmt -B -p 11 -s a4 < "$WORK/body.txt" 2>/dev/null \
      | gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=tiffg4 -r204x196 -sPAPERSIZE=a4 -sOutputFile="$WORK/hfx.tif" -
  done
) ; } 2> "$WORK/hfx.time"

UP=$(count_pages "$WORK/ums.tif")
HP=$(count_pages "$WORK/hfx.tif")
INPROC=$("$BIN" "$WORK/body.txt" "$WORK/ums.tif" g4 20)
read -r UW UU US < "$WORK/ums.time"
read -r HW HU HS < "$WORK/hfx.time"
awk -v r="$RUNS" -v up="$UP" -v hp="$HP" -v uw="$UW" -v ucpu="$(echo "$UU $US" | awk '{print $1 + $2}')" \
    -v hw="$HW" -v hcpu="$(echo "$HU $HS" | awk '{print $1 + $2}')" -v inproc="$INPROC" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" -v bytes_u="$(stat -c %s "$WORK/ums.tif")" \
    -v bytes_h="$(stat -c %s "$WORK/hfx.tif")" 'BEGIN {
  u = r * up / uw; h = r * hp / hw; uc = r * up / ucpu; hc = r * hp / hcpu;
  printf "load average %s, %d documents each side; pages/s by wall clock (by CPU time)\n", load, r;
  printf "umsgate text_to_tiff : %3d pages/doc  %7.1f (%7.1f) pages/s  %d bytes\n", up, u, uc, bytes_u;
  printf "textfmt | gs tiffg4  : %3d pages/doc  %7.1f (%7.1f) pages/s  %d bytes\n", hp, h, hc, bytes_h;
  printf "ratio                : %.1fx (%.1fx)\n", u / h, uc / hc;
  printf "umsgate in one process, best of 20: %s\n", inproc;
}'
