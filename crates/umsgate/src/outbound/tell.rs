//! Telling people what became of their mail: refusals, engine failures and delivery reports
//! all reach the sender (or, for an unknown sender, the default recipient) through here.
//!
//! Contract: [`Outbound::tell`] renders the report in the reader's language and hands it to
//! delivery; it returns `Ok` once the mail is delivered or durably in `smtp-out/`, so the
//! caller may then forget what the report is about. [`Outbound::refuse`] is the one path for a
//! job that is not sent: it is logged, and the sender is told — always, whatever his
//! "no delivery reports" setting says. A report that cannot be addressed (a recipient that
//! would break a header) is logged as an error and not retried.
//!
//! A delivery report (sent / failed, from the engine) follows the instance's message store
//! ([`report_route`]): mailed with `store = "send"`, kept in the message journal with
//! `"journal"` ([`Outbound::report`] returns once it is durable and indexed there, the same
//! promise as the mailed path; indexed under the directory entry's own address, and mailed
//! instead when the address belongs to nobody in the directory — a `send_as` sender, who
//! could not read it in the portal), dropped with a log line with `"delete"`. What umsgate itself
//! has to say — refusals and error reports ([`Outbound::refuse`]) and anything addressed to
//! the default recipient — is mailed in every mode.

use super::error::WorkError;
use super::jobs::JobRecord;
use super::plan::{MessageFacts, ReportPrefs};
use super::worker::Outbound;
use crate::clock;
use crate::config::MessageStore;
use crate::message_journal::MessageJournal;
use crate::metrics::{self, JobOutcome};
use crate::reports::{MailParts, ReportInput, ReportKind};
use crate::spool::{QueueId, Sidecar};
use crate::store::{JournalEntry, JournalKind};
use umsgate_domain::Service;

/// Where a delivery report goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReportRoute {
    /// Mailed to its reader.
    Mail,
    /// Kept in the message journal, for its reader to see in the portal.
    Journal,
    /// Logged and dropped.
    Drop,
}

/// Where the delivery report of a job goes: by the instance's message store, except that a
/// report to the default recipient (a mail of the system, not of a user) is always mailed.
/// Refusals never come here: they are always mailed.
pub(super) fn report_route(store: MessageStore, to: &str, default_recipient: &str) -> ReportRoute {
    if to.eq_ignore_ascii_case(default_recipient) {
        return ReportRoute::Mail;
    }
    match store {
        MessageStore::Send => ReportRoute::Mail,
        MessageStore::Journal => ReportRoute::Journal,
        MessageStore::Delete => ReportRoute::Drop,
    }
}

impl Outbound {
    /// The delivery report of a job, where [`report_route`] sends it; `Ok` once it is mailed
    /// (or durably in `smtp-out/`), durably kept in the journal, or dropped.
    pub(super) async fn report(
        &self,
        to: &str,
        input: &ReportInput,
        prefs: ReportPrefs,
    ) -> Result<(), WorkError> {
        let route = report_route(
            self.config.mail.store,
            to,
            &self.config.mail.default_recipient,
        );
        match route {
            ReportRoute::Mail => self.tell(to, input, prefs).await,
            ReportRoute::Drop => {
                tracing::info!(event = "outbound.report_dropped", instance = %self.instance, job_id = %input.job_id, to, kind = input.kind.stem(), "store = \"delete\"");
                self.logs.msgid.line(&format!(
                    "out to=<{to}> kind=report store=deleted job={}",
                    input.job_id
                ));
                Ok(())
            }
            ReportRoute::Journal => {
                // Kept for the directory entry the address belongs to — the address the
                // portal shows him his entries under. A sender the directory does not know
                // (jobs sent `send_as` another user) could never read it there: mailed.
                let Some(owner) = self
                    .directory
                    .by_sender(to)
                    .await
                    .map_err(WorkError::Directory)?
                else {
                    tracing::info!(event = "outbound.report_mailed_to_unknown", instance = %self.instance, job_id = %input.job_id, to, "not in the directory: the report is mailed, not kept");
                    return self.tell(to, input, prefs).await;
                };
                let Some((id, message_id, eml)) = self.compose_report(to, input, prefs)? else {
                    return Ok(());
                };
                let entry = JournalEntry {
                    instance: self.instance.clone(),
                    id: id.to_string(),
                    kind: JournalKind::Report,
                    service: input.service,
                    calling: String::new(),
                    called: input.number.clone(),
                    recipient: owner.mail.clone(),
                    received_at: clock::rfc3339(input.at),
                    subject: crate::message_journal::subject_of(&eml),
                    size: eml.len() as u64,
                };
                self.logs.msgid.line(&format!(
                    "out id={id} message-id=<{message_id}> to=<{to}> kind=report store=journal job={}",
                    input.job_id
                ));
                MessageJournal::new(&self.instance, &self.dirs.journal, self.store.clone())
                    .keep(&entry, &eml)
                    .await
                    .map_err(WorkError::Journal)?;
                tracing::info!(event = "outbound.report_journaled", instance = %self.instance, job_id = %input.job_id, id = %id, to, kind = input.kind.stem());
                Ok(())
            }
        }
    }

