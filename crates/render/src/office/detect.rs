//! Which Office / OpenDocument format an attachment is: its bytes first, then its declared
//! type, then the suffix of its display name.
//!
//! Contract: [`detect`] reads only the bytes it is given, never panics, and is bounded (the
//! ZIP end record is searched in the last 64 KiB + 22 bytes, at most 65 535 central directory
//! entries are read, an OLE2 file is scanned once in 128-byte steps). `None` means "not an
//! Office document": the caller refuses or renders the part otherwise.
//!
//! Implementation summary:
//! - `{\rtf` → RTF.
//! - ZIP (`PK\x03\x04`): an OpenDocument file stores an uncompressed `mimetype` entry first,
//!   read from the first local header; an OOXML file has `[Content_Types].xml` and `word/`,
//!   `xl/` or `ppt/` entries in its central directory. A ZIP whose central directory cannot
//!   be read (truncated) takes the declared type or suffix if that names a ZIP format, so
//!   LibreOffice may still repair it; any other ZIP is not an Office document.
//! - OLE2 (`D0 CF 11 E0 A1 B1 1A E1`) holds doc, xls and ppt (and Outlook's msg, which is not
//!   ours): the declared type, then the suffix, decide when they name an OLE2 format the file
//!   has a stream of (or the streams cannot be told); otherwise the one main stream found
//!   (`WordDocument`, `Workbook`/`Book`, `PowerPoint Document`) decides.
//! - No known magic: not an Office document, whatever it is called (a `.doc` that is really
//!   RTF is RTF; a `.docx` of plain text is not a document).
//!
//! The central directory is scanned by hand rather than with the `zip` crate: only entry
//! names are needed (nothing is decompressed), the scan is ~40 bounds-checked lines, and the
//! `zip` crate is not otherwise in the dependency tree.

use super::OfficeFormat;

const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
const ZIP_CENTRAL: &[u8] = b"PK\x01\x02";
const ZIP_END: &[u8] = b"PK\x05\x06";
const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// See the module documentation.
pub(super) fn detect(data: &[u8], content_type: &str, name: Option<&str>) -> Option<OfficeFormat> {
    let hint = declared(content_type).or_else(|| name.and_then(by_suffix));
    if data.starts_with(b"{\\rtf") {
        Some(OfficeFormat::Rtf)
    } else if data.starts_with(ZIP_LOCAL) {
        zip(data, hint)
    } else if data.starts_with(OLE2) {
        ole2(data, hint)
    } else {
        None
    }
}

fn zip(data: &[u8], hint: Option<OfficeFormat>) -> Option<OfficeFormat> {
    if let Some(mime) = odf_mimetype(data) {
        return match mime {
            "application/vnd.oasis.opendocument.text"
            | "application/vnd.oasis.opendocument.text-template"
            | "application/vnd.oasis.opendocument.text-master"
            | "application/vnd.oasis.opendocument.text-web" => Some(OfficeFormat::Odt),
            "application/vnd.oasis.opendocument.spreadsheet"
            | "application/vnd.oasis.opendocument.spreadsheet-template" => Some(OfficeFormat::Ods),
            "application/vnd.oasis.opendocument.presentation"
            | "application/vnd.oasis.opendocument.presentation-template" => Some(OfficeFormat::Odp),
            _ => None,
        };
    }
    let Some(names) = central_directory(data) else {
        return hint.filter(|f| f.is_zip());
    };
    let mut content_types = false;
    let (mut word, mut xl, mut ppt) = (false, false, false);
    for n in names {
        content_types |= n == b"[Content_Types].xml";
        word |= n.starts_with(b"word/");
        xl |= n.starts_with(b"xl/");
        ppt |= n.starts_with(b"ppt/");
    }
    match (content_types, word, xl, ppt) {
        (true, true, _, _) => Some(OfficeFormat::Docx),
        (true, _, true, _) => Some(OfficeFormat::Xlsx),
        (true, _, _, true) => Some(OfficeFormat::Pptx),
        _ => None,
    }
}

