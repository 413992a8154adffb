//! Report mails compared byte for byte with `tests/fixtures/reports/*.eml`.
//!
//! On a mismatch the test writes `<name>.eml.failed` next to the fixture and fails; compare
//! the two, and if the new output is right, run with `UMSGATE_BLESS=1` to rewrite the
//! fixtures. Every fixture is also parsed back with mail-parser, so a fixture cannot be
//! blessed into something mail clients would read differently from what was rendered.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail_parser::{MessageParser, MimeHeaders};
use umsgate::outbound::refusal::Refusal;
use umsgate::reports::{MailParts, Rendered, ReportInput, ReportKind, Reports, compose};
use umsgate_domain::{Language, NumberClass, Rights, Service};

/// 2026-11-26T10:15:00Z.
fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_688_100)
}

fn fixtures() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/fixtures/reports")
}

fn base(kind: ReportKind) -> ReportInput {
    ReportInput {
        kind,
        service: Service::Fax,
        number: "+4930123456".to_owned(),
        recipient_address: "+49 (30) 123456@fax.example.com".to_owned(),
        subject: Some("Angebot Nr. 4711 – Übersicht".to_owned()),
        original_message_id: Some("<CAF=4711.abc@mail.example.com>".to_owned()),
        job_id: "20261126-101500-0007".to_owned(),
        pages: None,
        duration: None,
        attempts: None,
        remote_id: None,
        at: at(),
    }
}

/// The matrix of the fixtures: (file stem, input).
fn cases() -> Vec<(&'static str, ReportInput)> {
    vec![
        (
            "sent",
            ReportInput {
                pages: Some(3),
                duration: Some(Duration::from_millis(95_400)),
                attempts: Some(1),
                remote_id: Some("+49 30 123456".to_owned()),
                ..base(ReportKind::Sent)
            },
        ),
        (
            "failed",
            ReportInput {
                attempts: Some(3),
                duration: Some(Duration::from_secs(40)),
                ..base(ReportKind::Failed {
                    reason: "busy".to_owned(),
                })
            },
        ),
        (
            "refused-no-right",
            ReportInput {
                number: "+15551234567".to_owned(),
                recipient_address: "+1 555 1234567@fax.example.com".to_owned(),
                ..base(ReportKind::Refused(Refusal::NoRight {
                    service: Service::Fax,
                    class: NumberClass::International,
                    right: Rights::National,
                }))
            },
        ),
        (
            "refused-too-many-pages",
            base(ReportKind::Refused(Refusal::TooManyPages {
                pages: 12,
                max: 10,
            })),
        ),
        (
            "refused-unsupported-attachment",
            ReportInput {
                subject: None,
                original_message_id: None,
                ..base(ReportKind::Refused(Refusal::UnsupportedAttachment {
                    name: Some("Präsentation.pptx".to_owned()),
                    content_type: "application/vnd.ms-powerpoint".to_owned(),
                }))
            },
        ),
    ]
}

fn parts_for(lang: Language, message_id: &str) -> MailParts<'_> {
    MailParts {
        from_address: "ums@example.com",
        from_name: match lang {
            Language::De => "Faxdienst Müller & Söhne",
            _ => "Fax service",
        },
        to: "jane.doe@example.com",
        message_id,
        date: at() + Duration::from_secs(2),
    }
}

/// Structural checks on a composed mail, independent of the fixture.
fn check_mail(name: &str, mail: &[u8], rendered: &Rendered, input: &ReportInput, html: bool) {
    assert!(mail.is_ascii(), "{name}: not 7-bit");
    let text = std::str::from_utf8(mail).unwrap();
    for (i, line) in text.split("\r\n").enumerate() {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "{name}:{i}: bare line end"
        );
        assert!(line.len() <= 998, "{name}:{i}: line too long");
    }
    let headers = text.split("\r\n\r\n").next().unwrap();
    assert!(
        headers.contains("\r\nAuto-Submitted: auto-replied\r\n"),
        "{name}"
    );

    let msg = MessageParser::default().parse(mail).unwrap();
    assert_eq!(msg.subject(), Some(rendered.subject.as_str()), "{name}");
    assert_eq!(msg.date().map(|d| d.to_timestamp()), Some(1_795_688_102));
    match &input.original_message_id {
        Some(id) => {
            let id = id.trim_start_matches('<').trim_end_matches('>');
            assert_eq!(msg.in_reply_to().as_text(), Some(id), "{name}");
            assert_eq!(msg.references().as_text(), Some(id), "{name}");
        }
        None => {
            assert!(msg.in_reply_to().is_empty(), "{name}");
            assert!(!headers.contains("References:"), "{name}");
        }
    }
    let body_text = msg.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(body_text, rendered.text, "{name}");
    let ct = msg.content_type().unwrap();
    if html {
        assert_eq!(ct.ctype(), "multipart");
        assert_eq!(ct.subtype(), Some("alternative"));
        let body_html = msg.body_html(0).unwrap().replace("\r\n", "\n");
        assert_eq!(Some(body_html), rendered.html, "{name}");
    } else {
        assert_eq!(ct.ctype(), "text");
        assert_eq!(ct.subtype(), Some("plain"));
    }
}