    /// A job that is not sent: logged, and its sender told (see the module contract).
    pub(super) async fn refuse(
        &self,
        job_id: &str,
        rcpt_address: &str,
        report_to: Option<&str>,
        kind: ReportKind,
        prefs: ReportPrefs,
        facts: &MessageFacts,
    ) -> Result<(), WorkError> {
        let (reason, detail) = match &kind {
            ReportKind::Refused(r) => (r.code(), r.to_string()),
            ReportKind::Failed { reason } => ("engine_refused", reason.clone()),
            ReportKind::Sent => ("sent", String::new()),
        };
        tracing::info!(event = "outbound.refused", instance = %self.instance, job_id, rcpt = %rcpt_address, reason, detail = %detail);
        let service = self
            .config
            .mail
            .sender_template
            .parse(rcpt_address, &self.config.mail.domain)
            .map_or(Service::Fax, |p| p.service);
        metrics::job(&self.instance, service, JobOutcome::Refused);
        let Some(to) = report_to else {
            return Ok(());
        };
        let input = self.report_input(kind, rcpt_address, None, job_id, facts);
        self.tell(to, &input, prefs).await
    }

    pub(super) fn report_input(
        &self,
        kind: ReportKind,
        rcpt_address: &str,
        record: Option<&JobRecord>,
        job_id: &str,
        facts: &MessageFacts,
    ) -> ReportInput {
        let parsed = self
            .config
            .mail
            .sender_template
            .parse(rcpt_address, &self.config.mail.domain)
            .ok();
        let number = record
            .map(|r| r.e164.clone())
            .or_else(|| {
                parsed
                    .as_ref()
                    .and_then(|p| self.plan.normalise(&p.number).ok())
                    .map(|n| n.e164())
            })
            .or_else(|| parsed.as_ref().map(|p| p.number.clone()))
            .unwrap_or_else(|| rcpt_address.to_owned());
        ReportInput {
            kind,
            service: record
                .map(|r| r.service)
                .or(parsed.map(|p| p.service))
                .unwrap_or(Service::Fax),
            number,
            recipient_address: rcpt_address.to_owned(),
            subject: facts.subject.clone(),
            original_message_id: facts.message_id.clone(),
            job_id: job_id.to_owned(),
            pages: record.and_then(|r| r.pages),
            duration: None,
            attempts: None,
            remote_id: None,
            at: clock::now(),
        }
    }

    /// Renders a report and hands it to delivery: sent at once, else durably in `smtp-out/`.
    pub(super) async fn tell(
        &self,
        to: &str,
        input: &ReportInput,
        prefs: ReportPrefs,
    ) -> Result<(), WorkError> {
        let Some((id, message_id, eml)) = self.compose_report(to, input, prefs)? else {
            return Ok(());
        };
        let sc = Sidecar::local(
            &id,
            self.config.id.get_ref(),
            clock::now(),
            &self.config.mail.report_sender,
            to,
            &message_id,
        );
        self.logs.msgid.line(&format!(
            "out id={id} message-id=<{message_id}> to=<{to}> kind=report job={}",
            input.job_id
        ));
        self.mailer.submit(sc, eml).await.map_err(WorkError::Mail)?;
        metrics::report_mailed(&self.instance, input.kind.stem());
        Ok(())
    }

    /// The report as a mail to `to`: its queue id, Message-ID and bytes; `None` (logged) when
    /// it cannot be addressed to `to` at all.
    fn compose_report(
        &self,
        to: &str,
        input: &ReportInput,
        prefs: ReportPrefs,
    ) -> Result<Option<(QueueId, String, Vec<u8>)>, WorkError> {
        let rendered = self
            .reports
            .render(input, prefs.language, prefs.html)
            .map_err(WorkError::Report)?;
        let id = QueueId::generate();
        let message_id = format!("{id}.report@{}", self.hostname);
        let parts = MailParts {
            from_address: &self.config.mail.report_sender,
            from_name: self.config.mail.report_from_name(),
            to,
            message_id: &message_id,
            date: clock::now(),
        };
        match crate::reports::compose(&parts, &rendered, input) {
            Ok(eml) => Ok(Some((id, message_id, eml))),
            Err(e) => {
                // A value that would break a header: the report cannot be sent to this
                // address at all; say so loudly instead of retrying forever.
                tracing::error!(event = "outbound.report_refused", instance = %self.instance, job_id = %input.job_id, error = %e);
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_reports_follow_the_message_store_but_the_default_recipient_is_always_mailed() {
        let pm = "postmaster@example.com";
        for (store, route) in [
            (MessageStore::Send, ReportRoute::Mail),
            (MessageStore::Journal, ReportRoute::Journal),
            (MessageStore::Delete, ReportRoute::Drop),
        ] {
            assert_eq!(report_route(store, "jane@example.com", pm), route);
            assert_eq!(
                report_route(store, "Postmaster@Example.com", pm),
                ReportRoute::Mail,
                "{store:?}"
            );
        }
    }
}
