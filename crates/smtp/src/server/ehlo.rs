//! EHLO, HELO and STARTTLS.

use tokio::io::{AsyncRead, AsyncWrite};

use super::reply::Outcome;
use super::session::{Flow, Phase, Session};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    /// Whether AUTH may be offered now.
    pub(super) fn auth_offered(&self) -> bool {
        !self.ctx.smtp.auth.users.is_empty() && (self.tls || !self.ctx.smtp.auth.require_tls)
    }

    pub(super) fn ehlo(&mut self, host: String, extended: bool) -> Flow {
        let host: String = host.chars().filter(|c| !c.is_control()).take(255).collect();
        if host.is_empty() {
            return self.fail(Outcome::Syntax(if extended {
                "EHLO hostname"
            } else {
                "HELO hostname"
            }));
        }
        // A new greeting aborts any transaction (RFC 5321 §4.1.4).
        self.phase = Phase::Ready;
        self.helo = Some((host.clone(), extended));
        let greet = Outcome::HeloOk {
            host: self.ctx.hostname.clone(),
            client: host,
        };
        if !extended {
            return self.ok(greet);
        }
        let mut lines = vec![greet.reply().text.into_owned()];
        lines.push("PIPELINING".into());
        lines.push(format!("SIZE {}", self.ctx.smtp.max_message_size.0));
        lines.push("8BITMIME".into());
        lines.push("SMTPUTF8".into());
        lines.push("ENHANCEDSTATUSCODES".into());
        if self.ctx.tls.is_some() && !self.tls {
            lines.push("STARTTLS".into());
        }
        if self.auth_offered() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        let mut out = Vec::new();
        let last = lines.len() - 1;
        for (i, l) in lines.iter().enumerate() {
            out.extend_from_slice(
                format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }).as_bytes(),
            );
        }
        self.conn.reply_raw(&out);
        Flow::Continue
    }

    pub(super) fn starttls(&mut self) -> Flow {
        if self.tls {
            return self.fail(Outcome::BadSequence("TLS already active"));
        }
        if self.ctx.tls.is_none() {
            return self.fail(Outcome::TlsUnavailable);
        }
        if matches!(self.phase, Phase::Transaction(_)) {
            return self.fail(Outcome::BadSequence(
                "STARTTLS not allowed during a mail transaction",
            ));
        }
        self.conn.reply(&Outcome::ReadyForTls);
        Flow::StartTls
    }
}
