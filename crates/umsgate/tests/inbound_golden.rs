//! Mails of received faxes, SMS and voice messages compared byte for byte with
//! `tests/fixtures/inbound/*.eml`: the texts (strings and templates, the engine's values
//! cleaned) and the composed mail.
//!
//! On a mismatch the test writes `<name>.eml.failed` next to the fixture and fails; compare
//! the two, and if the new output is right, run with `UMSGATE_BLESS=1` to rewrite the
//! fixtures. Every fixture is also parsed back with mail-parser, so a fixture cannot be
//! blessed into something mail clients would read differently from what was rendered.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_parser::{MessageParser, MimeHeaders};
use umsgate::inbound::compose::{InboundMail, Part, compose};
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

/// The mail for `case` in `lang`, and its subject and text.
fn mail(reports: &Reports, case: &Case, lang: Language) -> (Vec<u8>, String, String) {
    let f = &case.facts;
    let subject = texts::subject(reports.inbound(), lang, f.service, f.calling, f.pages).unwrap();
    let text = texts::body(reports.inbound(), lang, f).unwrap();
    let message_id = format!("20261126101502-0001.{}@umsgate.example.com", f.service);
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
    match &case.attachment {
        Some(part) => {
            assert_eq!(msg.attachment_count(), 1, "{name}");
            let a = msg.attachment(0).unwrap();
            assert_eq!(a.attachment_name(), Some(part.filename), "{name}");
            assert_eq!(a.contents(), part.data.as_slice(), "{name}");
        }
        None => assert_eq!(msg.attachment_count(), 0, "{name}"),
    }
}

#[test]
fn golden_inbound_mails() {
    let reports = Reports::load(None).unwrap();
    let dir = fixtures();
    let bless = std::env::var_os("UMSGATE_BLESS").is_some();
    let mut compared = 0;
    let mut failed = Vec::new();
    for case in cases() {
        for lang in [Language::De, Language::En] {
            let name = format!("{}-{lang}.eml", case.stem);
            let (bytes, subject, text) = mail(&reports, &case, lang);
            check_mail(&name, &bytes, &subject, &text, &case);

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
    assert_eq!(compared, 6);
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
            let (a, ..) = mail(&reports, &case, lang);
            let (b, ..) = mail(&reports, &case, lang);
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
