#!/usr/bin/env bash
# Regenerates the Office/OpenDocument fixtures of this folder with LibreOffice (see README.md).
# Needs soffice (libreoffice-writer/calc/impress-nogui). Run from anywhere; writes next to itself.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PROFILE="-env:UserInstallation=file://$WORK/profile"
conv() { # conv FORMAT FILE [ARGS]: soffice --convert-to FORMAT FILE, result in $WORK/out
  soffice "$PROFILE" --headless --norestore "${@:3}" --convert-to "$1" --outdir "$WORK/out" "$2" >/dev/null
}

# letter: five A4 pages, each with its phrase, written as HTML and imported by Writer
{
  echo '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Letter</title>'
  echo '<style>@page { size: 21cm 29.7cm; margin: 2cm } p { font-family: "DejaVu Serif"; font-size: 12pt }</style></head><body>'
  for n in 1 2 3 4 5; do
    brk=""; [ "$n" -gt 1 ] && brk=' style="page-break-before: always"'
    echo "<h1$brk>Letter, page $n</h1>"
    echo "<p>Umsgate letter phrase $n.</p>"
    echo "<p>Dear customer, this page belongs to a five-page letter that umsgate sends as a fax.</p>"
  done
  echo '</body></html>'
} > "$WORK/letter.html"
conv "odt:writer8" "$WORK/letter.html" "--infilter=HTML (StarWriter)"
cp "$WORK/out/letter.odt" "$HERE/letter.odt"
conv 'docx:MS Word 2007 XML' "$HERE/letter.odt"
cp "$WORK/out/letter.docx" "$HERE/letter.docx"
# old.doc: Word 97 from the same letter (five pages)
cp "$HERE/letter.odt" "$WORK/old.odt"
conv 'doc:MS Word 97' "$WORK/old.odt"
cp "$WORK/out/old.doc" "$HERE/old.doc"

# sheet: a small table on one page
{
  echo 'Item,Quantity,Note'
  echo 'Paper,500,Umsgate sheet phrase'
  echo 'Toner,2,for the fax'
  echo 'Cables,3,spare'
} > "$WORK/sheet.csv"
conv 'ods:calc8' "$WORK/sheet.csv"
cp "$WORK/out/sheet.ods" "$HERE/sheet.ods"
conv 'xlsx:Calc MS Excel 2007 XML' "$HERE/sheet.ods"
cp "$WORK/out/sheet.xlsx" "$HERE/sheet.xlsx"
cp "$HERE/sheet.ods" "$WORK/old.ods"
conv 'xls:MS Excel 97' "$WORK/old.ods"
cp "$WORK/out/old.xls" "$HERE/old.xls"

# slides: two slides, each with its phrase, written as flat ODF XML and imported by Impress
cat > "$WORK/slides.fodp" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
  xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
  office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.presentation">
 <office:body><office:presentation>
  <draw:page draw:name="one">
   <draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box>
    <text:p>Umsgate slide phrase 1</text:p></draw:text-box></draw:frame>
  </draw:page>
  <draw:page draw:name="two">
   <draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box>
    <text:p>Umsgate slide phrase 2</text:p></draw:text-box></draw:frame>
  </draw:page>
 </office:presentation></office:body>
</office:document>
XML
conv 'odp:impress8' "$WORK/slides.fodp"
cp "$WORK/out/slides.odp" "$HERE/slides.odp"
conv 'pptx:Impress MS PowerPoint 2007 XML' "$HERE/slides.odp"
cp "$WORK/out/slides.pptx" "$HERE/slides.pptx"
cp "$HERE/slides.odp" "$WORK/old.odp"
conv 'ppt:MS PowerPoint 97' "$WORK/old.odp"
cp "$WORK/out/old.ppt" "$HERE/old.ppt"
