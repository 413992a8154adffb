//! Unit tests of rendering and loading; byte-for-byte mails are in `tests/reports_golden.rs`.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use umsgate_domain::{Language, NumberClass, Rights, Service};

use super::strings::LANGUAGES;
use super::templates::{TEMPLATES, samples};
use super::*;

fn reports() -> Reports {
    Reports::load(None).unwrap()
}

fn input(kind: ReportKind) -> ReportInput {
    ReportInput {
        kind,
        service: Service::Fax,
        number: "+4930123456".to_owned(),
        recipient_address: "+49 30 123456@fax.example.com".to_owned(),
        subject: Some("Quarterly figures".to_owned()),
        original_message_id: Some("abc@example.com".to_owned()),
        job_id: "J42".to_owned(),
        pages: Some(3),
        duration: Some(Duration::from_secs(95)),
        attempts: Some(2),
        remote_id: Some("+49 30 123456".to_owned()),
        at: UNIX_EPOCH + Duration::from_secs(1_795_688_100),
    }
}

/// A fresh folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("umsgate-reports-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn reports_are_shareable() {
    fn check<T: Send + Sync>() {}
    check::<Reports>();
}

#[test]
fn every_sample_renders_in_every_language_without_leftovers() {
    let r = reports();
    let mut n = 0;
    for input in samples() {
        for lang in LANGUAGES {
            let out = r.render(&input, lang, true).unwrap();
            for part in [&out.subject, &out.text, out.html.as_ref().unwrap()] {
                assert!(
                    !part.contains('{') && !part.contains('}'),
                    "{lang} {:?}: {part}",
                    input.kind
                );
            }
            assert!(out.text.ends_with('\n') && !out.text.ends_with("\n\n"));
            assert!(!out.subject.contains('\n'));
            n += 1;
        }
    }
    assert!(n > 100, "{n}");
}

#[test]
fn sent_report_in_english_and_german() {
    let r = reports();
    let en = r
        .render(&input(ReportKind::Sent), Language::En, false)
        .unwrap();
    assert_eq!(en.subject, "Fax to +4930123456: sent – Quarterly figures");
    assert!(en.html.is_none());
    assert!(
        en.text
            .starts_with("Your fax to +4930123456 has been sent.\n\n")
    );
    assert!(en.text.contains("Pages:          3 pages\n"), "{}", en.text);
    assert!(
        en.text.contains("Time:           2026-11-26 10:15 UTC\n"),
        "{}",
        en.text
    );
    assert!(
        en.text.contains("Duration:       1 min 35 s\n"),
        "{}",
        en.text
    );

    let de = r
        .render(&input(ReportKind::Sent), Language::De, true)
        .unwrap();
    assert_eq!(
        de.subject,
        "Fax an +4930123456: gesendet – Quarterly figures"
    );
    assert!(de.text.contains("26.11.2026 10:15 UTC"), "{}", de.text);
    assert!(de.text.contains("3 Seiten"), "{}", de.text);
    let html = de.html.unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"de\">"),
        "{html}"
    );
    assert!(html.contains("Ihr Fax an +4930123456 wurde gesendet."));
}

#[test]
fn one_page_is_singular() {
    let r = reports();
    let mut one = input(ReportKind::Sent);
    one.pages = Some(1);
    assert!(
        r.render(&one, Language::En, false)
            .unwrap()
            .text
            .contains("1 page\n")
    );
    assert!(
        r.render(&one, Language::De, false)
            .unwrap()
            .text
            .contains("1 Seite\n")
    );
}

#[test]
fn failed_report_without_reason_says_so() {
    let r = reports();
    let out = r
        .render(
            &input(ReportKind::Failed {
                reason: " ".to_owned(),
            }),
            Language::En,
            false,
        )
        .unwrap();
    assert!(out.text.contains("Reason: no reason given"), "{}", out.text);
    let out = r
        .render(
            &input(ReportKind::Failed {
                reason: "busy".to_owned(),
            }),
            Language::En,
            false,
        )
        .unwrap();
    assert!(out.text.contains("Reason: busy"), "{}", out.text);
}

