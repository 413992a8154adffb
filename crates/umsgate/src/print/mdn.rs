//! Read receipts: which mails a message arriving at umsgate's own address says were read.
//!
//! Contract: [`parse`] is pure and takes untrusted bytes; it never panics and reads at most
//! [`MAX_PARSED`] bytes as MIME (a larger message — a reply that quotes the fax back — is
//! read for its header block only) after the outbound bomb shield
//! ([`crate::outbound::mime::prescan`]) has passed it. It answers:
//! - [`Receipt::Mdn`] for a message with a `message/disposition-notification` part (RFC 8098):
//!   its `Original-Message-ID` and the disposition type (`displayed`, `deleted`, …); only
//!   `displayed` means the fax was read ([`Disposition::is_read`]);
//! - [`Receipt::Reply`] for a person's reply: the Message-IDs it names in `In-Reply-To`,
//!   `References` and, as some clients quote instead, in the first 64 KiB of its text body;
//!   at most [`MAX_IDS`]. Automatic answers (`Auto-Submitted` other than `no`, `X-Autoreply`,
//!   `X-Autorespond`, `Precedence: bulk|junk|list|auto_reply`) and delivery reports
//!   (`multipart/report` of another kind) are not replies: an absence notice says nothing
//!   about whether anyone read the fax;
//! - `None` for everything else.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

use crate::outbound::mime::{Limits, prescan};

/// Most bytes of a message parsed as MIME; beyond it only the header block is read.
pub const MAX_PARSED: usize = 1 << 20;
/// Most Message-IDs taken from one message.
pub const MAX_IDS: usize = 32;
/// Bytes of a reply's text searched for quoted Message-IDs.
const QUOTE_SCAN: usize = 64 << 10;
/// Longest Message-ID accepted (RFC 5322 lines are at most 998 characters).
const MAX_ID_LEN: usize = 250;

/// The disposition type of an MDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Displayed,
    Deleted,
    Dispatched,
    Processed,
    Denied,
    Failed,
    Other(String),
}

impl Disposition {
    fn parse(field: &str) -> Disposition {
        // `action-mode/sending-mode; disposition-type[/modifier]`
        let kind = field
            .split_once(';')
            .map_or(field, |(_, t)| t)
            .trim()
            .split(['/', ' ', '\t', '(', ';'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match kind.as_str() {
            "displayed" => Disposition::Displayed,
            "deleted" => Disposition::Deleted,
            "dispatched" => Disposition::Dispatched,
            "processed" => Disposition::Processed,
            "denied" => Disposition::Denied,
            "failed" => Disposition::Failed,
            _ => Disposition::Other(kind.chars().take(40).collect()),
        }
    }

    /// Whether the mail was shown to its reader.
    pub fn is_read(&self) -> bool {
        *self == Disposition::Displayed
    }

    pub fn as_str(&self) -> &str {
        match self {
            Disposition::Displayed => "displayed",
            Disposition::Deleted => "deleted",
            Disposition::Dispatched => "dispatched",
            Disposition::Processed => "processed",
            Disposition::Denied => "denied",
            Disposition::Failed => "failed",
            Disposition::Other(s) => s,
        }
    }
}

/// What a message says about mails umsgate sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// A message disposition notification.
    Mdn {
        original_message_id: Option<String>,
        disposition: Disposition,
    },
    /// A person's reply naming these Message-IDs (without `<>`).
    Reply { message_ids: Vec<String> },
}

impl Receipt {
    /// The Message-IDs this receipt says were read (none for an MDN of another disposition).
    pub fn read_ids(&self) -> Vec<&str> {
        match self {
            Receipt::Mdn {
                original_message_id: Some(id),
                disposition,
            } if disposition.is_read() => vec![id.as_str()],
            Receipt::Mdn { .. } => Vec::new(),
            Receipt::Reply { message_ids } => message_ids.iter().map(String::as_str).collect(),
        }
    }