#[test]
fn golden_report_mails() {
    let reports = Reports::load(None).unwrap();
    let dir = fixtures();
    let bless = std::env::var_os("UMSGATE_BLESS").is_some();
    let mut compared = 0;
    let mut failed = Vec::new();
    for (stem, input) in cases() {
        for lang in [Language::De, Language::En] {
            for html in [true, false] {
                let name = format!("{stem}-{lang}{}.eml", if html { "" } else { ".text" });
                let message_id = format!("report.{}.{lang}@umsgate.example.com", input.job_id);
                let rendered = reports.render(&input, lang, html).unwrap();
                let mail = compose(&parts_for(lang, &message_id), &rendered, &input).unwrap();
                check_mail(&name, &mail, &rendered, &input, html);

                let path = dir.join(&name);
                let failed_path = dir.join(format!("{name}.failed"));
                if bless {
                    std::fs::create_dir_all(&dir).unwrap();
                    std::fs::write(&path, &mail).unwrap();
                }
                let expected = std::fs::read(&path).unwrap_or_default();
                if expected == mail {
                    let _ = std::fs::remove_file(&failed_path);
                } else {
                    std::fs::write(&failed_path, &mail).unwrap();
                    failed.push(name);
                }
                compared += 1;
            }
        }
    }
    assert!(compared >= 20, "{compared}");
    assert!(
        failed.is_empty(),
        "output differs from the fixture (see the .failed files in {}): {failed:?}",
        dir.display()
    );
}

#[test]
fn rendering_is_deterministic() {
    let reports = Reports::load(None).unwrap();
    for (_, input) in cases() {
        let a = reports.render(&input, Language::Fr, true).unwrap();
        let b = Reports::load(None)
            .unwrap()
            .render(&input, Language::Fr, true)
            .unwrap();
        assert_eq!(a, b);
        let parts = parts_for(Language::Fr, "x@y");
        assert_eq!(
            compose(&parts, &a, &input).unwrap(),
            compose(&parts, &b, &input).unwrap()
        );
    }
}

fn all_refusals() -> Vec<Refusal> {
    vec![
        Refusal::UnknownSender {
            sender: "stranger@example.org".to_owned(),
        },
        Refusal::NoRight {
            service: Service::Sms,
            class: NumberClass::National,
            right: Rights::Local,
        },
        Refusal::EmergencyMode,
        Refusal::DailyLimit {
            service: Service::Voice,
            limit: 5,
        },
        Refusal::TooManyPages { pages: 2, max: 1 },
        Refusal::UnsupportedAttachment {
            name: None,
            content_type: "application/zip".to_owned(),
        },
        Refusal::EmptyMessage,
        Refusal::SmsTooLong {
            segments: 7,
            max: 3,
        },
        Refusal::NoVoiceContent,
        Refusal::BadNumber {
            number: "+49 30 12x".to_owned(),
            detail: "letters in the number".to_owned(),
        },
        Refusal::Malformed {
            detail: "nesting deeper than 20 parts".to_owned(),
        },
    ]
}

/// Every language, every kind, every service: renders, composes, parses back, and shows
/// no Fluent placeholder or missing-message marker (both contain braces; the default
/// templates have none of their own).
#[test]
fn every_language_renders_every_kind() {
    let reports = Reports::load(None).unwrap();
    let langs = [
        Language::De,
        Language::En,
        Language::Fr,
        Language::It,
        Language::Es,
        Language::Pt,
        Language::Nl,
    ];
    let mut kinds = vec![
        ReportKind::Sent,
        ReportKind::Failed {
            reason: String::new(),
        },
        ReportKind::Failed {
            reason: "no answer".to_owned(),
        },
    ];
    kinds.extend(all_refusals().into_iter().map(ReportKind::Refused));
    let mut n = 0;
    for lang in langs {
        for kind in &kinds {
            for service in Service::ALL {
                let input = ReportInput {
                    service,
                    pages: Some(1),
                    duration: Some(Duration::from_secs(12)),
                    attempts: Some(2),
                    remote_id: Some("ref-1".to_owned()),
                    ..base(kind.clone())
                };
                let rendered = reports.render(&input, lang, true).unwrap();
                let html = rendered.html.as_deref().unwrap();
                for (what, part) in [
                    ("subject", rendered.subject.as_str()),
                    ("text", rendered.text.as_str()),
                    ("html", html),
                ] {
                    assert!(
                        !part.contains('{') && !part.contains('}') && !part.contains("$"),
                        "{lang} {kind:?} {service} {what}: {part}"
                    );
                    assert!(!part.trim().is_empty());
                }
                if lang != Language::En {
                    let english = reports.render(&input, Language::En, false).unwrap();
                    assert_ne!(rendered.text, english.text, "{lang} {kind:?}: English text");
                }
                let parts = parts_for(lang, "all@umsgate.example.com");
                let mail = compose(&parts, &rendered, &input).unwrap();
                let msg = MessageParser::default().parse(&mail[..]).unwrap();
                assert_eq!(msg.subject(), Some(rendered.subject.as_str()));
                n += 1;
            }
        }
    }
    assert_eq!(n, 7 * 14 * 3);
}

