//! Telling people what became of their mail: refusals, engine failures and delivery reports
//! all reach the sender (or, for an unknown sender, the default recipient) through here.
//!
//! Contract: [`Outbound::tell`] renders the report in the reader's language and hands it to
//! delivery; it returns `Ok` once the mail is delivered or durably in `smtp-out/`, so the
//! caller may then forget what the report is about. [`Outbound::refuse`] is the one path for a
//! job that is not sent: it is logged, and the sender is told — always, whatever his
//! "no delivery reports" setting says. A report that cannot be addressed (a recipient that
//! would break a header) is logged as an error and not retried.

use super::error::WorkError;
use super::jobs::JobRecord;
use super::plan::{MessageFacts, ReportPrefs};
use super::worker::Outbound;
use crate::clock;
use crate::metrics::{self, JobOutcome};
use crate::reports::{MailParts, ReportInput, ReportKind};
use crate::spool::{QueueId, Sidecar};
use umsgate_domain::Service;

impl Outbound {
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
        let rendered = self
            .reports
            .render(input, prefs.language, prefs.html)
            .map_err(WorkError::Report)?;
        let id = QueueId::generate();
        let message_id = format!("{id}.report@{}", self.hostname);
        let now = clock::now();
        let parts = MailParts {
            from_address: &self.config.mail.report_sender,
            from_name: self.config.mail.report_from_name(),
            to,
            message_id: &message_id,
            date: now,
        };
        let eml = match crate::reports::compose(&parts, &rendered, input) {
            Ok(e) => e,
            Err(e) => {
                // A value that would break a header: the report cannot be sent to this
                // address at all; say so loudly instead of retrying forever.
                tracing::error!(event = "outbound.report_refused", instance = %self.instance, job_id = %input.job_id, error = %e);
                return Ok(());
            }
        };
        let sc = Sidecar::local(
            &id,
            self.config.id.get_ref(),
            now,
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
}