    /// Every Message-ID the message names.
    pub fn named_ids(&self) -> Vec<&str> {
        match self {
            Receipt::Mdn {
                original_message_id,
                ..
            } => original_message_id.iter().map(String::as_str).collect(),
            Receipt::Reply { message_ids } => message_ids.iter().map(String::as_str).collect(),
        }
    }
}

/// Reads `eml`; see the module contract.
pub fn parse(eml: &[u8]) -> Option<Receipt> {
    let head_end = header_end(eml);
    let whole = eml.len() <= MAX_PARSED && prescan(eml, &Limits::default()).is_ok();
    let bytes = if whole { eml } else { &eml[..head_end] };
    let msg = MessageParser::default().parse(bytes)?;
    if whole {
        for part in msg.parts.iter() {
            let Some(ct) = part.content_type() else {
                continue;
            };
            if ct.ctype().eq_ignore_ascii_case("message")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("disposition-notification"))
            {
                return Some(mdn_fields(part.contents()));
            }
        }
    }
    if let Some(ct) = msg.content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        // A delivery report, or an MDN whose notification part was not found.
        return None;
    }
    if is_automatic(&msg) {
        return None;
    }
    let mut ids = Vec::new();
    for h in [msg.in_reply_to(), msg.references()] {
        push_header_ids(h, &mut ids);
    }
    if whole && let Some(text) = msg.body_text(0) {
        let end = floor_char_boundary(&text, QUOTE_SCAN);
        push_quoted_ids(&text[..end], &mut ids);
    }
    if ids.is_empty() {
        None
    } else {
        Some(Receipt::Reply { message_ids: ids })
    }
}

/// The end of the header block (after its blank line), or the whole message, at most 64 KiB.
fn header_end(eml: &[u8]) -> usize {
    let cap = eml.len().min(64 << 10);
    memchr::memmem::find(&eml[..cap], b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| memchr::memmem::find(&eml[..cap], b"\n\n").map(|i| i + 2))
        .unwrap_or(cap)
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

fn is_automatic(msg: &mail_parser::Message<'_>) -> bool {
    let raw = |name: &str| msg.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    raw("Auto-Submitted").is_some_and(|v| !v.starts_with("no"))
        || raw("X-Autoreply").is_some()
        || raw("X-Autorespond").is_some()
        || raw("Precedence")
            .is_some_and(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()))
}

/// The fields of a `message/disposition-notification` body (RFC 8098 §3.1): header-like
/// lines, continuation lines folded in.
fn mdn_fields(body: &[u8]) -> Receipt {
    let text = String::from_utf8_lossy(&body[..body.len().min(QUOTE_SCAN)]);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut ids = Vec::new();
    if let Some(v) = field("original-message-id") {
        push_quoted_ids(v, &mut ids);
    }
    Receipt::Mdn {
        original_message_id: ids.into_iter().next(),
        disposition: field("disposition")
            .map_or(Disposition::Other(String::new()), Disposition::parse),
    }
}

fn push_header_ids(h: &HeaderValue<'_>, out: &mut Vec<String>) {
    let mut push = |s: &str| {
        if out.len() < MAX_IDS
            && let Some(id) = clean_id(s)
            && !out.contains(&id)
        {
            out.push(id);
        }
    };
    match h {
        HeaderValue::Text(t) => push(t),
        HeaderValue::TextList(list) => list.iter().for_each(|t| push(t)),
        _ => {}
    }
}

/// Every `<local@domain>` in `text`, in order.
fn push_quoted_ids(text: &str, out: &mut Vec<String>) {
    let mut rest = text;
    while out.len() < MAX_IDS {
        let Some(open) = rest.find('<') else { break };
        rest = &rest[open + 1..];
        let window = &rest[..floor_char_boundary(rest, MAX_ID_LEN + 1)];
        let Some(close) = window.find('>') else {
            continue;
        };
        if let Some(id) = clean_id(&rest[..close])
            && !out.contains(&id)
        {
            out.push(id);
        }
        rest = &rest[close + 1..];
    }
}

