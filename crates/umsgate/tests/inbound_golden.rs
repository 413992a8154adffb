//! Mails of received faxes, SMS and voice messages compared byte for byte with
//! `tests/fixtures/inbound/*.eml`: the texts (strings and templates, the engine's values
//! cleaned) and the composed mail, as HTML with a text alternative (`<stem>-<lang>.eml`; a
//! fax shows previews of its first pages, the real ones of a 20-page sample fax) and as text
//! only (`<stem>-<lang>.text.eml`). The same mails come out of the embedded templates and
//! of an override folder holding them with CRLF line ends (as an editor on Windows saves
//! them).
//!
//! On a mismatch the test writes `<name>.eml.failed` next to the fixture and fails; compare
//! the two, and if the new output is right, run with `UMSGATE_BLESS=1` to rewrite the
//! fixtures. Every fixture is also parsed back with mail-parser, so a fixture cannot be
//! blessed into something mail clients would read differently from what was rendered: the
//! text, the attachments, and every image the HTML names by `cid:` being a PNG part of the
//! mail with that Content-ID.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_parser::{MessageParser, MimeHeaders, PartType};
use umsgate::inbound::compose::{HtmlBody, InboundMail, Part, compose};
use umsgate::inbound::preview::{self, FaxPreviews};
use umsgate::inbound::texts;
use umsgate::reports::{InboundFacts, Reports};
use umsgate_domain::{Language, Service};

/// 2026-11-26T10:15:02Z.
fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_688_102)
}

fn fixtures() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/fixtures/inbound")
}

/// One received message: what the engine signalled, and the mail's attachment.
struct Case {
    stem: &'static str,
    facts: InboundFacts<'static>,
    from_address: &'static str,
    attachment: Option<Part>,
}

fn cases() -> Vec<Case> {
    let base = InboundFacts {
        service: Service::Fax,
        calling: "+49 30 9876543 20",
        called: "+49 8142 4799123",
        received_at: "2026-11-26T10:15:00Z",
        pages: None,
        duration: None,
        sms_text: None,
    };
    vec![
        Case {
            stem: "fax",
            facts: InboundFacts {
                pages: Some(3),
                ..base
            },
            from_address: "+4930987654320@fax.example.com",
            attachment: Some(Part {
                content_type: "application/pdf",
                filename: "fax.pdf",
                data: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec(),
            }),
        },
        Case {
            stem: "sms",
            facts: InboundFacts {
                service: Service::Sms,
                calling: "+49 170 1234567",
                // An engine's line ends (CRLF, a bare CR of the GSM alphabet) and a control
                // character: the mail shows lines, and no control character.
                sms_text: Some("Grüße aus München 👋\r\nRückruf bitte\rDanke\u{7}!"),
                ..base
            },
            from_address: "+491701234567@sms.example.com",
            attachment: None,
        },
        Case {
            stem: "voice",
            facts: InboundFacts {
                service: Service::Voice,
                calling: "",
                duration: Some(Duration::from_secs(42)),
                ..base
            },
            from_address: "ums@example.com",
            attachment: Some(Part {
                content_type: "audio/wav",
                filename: "voice.wav",
                data: b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec(),
            }),
        },
    ]
}

fn samples() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../testdata/samples")
}

/// The previews of the 20-page sample fax: three pages shown, seventeen counted.
fn fax_previews() -> FaxPreviews {
    let tif = std::fs::read(samples().join("fax_20p_g4_perf.tif")).unwrap();
    FaxPreviews::make(&[tif], 3).unwrap()
}

/// The mail for `case` in `lang` (with an HTML part if `html`), and its subject and text.
fn mail(
    reports: &Reports,
    case: &Case,
    lang: Language,
    html: Option<&FaxPreviews>,
) -> (Vec<u8>, String, String) {
    let f = &case.facts;
    let subject = texts::subject(reports.inbound(), lang, f.service, f.calling, f.pages).unwrap();
    let text = texts::body(reports.inbound(), lang, f).unwrap();
    let message_id = format!("20261126101502-0001.{}@umsgate.example.com", f.service);
    let html = html.map(|p| {
        let previews = (f.service == Service::Fax).then_some(p);
        preview::html(reports.inbound(), lang, f, previews, &message_id).unwrap()
    });
    let mail = InboundMail {
        from_address: case.from_address,
        from_name: match lang {
            Language::De => "Faxdienst Müller & Söhne",
            _ => "Fax service",
        },
        reply_to: None,
        to: "jane.doe@example.com",
        to_name: "Jane Doe",
        subject: &subject,
        text: &text,
        html: html.as_ref().map(|(html, inline)| HtmlBody {
            html,
            inline: inline.clone(),
        }),
        message_id: &message_id,
        date: at(),
        attachments: case.attachment.iter().cloned().collect(),
    };
    (compose(&mail).unwrap(), subject, text)
}

