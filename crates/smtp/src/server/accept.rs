//! DATA: receive the message, make it durable, and only then answer 250.
//!
//! The message gets a `Received:` header naming the client and the queue id, and its
//! Message-ID (if any) is written to `msgid.log`. Whatever the outcome, the transaction is
//! over afterwards and the session is back in `Ready`. The message's room in the listener's
//! memory budget is held until the spool has answered, and given back whatever the outcome.

use std::mem;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::ReadError;
use super::data::{DataFault, Receiver};
use super::reply::Outcome;
use super::session::{Flow, Phase, Session, Transaction};
use umsgate_domain::clock;
use umsgate_spool::{Origin, QueueId, Sidecar, sidecar};

/// Longest line in a message (RFC 5321 allows 1000 with CRLF; real mail is sloppier).
pub(super) const MAX_DATA_LINE: usize = 2048;
/// Longest header value kept for the log.
const MAX_LOGGED_HEADER: usize = 998;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    pub(super) async fn data(&mut self) -> Flow {
        let tx = match &self.phase {
            Phase::Transaction(tx) if !tx.rcpts.is_empty() => {
                match mem::replace(&mut self.phase, Phase::Ready) {
                    Phase::Transaction(tx) => tx,
                    _ => return Flow::Close,
                }
            }
            Phase::Transaction(_) => {
                return self.fail(Outcome::BadSequence("Need RCPT before DATA"));
            }
            _ => return self.fail(Outcome::BadSequence("Need MAIL and RCPT before DATA")),
        };
        self.conn.reply(&Outcome::StartData);
        let max = self.ctx.smtp.max_message_size.0;
        let now = clock::now();
        let (id, trace) = self.trace_header(&tx, now);
        let mut receiver = Receiver::with_budget(
            trace,
            usize::try_from(max).unwrap_or(usize::MAX),
            MAX_DATA_LINE,
            self.ctx.data_budget.reservation(),
        );
        match self
            .conn
            .feed_until(self.ctx.smtp.data_timeout, |b| receiver.feed(b))
            .await
        {
            Ok(()) => {}
            Err(ReadError::Timeout) => {
                super::metrics::answered(&self.ctx.instance, &Outcome::Timeout);
                self.log_refusal(&tx, "timeout during DATA");
                self.conn.reply(&Outcome::Timeout);
                return Flow::Close;
            }
            Err(_) => {
                self.log_refusal(&tx, "connection lost during DATA");
                return Flow::Close;
            }
        }
        let total = receiver.total();
        let (body, room) = receiver.into_parts();
        let body = match body {
            Ok(b) => b,
            Err(fault) => {
                let (outcome, why) = match fault {
                    DataFault::TooBig => (
                        Outcome::SizeLimit { max },
                        format!("size {total} over limit {max}"),
                    ),
                    DataFault::BareLineEnding => {
                        (Outcome::BareLineEnding, "bare CR or LF".to_owned())
                    }
                    DataFault::Nul => (Outcome::NulInMessage, "NUL in message".to_owned()),
                    DataFault::LineTooLong => (
                        Outcome::DataLineTooLong { max: MAX_DATA_LINE },
                        "line too long".to_owned(),
                    ),
                    DataFault::NoMemory => (
                        Outcome::InsufficientStorage,
                        format!(
                            "memory for messages in transfer exhausted ({} of {} bytes held), deferred",
                            self.ctx.data_budget.in_use(),
                            self.ctx.data_budget.limit()
                        ),
                    ),
                };
                self.log_refusal(&tx, &why);
                return self.fail(outcome);
            }
        };
        let flow = self.queue(tx, id, now, body, Instant::now()).await;
        // Stored or refused: the room goes back only now.
        drop(room);
        flow
    }

    fn log_refusal(&self, tx: &Transaction, why: &str) {
        self.ctx.logs.smtp.line(&format!(
            "in data_refused session={} client={} from=<{}> reason={why}",
            self.id, self.peer, tx.from
        ));
        tracing::warn!(event = "smtp.data_refused", instance = %self.ctx.instance, session = self.id, client = %self.peer, reason = why);
    }

    /// The `Received:` header of the message about to be received, and its queue id.
    fn trace_header(&self, tx: &Transaction, now: std::time::SystemTime) -> (QueueId, Vec<u8>) {
        let id = QueueId::generate();
        let (helo, esmtp) = self.helo.clone().unwrap_or_default();
        let protocol = match (esmtp, self.tls, self.auth_user.is_some()) {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "ESMTPA",
            (true, true, true) => "ESMTPSA",
        };
        let rcpt_note = match tx.rcpts.as_slice() {
            [one] => format!("\r\n\tfor <{}>", one.address),
            _ => String::new(),
        };
        let received = format!(
            "Received: from {helo} ([{}])\r\n\tby {} (umsgate) with {protocol} id {id}{rcpt_note};\r\n\t{}\r\n",
            self.peer.ip(),
            self.ctx.hostname,
            clock::rfc5322(now)
        );
        (id, received.into_bytes())
    }

    async fn queue(
        &mut self,
        tx: Transaction,
        id: QueueId,
        now: std::time::SystemTime,
        eml: Vec<u8>,
        data_end: Instant,
    ) -> Flow {
        let helo = self.helo.clone().unwrap_or_default().0;
        let message_id = header_value(&eml, "message-id");
        let sidecar = Sidecar {
            v: sidecar::VERSION,
            id: id.clone(),
            instance: self.ctx.instance.clone(),
            received_at: now,
            origin: Origin::Smtp,
            client: Some(self.peer.to_string()),
            helo: Some(helo),
            tls: self.tls,
            auth: self.auth_user.clone(),
            mail_from: tx.from.clone(),
            rcpts: tx.rcpts,
            size: 0,
            message_id: message_id.clone(),
            attempts: 0,
            next_attempt: None,
            last_error: None,
        };
        let rcpts: Vec<String> = sidecar.rcpts.iter().map(|r| r.address.clone()).collect();
        let size = eml.len();
        match self.ctx.spool.store(sidecar, eml).await {
            Ok(id) => {
                self.ctx.logs.msgid.line(&format!(
                    "in id={id} message-id={} from=<{}> to=<{}> size={size}",
                    message_id.as_deref().unwrap_or("-"),
                    tx.from,
                    rcpts.join(">,<")
                ));
                tracing::info!(event = "smtp.queued", instance = %self.ctx.instance, session = self.id, queue_id = %id, size, rcpts = rcpts.len());
                super::metrics::accepted(&self.ctx.instance, data_end.elapsed());
                self.ok(Outcome::Queued { id: id.to_string() })
            }
            Err(e) => {
                self.ctx.logs.smtp.line(&format!(
                    "in queue_failed session={} client={} error={e}",
                    self.id, self.peer
                ));
                tracing::error!(event = "smtp.queue_failed", instance = %self.ctx.instance, session = self.id, error = %e);
                self.fail(Outcome::QueueWriteError)
            }
        }
    }
}

