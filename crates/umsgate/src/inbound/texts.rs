//! The words of inbound mails in the seven languages: subject and body lines.
//!
//! Contract: every language has every text (a closed `match`, checked by the compiler);
//! placeholders are filled by [`subject`] and [`body`], never by the caller, so a value from
//! the engine can only ever be data.

use umsgate_domain::{Language, Service};

use crate::outbound::mime::clean_char;

struct Words {
    fax: &'static str,
    sms: &'static str,
    voice: &'static str,
    from: &'static str,
    unknown_caller: &'static str,
    to: &'static str,
    received: &'static str,
    pages: &'static str,
    pages_in_subject: &'static str,
    page_in_subject: &'static str,
    duration: &'static str,
    seconds: &'static str,
    attached: &'static str,
}

fn words(lang: Language) -> Words {
    match lang {
        Language::De => Words {
            fax: "Fax",
            sms: "SMS",
            voice: "Sprachnachricht",
            from: "von",
            unknown_caller: "unbekannt",
            to: "An",
            received: "Empfangen",
            pages: "Seiten",
            pages_in_subject: "Seiten",
            page_in_subject: "Seite",
            duration: "Dauer",
            seconds: "s",
            attached: "Die Nachricht ist angehängt.",
        },
        Language::En => Words {
            fax: "Fax",
            sms: "SMS",
            voice: "Voice message",
            from: "from",
            unknown_caller: "unknown",
            to: "To",
            received: "Received",
            pages: "Pages",
            pages_in_subject: "pages",
            page_in_subject: "page",
            duration: "Duration",
            seconds: "s",
            attached: "The message is attached.",
        },
        Language::Fr => Words {
            fax: "Fax",
            sms: "SMS",
            voice: "Message vocal",
            from: "de",
            unknown_caller: "inconnu",
            to: "À",
            received: "Reçu",
            pages: "Pages",
            pages_in_subject: "pages",
            page_in_subject: "page",
            duration: "Durée",
            seconds: "s",
            attached: "Le message est en pièce jointe.",
        },
        Language::It => Words {
            fax: "Fax",
            sms: "SMS",
            voice: "Messaggio vocale",
            from: "da",
            unknown_caller: "sconosciuto",
            to: "A",
            received: "Ricevuto",
            pages: "Pagine",
            pages_in_subject: "pagine",
            page_in_subject: "pagina",
            duration: "Durata",
            seconds: "s",
            attached: "Il messaggio è allegato.",
        },
        Language::Es => Words {
            fax: "Fax",
            sms: "SMS",
            voice: "Mensaje de voz",
            from: "de",
            unknown_caller: "desconocido",
            to: "Para",
            received: "Recibido",
            pages: "Páginas",
            pages_in_subject: "páginas",
            page_in_subject: "página",
            duration: "Duración",
            seconds: "s",
            attached: "El mensaje va adjunto.",
        },
        Language::Pt => Words {
            fax: "Fax",
            sms: "SMS",
            voice: "Mensagem de voz",
            from: "de",
            unknown_caller: "desconhecido",
            to: "Para",
            received: "Recebido",
            pages: "Páginas",
            pages_in_subject: "páginas",
            page_in_subject: "página",
            duration: "Duração",
            seconds: "s",
            attached: "A mensagem está em anexo.",
        },
        Language::Nl => Words {
            fax: "Fax",
            sms: "Sms",
            voice: "Spraakbericht",
            from: "van",
            unknown_caller: "onbekend",
            to: "Aan",
            received: "Ontvangen",
            pages: "Pagina's",
            pages_in_subject: "pagina's",
            page_in_subject: "pagina",
            duration: "Duur",
            seconds: "s",
            attached: "Het bericht is bijgevoegd.",
        },
    }
}

fn service_word(w: &Words, s: Service) -> &'static str {
    match s {
        Service::Fax => w.fax,
        Service::Sms => w.sms,
        Service::Voice => w.voice,
    }
}

