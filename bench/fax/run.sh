#!/usr/bin/env bash
# Fax TIFF -> PDF: umsgate against libtiff's tiff2pdf, whole process against whole process, on
# the same files in one run. Prints pages per second, output size and the ratios as a
# markdown table.
#
# Usage: bench/fax/run.sh [ITERATIONS]   (default 40 runs per tool and file)
# Uses `target/release/umsgate fax to-pdf` when that binary supports it, otherwise builds and
# uses the umsgate-fax `to_pdf` example (same library call). Needs tiff2pdf (libtiff-tools)
# and pdfinfo (poppler-utils).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
iters=${1:-40}
samples=(fax_3p_g4 fax_3p_g3_2d fax_20p_g4_perf)
target=${CARGO_TARGET_DIR:-$root/target}
for tool in tiff2pdf pdfinfo; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install libtiff-tools poppler-utils)" >&2; exit 1; }
done

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
umsgate_bin="$root/target/release/umsgate"
if [ -x "$umsgate_bin" ] && "$umsgate_bin" fax to-pdf --help >/dev/null 2>&1; then
  ours=("$umsgate_bin" fax to-pdf); ours_name="umsgate fax to-pdf"
else
  (cd "$root" && cargo build --quiet --release -p umsgate-fax --example to_pdf)
  ours=("$target/release/examples/to_pdf"); ours_name="umsgate-fax example to_pdf"
fi

now() { date +%s%N; }
# time_runs OUT CMD...: runs CMD $iters times (after one warm-up run), prints elapsed ns
time_runs() {
  "$@" >/dev/null
  local t0 t1 i
  t0=$(now)
  for ((i = 0; i < iters; i++)); do "$@" >/dev/null; done
  t1=$(now)
  echo $((t1 - t0))
}

echo "converter: $ours_name; $iters runs per tool and file; $(nproc) cores"
echo
echo "| file | pages | umsgate pages/s | tiff2pdf pages/s | speed ratio | umsgate bytes | tiff2pdf bytes | size ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for s in "${samples[@]}"; do
  in="$root/testdata/samples/$s.tif"
  a="$tmp/$s.umsgate.pdf"; b="$tmp/$s.tiff2pdf.pdf"
  ns_a=$(time_runs "${ours[@]}" "$in" -o "$a")
  ns_b=$(time_runs tiff2pdf -o "$b" "$in")
  pages=$(pdfinfo "$a" | awk '/^Pages:/ {print $2}')
  pages_b=$(pdfinfo "$b" | awk '/^Pages:/ {print $2}')
  [ "$pages" = "$pages_b" ] || { echo "page counts differ: $pages vs $pages_b" >&2; exit 1; }
  size_a=$(stat -c %s "$a"); size_b=$(stat -c %s "$b")
  awk -v f="$s" -v p="$pages" -v n="$iters" -v ta="$ns_a" -v tb="$ns_b" -v sa="$size_a" -v sb="$size_b" 'BEGIN {
    pa = p * n / (ta / 1e9); pb = p * n / (tb / 1e9)
    printf "| %s | %d | %.0f | %.0f | %.2fx | %d | %d | %.3f |\n", f, p, pa, pb, pa / pb, sa, sb, sa / sb }'
done