#[test]
fn refusal_explains_with_fields_and_hint() {
    let r = reports();
    let kind = ReportKind::Refused(Refusal::NoRight {
        service: Service::Fax,
        class: NumberClass::International,
        right: Rights::National,
    });
    let out = r.render(&input(kind.clone()), Language::En, false).unwrap();
    assert!(
        out.text
            .contains("your fax right is “national”, but +4930123456 needs “international”."),
        "{}",
        out.text
    );
    assert!(
        out.text.contains(
            "Ask your administrator for the right to send faxes to international numbers."
        ),
        "{}",
        out.text
    );
    let de = r.render(&input(kind), Language::De, false).unwrap();
    assert!(
        de.text
            .contains("Ihr Fax-Recht ist „national“, +4930123456 erfordert aber „international“."),
        "{}",
        de.text
    );

    let out = r
        .render(
            &input(ReportKind::Refused(Refusal::TooManyPages {
                pages: 12,
                max: 10,
            })),
            Language::En,
            false,
        )
        .unwrap();
    assert!(
        out.text
            .contains("12 pages, but you may send at most 10 pages per fax"),
        "{}",
        out.text
    );
    let out = r
        .render(
            &input(ReportKind::Refused(Refusal::UnsupportedAttachment {
                name: None,
                content_type: "application/zip".to_owned(),
            })),
            Language::En,
            false,
        )
        .unwrap();
    assert!(
        out.text.contains("“without name” (application/zip)"),
        "{}",
        out.text
    );
}

#[test]
fn html_escapes_user_values_but_text_keeps_them() {
    let r = reports();
    let mut evil = input(ReportKind::Sent);
    evil.subject = Some("<script>alert('x')</script> & \"more\"".to_owned());
    evil.remote_id = Some("<b>".to_owned());
    let out = r.render(&evil, Language::En, true).unwrap();
    let html = out.html.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"),
        "{html}"
    );
    assert!(out.text.contains("<script>alert('x')</script>"));
    assert!(out.subject.contains("<script>"));
}

#[test]
fn every_language_has_a_complete_set() {
    // Rendering checks the ids that are used; this checks the embedded files are loaded
    // per language and not all English.
    let r = reports();
    let subjects: std::collections::BTreeSet<String> = LANGUAGES
        .iter()
        .map(|lang| {
            r.render(&input(ReportKind::Sent), *lang, false)
                .unwrap()
                .subject
        })
        .collect();
    assert_eq!(subjects.len(), LANGUAGES.len(), "{subjects:?}");
}

#[test]
fn overrides_replace_templates_and_strings() {
    let dir = TempDir::new("override");
    std::fs::write(
        dir.0.join("sent.txt.j2"),
        "{{ t(\"custom\", who=\"you\") }} {{ t(\"service-fax\") }} {{ subject }}\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.0.join("en")).unwrap();
    std::fs::write(
        dir.0.join("en/reports.ftl"),
        "custom = Done for { $who } ({ $number })\nservice-fax = Telefax\n",
    )
    .unwrap();
    let r = Reports::load(Some(&dir.0)).unwrap();
    let out = r
        .render(&input(ReportKind::Sent), Language::En, true)
        .unwrap();
    assert_eq!(
        out.text,
        "Done for you (+4930123456) Telefax Quarterly figures\n"
    );
    assert!(out.subject.starts_with("Telefax to"));
    // Other languages fall back to English for the new message.
    let de = r
        .render(&input(ReportKind::Sent), Language::De, false)
        .unwrap();
    assert!(
        de.text.starts_with("Done for you (+4930123456) Fax "),
        "{}",
        de.text
    );
    // The HTML part is still the embedded template.
    assert!(out.html.unwrap().contains("Telefax"));
}

#[test]
fn override_errors_name_the_file() {
    let dir = TempDir::new("broken");
    // A syntax error.
    std::fs::write(dir.0.join("failed.html.j2"), "{% if %}\n").unwrap();
    let e = Reports::load(Some(&dir.0)).unwrap_err();
    assert!(e.is_load_error());
    assert!(e.to_string().contains("failed.html.j2"), "{e}");

    // A template that compiles but uses an unknown string.
    std::fs::write(dir.0.join("failed.html.j2"), "{{ t(\"nope\") }}\n").unwrap();
    let e = Reports::load(Some(&dir.0)).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("failed.html.j2") && text.contains("nope"),
        "{text}"
    );

    // An unknown variable.
    std::fs::write(dir.0.join("failed.html.j2"), "{{ sender_name }}\n").unwrap();
    let e = Reports::load(Some(&dir.0)).unwrap_err();
    assert!(e.to_string().contains("failed.html.j2"), "{e}");
    std::fs::remove_file(dir.0.join("failed.html.j2")).unwrap();

    // A string file whose message lost a variable the template passes is fine, but one
    // that needs a variable nobody passes is an error naming the .ftl file.
    std::fs::create_dir_all(dir.0.join("fr")).unwrap();
    std::fs::write(
        dir.0.join("fr/reports.ftl"),
        "intro-sent = Envoyé { $nobody }\n",
    )
    .unwrap();
    let e = Reports::load(Some(&dir.0)).unwrap_err();
    assert!(e.to_string().contains("fr/reports.ftl"), "{e}");
    std::fs::remove_file(dir.0.join("fr/reports.ftl")).unwrap();

    // Misspelt names are not ignored.
    std::fs::write(dir.0.join("sent.htm.j2"), "x").unwrap();
    let e = Reports::load(Some(&dir.0)).unwrap_err();
    assert!(e.to_string().contains("sent.htm.j2"), "{e}");
    std::fs::remove_file(dir.0.join("sent.htm.j2")).unwrap();
    std::fs::create_dir_all(dir.0.join("sv")).unwrap();
    std::fs::write(dir.0.join("sv/reports.ftl"), "x = y\n").unwrap();
    let e = Reports::load(Some(&dir.0)).unwrap_err();
    assert!(e.to_string().contains("sv/reports.ftl"), "{e}");
    std::fs::remove_dir_all(dir.0.join("sv")).unwrap();
    std::fs::create_dir_all(dir.0.join("de")).unwrap();
    std::fs::write(dir.0.join("de/report.ftl"), "x = y\n").unwrap();
    let e = Reports::load(Some(&dir.0)).unwrap_err();
    assert!(e.to_string().contains("de/report.ftl"), "{e}");
    std::fs::remove_file(dir.0.join("de/report.ftl")).unwrap();

    // Back to valid.
    Reports::load(Some(&dir.0)).unwrap();
    // A missing folder is an error, not the defaults.
    let e = Reports::load(Some(&dir.0.join("absent"))).unwrap_err();
    assert!(e.to_string().contains("absent"), "{e}");
}

