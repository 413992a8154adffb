//! SMTP replies as a client reads them (RFC 5321 §4.2), and the EHLO capabilities it uses.
//!
//! Contract: [`read_reply`] reads one whole reply — `250-…` continuation lines up to the
//! `250 …` last line — from a buffered stream, with limits (a line is at most
//! [`MAX_LINE`] bytes, a reply at most [`MAX_LINES`] lines) and without trusting the server:
//! a line that does not start with three digits, or a continuation whose code differs, is an
//! `InvalidData` error, never a panic. [`Capabilities::from_ehlo`] reads the EHLO keywords
//! that change what the client sends.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// Longest reply line read (RFC 5321 allows 512; servers send longer texts).
pub const MAX_LINE: usize = 4096;
/// Most lines in one reply (an EHLO reply has one per extension).
pub const MAX_LINES: usize = 128;

/// One reply: its code and its text lines (without code and separator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 5xx: the server will not take it, whatever we do.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// `250 2.0.0 Ok: queued as 4F…`: the code and every line, on one line.
    pub fn one_line(&self) -> String {
        let text = self
            .lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if text.is_empty() {
            self.code.to_string()
        } else {
            format!("{} {text}", self.code)
        }
    }
}

/// Reads one reply; see the module contract.
pub async fn read_reply<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Reply> {
    let mut lines = Vec::new();
    let mut code = None;
    let mut buf = Vec::with_capacity(128);
    loop {
        buf.clear();
        let n = (&mut *r)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut buf)
            .await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        if buf.last() != Some(&b'\n') {
            return Err(invalid("reply line too long"));
        }
        let line = trim_eol(&buf);
        let (this, last, text) = parse_line(line)?;
        if *code.get_or_insert(this) != this {
            return Err(invalid("reply lines with different codes"));
        }
        lines.push(String::from_utf8_lossy(text).into_owned());
        if last {
            return Ok(Reply { code: this, lines });
        }
        if lines.len() >= MAX_LINES {
            return Err(invalid("reply with too many lines"));
        }
    }
}

fn trim_eol(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// `250-text` → (250, false, "text"); `250 text` or `250` → (250, true, …).
fn parse_line(line: &[u8]) -> io::Result<(u16, bool, &[u8])> {
    let digits = line.get(..3).ok_or_else(|| invalid("short reply line"))?;
    if !digits.iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&digits[0]) {
        return Err(invalid("reply line without a reply code"));
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    match line.get(3) {
        None => Ok((code, true, &[])),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err(invalid("reply code not followed by space or '-'")),
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("invalid reply: {what}"))
}

/// What the server offered in its EHLO reply, as far as the client uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub pipelining: bool,
    pub starttls: bool,
    pub eight_bit_mime: bool,
    pub smtputf8: bool,
    /// `SIZE n`: the largest message the server takes (0 = no limit given).
    pub size: u64,
    pub auth_plain: bool,
    pub auth_login: bool,
}

impl Capabilities {
    /// From the lines of a 250 EHLO reply (the first line is the greeting, not a keyword).
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut c = Capabilities::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "PIPELINING" => c.pipelining = true,
                "STARTTLS" => c.starttls = true,
                "8BITMIME" => c.eight_bit_mime = true,
                "SMTPUTF8" => c.smtputf8 = true,
                "SIZE" => c.size = words.next().and_then(|n| n.parse().ok()).unwrap_or(0),
                "AUTH" => {
                    for m in words {
                        match m.to_ascii_uppercase().as_str() {
                            "PLAIN" => c.auth_plain = true,
                            "LOGIN" => c.auth_login = true,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    async fn read(bytes: &[u8]) -> io::Result<Reply> {
        let mut r = tokio::io::BufReader::new(bytes);
        read_reply(&mut r).await
    }

    #[tokio::test]
    async fn single_and_multi_line_replies() {
        let r = read(b"250 2.0.0 Ok: queued as 4F\r\n").await.unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.one_line(), "250 2.0.0 Ok: queued as 4F");
        let r = read(b"250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n")
            .await
            .unwrap();
        assert_eq!(r.lines.len(), 5);
        let c = Capabilities::from_ehlo(&r);
        assert!(c.pipelining && c.eight_bit_mime && c.auth_plain && c.auth_login);
        assert!(!c.starttls && !c.smtputf8);
        assert_eq!(c.size, 1000);
        // A bare code, and LF without CR, are read.
        assert_eq!(read(b"354\n").await.unwrap().code, 354);
    }

    #[tokio::test]
    async fn malformed_replies_are_errors() {
        for bad in [
            &b"hello\r\n"[..],
            b"25\r\n",
            b"250-a\r\n251 b\r\n",
            b"250x\r\n",
            b"650 no\r\n",
            b"250-never ends\r\n",
            b"",
        ] {
            assert!(
                read(bad).await.is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!("250 {}\r\n", "x".repeat(MAX_LINE + 10));
        assert!(read(long.as_bytes()).await.is_err());
        let many = "250-x\r\n".repeat(MAX_LINES + 1) + "250 x\r\n";
        assert!(read(many.as_bytes()).await.is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_give_a_reply_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let _ = rt.block_on(read(&bytes));
        }

        #[test]
        fn written_replies_read_back(code in 200u16..600, lines in proptest::collection::vec("[ -~]{0,40}", 1..6)) {
            let mut text = String::new();
            for (i, l) in lines.iter().enumerate() {
                let sep = if i + 1 == lines.len() { ' ' } else { '-' };
                text.push_str(&format!("{code}{sep}{l}\r\n"));
            }
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let r = rt.block_on(read(text.as_bytes())).unwrap();
            prop_assert_eq!(r.code, code);
            prop_assert_eq!(r.lines, lines);
        }
    }
}
