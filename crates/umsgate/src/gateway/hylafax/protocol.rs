//! A client of hfaxd's FTP-like protocol (`hfaxd(8)`): one logged-in control connection,
//! data connections for uploads (`STOT`) and listings (`LIST`), active (`PORT`/`EPRT`: hfaxd
//! connects to a listener on the control connection's local address, and only hfaxd's address
//! is accepted) or passive (`PASV`).
//!
//! Contract: every reply is awaited at most `reply_timeout`, every data transfer at most
//! `transfer_timeout`; a reply line longer than [`MAX_LINE`] bytes, a reply of more than
//! [`MAX_LINES`] lines or a listing larger than [`MAX_LISTING`] bytes ends the session with an
//! error, never an unbounded read. A command is sent only when it holds no CR, LF or NUL, and
//! job parameter values go through [`quote`], which refuses control characters and escapes
//! `"` and `\` — nothing a sender writes can become a second command. Errors say whether they
//! are temporary ([`ProtoError::temporary`]): hfaxd's 4xx replies, time-outs and connection
//! failures are; its 5xx replies and refused values are not.
//!
//! Implementation summary: no crate speaks this protocol (only a Perl module exists), and the
//! part umsgate needs is small: `USER`/`PASS`, `TYPE I`, `PASV`, `STOT`, `JNEW`, `JPARM`,
//! `JSUBM`, `JOBFMT`, `LIST`, `JOB`, `JDELE`, `NOOP`. A passive data connection goes to the
//! control connection's peer address (the port from `227`), never to an address the reply
//! names. Active is the default, as in HylaFAX's own clients. Quick ACKs are asked for before
//! every reply: hfaxd writes with Nagle on, and on a kept connection our delayed ACK held each
//! of its replies ~40 ms (measured, `bench/README.md`).

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Longest reply line read.
pub const MAX_LINE: usize = 4096;
/// Most lines of one (multi-line) reply.
pub const MAX_LINES: usize = 1000;
/// Largest `LIST` output read.
pub const MAX_LISTING: usize = 16 << 20;

/// Where and how to log in.
#[derive(Clone)]
pub struct LoginParams {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// `None`: no `PASS` (hfaxd must not ask for one).
    pub password: Option<String>,
    pub reply_timeout: Duration,
    pub transfer_timeout: Duration,
    /// Passive data connections (`PASV`: umsgate connects) instead of active ones
    /// (`PORT`/`EPRT`: hfaxd connects back, as `sendfax` does by default).
    pub passive: bool,
}

impl fmt::Debug for LoginParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginParams")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| ".."))
            .finish()
    }
}

/// One reply: its code and the text of its lines (the code and separator removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The text of the last line.
    pub fn text(&self) -> &str {
        self.lines.last().map_or("", String::as_str)
    }
}

/// What went wrong talking to hfaxd.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProtoError {
    /// Connecting, reading or writing failed.
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    /// No answer in time.
    Timeout(&'static str),
    /// No reply to a command in time.
    NoReply { command: String },
    /// The server closed the connection.
    Closed,
    /// A reply that is not hfaxd's protocol (or exceeds the limits).
    Malformed(String),
    /// hfaxd answered a command with an error code.
    Refused {
        command: String,
        code: u16,
        text: String,
    },
    /// A value that cannot be sent (control characters).
    BadValue { what: String },
}

impl ProtoError {
    /// Whether trying again later may succeed.
    pub fn temporary(&self) -> bool {
        match self {
            ProtoError::Refused { code, .. } => *code < 500,
            ProtoError::BadValue { .. } => false,
            _ => true,
        }
    }

    /// Whether the control connection is unusable afterwards.
    pub fn breaks_session(&self) -> bool {
        !matches!(
            self,
            ProtoError::Refused { .. } | ProtoError::BadValue { .. }
        )
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::Io { what, source } => write!(f, "hfaxd {what}: {source}"),
            ProtoError::Timeout(what) => write!(f, "hfaxd did not answer in time ({what})"),
            ProtoError::NoReply { command } => {
                write!(f, "hfaxd did not answer {command} in time")
            }
            ProtoError::Closed => f.write_str("hfaxd closed the connection"),
            ProtoError::Malformed(s) => write!(f, "unexpected reply from hfaxd: {s}"),
            ProtoError::Refused {
                command,
                code,
                text,
            } => write!(f, "hfaxd refused {command}: {code} {text}"),
            ProtoError::BadValue { what } => {
                write!(f, "{what} contains control characters and cannot be sent")
            }
        }
    }
}