/// `Fax from +49 30 9876543 20 (3 pages)`-style subject.
pub(super) fn subject(
    lang: Language,
    service: Service,
    calling: &str,
    pages: Option<u32>,
) -> String {
    let w = words(lang);
    let caller = if calling.is_empty() {
        w.unknown_caller
    } else {
        calling
    };
    match (service, pages) {
        (Service::Fax, Some(p)) => {
            let word = if p == 1 {
                w.page_in_subject
            } else {
                w.pages_in_subject
            };
            format!("{} {} {caller} ({p} {word})", w.fax, w.from)
        }
        _ => format!("{} {} {caller}", service_word(&w, service), w.from),
    }
}

/// What the body of an inbound mail states.
#[derive(Clone, Copy)]
pub(super) struct Facts<'a> {
    pub(super) service: Service,
    pub(super) calling: &'a str,
    pub(super) called: &'a str,
    pub(super) received_at: &'a str,
    pub(super) pages: Option<u32>,
    pub(super) duration_s: Option<u64>,
    /// The SMS itself; `None` for a fax or voice message (attached).
    pub(super) sms_text: Option<&'a str>,
}

/// The text body: the facts, then the SMS text or a note that the message is attached.
///
/// Values from the engine are cleaned with the rule of outbound body text
/// ([`clean_char`]): the SMS text keeps its lines (CRLF and a bare CR become LF) and loses
/// every other control character, the one-line values lose their line breaks too. So no
/// bare CR of an SMS (the GSM alphabet has one) reaches the mail.
pub(super) fn body(lang: Language, f: &Facts<'_>) -> String {
    let calling = clean_value(f.calling);
    let called = clean_value(f.called);
    let received_at = clean_value(f.received_at);
    let sms_text = f.sms_text.map(clean_text);
    let Facts {
        service,
        pages,
        duration_s,
        ..
    } = *f;
    let (calling, called, received_at) = (calling.as_str(), called.as_str(), received_at.as_str());
    let w = words(lang);
    let caller = if calling.is_empty() {
        w.unknown_caller
    } else {
        calling
    };
    let mut out = format!(
        "{} {} {caller}\n{}: {called}\n{}: {received_at}\n",
        service_word(&w, service),
        w.from,
        w.to,
        w.received
    );
    if let Some(p) = pages {
        out.push_str(&format!("{}: {p}\n", w.pages));
    }
    if let Some(d) = duration_s {
        out.push_str(&format!("{}: {d} {}\n", w.duration, w.seconds));
    }
    out.push('\n');
    match sms_text {
        Some(t) => {
            out.push_str(&t);
            out.push('\n');
        }
        None => {
            out.push_str(w.attached);
            out.push('\n');
        }
    }
    out
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
    use super::*;

    #[test]
    fn every_language_names_caller_and_pages() {
        for lang in [
            Language::De,
            Language::En,
            Language::Fr,
            Language::It,
            Language::Es,
            Language::Pt,
            Language::Nl,
        ] {
            let s = subject(lang, Service::Fax, "+49 30 1", Some(3));
            assert!(s.contains("+49 30 1") && s.contains('3'), "{s}");
            let facts = Facts {
                service: Service::Sms,
                calling: "",
                called: "+49 8142 4799123",
                received_at: "2026-11-26T10:15:00Z",
                pages: None,
                duration_s: None,
                sms_text: Some("Hallo"),
            };
            let b = body(lang, &facts);
            assert!(b.contains("Hallo") && b.contains("+49 8142 4799123"), "{b}");
        }
        assert_eq!(
            subject(Language::De, Service::Fax, "+49 30 1", Some(3)),
            "Fax von +49 30 1 (3 Seiten)"
        );
        assert_eq!(
            subject(Language::En, Service::Fax, "+49 30 1", Some(1)),
            "Fax from +49 30 1 (1 page)"
        );
    }

    #[test]
    fn sms_text_and_engine_values_are_cleaned_like_body_text() {
        let facts = Facts {
            service: Service::Sms,
            calling: "+49 30 1\r\nX: y",
            called: "+49 8142\r4799123",
            received_at: "2026-11-26T10:15:00Z\0",
            pages: None,
            duration_s: None,
            sms_text: Some(
                "x\r.\r\nMAIL FROM:<e@x>\r\n\u{7}bell\u{feff}\tnbsp\u{a0}end\rlast\u{1b}[0m",
            ),
        };
        let b = body(Language::En, &facts);
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
    }
}
