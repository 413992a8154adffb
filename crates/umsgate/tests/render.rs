//! What users attach becomes fax pages: mails with each kind of attachment are rendered by
//! `umsgate render` (the same renderer as the outbound worker) and the result is read the way
//! a person would check it — `pdftotext` for the words, `pdfinfo` for the pages.
//!
//! Needs poppler-utils, and for the Office and HTML cases LibreOffice and Chromium (CI
//! installs them; with `UMSGATE_TEST_PEERS=1` a missing one fails the test).
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;

use support::{
    Work, config_text, describe, free_addr, multipart_mail, pdf_info, pdf_pages, pdf_text,
};

fn testdata() -> PathBuf {
    std::env::var_os("UMSGATE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata"))
}

/// A work folder with a valid configuration (`extra` appended to `[service]`).
fn work(name: &str) -> Work {
    let w = Work::new(name);
    w.write_config(&config_text(free_addr(), ""));
    w
}

/// Renders `eml`; returns the PDF's text (blanks squeezed) and page count.
fn render(w: &Work, eml: &[u8]) -> (String, u32) {
    let mail = w.dir.join("mail.eml");
    std::fs::write(&mail, eml).unwrap();
    let out = w.dir.join("fax.pdf");
    let o = w.umsgate(&[
        "render",
        mail.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "render failed: {}", describe(&o));
    (pdf_text(&out), pdf_pages(&out))
}

/// Renders `eml` expecting a refusal; returns what the command said.
fn refused(w: &Work, eml: &[u8]) -> String {
    let mail = w.dir.join("mail.eml");
    std::fs::write(&mail, eml).unwrap();
    let out = w.dir.join("refused.pdf");
    let o = w.umsgate(&[
        "render",
        mail.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected a refusal: {}",
        describe(&o)
    );
    assert!(!out.exists(), "no document is written for a refused mail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A mail from Jane to a fax number with a text body and attachments given as (content type,
/// name, bytes).
fn mail(body: &str, attachments: &[(&str, &str, Vec<u8>)]) -> Vec<u8> {
    multipart_mail(
        "From: Jane Doe <jane@example.com>\r\nTo: Bob <+4930123456@fax.example.com>\r\n\
         Subject: Documents\r\nMessage-ID: <render@example.com>\r\n",
        body,
        attachments,
    )
}

fn image(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 200, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[test]
fn the_body_comes_first_then_each_image_on_a_page_of_its_own() {
    let w = work("render-images");
    let eml = mail(
        "Fotos von der Baustelle — Grüße, Jane",
        &[
            ("image/png", "a.png", image(image::ImageFormat::Png)),
            ("image/jpeg", "b.jpg", image(image::ImageFormat::Jpeg)),
            ("image/gif", "c.gif", image(image::ImageFormat::Gif)),
            ("image/bmp", "d.bmp", image(image::ImageFormat::Bmp)),
            ("image/webp", "e.webp", image(image::ImageFormat::WebP)),
        ],
    );
    let (text, pages) = render(&w, &eml);
    assert_eq!(pages, 6, "one body page and one per image");
    assert!(
        text.starts_with("Fotos von der Baustelle — Grüße, Jane"),
        "{text}"
    );
}

#[test]
fn text_attachments_in_any_charset_and_enriched_text_are_read() {
    let w = work("render-charsets");
    // KOI8-R and ISO-8859-15 text, declared as such; text/enriched with its markup.
    let koi8: &[u8] = &[0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]; // "Привет"
    let latin9: &[u8] = b"Preis: 12 \xa4 netto"; // 0xA4 is the euro sign in ISO-8859-15
    let mut eml = Vec::new();
    eml.extend_from_slice(
        b"From: jane@example.com\r\nTo: +4930123456@fax.example.com\r\nSubject: t\r\n\
          MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
          Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    eml.extend_from_slice(koi8);
    eml.extend_from_slice(
        b"\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-15; name=\"preis.txt\"\r\n\
          Content-Disposition: attachment; filename=\"preis.txt\"\r\n\
          Content-Transfer-Encoding: 8bit\r\n\r\n",
    );
    eml.extend_from_slice(latin9);
    eml.extend_from_slice(
        b"\r\n--b\r\nContent-Type: text/x-unknown-charset; charset=x-no-such-charset; name=\"odd.txt\"\r\n\
          Content-Disposition: attachment; filename=\"odd.txt\"\r\n\r\nplain words survive\r\n\
          --b\r\nContent-Type: text/enriched; name=\"note.etx\"\r\n\
          Content-Disposition: attachment; filename=\"note.etx\"\r\n\r\n\
          <bold>Wichtig</bold>: bitte <<sofort> antworten\r\n--b--\r\n",
    );
    let (text, pages) = render(&w, &eml);
    assert_eq!(pages, 4, "{text}");
    for phrase in [
        "Привет",
        "Preis: 12 € netto",
        "plain words survive",
        "Wichtig: bitte <sofort> antworten",
    ] {
        assert!(text.contains(phrase), "{phrase:?} not in {text:?}");
    }
}

#[test]
fn a_forwarded_mail_shows_its_headers_body_and_own_attachments() {
    let w = work("render-forward");
    let pdf = std::fs::read(testdata().join("samples/fax_3p_g4.tif")).unwrap();
    let inner = mail(
        "The original offer text.",
        &[("image/tiff", "scan.tif", pdf)],
    );
    let mut eml = b"From: jane@example.com\r\nTo: +4930123456@fax.example.com\r\nSubject: Fwd: offer\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n\
        Content-Type: text/plain\r\n\r\nSee below.\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\n"
        .to_vec();
    eml.extend_from_slice(&inner);
    eml.extend_from_slice(b"\r\n--outer--\r\n");
    let (text, pages) = render(&w, &eml);
    assert_eq!(
        pages,
        1 + 1 + 3,
        "body, forwarded mail, its 3-page TIFF: {text}"
    );
    let order = [
        "See below.",
        "From: Jane Doe <jane@example.com>",
        "Subject: Documents",
        "The original offer text.",
    ]
    .map(|p| {
        text.find(p)
            .unwrap_or_else(|| panic!("{p:?} not in {text:?}"))
    });
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn what_cannot_become_pages_is_refused_by_name_and_type() {
    let w = work("render-refused");
    let said = refused(
        &w,
        &mail(
            "see attachment",
            &[("application/zip", "archive.zip", b"PK\x03\x04rest".to_vec())],
        ),
    );
    assert!(
        said.contains("archive.zip") && said.contains("application/zip"),
        "{said}"
    );
    // A broken PDF is named too, with what is wrong.
    let said = refused(
        &w,
        &mail(
            "x",
            &[("application/pdf", "kaputt.pdf", b"%PDF-1.4 junk".to_vec())],
        ),
    );
    assert!(said.contains("kaputt.pdf"), "{said}");
}

/// Every real-world fixture of the MIME tests that is not malformed nor a voice message
/// becomes a fax: nothing is refused for its charset, markup, images or forwarded parts.
#[test]
fn the_mime_corpus_renders() {
    let w = work("render-corpus");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mime");
    let mut rendered = 0;
    let mut refusals = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    for eml in &files {
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(eml.with_extension("json")).unwrap())
                .unwrap();
        let fax = &golden["jobs"]["fax"];
        if fax.get("payload").is_none() {
            continue;
        }
        let out = w.dir.join("corpus.pdf");
        let o = w.umsgate(&["render", eml.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        if o.status.success() {
            rendered += 1;
            assert!(pdf_pages(&out) >= 1);
        } else {
            refusals.push(format!(
                "{}: {}",
                eml.display(),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    assert!(rendered >= 10, "only {rendered} rendered");
    // The one expected refusal: a PDF attachment that is no PDF.
    assert!(
        refusals.len() <= 1 && refusals.iter().all(|r| r.contains("kaputt.pdf")),
        "{refusals:#?}"
    );
}

#[test]
fn office_and_opendocument_files_become_their_pages() {
    let w = work("render-office");
    let doc = |name: &str| std::fs::read(testdata().join("documents").join(name)).unwrap();
    let eml = mail(
        "Unterlagen anbei.",
        &[
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "Angebot Müller.docx",
                doc("letter.docx"),
            ),
            (
                "application/vnd.oasis.opendocument.text",
                "brief.odt",
                doc("letter.odt"),
            ),
            (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "zahlen.xlsx",
                doc("sheet.xlsx"),
            ),
            ("application/octet-stream", "notiz.rtf", doc("note.rtf")),
        ],
    );
    let (text, pages) = render(&w, &eml);
    assert_eq!(pages, 1 + 5 + 5 + 1 + 2, "{text}");
    for phrase in [
        "Unterlagen anbei.",
        "Umsgate letter phrase 1",
        "Umsgate letter phrase 5",
        "Umsgate sheet phrase",
        "Umsgate note phrase 2",
    ] {
        assert!(text.contains(phrase), "{phrase:?} not in {text:?}");
    }
}

#[test]
fn an_html_only_body_is_rendered_as_html_with_its_inline_image() {
    use base64::Engine as _;
    let w = work("render-html");
    let png = base64::engine::general_purpose::STANDARD.encode(image(image::ImageFormat::Png));
    let eml = format!(
        "From: jane@example.com\r\nTo: +4930123456@fax.example.com\r\nSubject: html\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n--r\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><h1>Quarterly figures</h1><table><tr><td>Revenue</td><td>1.200 €</td></tr></table>\
         <img src=\"cid:logo@x\"><img src=\"http://192.0.2.1/tracker.png\"></body></html>\r\n--r\r\n\
         Content-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n{png}\r\n--r--\r\n"
    );
    let (text, pages) = render(&w, eml.as_bytes());
    assert_eq!(pages, 1, "{text}");
    assert!(text.contains("Quarterly figures"), "{text}");
    assert!(
        text.contains("Revenue") && text.contains("1.200 €"),
        "{text}"
    );
    // Laid out by the browser, not by the text fallback.
    let info = pdf_info(&w.dir.join("fax.pdf"));
    assert!(
        info.contains("Skia/PDF"),
        "not rendered by Chromium: {info}"
    );
}

#[test]
fn an_engine_that_wants_tiff_gets_class_f_pages() {
    let w = work("render-tiff");
    render(&w, &mail("a page of PDF", &[]));
    let pdf_page = std::fs::read(w.dir.join("fax.pdf")).unwrap();
    let long: String = (1..=70).map(|i| format!("line {i}\r\n")).collect();
    let eml = mail(&long, &[("application/pdf", "one.pdf", pdf_page)]);
    let mail_path = w.dir.join("tiff.eml");
    std::fs::write(&mail_path, &eml).unwrap();
    for (format, g4) in [("tiff", true), ("tiff-g3", false)] {
        let out = w.dir.join(format!("fax-{format}.tif"));
        let o = w.umsgate(&[
            "render",
            mail_path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--format",
            format,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let tiff = std::fs::read(&out).unwrap();
        let pages = umsgate_fax::tiff_pages(&tiff, &umsgate_fax::Limits::default()).unwrap();
        assert_eq!(pages.len(), 3, "two text pages and the PDF's page");
        for p in &pages {
            assert_eq!(p.width, 1728, "{p:?}");
            let is_g4 = matches!(p.coding, umsgate_fax::Coding::Group4 { .. });
            let is_g3_1d = matches!(p.coding, umsgate_fax::Coding::Group3 { two_d: false, .. });
            assert!(if g4 { is_g4 } else { is_g3_1d }, "{format}: {p:?}");
        }
    }
}