#[test]
fn all_template_names_are_embedded_once() {
    let names: std::collections::BTreeSet<_> = TEMPLATES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), TEMPLATES.len());
    for stem in ["sent", "failed", "refused"] {
        for ext in ["txt", "html"] {
            assert!(names.contains(format!("{stem}.{ext}.j2").as_str()));
        }
    }
}

#[test]
fn a_subject_that_cannot_be_a_header_is_left_out_and_the_report_still_composed() {
    let r = reports();
    for bad in ["\r", "\n", "\0", "Hi\r\nBcc: victim@example.org"] {
        let evil = ReportInput {
            subject: Some(format!("Quarterly{bad}figures")),
            ..input(ReportKind::Sent)
        };
        for lang in [Language::En, Language::De, Language::Fr] {
            let rendered = r.render(&evil, lang, false).unwrap();
            let none = r
                .render(
                    &ReportInput {
                        subject: None,
                        ..evil.clone()
                    },
                    lang,
                    false,
                )
                .unwrap();
            assert_eq!(rendered, none, "{bad:?} {lang}");
            assert!(
                !rendered.subject.contains("Quarterly"),
                "{}",
                rendered.subject
            );
            let parts = MailParts {
                from_address: "ums@example.com",
                from_name: "",
                to: "jane@example.com",
                message_id: "r1@umsgate.test",
                date: UNIX_EPOCH,
            };
            let mail = compose(&parts, &rendered, &evil).unwrap();
            let mail = String::from_utf8(mail).unwrap();
            assert!(!mail.contains("Quarterly"), "{mail}");
        }
        // English says so in the details.
        let text = r.render(&evil, Language::En, false).unwrap().text;
        assert!(text.contains("(no subject)"), "{text}");
    }
    // A bad recipient address still refuses.
    let rendered = r
        .render(&input(ReportKind::Sent), Language::En, false)
        .unwrap();
    let parts = MailParts {
        from_address: "ums@example.com",
        from_name: "",
        to: "jane@example.com\r\nBcc: x@y",
        message_id: "r1@umsgate.test",
        date: UNIX_EPOCH,
    };
    assert!(
        compose(&parts, &rendered, &input(ReportKind::Sent))
            .unwrap_err()
            .is_header_injection()
    );
}

fn inbound_facts(service: Service) -> InboundFacts<'static> {
    InboundFacts {
        service,
        calling: "+49 30 9876543 20",
        called: "+49 8142 4799123",
        received_at: "2026-11-26T10:15:00Z",
        pages: Some(3),
        duration: None,
        sms_text: (service == Service::Sms).then_some("Hallo"),
    }
}