/// Structural checks on a composed mail, independent of the fixture.
fn check_mail(name: &str, bytes: &[u8], subject: &str, text: &str, case: &Case) {
    let raw = std::str::from_utf8(bytes).unwrap();
    for (i, line) in raw.split("\r\n").enumerate() {
        assert!(!line.contains('\r'), "{name}:{i}: bare CR");
        assert!(line.len() <= 998, "{name}:{i}: line too long");
    }
    let headers = raw.split("\r\n\r\n").next().unwrap();
    assert!(
        headers.contains("\r\nAuto-Submitted: auto-generated\r\n"),
        "{name}"
    );
    let msg = MessageParser::default().parse(bytes).unwrap();
    assert_eq!(msg.subject(), Some(subject), "{name}");
    assert_eq!(msg.date().map(|d| d.to_timestamp()), Some(1_795_688_102));
    let body = msg.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(body, text, "{name}");
    // Attachments proper; the HTML's images are inline parts with a Content-ID.
    let attachments: Vec<_> = msg
        .attachments()
        .filter(|a| a.content_id().is_none())
        .collect();
    match &case.attachment {
        Some(part) => {
            assert_eq!(attachments.len(), 1, "{name}");
            let a = attachments[0];
            assert_eq!(a.attachment_name(), Some(part.filename), "{name}");
            assert_eq!(a.contents(), part.data.as_slice(), "{name}");
        }
        None => assert!(attachments.is_empty(), "{name}"),
    }
}

/// The HTML part of a mail and the `cid:` images it shows, each a PNG part of the mail
/// with that Content-ID; returns the HTML and the number of images.
fn check_html(name: &str, bytes: &[u8]) -> (String, usize) {
    let msg = MessageParser::default().parse(bytes).unwrap();
    assert_eq!(msg.html_body_count(), 1, "{name}");
    let html_part = msg.part(msg.html_body[0]).unwrap();
    let ct = html_part.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("html")), "{name}");
    let html = msg.body_html(0).unwrap().into_owned();
    let mut images = 0;
    for src in html.split("src=\"cid:").skip(1) {
        let cid = src.split('"').next().unwrap();
        let part = msg
            .parts
            .iter()
            .find(|p| p.content_id() == Some(cid))
            .unwrap_or_else(|| panic!("{name}: no part with Content-ID <{cid}>"));
        let ct = part.content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("image", Some("png")), "{name}");
        assert!(matches!(
            part.body,
            PartType::InlineBinary(_) | PartType::Binary(_)
        ));
        assert!(
            part.contents().starts_with(b"\x89PNG\r\n\x1a\n"),
            "{name}: {cid} is not a PNG"
        );
        let png = png::Decoder::new(std::io::Cursor::new(part.contents()))
            .read_info()
            .unwrap();
        assert_eq!(png.info().width, 864, "{name}: {cid}");
        images += 1;
    }
    (html, images)
}

/// A scratch folder, removed when dropped (also when the test fails).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The embedded inbound templates, in a fresh override folder with CRLF line ends.
fn crlf_overrides() -> Scratch {
    let src = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("templates/inbound");
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "umsgate-inbound-crlf-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let scratch = Scratch(dir.clone());
    std::fs::create_dir_all(dir.join("inbound")).unwrap();
    let mut n = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains('\r'), "{}", path.display());
        std::fs::write(
            dir.join("inbound").join(path.file_name().unwrap()),
            text.replace('\n', "\r\n"),
        )
        .unwrap();
        n += 1;
    }
    assert_eq!(n, 7, "three text and four HTML templates");
    scratch
}