#[test]
fn html_part_escapes_the_users_subject() {
    let reports = Reports::load(None).unwrap();
    let input = ReportInput {
        subject: Some("<script>alert(1)</script>".to_owned()),
        ..base(ReportKind::Sent)
    };
    let rendered = reports.render(&input, Language::En, true).unwrap();
    let html = rendered.html.as_deref().unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    let mail = compose(&parts_for(Language::En, "x@y"), &rendered, &input).unwrap();
    let msg = MessageParser::default().parse(&mail[..]).unwrap();
    let decoded = msg.body_html(0).unwrap();
    assert!(!decoded.contains("<script>"));
    assert!(decoded.contains("&lt;script&gt;"));
}

#[test]
fn header_injection_is_refused() {
    let reports = Reports::load(None).unwrap();
    let input = base(ReportKind::Sent);
    let rendered = reports.render(&input, Language::En, true).unwrap();
    let ok = parts_for(Language::En, "x@y");
    assert!(compose(&ok, &rendered, &input).is_ok());

    for bad in ["\r", "\n", "\0", "\r\nBcc: victim@example.org"] {
        let to = format!("jane@example.com{bad}");
        let e = compose(&MailParts { to: &to, ..ok }, &rendered, &input).unwrap_err();
        assert!(e.is_header_injection(), "to {bad:?}: {e}");
        assert_eq!(e.header_field(), Some("to"));

        let name = format!("Fax{bad}service");
        let e = compose(
            &MailParts {
                from_name: &name,
                ..ok
            },
            &rendered,
            &input,
        )
        .unwrap_err();
        assert!(e.is_header_injection(), "from_name {bad:?}: {e}");

        // The user's subject and Message-ID came from outside: a report is still sent,
        // without them (the report's own subject; no threading headers).
        for lang in [Language::En, Language::De] {
            let evil = ReportInput {
                subject: Some(format!("hello{bad}Bcc: victim@example.org")),
                original_message_id: Some(format!("a@b{bad}")),
                ..input.clone()
            };
            let rendered = reports.render(&evil, lang, true).unwrap();
            let mail = compose(&ok, &rendered, &evil)
                .unwrap_or_else(|e| panic!("subject {bad:?} in {lang}: {e}"));
            let clean = ReportInput {
                subject: None,
                original_message_id: None,
                ..input.clone()
            };
            let expected = reports.render(&clean, lang, true).unwrap();
            assert_eq!(rendered, expected, "{bad:?} in {lang}");
            let msg = MessageParser::default().parse(&mail[..]).unwrap();
            assert_eq!(msg.subject(), Some(expected.subject.as_str()));
            assert!(msg.in_reply_to().is_empty() && msg.references().is_empty());
            let text = std::str::from_utf8(&mail).unwrap();
            assert!(!text.contains("Bcc") && !text.contains("victim"), "{text}");
        }

        let id = format!("x@y{bad}");
        let e = compose(
            &MailParts {
                message_id: &id,
                ..ok
            },
            &rendered,
            &input,
        )
        .unwrap_err();
        assert!(e.is_header_injection(), "message id {bad:?}: {e}");

        let from = format!("ums@example.com{bad}");
        let e = compose(
            &MailParts {
                from_address: &from,
                ..ok
            },
            &rendered,
            &input,
        )
        .unwrap_err();
        assert!(e.is_header_injection(), "from {bad:?}: {e}");
    }

    // Not injection, but still not an address: refused too.
    let e = compose(
        &MailParts {
            to: "Jane <jane@example.com>",
            ..ok
        },
        &rendered,
        &input,
    )
    .unwrap_err();
    assert!(!e.is_header_injection());
    assert_eq!(e.header_field(), Some("to"));
}
