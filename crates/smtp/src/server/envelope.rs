//! MAIL FROM and RCPT TO: the envelope, checked as it arrives.
//!
//! RCPT addresses are read through the instance's address template at RCPT time, so the
//! mail server learns at once (550 5.1.1) that an address is not a fax, SMS or voice
//! address instead of receiving a bounce later. umsgate's own mailbox (`report_sender`) is
//! accepted too: read receipts and bounces for its reports come back to it.

use std::sync::atomic::Ordering;

use smtp_proto::{MAIL_BODY_BINARYMIME, MailFrom, RcptTo};
use tokio::io::{AsyncRead, AsyncWrite};

use super::reply::Outcome;
use super::session::{Flow, Phase, Session, Transaction};
use umsgate_spool::Recipient;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    pub(super) fn mail(&mut self, from: MailFrom<String>) -> Flow {
        match self.phase {
            Phase::Connected => return self.fail(Outcome::BadSequence("Send EHLO or HELO first")),
            Phase::Transaction(_) => return self.fail(Outcome::BadSequence("Nested MAIL command")),
            Phase::Ready => {}
        }
        if !self.ctx.smtp.auth.users.is_empty() && self.auth_user.is_none() {
            return self.fail(Outcome::AuthRequired);
        }
        let max = self.ctx.smtp.max_message_size.0;
        if from.size as u64 > max {
            return self.fail(Outcome::SizeLimit { max });
        }
        if from.flags & MAIL_BODY_BINARYMIME != 0 {
            return self.fail(Outcome::UnsupportedParameter("BODY=BINARYMIME".into()));
        }
        if from.address.chars().any(char::is_control) {
            return self.fail(Outcome::BadSenderAddress);
        }
        self.phase = Phase::Transaction(Transaction {
            from: from.address,
            rcpts: Vec::new(),
        });
        self.ok(Outcome::SenderOk)
    }

    pub(super) fn rcpt(&mut self, to: RcptTo<String>) -> Flow {
        let max = self.ctx.smtp.max_recipients;
        let Phase::Transaction(tx) = &self.phase else {
            return self.fail(Outcome::BadSequence("Need MAIL before RCPT"));
        };
        if tx.rcpts.len() >= max as usize {
            // Not a client error (RFC 5321 §4.5.3.1.10): the client sends the message to the
            // recipients taken and the rest in a later transaction. Counting the surplus
            // would close the session (421) before DATA on every try of a long list.
            return self.ok(Outcome::TooManyRecipients { max });
        }
        if self.ctx.unavailable.load(Ordering::Relaxed) {
            self.ctx.logs.smtp.line(&format!(
                "in rcpt_deferred session={} client={} rcpt=<{}> reason=state store unavailable",
                self.id, self.peer, to.address
            ));
            return self.fail(Outcome::Unavailable);
        }
        let address = to.address;
        if !address.eq_ignore_ascii_case(&self.ctx.system_mailbox)
            && let Err(why) = self.ctx.template.parse(&address, &self.ctx.domain)
        {
            self.ctx.logs.smtp.line(&format!(
                "in rcpt_refused session={} client={} rcpt=<{address}> reason={why}",
                self.id, self.peer
            ));
            return self.fail(Outcome::RecipientRefused {
                address,
                reason: why.to_string(),
            });
        }
        let orcpt = to.orcpt.filter(|o| !o.chars().any(char::is_control));
        if let Phase::Transaction(tx) = &mut self.phase {
            let key = u32::try_from(tx.rcpts.len()).unwrap_or(u32::MAX - 1);
            tx.rcpts.push(Recipient::new(address, orcpt, key));
        }
        self.ok(Outcome::RecipientOk)
    }
}