#[test]
fn golden_inbound_mails() {
    let embedded = Reports::load(None).unwrap();
    let overrides = crlf_overrides();
    let crlf = Reports::load(Some(&overrides.0)).unwrap();
    let previews = fax_previews();
    assert_eq!((previews.pages.len(), previews.more_pages), (3, 17));
    let dir = fixtures();
    let bless = std::env::var_os("UMSGATE_BLESS").is_some();
    let mut compared = 0;
    let mut failed = Vec::new();
    for case in cases() {
        for lang in [Language::De, Language::En] {
            for html in [true, false] {
                let name = if html {
                    format!("{}-{lang}.eml", case.stem)
                } else {
                    format!("{}-{lang}.text.eml", case.stem)
                };
                let with = html.then_some(&previews);
                let (bytes, subject, text) = mail(&embedded, &case, lang, with);
                check_mail(&name, &bytes, &subject, &text, &case);
                if html {
                    let (html, images) = check_html(&name, &bytes);
                    let want = if case.stem == "fax" { 3 } else { 0 };
                    assert_eq!(images, want, "{name}:\n{html}");
                    assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{name}");
                } else {
                    let msg = MessageParser::default().parse(&bytes[..]).unwrap();
                    let html_parts = msg.parts.iter().filter(|p| {
                        p.content_type()
                            .is_some_and(|c| c.ctype() == "text" && c.subtype() == Some("html"))
                    });
                    assert_eq!(html_parts.count(), 0, "{name}");
                }
                let (from_crlf, ..) = mail(&crlf, &case, lang, with);
                assert!(
                    from_crlf == bytes,
                    "{name}: templates with CRLF line ends give another mail:\n{}",
                    String::from_utf8_lossy(&from_crlf)
                );

                let path = dir.join(&name);
                let failed_path = dir.join(format!("{name}.failed"));
                if bless {
                    std::fs::create_dir_all(&dir).unwrap();
                    std::fs::write(&path, &bytes).unwrap();
                }
                let expected = std::fs::read(&path).unwrap_or_default();
                if expected == bytes {
                    let _ = std::fs::remove_file(&failed_path);
                } else {
                    std::fs::write(&failed_path, &bytes).unwrap();
                    failed.push(name);
                }
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 12);
    assert!(
        failed.is_empty(),
        "output differs from the fixture (see the .failed files in {}): {failed:?}",
        dir.display()
    );
}

/// The same message composed twice is the same mail: no random MIME boundary, so a fixture
/// can hold a fax or voice mail with its attachment.
#[test]
fn composing_is_deterministic() {
    let reports = Reports::load(None).unwrap();
    for case in cases() {
        for lang in [Language::Fr, Language::Nl] {
            let previews = fax_previews();
            let (a, ..) = mail(&reports, &case, lang, Some(&previews));
            let (b, ..) = mail(&reports, &case, lang, Some(&previews));
            assert!(
                a == b,
                "{} in {lang}:\n{}\n---\n{}",
                case.stem,
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            );
        }
    }
}

/// The 3-page sample fax with the coded data of its first page overwritten: its structure
/// (and so the PDF, which passes the data through) is intact, its first page does not
/// decode.
fn undecodable_fax() -> Vec<u8> {
    let mut tif = std::fs::read(samples().join("fax_3p_g4.tif")).unwrap();
    // Page 1's only strip is bytes 8..37814 (tiffinfo -s).
    for b in &mut tif[200..20_000] {
        *b = 0;
    }
    tif
}

/// A fax whose pages cannot be decoded still gets its mail: the PDF attached, the HTML
/// saying that no preview can be shown, no image.
#[test]
fn a_fax_whose_pages_cannot_be_decoded_is_mailed_without_previews() {
    let tif = undecodable_fax();
    let limits = umsgate_fax::Limits::default();
    let pdf = umsgate_fax::tiff_to_pdf(&[&tif], &limits).unwrap();
    assert_eq!(umsgate_fax::page_count(&pdf).unwrap(), 3);
    assert!(FaxPreviews::make(std::slice::from_ref(&tif), 3).is_err());

    let reports = Reports::load(None).unwrap();
    let mut case = cases().remove(0);
    assert_eq!(case.stem, "fax");
    case.attachment = Some(Part {
        content_type: "application/pdf",
        filename: "fax.pdf",
        data: pdf,
    });
    let f = &case.facts;
    let message_id = "x.fax@umsgate.example.com";
    let (html, inline) =
        preview::html(reports.inbound(), Language::En, f, None, message_id).unwrap();
    assert!(inline.is_empty());
    let text = texts::body(reports.inbound(), Language::En, f).unwrap();
    let mail = InboundMail {
        from_address: case.from_address,
        from_name: "",
        reply_to: None,
        to: "jane.doe@example.com",
        to_name: "",
        subject: "Fax",
        text: &text,
        html: Some(HtmlBody {
            html: &html,
            inline,
        }),
        message_id,
        date: at(),
        attachments: case.attachment.iter().cloned().collect(),
    };
    let bytes = compose(&mail).unwrap();
    check_mail("undecodable", &bytes, "Fax", &text, &case);
    let (html, images) = check_html("undecodable", &bytes);
    assert_eq!(images, 0);
    assert!(
        html.contains("No preview of this fax can be shown. The fax is attached."),
        "{html}"
    );
}
