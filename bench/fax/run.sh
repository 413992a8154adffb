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

# time_runs CMD...: one warm-up run, then CMD $iters times; prints "wall_s cpu_s" (cpu = user +
# sys of the child processes, which is robust when other jobs share the machine)
time_runs() {
  "$@" >/dev/null
  local i t
  t=$( { TIMEFORMAT='%R %U %S'; time for ((i = 0; i < iters; i++)); do "$@" >/dev/null; done; } 2>&1 )
  awk '{ printf "%s %.3f\n", $1, $2 + $3 }' <<<"$t"
}

echo "converter: $ours_name; $iters runs per tool and file; $(nproc) cores"
echo
echo "| file | pages | umsgate pages/s wall (cpu) | tiff2pdf pages/s wall (cpu) | speed ratio wall (cpu) | umsgate bytes | tiff2pdf bytes | size ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for s in "${samples[@]}"; do
  in="$root/testdata/samples/$s.tif"
  a="$tmp/$s.umsgate.pdf"; b="$tmp/$s.tiff2pdf.pdf"
  read -r wa ca < <(time_runs "${ours[@]}" "$in" -o "$a")
  read -r wb cb < <(time_runs tiff2pdf -o "$b" "$in")
  pages=$(pdfinfo "$a" | awk '/^Pages:/ {print $2}')
  pages_b=$(pdfinfo "$b" | awk '/^Pages:/ {print $2}')
  [ "$pages" = "$pages_b" ] || { echo "page counts differ: $pages vs $pages_b" >&2; exit 1; }
  size_a=$(stat -c %s "$a"); size_b=$(stat -c %s "$b")
  awk -v f="$s" -v p="$pages" -v n="$iters" -v wa="$wa" -v ca="$ca" -v wb="$wb" -v cb="$cb" -v sa="$size_a" -v sb="$size_b" 'BEGIN {
    pwa = p * n / wa; pca = p * n / ca; pwb = p * n / wb; pcb = p * n / cb
    printf "| %s | %d | %.0f (%.0f) | %.0f (%.0f) | %.2fx (%.2fx) | %d | %d | %.3f |\n", f, p, pwa, pca, pwb, pcb, pwa / pwb, pca / pcb, sa, sb, sa / sb }'
done