impl std::error::Error for ProtoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProtoError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A job parameter value as a quoted protocol string: control characters refused, `"` and
/// `\` escaped.
pub fn quote(what: &str, value: &str) -> Result<String, ProtoError> {
    if value.chars().any(char::is_control) {
        return Err(ProtoError::BadValue { what: what.into() });
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A data connection being set up.
enum Data {
    Passive(TcpStream),
    Active(tokio::net::TcpListener),
}

/// A logged-in control connection.
#[derive(Debug)]
pub struct Session {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    peer: SocketAddr,
    local: SocketAddr,
    passive: bool,
    reply_timeout: Duration,
    transfer_timeout: Duration,
    binary: bool,
}

impl Session {
    /// Connects, reads the greeting and logs in (`USER`, then `PASS` when hfaxd asks).
    pub async fn login(p: &LoginParams) -> Result<Session, ProtoError> {
        let addr = format!("{}:{}", p.host, p.port);
        let stream = tokio::time::timeout(p.reply_timeout, TcpStream::connect(&addr))
            .await
            .map_err(|_| ProtoError::Timeout("connect"))?
            .map_err(|source| ProtoError::Io {
                what: "connect",
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().map_err(|source| ProtoError::Io {
            what: "connect",
            source,
        })?;
        let local = stream.local_addr().map_err(|source| ProtoError::Io {
            what: "connect",
            source,
        })?;
        let (r, w) = stream.into_split();
        let mut s = Session {
            reader: BufReader::new(r),
            writer: w,
            peer,
            local,
            passive: p.passive,
            reply_timeout: p.reply_timeout,
            transfer_timeout: p.transfer_timeout,
            binary: false,
        };
        let greeting = s.read_reply().await?;
        if greeting.code != 220 {
            return Err(ProtoError::Refused {
                command: "the connection".into(),
                code: greeting.code,
                text: greeting.text().to_owned(),
            });
        }
        let user = s.command(&format!("USER {}", p.user)).await?;
        match (user.code, &p.password) {
            (230, _) => Ok(s),
            (331, Some(pw)) => {
                let r = s.command(&format!("PASS {pw}")).await?;
                if r.code == 230 {
                    Ok(s)
                } else {
                    Err(ProtoError::Refused {
                        command: "PASS".into(),
                        code: r.code,
                        text: r.text().to_owned(),
                    })
                }
            }
            (331, None) => Err(ProtoError::Refused {
                command: format!("USER {}", p.user),
                code: 530,
                text: "hfaxd asks for a password and none is configured".into(),
            }),
            (code, _) => Err(ProtoError::Refused {
                command: format!("USER {}", p.user),
                code,
                text: user.text().to_owned(),
            }),
        }
    }

    /// Reads one reply (all lines of a multi-line one).
    async fn read_reply(&mut self) -> Result<Reply, ProtoError> {
        // ACK hfaxd's replies at once: it writes them with Nagle on, so a reply written while
        // the previous one waits for our (delayed, ~40 ms) ACK is held until then. The kernel
        // leaves quick-ACK mode by itself, so it is asked for before every reply.
        let stream: &TcpStream = self.reader.get_ref().as_ref();
        let _ = rustix::net::sockopt::set_tcp_quickack(stream, true);
        let timeout = self.reply_timeout;
        tokio::time::timeout(timeout, read_reply(&mut self.reader))
            .await
            .map_err(|_| ProtoError::Timeout("reply"))?
    }

    /// Sends one command line and reads its reply, whatever the code.
    pub async fn command(&mut self, line: &str) -> Result<Reply, ProtoError> {
        if line.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(ProtoError::BadValue {
                what: "a command".into(),
            });
        }
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        tokio::time::timeout(self.reply_timeout, self.writer.write_all(&bytes))
            .await
            .map_err(|_| ProtoError::Timeout("send"))?
            .map_err(|source| ProtoError::Io {
                what: "send",
                source,
            })?;
        self.read_reply().await.map_err(|e| no_reply(e, line))
    }

    /// Sends a command and wants a 2xx reply. The command's name (first word) names it in
    /// errors — never its value.
    pub async fn ok(&mut self, line: &str) -> Result<Reply, ProtoError> {
        let r = self.command(line).await?;
        if (200..300).contains(&r.code) {
            Ok(r)
        } else {
            Err(refused(line, &r))
        }
    }

    /// Prepares a data connection: passive (`PASV`, connected now) or active (`PORT`/`EPRT`:
    /// a listener on the control connection's own address, accepted after the command).
    async fn data(&mut self) -> Result<Data, ProtoError> {
        if !self.binary {
            self.ok("TYPE I").await?;
            self.binary = true;
        }
        if !self.passive {
            let listener = tokio::net::TcpListener::bind(SocketAddr::new(self.local.ip(), 0))
                .await
                .map_err(|source| ProtoError::Io {
                    what: "data listener",
                    source,
                })?;
            let at = listener.local_addr().map_err(|source| ProtoError::Io {
                what: "data listener",
                source,
            })?;
            let port = at.port();
            let cmd = match at.ip() {
                std::net::IpAddr::V4(ip) => {
                    let o = ip.octets();
                    format!(
                        "PORT {},{},{},{},{},{}",
                        o[0],
                        o[1],
                        o[2],
                        o[3],
                        port >> 8,
                        port & 0xff
                    )
                }
                std::net::IpAddr::V6(ip) => format!("EPRT |2|{ip}|{port}|"),
            };
            self.ok(&cmd).await?;
            return Ok(Data::Active(listener));
        }
        let r = self.ok("PASV").await?;
        let port = pasv_port(r.text())?;
        let addr = SocketAddr::new(self.peer.ip(), port);
        tokio::time::timeout(self.reply_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ProtoError::Timeout("data connection"))?
            .map(Data::Passive)
            .map_err(|source| ProtoError::Io {
                what: "data connection",
                source,
            })
    }

    /// The data connection, once its command was answered with 1xx. An active one must come
    /// from hfaxd's address.
    async fn connected(&self, data: Data) -> Result<TcpStream, ProtoError> {
        match data {
            Data::Passive(c) => Ok(c),
            Data::Active(l) => {
                let (c, from) = tokio::time::timeout(self.reply_timeout, l.accept())
                    .await
                    .map_err(|_| ProtoError::Timeout("data connection"))?
                    .map_err(|source| ProtoError::Io {
                        what: "data connection",
                        source,
                    })?;
                if from.ip() != self.peer.ip() {
                    return Err(ProtoError::Malformed(format!(
                        "data connection from {from}, not from hfaxd"
                    )));
                }
                Ok(c)
            }
        }
    }

    /// Uploads a document as a temporary file (`STOT`); returns hfaxd's name for it.
    pub async fn store_temp(&mut self, data: &[u8]) -> Result<String, ProtoError> {
        let pending = self.data().await?;
        let r = self.command("STOT").await?;
        if !(100..200).contains(&r.code) {
            return Err(refused("STOT", &r));
        }
        let mut conn = self.connected(pending).await?;
        let _ = conn.set_nodelay(true);
        let sent = async {
            conn.write_all(data).await?;
            conn.shutdown().await
        };
        tokio::time::timeout(self.transfer_timeout, sent)
            .await
            .map_err(|_| ProtoError::Timeout("upload"))?
            .map_err(|source| ProtoError::Io {
                what: "upload",
                source,
            })?;
        drop(conn);
        let done = self.read_reply().await?;
        if done.code != 226 {
            return Err(refused("STOT", &done));
        }
        file_name(done.text())
            .or_else(|| file_name(r.text()))
            .ok_or_else(|| ProtoError::Malformed(format!("no file name in `{}`", done.text())))
    }

    /// The lines of `LIST <dir>` (in the format set with `JOBFMT`).
    pub async fn list(&mut self, dir: &str) -> Result<Vec<String>, ProtoError> {
        let pending = self.data().await?;
        let cmd = format!("LIST {dir}");
        let r = self.command(&cmd).await?;
        if !(100..200).contains(&r.code) {
            return Err(refused(&cmd, &r));
        }
        let conn = self.connected(pending).await?;
        let mut buf = Vec::new();
        let read = async {
            let mut limited = conn.take(MAX_LISTING as u64 + 1);
            limited.read_to_end(&mut buf).await
        };
        tokio::time::timeout(self.transfer_timeout, read)
            .await
            .map_err(|_| ProtoError::Timeout("listing"))?
            .map_err(|source| ProtoError::Io {
                what: "listing",
                source,
            })?;
        if buf.len() > MAX_LISTING {
            return Err(ProtoError::Malformed(format!(
                "listing of {dir} larger than {MAX_LISTING} bytes"
            )));
        }
        let done = self.read_reply().await?;
        if done.code != 226 {
            return Err(refused(&cmd, &done));
        }
        Ok(String::from_utf8_lossy(&buf)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect())
    }
}

/// A reply time-out names the command (its first word: values may be private).
fn no_reply(e: ProtoError, line: &str) -> ProtoError {
    match e {
        ProtoError::Timeout("reply") => ProtoError::NoReply {
            command: line.split(' ').next().unwrap_or_default().to_owned(),
        },
        e => e,
    }
}

/// A refusal naming the command by its first word (values may be private).
fn refused(line: &str, r: &Reply) -> ProtoError {
    let mut words = line.split(' ');
    let mut command = words.next().unwrap_or_default().to_owned();
    if command == "JPARM"
        && let Some(p) = words.next()
    {
        command = format!("JPARM {p}");
    }
    ProtoError::Refused {
        command,
        code: r.code,
        text: r.text().to_owned(),
    }
}

/// Reads one reply: `ddd text`, or `ddd-text` … up to a line starting `ddd `.
pub async fn read_reply<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Result<Reply, ProtoError> {
    let mut lines = Vec::new();
    let mut code: Option<u16> = None;
    loop {
        if lines.len() >= MAX_LINES {
            return Err(ProtoError::Malformed(format!(
                "reply longer than {MAX_LINES} lines"
            )));
        }
        let mut buf = Vec::new();
        let n = (&mut *reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|source| ProtoError::Io {
                what: "read",
                source,
            })?;
        if n == 0 {
            return Err(ProtoError::Closed);
        }
        if buf.last() != Some(&b'\n') {
            return Err(if buf.len() > MAX_LINE {
                ProtoError::Malformed(format!("reply line longer than {MAX_LINE} bytes"))
            } else {
                ProtoError::Closed
            });
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\r', '\n']);
        let head = line.get(..3).and_then(|d| {
            d.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| d.parse::<u16>().ok())
                .flatten()
        });
        let sep = line.as_bytes().get(3).copied();
        match (code, head, sep) {
            // The first line must carry a code.
            (None, Some(c), Some(b' ') | None) => {
                lines.push(line.get(4..).unwrap_or_default().to_owned());
                return Ok(Reply { code: c, lines });
            }
            (None, Some(c), Some(b'-')) => {
                code = Some(c);
                lines.push(line[4..].to_owned());
            }
            (None, _, _) => return Err(ProtoError::Malformed(line.chars().take(80).collect())),
            // The last line of a multi-line reply repeats the code and a space.
            (Some(c), Some(h), Some(b' ') | None) if h == c => {
                lines.push(line.get(4..).unwrap_or_default().to_owned());
                return Ok(Reply { code: c, lines });
            }
            (Some(_), _, _) => lines.push(line.trim_start().to_owned()),
        }
    }
}

/// The port of `Entering passive mode (h1,h2,h3,h4,p1,p2)`.
pub fn pasv_port(text: &str) -> Result<u16, ProtoError> {
    let bad = || ProtoError::Malformed(format!("PASV reply `{text}`"));
    let inner = text
        .split_once('(')
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(i, _)| i)
        .ok_or_else(bad)?;
    let nums: Vec<u8> = inner
        .split(',')
        .map(|n| n.trim().parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    match nums.as_slice() {
        [_, _, _, _, hi, lo] => Ok(u16::from(*hi) << 8 | u16::from(*lo)),
        _ => Err(bad()),
    }
}

/// The name after `FILE: ` in `226 Transfer complete (FILE: /tmp/doc1.ps).`.
pub fn file_name(text: &str) -> Option<String> {
    let rest = text.split_once("FILE: ")?.1;
    let name: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ')')
        .collect();
    let name = name.trim_end_matches('.');
    (!name.is_empty()).then(|| name.to_owned())
}

/// `JOBFMT` used for listings: id, state letter, pages done:total, dials, tries, owner, tag,
/// status text (last: it may hold anything).
pub const JOB_FORMAT: &str = "%j|%a|%P|%D|%T|%o|%J|%s";

/// One line of a `LIST sendq`/`doneq` in [`JOB_FORMAT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLine {
    pub id: String,
    /// `D` done, `F` failed, `S` sleeping (requeued), `W` waiting, `P` pending, `R` running…
    pub state: char,
    pub pages_done: u32,
    pub pages_total: u32,
    pub dials: u32,
    pub tries: u32,
    pub owner: String,
    pub tag: String,
    pub status: String,
}

impl JobLine {
    pub fn parse(line: &str) -> Option<JobLine> {
        let mut f = line.splitn(8, '|');
        let id = f.next()?.trim().to_owned();
        let state = f.next()?.trim().chars().next()?;
        let (pages_done, pages_total) = pair(f.next()?);
        let (dials, _) = pair(f.next()?);
        let (tries, _) = pair(f.next()?);
        let owner = f.next()?.trim().to_owned();
        let tag = f.next()?.trim().to_owned();
        let status = f.next().unwrap_or_default().trim().to_owned();
        (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then_some(JobLine {
            id,
            state,
            pages_done,
            pages_total,
            dials,
            tries,
            owner,
            tag,
            status,
        })
    }
}

/// ` 1:3 ` → (1, 3); missing parts are 0.
fn pair(s: &str) -> (u32, u32) {
    let mut it = s.trim().split(':').map(|n| n.trim().parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn reply_of(bytes: &[u8]) -> Result<Reply, ProtoError> {
        let mut r = BufReader::new(bytes);
        read_reply(&mut r).await
    }

    #[tokio::test]
    async fn replies_single_and_multi_line() {
        let r = reply_of(b"230 User umsgate logged in.\r\n").await.unwrap();
        assert_eq!((r.code, r.text()), (230, "User umsgate logged in."));
        let r = reply_of(b"217-JOB 5\r\n STATE: DONE\r\n217 End of status.\r\n")
            .await
            .unwrap();
        assert_eq!(r.code, 217);
        assert_eq!(r.lines, ["JOB 5", "STATE: DONE", "End of status."]);
        assert!(matches!(reply_of(b"").await, Err(ProtoError::Closed)));
        assert!(matches!(
            reply_of(b"230 no newline").await,
            Err(ProtoError::Closed)
        ));
        assert!(matches!(
            reply_of(b"hello\r\n").await,
            Err(ProtoError::Malformed(_))
        ));
        let long = [b"200 ".as_slice(), &[b'x'; MAX_LINE + 10], b"\r\n"].concat();
        assert!(matches!(
            reply_of(&long).await,
            Err(ProtoError::Malformed(_))
        ));
        let mut many = b"214-x\r\n".to_vec();
        for _ in 0..MAX_LINES + 5 {
            many.extend_from_slice(b" more\r\n");
        }
        many.extend_from_slice(b"214 end\r\n");
        assert!(matches!(
            reply_of(&many).await,
            Err(ProtoError::Malformed(_))
        ));
    }

    #[test]
    fn quoting_escapes_and_refuses() {
        assert_eq!(quote("x", "Jane \"J\" Doe").unwrap(), r#""Jane \"J\" Doe""#);
        assert_eq!(quote("x", r"a\b").unwrap(), r#""a\\b""#);
        for bad in ["a\r\nJSUBM", "a\nb", "a\0b", "tab\t"] {
            let e = quote("TAGLINE", bad).unwrap_err();
            assert!(!e.temporary());
            assert_eq!(
                e.to_string(),
                "TAGLINE contains control characters and cannot be sent"
            );
        }
    }

    #[test]
    fn pasv_and_file_names() {
        assert_eq!(
            pasv_port("Entering passive mode (127,0,0,1,203,7)").unwrap(),
            203 * 256 + 7
        );
        assert!(pasv_port("Entering passive mode (127,0,0,1,203)").is_err());
        assert!(pasv_port("Entering passive mode").is_err());
        assert_eq!(
            file_name("Transfer complete (FILE: /tmp/doc1.ps).").as_deref(),
            Some("/tmp/doc1.ps")
        );
        assert_eq!(
            file_name("FILE: /tmp/doc7.ps (Opening new data connection).").as_deref(),
            Some("/tmp/doc7.ps")
        );
        assert_eq!(file_name("Transfer complete."), None);
    }

    #[test]
    fn job_lines() {
        let l = JobLine::parse("1|D| 1:1 | 1:3 | 1:3 |umsgate|J42|").unwrap();
        assert_eq!(
            (
                l.id.as_str(),
                l.state,
                l.pages_done,
                l.pages_total,
                l.dials,
                l.tries
            ),
            ("1", 'D', 1, 1, 1, 1)
        );
        assert_eq!(
            (l.owner.as_str(), l.tag.as_str(), l.status.as_str()),
            ("umsgate", "J42", "")
        );
        let l =
            JobLine::parse("12|F| 0:2 | 1:3 | 1:3 |umsgate|J43|Fake failure | with bar").unwrap();
        assert_eq!(l.status, "Fake failure | with bar");
        assert_eq!(JobLine::parse("garbage"), None);
        assert_eq!(JobLine::parse("x|D|1:1|1:1|1:1|u|t|"), None);
    }

    #[test]
    fn temporary_or_permanent() {
        let r = |code| ProtoError::Refused {
            command: "JSUBM".into(),
            code,
            text: String::new(),
        };
        assert!(r(460).temporary());
        assert!(!r(550).temporary());
        assert!(ProtoError::Closed.temporary());
        assert!(ProtoError::Timeout("reply").temporary());
        assert!(!r(550).breaks_session());
        assert!(ProtoError::Closed.breaks_session());
    }
}
