#!/usr/bin/env bash
# Office document -> PDF: the resident LibreOffice converter of umsgate-render against a cold
# `soffice --headless --convert-to pdf` per document, on the same file in one run. Prints
# documents per second of both and their ratio (target: warm >= 5x cold).
#
# Usage: bench/render/office.sh [N] [FILE]   (default 20 documents, testdata/documents/letter.docx)
# Builds and runs the umsgate-render example `office_bench` (release). Needs soffice
# (libreoffice-writer-nogui), /usr/bin/python3 with python3-uno, pdfinfo (poppler-utils).
# The cold runs use a profile of their own, created by one untimed run first, so they pay a
# LibreOffice start per document but not the first start of a new profile; the warm figure
# leaves out the converter's start (printed apart).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=${1:-20}
file=${2:-$root/testdata/documents/letter.docx}
target=${CARGO_TARGET_DIR:-$root/target}
for tool in soffice pdfinfo /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
/usr/bin/python3 -c 'import uno' 2>/dev/null || { echo "missing python3-uno" >&2; exit 1; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$root" && cargo build --quiet --release -p umsgate-render --example office_bench)

name=$(basename "$file"); ext=${name##*.}
cp "$file" "$tmp/in.$ext"
cold() { soffice "-env:UserInstallation=file://$tmp/cold-profile" --headless --norestore \
  --convert-to pdf --outdir "$tmp/cold" "$tmp/in.$ext" >/dev/null 2>&1; }
cold   # creates the profile; not timed
pages=$(pdfinfo "$tmp/cold/in.pdf" | awk '/^Pages:/ {print $2}')

echo "file: $name ($pages pages); $n documents each; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r start warm < <("$target/release/examples/office_bench" "$file" "$n" "$tmp/warm")
t0=$(date +%s.%N)
for ((i = 0; i < n; i++)); do cold; done
t1=$(date +%s.%N)
[ -s "$tmp/cold/in.pdf" ] || { echo "cold conversion wrote no PDF" >&2; exit 1; }
awk -v n="$n" -v warm="$warm" -v start="$start" -v c0="$t0" -v c1="$t1" 'BEGIN {
  cold = c1 - c0; w = n / warm; c = n / cold
  printf "\n| converter | documents/s | s/document |\n|---|---:|---:|\n"
  printf "| umsgate resident LibreOffice (start %.2f s, not counted) | %.2f | %.3f |\n", start, w, warm / n
  printf "| cold soffice --convert-to pdf per document | %.2f | %.3f |\n", c, cold / n
  printf "\nratio: %.1fx\n", w / c }'
