//! Kannel's calls back to umsgate, parsed: delivery reports (`/dlr`, the `dlr-url` umsgate
//! gives with each SMS) and received SMS (`/mo`, the sms-service `get-url` or `post-url`).
//!
//! Contract: every parser here is pure and total — any input gives a value or a
//! [`CallbackError`] naming the parameter, never a panic. A query is read as
//! `application/x-www-form-urlencoded` into raw bytes (`+` is a space, `%XX` a byte; a broken
//! escape is kept as written), so that a text in another charset than UTF-8 survives until its
//! `charset` is known; names are ASCII. Every value has a length limit ([`MAX_QUERY`],
//! [`MAX_PARAM`], the text by the body limit of the listener). A repeated parameter is an
//! error, not a choice.
//!
//! Implementation summary: the query decoder is hand-written because `form_urlencoded` and
//! `serde_urlencoded` (what axum's `Query` uses) decode to UTF-8 lossily, which would destroy
//! a Latin-1 or UTF-16 text before its charset is read. Charsets Kannel gives for MO (`%C`):
//! `UTF-8` (with `mo-recode = true` Kannel recodes UCS-2 to it), `UTF-16BE`/`UCS-2`,
//! `ISO-8859-1`/`WINDOWS-1252` and `8-BIT` (binary, kept byte for byte as Latin-1).

use std::fmt;

/// Longest query string accepted.
pub const MAX_QUERY: usize = 32 * 1024;
/// Longest value of a parameter other than the text.
pub const MAX_PARAM: usize = 256;

/// Why a callback could not be used (answered with 400 and this text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackError {
    QueryTooLong(usize),
    /// A parameter name is not printable ASCII.
    BadName,
    Repeated(String),
    Missing(&'static str),
    TooLong(&'static str),
    /// Not a value this parameter can have.
    Invalid(&'static str),
    /// The text is not valid in the charset it claims.
    Charset(String),
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackError::QueryTooLong(n) => {
                write!(f, "query of {n} bytes is longer than {MAX_QUERY}")
            }
            CallbackError::BadName => f.write_str("a parameter name is not printable ASCII"),
            CallbackError::Repeated(n) => write!(f, "parameter `{n}` is given twice"),
            CallbackError::Missing(n) => write!(f, "parameter `{n}` is missing"),
            CallbackError::TooLong(n) => write!(f, "parameter `{n}` is too long"),
            CallbackError::Invalid(n) => write!(f, "parameter `{n}` has an invalid value"),
            CallbackError::Charset(c) => write!(f, "the text is not valid {c}"),
        }
    }
}

impl std::error::Error for CallbackError {}

/// A decoded query: names with their raw values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, Vec<u8>)>);

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `+` → space, `%XX` → byte; anything else as written.
pub fn decode_component(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                if let (Some(h), Some(l)) = (
                    s.get(i + 1).copied().and_then(hex),
                    s.get(i + 2).copied().and_then(hex),
                ) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

impl Params {
    /// Parses a query string (without `?`).
    pub fn parse(query: &str) -> Result<Params, CallbackError> {
        if query.len() > MAX_QUERY {
            return Err(CallbackError::QueryTooLong(query.len()));
        }
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = String::from_utf8(decode_component(name.as_bytes()))
                .ok()
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic()))
                .ok_or(CallbackError::BadName)?;
            if out.iter().any(|(n, _)| *n == name) {
                return Err(CallbackError::Repeated(name));
            }
            out.push((name, decode_component(value.as_bytes())));
        }
        Ok(Params(out))
    }

    /// The raw value of `name`.
    pub fn raw(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// A short printable-ASCII value (an empty value counts as absent).
    pub fn word(&self, name: &'static str) -> Result<Option<&str>, CallbackError> {
        let Some(v) = self.raw(name).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if v.len() > MAX_PARAM {
            return Err(CallbackError::TooLong(name));
        }
        std::str::from_utf8(v)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
            .map(Some)
            .ok_or(CallbackError::Invalid(name))
    }

    fn required(&self, name: &'static str) -> Result<&str, CallbackError> {
        self.word(name)?.ok_or(CallbackError::Missing(name))
    }
}

/// DLR `type` (`%d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DlrType {
    Delivered,
    Undelivered,
    QueuedOnSmsc,
    SmscAck,
    SmscNack,
}

impl DlrType {
    pub fn from_code(code: u32) -> Option<DlrType> {
        Some(match code {
            1 => DlrType::Delivered,
            2 => DlrType::Undelivered,
            4 => DlrType::QueuedOnSmsc,
            8 => DlrType::SmscAck,
            16 => DlrType::SmscNack,
            _ => return None,
        })
    }

    /// Whether this report ends the job.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DlrType::Delivered | DlrType::Undelivered | DlrType::SmscNack
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            DlrType::Delivered => "delivered to the phone",
            DlrType::Undelivered => "not delivered to the phone",
            DlrType::QueuedOnSmsc => "queued on the SMS centre",
            DlrType::SmscAck => "accepted by the SMS centre",
            DlrType::SmscNack => "refused by the SMS centre",
        }
    }
}

