//! The texts of an inbound mail: the engine's values cleaned, then the subject and body
//! rendered with the strings and templates of [`InboundTexts`] (embedded, or the
//! administrator's files in `service.templates_dir`).
//!
//! # Contract
//!
//! - Values from the engine that go into the body are cleaned with the rule of outbound body
//!   text ([`clean_char`]): the SMS text keeps its lines (CRLF and a bare CR become LF) and
//!   loses every other control character, the one-line values lose their line breaks too.
//!   So no bare CR of an SMS (the GSM alphabet has one) reaches the mail.
//! - The calling number in the subject is not cleaned: a CR, LF or NUL in it makes
//!   [`compose`](super::compose::compose) refuse the mail, and the message is kept in
//!   `received/error/` — nothing is stripped from a header without a word.
//! - The wording is the strings' and templates' alone: a value can only ever be data.
//!
//! # Implementation summary
//!
//! Cleaning here; words in `locales/<lang>/inbound.ftl`, layout in
//! `templates/inbound/<service>.txt.j2` (text) and `templates/inbound/<service>.html.j2`
//! (HTML, values escaped), all rendered by [`InboundTexts`].

use umsgate_domain::{Language, Service};

use crate::reports::{InboundFacts, InboundTexts, Previews, ReportError};
use umsgate_domain::text::clean_char;

/// `Fax from +49 30 9876543 20 (3 pages)`-style subject; `calling` as the mail shows it.
pub fn subject(
    texts: &InboundTexts,
    lang: Language,
    service: Service,
    calling: &str,
    pages: Option<u32>,
) -> Result<String, ReportError> {
    texts.subject(lang, service, calling, pages)
}

/// The text body: the facts, then the SMS text or a note that the message is attached; every
/// value cleaned first (see the module documentation).
pub fn body(
    texts: &InboundTexts,
    lang: Language,
    facts: &InboundFacts<'_>,
) -> Result<String, ReportError> {
    let c = Cleaned::of(facts);
    texts.body(lang, &c.facts(facts))
}

/// The HTML body: the same facts, cleaned the same way, with the fax's previews.
pub fn html(
    texts: &InboundTexts,
    lang: Language,
    facts: &InboundFacts<'_>,
    previews: &Previews<'_>,
) -> Result<String, ReportError> {
    let c = Cleaned::of(facts);
    texts.html(lang, &c.facts(facts), previews)
}

/// The engine's values of [`InboundFacts`], cleaned.
struct Cleaned {
    calling: String,
    called: String,
    received_at: String,
    sms_text: Option<String>,
}

impl Cleaned {
    fn of(facts: &InboundFacts<'_>) -> Cleaned {
        Cleaned {
            calling: clean_value(facts.calling),
            called: clean_value(facts.called),
            received_at: clean_value(facts.received_at),
            sms_text: facts.sms_text.map(clean_text),
        }
    }

    fn facts<'a>(&'a self, facts: &InboundFacts<'a>) -> InboundFacts<'a> {
        InboundFacts {
            calling: &self.calling,
            called: &self.called,
            received_at: &self.received_at,
            sms_text: self.sms_text.as_deref(),
            ..*facts
        }
    }
}

/// A one-line value: every control character (CR and LF included) dropped.
fn clean_value(v: &str) -> String {
    v.chars().filter_map(clean_char).collect()
}