/// The `mimetype` of an OpenDocument package: the first entry, stored uncompressed.
fn odf_mimetype(data: &[u8]) -> Option<&str> {
    let method = le16(data, 8)?;
    let size = le32(data, 18)? as usize;
    let name_len = le16(data, 26)? as usize;
    let extra_len = le16(data, 28)? as usize;
    let name = data.get(30..30 + name_len)?;
    if name != b"mimetype" || method != 0 || size > 128 {
        return None;
    }
    let start = 30 + name_len + extra_len;
    std::str::from_utf8(data.get(start..start + size)?).ok()
}

/// The entry names of a ZIP's central directory, or `None` if it cannot be found or read.
fn central_directory(data: &[u8]) -> Option<Vec<&[u8]>> {
    // the end record is 22 bytes plus a comment of at most 65 535 bytes
    let search_from = data.len().saturating_sub(22 + 65_535);
    let end = (search_from..=data.len().checked_sub(22)?)
        .rev()
        .find(|&i| data.get(i..i + 4) == Some(ZIP_END))?;
    let entries = le16(data, end + 10)? as usize;
    let mut at = le32(data, end + 16)? as usize;
    let mut names = Vec::with_capacity(entries.min(1024));
    for _ in 0..entries {
        if data.get(at..at + 4)? != ZIP_CENTRAL {
            return None;
        }
        let name_len = le16(data, at + 28)? as usize;
        let extra_len = le16(data, at + 30)? as usize;
        let comment_len = le16(data, at + 32)? as usize;
        names.push(data.get(at + 46..at + 46 + name_len)?);
        at += 46 + name_len + extra_len + comment_len;
    }
    Some(names)
}

fn ole2(data: &[u8], hint: Option<OfficeFormat>) -> Option<OfficeFormat> {
    let streams = ole2_streams(data);
    match hint.filter(|f| f.is_ole2()) {
        Some(h) if streams.is_empty() || streams.contains(&h) => Some(h),
        _ if streams.len() == 1 => streams.first().copied(),
        _ => None,
    }
}

/// The formats whose main stream an OLE2 file holds. Directory entries (128 bytes: a
/// UTF-16LE name, its byte length at 64, the entry type at 66) always start at a multiple of
/// 128 from the file start, since the header and every sector are multiples of 512 bytes.
fn ole2_streams(data: &[u8]) -> Vec<OfficeFormat> {
    const STREAMS: [(&str, OfficeFormat); 4] = [
        ("WordDocument", OfficeFormat::Doc),
        ("Workbook", OfficeFormat::Xls),
        ("Book", OfficeFormat::Xls),
        ("PowerPoint Document", OfficeFormat::Ppt),
    ];
    let mut found = Vec::new();
    for entry in data.chunks_exact(128).skip(4) {
        let (Some(len), Some(&kind)) = (le16(entry, 64), entry.get(66)) else {
            continue;
        };
        if kind != 2 {
            continue;
        }
        for (name, format) in STREAMS {
            if usize::from(len) == (name.len() + 1) * 2
                && entry
                    .chunks_exact(2)
                    .zip(name.encode_utf16())
                    .all(|(b, c)| u16::from_le_bytes([b[0], b[1]]) == c)
                && !found.contains(&format)
            {
                found.push(format);
            }
        }
    }
    found
}

