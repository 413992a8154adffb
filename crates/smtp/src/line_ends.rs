//! One rule for line ends in every mail umsgate hands on: CRLF, and nothing else.
//!
//! Contract: [`crlf`] returns the message with every line end as CRLF — a CRLF stays, a bare
//! LF and a bare CR each become one CRLF — and every other byte unchanged. A message that is
//! already consistent comes back borrowed, without a copy.
//!
//! Implementation summary: one scan for a bare CR or LF; only if there is one, one copy.
//! A bare CR counts as a line end because some servers read it as one: left as it is, a
//! `.` after it would end the message early for them (SMTP smuggling), and strict servers
//! refuse the whole mail.

use std::borrow::Cow;

/// See the module contract.
pub fn crlf(eml: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = first_bare(eml) else {
        return Cow::Borrowed(eml);
    };
    let mut out = Vec::with_capacity(eml.len() + eml.len() / 32 + 2);
    out.extend_from_slice(&eml[..first]);
    let mut i = first;
    while i < eml.len() {
        match eml[i] {
            b'\r' if eml.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// Where the first bare CR or bare LF is.
fn first_bare(eml: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < eml.len() {
        match eml[i] {
            b'\r' if eml.get(i + 1) == Some(&b'\n') => i += 2,
            b'\r' | b'\n' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_end_becomes_crlf() {
        assert!(matches!(crlf(b"a\r\nb\r\n"), Cow::Borrowed(_)));
        assert!(matches!(crlf(b"no line end"), Cow::Borrowed(_)));
        assert_eq!(
            &*crlf(b"a\nb\rc\r\nd\r\re\n\r"),
            b"a\r\nb\r\nc\r\nd\r\n\r\ne\r\n\r\n"
        );
        assert_eq!(&*crlf(b"\r"), b"\r\n");
        assert_eq!(&*crlf(b"x\r.\r\nMAIL"), b"x\r\n.\r\nMAIL");
    }
}
