//! A scripted mail server on 127.0.0.1 for the client's tests.
//!
//! Contract: [`FakeServer::start`] listens on a free port and serves every connection with
//! the [`Script`]'s greeting and AUTH reply; everything else is accepted (`250`, `354` for
//! DATA, `221` for QUIT). It reads DATA the way a *lenient* server does — a line end is LF
//! or a bare CR, and `.` alone on such a line ends the message — so a message that smuggles
//! a second transaction shows up as a second `MAIL FROM` in [`FakeServer::commands`].
//!
//! Implementation summary: one task per connection; commands and message bodies go into
//! shared vectors that the test reads after the client is done.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers where a test wants something other than success.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Script {
    /// The greeting, with CRLF.
    pub greeting: &'static str,
    /// The reply to `AUTH`, with CRLF.
    pub auth: &'static str,
    /// The reply to `EHLO`, with CRLF.
    pub ehlo: &'static str,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            greeting: "220 fake.test ESMTP\r\n",
            auth: "235 2.7.0 Authentication successful\r\n",
            ehlo: "250-fake.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n",
        }
    }
}

#[derive(Debug, Default)]
struct Seen {
    commands: Vec<String>,
    messages: Vec<Vec<u8>>,
}

/// The running server.
#[derive(Debug)]
pub(crate) struct FakeServer {
    pub port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl FakeServer {
    pub(crate) async fn start(script: Script) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, script, Arc::clone(&shared)));
            }
        });
        FakeServer { port, seen }
    }

    /// Every command line received, without its line end.
    pub(crate) fn commands(&self) -> Vec<String> {
        self.seen.lock().unwrap().commands.clone()
    }

    /// Every message body received (as sent, stuffing and line ends included, without the
    /// terminating `.` line).
    pub(crate) fn messages(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().messages.clone()
    }
}

async fn session(mut stream: tokio::net::TcpStream, script: Script, seen: Arc<Mutex<Seen>>) {
    let mut buf: Vec<u8> = Vec::new();
    if stream.write_all(script.greeting.as_bytes()).await.is_err() {
        return;
    }
    let mut in_data = false;
    loop {
        if in_data {
            if let Some(end) = lenient_end_of_data(&buf) {
                let body = buf[..end.0].to_vec();
                buf.drain(..end.1);
                seen.lock().unwrap().messages.push(body);
                in_data = false;
                if stream.write_all(b"250 2.0.0 queued\r\n").await.is_err() {
                    return;
                }
                continue;
            }
        } else if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line).trim_end().to_owned();
            seen.lock().unwrap().commands.push(line.clone());
            let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            let reply: &str = match verb.as_str() {
                "EHLO" => script.ehlo,
                "AUTH" => script.auth,
                "DATA" => {
                    in_data = true;
                    "354 go ahead\r\n"
                }
                "QUIT" => {
                    let _ = stream.write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => "250 2.0.0 ok\r\n",
            };
            if stream.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
            continue;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Where the message ends for a lenient reader: `.` alone on a line, where a line end is LF,
/// CRLF or a bare CR. Returns (end of the body, end of the terminator).
fn lenient_end_of_data(buf: &[u8]) -> Option<(usize, usize)> {
    if buf.starts_with(b".\r\n") {
        return Some((0, 3));
    }
    (0..buf.len()).find_map(|i| {
        let eol = buf[i] == b'\n' || (buf[i] == b'\r' && buf.get(i + 1) != Some(&b'\n'));
        let rest = &buf[i + 1..];
        (eol && rest.starts_with(b".\r\n")).then_some((i + 1, i + 4))
    })
}