fn declared(content_type: &str) -> Option<OfficeFormat> {
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    Some(match essence.as_str() {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.template"
        | "application/vnd.ms-word.document.macroenabled.12" => OfficeFormat::Docx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.template"
        | "application/vnd.ms-excel.sheet.macroenabled.12" => OfficeFormat::Xlsx,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/vnd.openxmlformats-officedocument.presentationml.slideshow"
        | "application/vnd.ms-powerpoint.presentation.macroenabled.12" => OfficeFormat::Pptx,
        "application/msword" => OfficeFormat::Doc,
        "application/vnd.ms-excel" | "application/msexcel" => OfficeFormat::Xls,
        "application/vnd.ms-powerpoint" | "application/mspowerpoint" => OfficeFormat::Ppt,
        "application/rtf" | "text/rtf" => OfficeFormat::Rtf,
        "application/vnd.oasis.opendocument.text" => OfficeFormat::Odt,
        "application/vnd.oasis.opendocument.spreadsheet" => OfficeFormat::Ods,
        "application/vnd.oasis.opendocument.presentation" => OfficeFormat::Odp,
        _ => return None,
    })
}

fn by_suffix(name: &str) -> Option<OfficeFormat> {
    let (_, suffix) = name.rsplit_once('.')?;
    Some(match suffix.to_ascii_lowercase().as_str() {
        "docx" | "docm" | "dotx" => OfficeFormat::Docx,
        "xlsx" | "xlsm" | "xltx" => OfficeFormat::Xlsx,
        "pptx" | "pptm" | "ppsx" | "potx" => OfficeFormat::Pptx,
        "doc" | "dot" => OfficeFormat::Doc,
        "xls" | "xlt" => OfficeFormat::Xls,
        "ppt" | "pps" | "pot" => OfficeFormat::Ppt,
        "rtf" => OfficeFormat::Rtf,
        "odt" | "ott" => OfficeFormat::Odt,
        "ods" | "ots" => OfficeFormat::Ods,
        "odp" | "otp" => OfficeFormat::Odp,
        _ => return None,
    })
}