/// A Message-ID as umsgate stores it: without `<>`, `local@domain`, printable ASCII.
fn clean_id(s: &str) -> Option<String> {
    let id = s.trim().trim_start_matches('<').trim_end_matches('>');
    let (l, d) = id.split_once('@')?;
    let ok = !l.is_empty()
        && !d.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"<>\"".contains(&b));
    ok.then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn mdn(disposition: &str) -> Vec<u8> {
        format!(
            "From: Jane <jane@example.com>\r\nTo: ums@example.com\r\nSubject: Read: Fax\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nYour message was displayed.\r\n\
             --b\r\nContent-Type: message/disposition-notification\r\n\r\n\
             Reporting-UA: mail.example.com; Thunderbird\r\n\
             Final-Recipient: rfc822;jane@example.com\r\n\
             Original-Message-ID: <0000000000000A01.fax@umsgate.test>\r\n\
             Disposition: manual-action/MDN-sent-manually;\r\n {disposition}\r\n\r\n\
             --b--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn an_mdn_names_its_original_and_only_displayed_counts_as_read() {
        let r = parse(&mdn("displayed")).unwrap();
        assert_eq!(
            r,
            Receipt::Mdn {
                original_message_id: Some("0000000000000A01.fax@umsgate.test".into()),
                disposition: Disposition::Displayed,
            }
        );
        assert_eq!(r.read_ids(), vec!["0000000000000A01.fax@umsgate.test"]);
        for (d, want) in [
            ("deleted", Disposition::Deleted),
            ("denied", Disposition::Denied),
            ("processed/error", Disposition::Processed),
        ] {
            let r = parse(&mdn(d)).unwrap();
            assert!(
                matches!(&r, Receipt::Mdn { disposition, .. } if *disposition == want),
                "{d}: {r:?}"
            );
            assert!(r.read_ids().is_empty(), "{d}");
            assert_eq!(r.named_ids().len(), 1);
        }
    }

    #[test]
    fn the_sample_mdn_is_read_although_it_is_auto_submitted() {
        let eml = include_bytes!("../../../../testdata/samples/mdn_displayed.eml");
        assert_eq!(
            parse(eml).unwrap().read_ids(),
            vec!["fax-0001.20231114221320@mail.example.com"]
        );
    }

    #[test]
    fn a_reply_names_what_it_answers_or_quotes() {
        let reply = b"From: jane@example.com\r\nTo: ums@example.com\r\nSubject: Re: Fax\r\n\
            In-Reply-To: <A.fax@umsgate.test>\r\nReferences: <x@y> <A.fax@umsgate.test>\r\n\r\nSeen, thanks.\r\n";
        assert_eq!(
            parse(reply).unwrap().read_ids(),
            vec!["A.fax@umsgate.test", "x@y"]
        );
        let quoting = b"From: jane@example.com\r\nSubject: Re: Fax\r\n\r\nSeen.\r\n> Message-ID: <B.fax@umsgate.test>\r\n";
        assert_eq!(
            parse(quoting).unwrap().read_ids(),
            vec!["B.fax@umsgate.test"]
        );
    }

    #[test]
    fn automatic_answers_and_bounces_are_no_receipts() {
        let ooo = b"From: jane@example.com\r\nAuto-Submitted: auto-replied\r\nIn-Reply-To: <A.fax@umsgate.test>\r\n\r\nI am away.\r\n";
        assert_eq!(parse(ooo), None);
        let bulk = b"From: jane@example.com\r\nPrecedence: bulk\r\nIn-Reply-To: <A.fax@umsgate.test>\r\n\r\nx\r\n";
        assert_eq!(parse(bulk), None);
        let dsn = b"From: MAILER-DAEMON@example.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nfailed <A.fax@umsgate.test>\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--b--\r\n";
        assert_eq!(parse(dsn), None);
        assert_eq!(
            parse(b"From: a@b\r\nSubject: hello\r\n\r\nno ids here\r\n"),
            None
        );
    }

    #[test]
    fn a_large_reply_is_read_for_its_headers_only() {
        let mut big =
            b"From: jane@example.com\r\nIn-Reply-To: <C.fax@umsgate.test>\r\n\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_PARSED));
        big.extend(b"<D.fax@umsgate.test>\r\n");
        assert_eq!(parse(&big).unwrap().read_ids(), vec!["C.fax@umsgate.test"]);
    }

    proptest! {
        #[test]
        fn never_panics_and_ids_stay_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            if let Some(r) = parse(&bytes) {
                let ids = r.named_ids();
                prop_assert!(ids.len() <= MAX_IDS);
                for id in ids {
                    prop_assert!(id.len() <= MAX_ID_LEN && id.contains('@'));
                }
            }
        }

        #[test]
        fn the_disposition_type_is_read_whatever_the_modes(t in "(displayed|deleted|denied)", m in "[a-z-]{1,12}/[A-Za-z-]{1,20}") {
            let d = Disposition::parse(&format!("{m}; {t}/error"));
            prop_assert_eq!(d.as_str(), t.as_str());
        }
    }
}