/// A text of lines: CRLF and a bare CR become LF, other control characters are dropped.
fn clean_text(t: &str) -> String {
    let unified = t.replace("\r\n", "\n").replace('\r', "\n");
    unified
        .split('\n')
        .map(clean_value)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;
    use crate::reports::Reports;

    fn reports() -> Reports {
        Reports::load(None).unwrap()
    }

    #[test]
    fn every_language_names_caller_and_pages() {
        let reports = reports();
        let texts = reports.inbound();
        for lang in [
            Language::De,
            Language::En,
            Language::Fr,
            Language::It,
            Language::Es,
            Language::Pt,
            Language::Nl,
        ] {
            let s = subject(texts, lang, Service::Fax, "+49 30 1", Some(3)).unwrap();
            assert!(s.contains("+49 30 1") && s.contains('3'), "{s}");
            let facts = InboundFacts {
                service: Service::Sms,
                calling: "",
                called: "+49 8142 4799123",
                received_at: "2026-11-26T10:15:00Z",
                pages: None,
                duration: None,
                sms_text: Some("Hallo"),
            };
            let b = body(texts, lang, &facts).unwrap();
            assert!(b.contains("Hallo") && b.contains("+49 8142 4799123"), "{b}");
        }
        let subject = |lang, service, calling, pages| {
            super::subject(texts, lang, service, calling, pages).unwrap()
        };
        assert_eq!(
            subject(Language::De, Service::Fax, "+49 30 1", Some(3)),
            "Fax von +49 30 1 (3 Seiten)"
        );
        assert_eq!(
            subject(Language::En, Service::Fax, "+49 30 1", Some(1)),
            "Fax from +49 30 1 (1 page)"
        );
        // Zero pages is plural, also where the language's plural rule says "one" (French).
        assert_eq!(
            subject(Language::Fr, Service::Fax, "+49 30 1", Some(0)),
            "Fax de +49 30 1 (0 pages)"
        );
        assert_eq!(
            subject(Language::Nl, Service::Sms, "", Some(2)),
            "Sms van onbekend"
        );
        assert_eq!(
            subject(Language::It, Service::Voice, "+49 30 1", None),
            "Messaggio vocale da +49 30 1"
        );
    }

    #[test]
    fn the_body_states_the_facts_in_the_users_language() {
        let reports = reports();
        let facts = InboundFacts {
            service: Service::Voice,
            calling: "+49 30 9876543 20",
            called: "+49 8142 4799123",
            received_at: "2026-11-26T10:15:00Z",
            pages: None,
            duration: Some(Duration::from_secs(42)),
            sms_text: None,
        };
        assert_eq!(
            body(reports.inbound(), Language::De, &facts).unwrap(),
            "Sprachnachricht von +49 30 9876543 20\nAn: +49 8142 4799123\n\
             Empfangen: 2026-11-26T10:15:00Z\nDauer: 42 s\n\nDie Nachricht ist angehängt.\n"
        );
        let fax = InboundFacts {
            service: Service::Fax,
            calling: "",
            pages: Some(3),
            duration: None,
            ..facts
        };
        assert_eq!(
            body(reports.inbound(), Language::Es, &fax).unwrap(),
            "Fax de desconocido\nPara: +49 8142 4799123\nRecibido: 2026-11-26T10:15:00Z\n\
             Páginas: 3\n\nEl mensaje va adjunto.\n"
        );
        // An SMS without text says what a fax says; its text, when there is one, is kept as
        // it is, blank lines and all.
        let sms = InboundFacts {
            service: Service::Sms,
            pages: None,
            ..fax
        };
        assert!(
            body(reports.inbound(), Language::En, &sms)
                .unwrap()
                .ends_with("\n\nThe message is attached.\n")
        );
        let sms = InboundFacts {
            sms_text: Some("  two\n\nlines  \n\n"),
            ..sms
        };
        assert!(
            body(reports.inbound(), Language::En, &sms)
                .unwrap()
                .ends_with("Received: 2026-11-26T10:15:00Z\n\n  two\n\nlines  \n\n\n")
        );
    }

    #[test]
    fn sms_text_and_engine_values_are_cleaned_like_body_text() {
        let reports = reports();
        let facts = InboundFacts {
            service: Service::Sms,
            calling: "+49 30 1\r\nX: y",
            called: "+49 8142\r4799123",
            received_at: "2026-11-26T10:15:00Z\0",
            pages: None,
            duration: None,
            sms_text: Some(
                "x\r.\r\nMAIL FROM:<e@x>\r\n\u{7}bell\u{feff}\tnbsp\u{a0}end\rlast\u{1b}[0m",
            ),
        };
        let b = body(reports.inbound(), Language::En, &facts).unwrap();
        assert!(!b.contains('\r'), "{b:?}");
        assert!(
            !b.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{b:?}"
        );
        assert!(
            b.ends_with("\n\nx\n.\nMAIL FROM:<e@x>\nbell\tnbsp end\nlast[0m\n"),
            "{b:?}"
        );
        assert!(
            b.starts_with("SMS from +49 30 1X: y\nTo: +49 81424799123\n"),
            "{b:?}"
        );
        assert!(b.contains("Received: 2026-11-26T10:15:00Z\n"), "{b:?}");
        // Template syntax in a value is data.
        let sms = InboundFacts {
            calling: "{{ lang }}",
            sms_text: Some("{{ t(\"heading\") }} { $caller }"),
            ..facts
        };
        let b = body(reports.inbound(), Language::En, &sms).unwrap();
        assert!(
            b.starts_with("SMS from {{ lang }}\n")
                && b.ends_with("\n{{ t(\"heading\") }} { $caller }\n"),
            "{b:?}"
        );
    }

    #[test]
    fn the_html_shows_the_previews_in_every_language_and_escapes_values() {
        use crate::reports::PreviewRef;
        let reports = reports();
        let images = [
            PreviewRef {
                src: "cid:page1.x@example.com",
                page: 1,
                width: 864,
                height: 1146,
            },
            PreviewRef {
                src: "cid:page2.x@example.com",
                page: 2,
                width: 864,
                height: 573,
            },
        ];
        let fax = InboundFacts {
            service: Service::Fax,
            calling: "+49 30 <b>1</b>",
            called: "+49 8142 4799123",
            received_at: "2026-11-26T10:15:00Z",
            pages: Some(9),
            duration: None,
            sms_text: None,
        };
        let shown = Previews {
            images: &images,
            more_pages: 7,
        };
        let mut more = std::collections::BTreeSet::new();
        for lang in [
            Language::De,
            Language::En,
            Language::Fr,
            Language::It,
            Language::Es,
            Language::Pt,
            Language::Nl,
        ] {
            let h = html(reports.inbound(), lang, &fax, &shown).unwrap();
            assert!(h.contains(&format!("<html lang=\"{lang}\">")), "{h}");
            assert!(h.contains("src=\"cid:page1.x@example.com\""), "{h}");
            assert!(h.contains("width=\"864\" height=\"573\""), "{h}");
            assert!(h.contains("+49 30 &lt;b&gt;1&lt;/b&gt;"), "{h}");
            assert!(!h.contains("<b>"), "{h}");
            let line = h
                .lines()
                .find(|l| l.contains('7') && !l.contains("<img") && !l.contains("<td"))
                .unwrap_or_else(|| panic!("{lang}: no line with the 7 more pages:\n{h}"))
                .to_owned();
            more.insert(line);
        }
        assert_eq!(more.len(), 7, "seven wordings: {more:?}");

        // A fax without previews says so; one more page is singular.
        let h = html(reports.inbound(), Language::En, &fax, &Previews::default()).unwrap();
        assert!(!h.contains("<img"), "{h}");
        assert!(
            h.contains("No preview of this fax can be shown. The fax is attached."),
            "{h}"
        );
        let one = Previews {
            images: &images[..1],
            more_pages: 1,
        };
        let h = html(reports.inbound(), Language::De, &fax, &one).unwrap();
        assert!(h.contains("Eine weitere Seite im Anhang."), "{h}");

        // The SMS keeps its lines; markup in it is text.
        let sms = InboundFacts {
            service: Service::Sms,
            pages: None,
            sms_text: Some("Hallo <script>\r\nzweite & Zeile"),
            ..fax
        };
        let h = html(reports.inbound(), Language::De, &sms, &Previews::default()).unwrap();
        assert!(
            h.contains("Hallo &lt;script&gt;<br>zweite &amp; Zeile</p>"),
            "{h}"
        );
        // Voice: the facts and the note that the message is attached.
        let voice = InboundFacts {
            service: Service::Voice,
            duration: Some(Duration::from_secs(42)),
            ..sms
        };
        let h = html(
            reports.inbound(),
            Language::Fr,
            &voice,
            &Previews::default(),
        )
        .unwrap();
        assert!(h.contains(">42 s</td>"), "{h}");
        assert!(h.contains("Le message est en pièce jointe."), "{h}");
    }
}
