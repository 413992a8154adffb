//! The resident LibreOffice converter against the real LibreOffice: every fixture of
//! `testdata/documents/` becomes a PDF whose pages (`pdfinfo`) and phrases (`pdftotext`) are
//! checked; the time limit, the page and size limits, a converter killed in the middle of a
//! conversion, and the converter's network isolation.
//!
//! Needs LibreOffice (writer, calc, impress), `python3-uno` and `poppler-utils`, and
//! `UMSGATE_TEST_PEERS=1` (what `.ci/run` exports); fails with a clear message without them.
//! Nothing asserts how long anything takes; the deadlines only bound the hostile cases.
#![allow(clippy::unwrap_used)]

mod converters;

use std::path::Path;
use std::time::Duration;

use converters::{descendants, pdf_pages, pdf_text, peers, testdata};
use umsgate_render::ConvertError;
use umsgate_render::office::{OfficeConfig, OfficeConverter, OfficeFormat};

fn converter(work: &Path) -> OfficeConverter {
    peers(&["soffice", "/usr/bin/python3", "pdftotext", "pdfinfo"]);
    OfficeConverter::new(OfficeConfig::new("soffice", work))
}

/// An RTF document of `pages` long pages: LibreOffice needs seconds for a few thousand.
fn heavy_rtf(pages: usize) -> Vec<u8> {
    let line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(30);
    let mut rtf = String::from("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 DejaVu Sans;}}\n");
    for n in 1..=pages {
        rtf.push_str(&format!("Umsgate heavy page {n}. {line}\\par\\page\n"));
    }
    rtf.push('}');
    rtf.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_becomes_its_pages_in_one_warm_converter() {
    let work = tempfile::tempdir().unwrap();
    let conv = converter(work.path());
    let cases: [(&str, OfficeFormat, u32, &[&str]); 10] = [
        (
            "letter.docx",
            OfficeFormat::Docx,
            5,
            &["Umsgate letter phrase"],
        ),
        (
            "letter.odt",
            OfficeFormat::Odt,
            5,
            &["Umsgate letter phrase"],
        ),
        ("old.doc", OfficeFormat::Doc, 5, &["Umsgate letter phrase"]),
        (
            "sheet.xlsx",
            OfficeFormat::Xlsx,
            1,
            &["Umsgate sheet phrase"],
        ),
        ("sheet.ods", OfficeFormat::Ods, 1, &["Umsgate sheet phrase"]),
        ("old.xls", OfficeFormat::Xls, 1, &["Umsgate sheet phrase"]),
        (
            "slides.pptx",
            OfficeFormat::Pptx,
            2,
            &["Umsgate slide phrase"],
        ),
        (
            "slides.odp",
            OfficeFormat::Odp,
            2,
            &["Umsgate slide phrase"],
        ),
        ("old.ppt", OfficeFormat::Ppt, 2, &["Umsgate slide phrase"]),
        ("note.rtf", OfficeFormat::Rtf, 2, &["Umsgate note phrase"]),
    ];
    for (file, format, pages, phrases) in cases {
        let data = std::fs::read(testdata().join("documents").join(file)).unwrap();
        assert_eq!(
            OfficeFormat::detect(&data, "application/octet-stream", Some(file)),
            Some(format),
            "{file}"
        );
        let pdf = conv
            .to_pdf(&data, format)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(pdf_pages(&pdf), pages, "{file}: pages by pdfinfo");
        for page in 1..=pages {
            let text = pdf_text(&pdf, Some(page));
            for phrase in phrases {
                // single-page documents carry the phrase without a number
                let want = if pages == 1 {
                    (*phrase).to_owned()
                } else {
                    format!("{phrase} {page}")
                };
                assert!(
                    text.contains(&want),
                    "{file} page {page}: {want:?} not in {text:?}"
                );
            }
        }
    }
    assert_eq!(conv.starts(), 1, "one soffice converted every document");
    conv.check().await.unwrap();
    // nothing of the conversions stays in the work folder
    let left: Vec<_> = std::fs::read_dir(work.path().join("jobs"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversion_past_the_time_limit_is_killed_and_the_next_one_works() {
    let work = tempfile::tempdir().unwrap();
    peers(&["soffice", "/usr/bin/python3", "pdftotext", "pdfinfo"]);
    let mut cfg = OfficeConfig::new("soffice", work.path());
    cfg.timeout = Duration::from_secs(5);
    cfg.max_pages = 10_000;
    let conv = OfficeConverter::new(cfg);
    let letter = std::fs::read(testdata().join("documents/letter.docx")).unwrap();
    conv.to_pdf(&letter, OfficeFormat::Docx).await.unwrap();
    let first = conv.process_id().unwrap();
    let group = descendants(first);
    assert!(!group.is_empty(), "soffice runs under the helper");

    // 2000 long pages take LibreOffice far longer than 5 s
    let err = conv
        .to_pdf(&heavy_rtf(2000), OfficeFormat::Rtf)
        .await
        .unwrap_err();
    assert_eq!(err, ConvertError::Timeout);
    assert_eq!(conv.process_id(), None);
    for pid in std::iter::once(first).chain(group) {
        assert!(
            converters::gone(pid),
            "process {pid} of the killed converter still runs"
        );
    }

    let pdf = conv.to_pdf(&letter, OfficeFormat::Docx).await.unwrap();
    assert_eq!(pdf_pages(&pdf), 5);
    assert_eq!(conv.starts(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_converter_killed_in_a_conversion_answers_unavailable_then_restarts() {
    let work = tempfile::tempdir().unwrap();
    let conv = std::sync::Arc::new(converter(work.path()));
    let note = std::fs::read(testdata().join("documents/note.rtf")).unwrap();
    conv.to_pdf(&note, OfficeFormat::Rtf).await.unwrap();
    let helper = conv.process_id().unwrap();
    let office =
        converters::find_program(helper, "soffice.bin").expect("soffice.bin under the helper");

    let busy = {
        let conv = conv.clone();
        tokio::spawn(async move { conv.to_pdf(&heavy_rtf(2000), OfficeFormat::Rtf).await })
    };
    // let the request reach soffice; whether it already works on it or not, it must not
    // come back as a refusal of the document
    tokio::time::sleep(Duration::from_millis(700)).await;
    converters::kill9(office);
    let err = busy.await.unwrap().unwrap_err();
    assert!(matches!(err, ConvertError::Unavailable(_)), "{err:?}");
    assert_eq!(conv.process_id(), None);

    let pdf = conv.to_pdf(&note, OfficeFormat::Rtf).await.unwrap();
    assert!(pdf_text(&pdf, None).contains("Umsgate note phrase 2"));
    assert_eq!(conv.starts(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_on_pages_and_size() {
    let work = tempfile::tempdir().unwrap();
    peers(&["soffice", "/usr/bin/python3"]);
    let mut cfg = OfficeConfig::new("soffice", work.path());
    cfg.max_pages = 4;
    cfg.max_input_bytes = 20_000;
    let conv = OfficeConverter::new(cfg);
    let big = vec![b' '; 20_001];
    let err = conv.to_pdf(&big, OfficeFormat::Rtf).await.unwrap_err();
    assert!(matches!(err, ConvertError::TooLarge(_)), "{err:?}");
    assert_eq!(conv.starts(), 0, "refused before starting anything");

    let letter = std::fs::read(testdata().join("documents/letter.odt")).unwrap();
    let err = conv.to_pdf(&letter, OfficeFormat::Odt).await.unwrap_err();
    assert!(
        matches!(&err, ConvertError::TooLarge(t) if t.contains("4 pages")),
        "{err:?}"
    );
    let note = std::fs::read(testdata().join("documents/note.rtf")).unwrap();
    assert_eq!(
        pdf_pages(&conv.to_pdf(&note, OfficeFormat::Rtf).await.unwrap()),
        2
    );
    assert_eq!(
        conv.starts(),
        1,
        "a refused result does not cost the converter"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_document_is_refused_and_the_converter_stays() {
    let work = tempfile::tempdir().unwrap();
    let conv = converter(work.path());
    let letter = std::fs::read(testdata().join("documents/letter.docx")).unwrap();
    let broken = &letter[..letter.len() / 3];
    let err = conv.to_pdf(broken, OfficeFormat::Docx).await.unwrap_err();
    assert!(matches!(err, ConvertError::Failed(_)), "{err:?}");
    let pdf = conv.to_pdf(&letter, OfficeFormat::Docx).await.unwrap();
    assert_eq!(pdf_pages(&pdf), 5);
    assert_eq!(conv.starts(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_soffice_is_unavailable() {
    let work = tempfile::tempdir().unwrap();
    peers(&["/usr/bin/python3"]);
    let conv = OfficeConverter::new(OfficeConfig::new("/nonexistent/soffice", work.path()));
    let err = conv.check().await.unwrap_err();
    assert!(
        matches!(&err, ConvertError::Unavailable(t) if t.contains("/nonexistent/soffice")),
        "{err:?}"
    );
    let mut cfg = OfficeConfig::new("soffice", work.path());
    cfg.python = "/nonexistent/python3".into();
    let err = OfficeConverter::new(cfg).check().await.unwrap_err();
    assert!(matches!(err, ConvertError::Unavailable(_)), "{err:?}");
}

/// A document linking an image on a port of this host: LibreOffice must not fetch it, and
/// (where network namespaces work, as root) must run in a network namespace of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libreoffice_fetches_nothing_from_the_network() {
    let work = tempfile::tempdir().unwrap();
    let conv = converter(work.path());
    let (port, hits) = converters::listen_and_count().await;
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.3">
<office:body><office:text>
<text:p>Umsgate linked image phrase
<draw:frame svg:width="5cm" svg:height="5cm" text:anchor-type="as-char"><draw:image
 xlink:href="http://127.0.0.1:{port}/image.png" xlink:type="simple" xlink:show="embed"
 xlink:actuate="onLoad"/></draw:frame></text:p>
</office:text></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;
    let odt = converters::stored_zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", content.as_bytes()),
        ("META-INF/manifest.xml", manifest.as_bytes()),
    ]);
    assert_eq!(
        OfficeFormat::detect(&odt, "", None),
        Some(OfficeFormat::Odt)
    );
    let pdf = conv.to_pdf(&odt, OfficeFormat::Odt).await.unwrap();
    assert!(pdf_text(&pdf, None).contains("Umsgate linked image phrase"));
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "LibreOffice reached the host"
    );
    if converters::is_root() {
        let helper = conv.process_id().unwrap();
        let office = converters::find_program(helper, "soffice.bin").unwrap();
        assert_ne!(
            converters::net_ns("self"),
            converters::net_ns(&office.to_string())
        );
    }
}