#[test]
fn inbound_overrides_replace_templates_and_strings() {
    let dir = TempDir::new("inbound-override");
    std::fs::create_dir_all(dir.0.join("inbound")).unwrap();
    std::fs::write(
        dir.0.join("inbound/fax.txt.j2"),
        "{{ t(\"custom\") }}: {{ service_name }} {{ caller }}, {{ pages }}\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.0.join("en")).unwrap();
    std::fs::write(
        dir.0.join("en/inbound.ftl"),
        "custom = New fax for { $called }\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.0.join("de")).unwrap();
    std::fs::write(
        dir.0.join("de/inbound.ftl"),
        "custom = Neues Fax für { $called }\nservice-fax = Telefax\n",
    )
    .unwrap();
    let r = Reports::load(Some(&dir.0)).unwrap();
    let texts = r.inbound();
    let fax = inbound_facts(Service::Fax);
    assert_eq!(
        texts.body(Language::De, &fax).unwrap(),
        "Neues Fax für +49 8142 4799123: Telefax +49 30 9876543 20, 3\n"
    );
    assert_eq!(
        texts
            .subject(Language::De, Service::Fax, fax.calling, fax.pages)
            .unwrap(),
        "Telefax von +49 30 9876543 20 (3 Seiten)"
    );
    // Other languages fall back to English for the new message, keep their own words.
    assert_eq!(
        texts.body(Language::Fr, &fax).unwrap(),
        "New fax for +49 8142 4799123: Fax +49 30 9876543 20, 3\n"
    );
    // The other services keep the embedded templates, and the reports their strings.
    let sms = texts
        .body(Language::De, &inbound_facts(Service::Sms))
        .unwrap();
    assert!(sms.starts_with("SMS von +49 30 9876543 20\nAn: "), "{sms}");
    let report = r
        .render(&input(ReportKind::Sent), Language::De, false)
        .unwrap();
    assert!(report.subject.starts_with("Fax an"), "{}", report.subject);
}

#[test]
fn inbound_override_errors_name_the_file() {
    let dir = TempDir::new("inbound-broken");
    std::fs::create_dir_all(dir.0.join("inbound")).unwrap();
    // A syntax error, an unknown variable, an unknown string.
    for broken in ["{% if %}\n", "{{ sender_name }}\n", "{{ t(\"nope\") }}\n"] {
        std::fs::write(dir.0.join("inbound/voice.txt.j2"), broken).unwrap();
        let e = Reports::load(Some(&dir.0)).unwrap_err();
        assert!(e.is_load_error(), "{e}");
        assert!(
            e.to_string().contains("inbound/voice.txt.j2"),
            "{broken}: {e}"
        );
    }
    std::fs::remove_file(dir.0.join("inbound/voice.txt.j2")).unwrap();

    // A string that needs a variable nobody passes, one that does not parse, and a subject
    // that would break the header: errors naming the .ftl file.
    std::fs::create_dir_all(dir.0.join("it")).unwrap();
    for broken in [
        "heading = Fax { $nobody }\n",
        "ok = fine\nbroken = { $\n",
        "subject =\n    Fax\n    da { $caller }\n",
    ] {
        std::fs::write(dir.0.join("it/inbound.ftl"), broken).unwrap();
        let e = Reports::load(Some(&dir.0)).unwrap_err();
        assert!(e.is_load_error(), "{e}");
        assert!(e.to_string().contains("it/inbound.ftl"), "{broken:?}: {e}");
    }
    std::fs::remove_file(dir.0.join("it/inbound.ftl")).unwrap();

    // Misspelt names are not ignored.
    for (folder, file) in [
        ("inbound", "fx.txt.j2"),
        ("inbound", "sent.txt.j2"),
        ("inbound", "inbound.ftl"),
        ("sv", "inbound.ftl"),
        ("nl", "inbund.ftl"),
    ] {
        std::fs::create_dir_all(dir.0.join(folder)).unwrap();
        let path = dir.0.join(folder).join(file);
        std::fs::write(&path, "x = y\n").unwrap();
        let e = Reports::load(Some(&dir.0)).unwrap_err();
        assert!(
            e.to_string().contains(&format!("{folder}/{file}")),
            "{folder}/{file}: {e}"
        );
        std::fs::remove_file(&path).unwrap();
    }
    // Back to valid.
    Reports::load(Some(&dir.0)).unwrap();
}