/// A delivery report callback: `/dlr?key=…&job=…&type=%d&status=%A&smscid=%F&ts=%T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dlr {
    pub job_id: String,
    pub kind: DlrType,
    /// The SMS centre's reply text (`%A`), possibly empty.
    pub reply: String,
    /// The SMS centre's message id (`%F`).
    pub smsc_id: Option<String>,
}

/// Whether a job id can be a file name and a URL value as written.
fn job_id_ok(s: &str) -> bool {
    super::super::received::safe_name(s)
}

impl Dlr {
    pub fn parse(p: &Params) -> Result<Dlr, CallbackError> {
        let job_id = p.required("job")?;
        if !job_id_ok(job_id) {
            return Err(CallbackError::Invalid("job"));
        }
        let kind = p
            .required("type")?
            .parse::<u32>()
            .ok()
            .and_then(DlrType::from_code)
            .ok_or(CallbackError::Invalid("type"))?;
        Ok(Dlr {
            job_id: job_id.to_owned(),
            kind,
            reply: p.word("status")?.unwrap_or_default().trim().to_owned(),
            smsc_id: p.word("smscid")?.map(str::to_owned),
        })
    }
}

/// A received SMS: `/mo?key=…&from=%p&to=%P&text=%a&coding=%c&charset=%C&id=%I` (with
/// `post-url` the text is the body instead of `text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mo {
    pub from: String,
    pub to: String,
    pub text: String,
    /// Kannel's message id (`%I`), to recognise a repeated call.
    pub id: Option<String>,
}