fn le16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn le32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;

    use proptest::prelude::*;

    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/documents")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// A stored (uncompressed) ZIP with these entries, as `zip -0` writes it.
    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, body) in entries {
            let offset = out.len() as u32;
            let mut local = Vec::new();
            local.extend_from_slice(ZIP_LOCAL);
            local.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            local.extend_from_slice(&(body.len() as u32).to_le_bytes());
            local.extend_from_slice(&(body.len() as u32).to_le_bytes());
            local.extend_from_slice(&(name.len() as u16).to_le_bytes());
            local.extend_from_slice(&[0, 0]);
            local.extend_from_slice(name.as_bytes());
            local.extend_from_slice(body);
            out.extend_from_slice(&local);
            central.extend_from_slice(ZIP_CENTRAL);
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&(body.len() as u32).to_le_bytes());
            central.extend_from_slice(&(body.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(ZIP_END);
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn fixtures_by_their_bytes_whatever_they_are_called() {
        for (file, format) in [
            ("letter.docx", OfficeFormat::Docx),
            ("letter.odt", OfficeFormat::Odt),
            ("sheet.xlsx", OfficeFormat::Xlsx),
            ("sheet.ods", OfficeFormat::Ods),
            ("slides.pptx", OfficeFormat::Pptx),
            ("slides.odp", OfficeFormat::Odp),
            ("old.doc", OfficeFormat::Doc),
            ("old.xls", OfficeFormat::Xls),
            ("old.ppt", OfficeFormat::Ppt),
            ("note.rtf", OfficeFormat::Rtf),
        ] {
            let data = fixture(file);
            assert_eq!(
                detect(&data, "application/octet-stream", None),
                Some(format),
                "{file}"
            );
            // a wrong name or type does not override what the bytes say
            assert_eq!(
                detect(&data, "application/msword", Some("x.pdf")),
                Some(format),
                "{file}"
            );
        }
    }

    #[test]
    fn ole2_follows_the_declared_type_when_the_file_has_that_stream() {
        let doc = fixture("old.doc");
        let xls = fixture("old.xls");
        assert_eq!(ole2_streams(&doc), vec![OfficeFormat::Doc]);
        assert_eq!(ole2_streams(&xls), vec![OfficeFormat::Xls]);
        // the type names another OLE2 format than the streams: the streams win
        assert_eq!(
            detect(&xls, "application/msword", None),
            Some(OfficeFormat::Xls)
        );
        // streams not recognisable (header only): the declared type, then the suffix decide
        let header_only = &doc[..512];
        assert_eq!(
            detect(header_only, "application/vnd.ms-excel", Some("a.doc")),
            Some(OfficeFormat::Xls)
        );
        assert_eq!(
            detect(header_only, "application/octet-stream", Some("A.PPT")),
            Some(OfficeFormat::Ppt)
        );
        assert_eq!(
            detect(header_only, "application/octet-stream", Some("mail.msg")),
            None
        );
        assert_eq!(detect(header_only, "application/pdf", None), None);
    }

    #[test]
    fn zip_kinds() {
        let odt = zip_of(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<x/>"),
        ]);
        assert_eq!(detect(&odt, "", None), Some(OfficeFormat::Odt));
        let odg = zip_of(&[("mimetype", b"application/vnd.oasis.opendocument.graphics")]);
        assert_eq!(detect(&odg, "", Some("a.odt")), None);
        let xlsx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<w/>"),
        ]);
        assert_eq!(
            detect(&xlsx, "", Some("report.docx")),
            Some(OfficeFormat::Xlsx)
        );
        let pptx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("ppt/presentation.xml", b"<p/>"),
        ]);
        assert_eq!(detect(&pptx, "", None), Some(OfficeFormat::Pptx));
        // word/ without [Content_Types].xml is just a ZIP
        let plain = zip_of(&[("word/document.xml", b"<w/>")]);
        assert_eq!(detect(&plain, "", Some("a.docx")), None);
        // a truncated package (no central directory): the declared type or suffix, if a ZIP format
        let docx = fixture("letter.docx");
        let cut = &docx[..docx.len() / 2];
        assert_eq!(detect(cut, "", Some("a.docx")), Some(OfficeFormat::Docx));
        assert_eq!(detect(cut, "application/msword", Some("a.doc")), None);
        assert_eq!(detect(cut, "", None), None);
    }

    #[test]
    fn no_magic_is_no_office_document() {
        assert_eq!(detect(b"hello", "application/msword", Some("a.doc")), None);
        assert_eq!(detect(b"%PDF-1.7", "", Some("a.docx")), None);
        assert_eq!(detect(b"", "application/rtf", Some("a.rtf")), None);
        // Word's "save as RTF" keeps the .doc name: the bytes say RTF
        assert_eq!(
            detect(b"{\\rtf1 x}", "application/msword", Some("a.doc")),
            Some(OfficeFormat::Rtf)
        );
    }

    #[test]
    fn declared_types_and_suffixes() {
        assert_eq!(
            declared("Application/MSWord; name=\"a.doc\""),
            Some(OfficeFormat::Doc)
        );
        assert_eq!(declared("text/rtf"), Some(OfficeFormat::Rtf));
        assert_eq!(declared("application/octet-stream"), None);
        assert_eq!(by_suffix("Q3 results.XLSX"), Some(OfficeFormat::Xlsx));
        assert_eq!(by_suffix("noext"), None);
        assert_eq!(by_suffix("a.docx.exe"), None);
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096),
                                     ct in ".{0,40}", name in proptest::option::of(".{0,20}")) {
            let _ = detect(&data, &ct, name.as_deref());
        }

        #[test]
        fn never_panics_on_damaged_packages(cut in 0usize..6000, flip in 0usize..6000, byte in any::<u8>()) {
            for file in ["letter.docx", "sheet.ods", "old.doc"] {
                let mut data = fixture(file);
                let i = flip % data.len();
                data[i] = byte;
                data.truncate(cut.min(data.len()));
                let found = detect(&data, "", Some(file));
                // whatever damage, the answer stays in the file's own family
                if let Some(f) = found {
                    prop_assert_eq!(f.is_ole2(), file.ends_with(".doc"), "{}: {:?}", file, f);
                }
            }
        }
    }
}