/// The unfolded value of the first header `name` (lower-case) in the header block of a CRLF
/// message, with control characters removed; `None` if absent.
pub fn header_value(msg: &[u8], name: &str) -> Option<String> {
    let end = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(msg.len(), |p| p + 2);
    let headers = &msg[..end];
    let mut value: Option<Vec<u8>> = None;
    for line in headers.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(v) = value.as_mut() {
            if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                v.extend_from_slice(line);
                continue;
            }
            break;
        }
        if let Some(colon) = line.iter().position(|b| *b == b':')
            && line[..colon].eq_ignore_ascii_case(name.as_bytes())
        {
            value = Some(line[colon + 1..].to_vec());
        }
    }
    let v = value?;
    let s: String = String::from_utf8_lossy(&v)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_LOGGED_HEADER)
        .collect();
    let s = s.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::header_value;

    #[test]
    fn finds_folded_headers_case_insensitively() {
        let m = b"Subject: a\r\nMESSAGE-ID:\r\n <x@y>\r\nTo: b\r\n\r\nMessage-ID: <body@z>\r\n";
        assert_eq!(header_value(m, "message-id").as_deref(), Some("<x@y>"));
        assert_eq!(
            header_value(b"Subject: a\r\n\r\nMessage-ID: <b@z>\r\n", "message-id"),
            None
        );
    }
}