/// Whether `s` looks like a phone number or an alphanumeric sender: printable, no space.
fn number_ok(s: &str) -> bool {
    s.len() <= 32 && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Decodes `bytes` in `charset` (as Kannel names it; empty = UTF-8).
pub fn decode_text(bytes: &[u8], charset: &str) -> Result<String, CallbackError> {
    let cs = charset.trim().to_ascii_uppercase();
    match cs.as_str() {
        "" | "UTF-8" | "UTF8" => {
            String::from_utf8(bytes.to_vec()).map_err(|_| CallbackError::Charset("UTF-8".into()))
        }
        "UTF-16BE" | "UTF-16" | "UCS-2" | "UCS-2BE" => {
            if !bytes.len().is_multiple_of(2) {
                return Err(CallbackError::Charset(cs));
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| CallbackError::Charset(cs))
        }
        "ISO-8859-1" | "LATIN1" | "WINDOWS-1252" | "CP1252" | "8-BIT" | "BINARY" => {
            Ok(bytes.iter().map(|&b| char::from(b)).collect())
        }
        _ => Err(CallbackError::Charset(cs)),
    }
}

impl Mo {
    /// `body` is the POST body with its charset (from `Content-Type`), if any.
    pub fn parse(p: &Params, body: Option<(&[u8], &str)>) -> Result<Mo, CallbackError> {
        let from = p.required("from")?;
        let to = p.required("to")?;
        if !number_ok(from) {
            return Err(CallbackError::Invalid("from"));
        }
        if !number_ok(to) {
            return Err(CallbackError::Invalid("to"));
        }
        let charset = p.word("charset")?.unwrap_or_default();
        let text = match (p.raw("text"), body) {
            (Some(t), _) => decode_text(t, charset)?,
            (None, Some((b, body_charset))) => {
                let cs = if body_charset.is_empty() {
                    charset
                } else {
                    body_charset
                };
                decode_text(b, cs)?
            }
            (None, None) => return Err(CallbackError::Missing("text")),
        };
        Ok(Mo {
            from: from.to_owned(),
            to: to.to_owned(),
            text,
            id: p.word("id")?.map(str::to_owned),
        })
    }
}

/// Constant-time comparison of the callback secret.
pub fn key_matches(given: &[u8], expected: &str) -> bool {
    let e = expected.as_bytes();
    if given.len() != e.len() {
        return false;
    }
    given.iter().zip(e).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The charset of a `Content-Type` value (`text/plain; charset=utf-8`), or "".
pub fn content_charset(content_type: &str) -> &str {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .map_or("", |(_, v)| v.trim().trim_matches('"'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_kannel_dlr_parses() {
        let p = Params::parse("key=k&job=Q1-0&type=2&status=NACK%2F0x0000000b%2FInvalid+Destination&smscid=&ts=1764800000").unwrap();
        let d = Dlr::parse(&p).unwrap();
        assert_eq!(d.job_id, "Q1-0");
        assert_eq!(d.kind, DlrType::Undelivered);
        assert!(d.kind.is_final());
        assert_eq!(d.reply, "NACK/0x0000000b/Invalid Destination");
        assert_eq!(d.smsc_id, None);
        let p = Params::parse("job=Q1-0&type=8&status=ACK%2F").unwrap();
        assert!(!Dlr::parse(&p).unwrap().kind.is_final());
    }

    #[test]
    fn bad_dlrs_say_which_parameter() {
        for (q, e) in [
            ("type=1", CallbackError::Missing("job")),
            ("job=..%2Fx&type=1", CallbackError::Invalid("job")),
            ("job=a&type=3", CallbackError::Invalid("type")),
            ("job=a&type=x", CallbackError::Invalid("type")),
            ("job=a", CallbackError::Missing("type")),
            ("job=a&job=b&type=1", CallbackError::Repeated("job".into())),
            ("job=a&type=1&status=%FF", CallbackError::Invalid("status")),
        ] {
            let r = Params::parse(q).and_then(|p| Dlr::parse(&p));
            assert_eq!(r.unwrap_err(), e, "{q}");
        }
    }

    #[test]
    fn a_kannel_mo_parses_in_every_charset() {
        let p = Params::parse("from=%2B4917012345&to=4989000&text=Hello+MO+%E2%82%AC&smsc=fake1&ts=2026-12-04+05:40:32&coding=0&charset=UTF-8&id=6b1c").unwrap();
        let m = Mo::parse(&p, None).unwrap();
        assert_eq!(
            (m.from.as_str(), m.to.as_str(), m.text.as_str()),
            ("+4917012345", "4989000", "Hello MO €")
        );
        assert_eq!(m.id.as_deref(), Some("6b1c"));
        let p = Params::parse("from=1&to=2&text=%00G%00r%00%FC&charset=UTF-16BE").unwrap();
        assert_eq!(Mo::parse(&p, None).unwrap().text, "Grü");
        let p = Params::parse("from=1&to=2&text=Gr%FC%DFe&charset=ISO-8859-1").unwrap();
        assert_eq!(Mo::parse(&p, None).unwrap().text, "Grüße");
        let p = Params::parse("from=1&to=2&charset=UTF-8").unwrap();
        let body = "Grüße".as_bytes();
        assert_eq!(Mo::parse(&p, Some((body, "utf-8"))).unwrap().text, "Grüße");
        for (q, e) in [
            ("to=2&text=x", CallbackError::Missing("from")),
            ("from=1&text=x", CallbackError::Missing("to")),
            ("from=1&to=2", CallbackError::Missing("text")),
            ("from=1+2&to=2&text=x", CallbackError::Invalid("from")),
            (
                "from=1&to=2&text=%FF",
                CallbackError::Charset("UTF-8".into()),
            ),
            (
                "from=1&to=2&text=x&charset=EBCDIC",
                CallbackError::Charset("EBCDIC".into()),
            ),
        ] {
            let r = Params::parse(q).and_then(|p| Mo::parse(&p, None));
            assert_eq!(r.unwrap_err(), e, "{q}");
        }
    }

    #[test]
    fn limits_hold() {
        let long = format!("job={}&type=1", "a".repeat(MAX_QUERY));
        assert!(matches!(
            Params::parse(&long),
            Err(CallbackError::QueryTooLong(_))
        ));
        let p = Params::parse(&format!("job=a&type=1&status={}", "x".repeat(300))).unwrap();
        assert_eq!(Dlr::parse(&p), Err(CallbackError::TooLong("status")));
    }

    #[test]
    fn secrets_and_content_types() {
        assert!(key_matches(b"abc", "abc"));
        assert!(!key_matches(b"abd", "abc"));
        assert!(!key_matches(b"ab", "abc"));
        assert_eq!(content_charset("text/plain; charset=\"UTF-8\""), "UTF-8");
        assert_eq!(content_charset("text/plain"), "");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(q in "[a-z=&%+0-9A-F\\PC]{0,200}", body in proptest::collection::vec(any::<u8>(), 0..64), cs in "[A-Z0-9-]{0,12}") {
            if let Ok(p) = Params::parse(&q) {
                let _ = Dlr::parse(&p);
                let _ = Mo::parse(&p, Some((&body, &cs)));
            }
            let _ = decode_text(&body, &cs);
        }

        #[test]
        fn encoded_values_come_back(v in proptest::collection::vec(any::<u8>(), 0..100)) {
            let enc: String = v.iter().map(|b| format!("%{b:02X}")).collect();
            prop_assert_eq!(decode_component(enc.as_bytes()), v);
        }

        #[test]
        fn form_encoding_round_trips(text in "\\PC{0,80}") {
            let q = format!("from=1&to=2&text={}", form_encode(&text));
            let p = Params::parse(&q).unwrap();
            prop_assert_eq!(Mo::parse(&p, None).unwrap().text, text);
        }
    }

    /// What Kannel (and any form encoder) does.
    fn form_encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b' ' => "+".to_owned(),
                b if b.is_ascii_alphanumeric() || b"-_.*".contains(&b) => char::from(b).to_string(),
                b => format!("%{b:02X}"),
            })
            .collect()
    }
}
