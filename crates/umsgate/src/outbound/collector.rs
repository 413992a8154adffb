//! Delivery reports: what the engine says about each job becomes a mail to its sender.
//!
//! Contract: a report is mailed — or with `store = "journal"` kept in the message journal,
//! with `"delete"` dropped ([`super::tell::report_route`]) — (unless the user chose "no
//! delivery reports") before the engine forgets it ([`crate::gateway::Gateway::report_done`]) and before umsgate forgets
//! the job record, so a crash in between mails it again rather than never. A report that
//! cannot be read, or names a job umsgate has no record of, is set aside for the
//! administrator with a log line.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::error::WorkError;
use super::plan::{MessageFacts, ReportPrefs};
use super::worker::{Outbound, PARALLEL};
use crate::gateway::{DeliveryStatus, IncomingReport};
use crate::reports::ReportKind;
use crate::{clock, rounds};

impl Outbound {
    /// Mails delivery reports until shutdown.
    pub async fn run_reports(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = rounds::Backoff::default();
        loop {
            if *shutdown.borrow() {
                return;
            }
            self.collect_reports(&mut backoff, &shutdown).await;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One pass over the gateway's reports, up to [`PARALLEL`] at once; one whose mail cannot
    /// be handed over stays for a later pass.
    async fn collect_reports(
        self: &Arc<Self>,
        backoff: &mut rounds::Backoff,
        shutdown: &watch::Receiver<bool>,
    ) {
        let items = self
            .gateway
            .reports()
            .await
            .into_iter()
            .map(|r| (r.key.clone(), r));
        rounds::round(
            items,
            PARALLEL,
            backoff,
            shutdown,
            ("outbound.report_deferred", &self.instance),
            |incoming| {
                let me = Arc::clone(self);
                async move { me.collect_report(&incoming).await }
            },
        )
        .await;
    }

    pub(super) async fn collect_report(&self, incoming: &IncomingReport) -> Result<(), WorkError> {
        let report = match &incoming.report {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(event = "outbound.bad_report", instance = %self.instance, report = %incoming.key, error = %e);
                self.gateway.set_aside(incoming, "bad").await;
                return Ok(());
            }
        };
        let record = match self
            .jobs
            .read(&report.job_id)
            .await
            .map_err(WorkError::JobRecord)?
        {
            Some(r) => r,
            None => {
                tracing::error!(event = "outbound.report_without_job", instance = %self.instance, job_id = %report.job_id, "no job record");
                self.gateway.set_aside(incoming, "orphan").await;
                return Ok(());
            }
        };
        let kind = match report.status {
            DeliveryStatus::Sent => ReportKind::Sent,
            DeliveryStatus::Failed => ReportKind::Failed {
                reason: report.reason.clone().unwrap_or_default(),
            },
        };
        let outcome = match report.status {
            DeliveryStatus::Sent => crate::metrics::JobOutcome::Sent,
            DeliveryStatus::Failed => crate::metrics::JobOutcome::Failed,
        };
        crate::metrics::job(&self.instance, record.service, outcome);
        tracing::info!(event = "outbound.delivery_report", instance = %self.instance, job_id = %report.job_id, status = ?report.status, reason = ?report.reason);
        if !record.report_delete
            && let Some(to) = &record.report_to
        {
            let facts = MessageFacts {
                subject: record.subject.clone(),
                message_id: record.original_message_id.clone(),
            };
            let mut input = self.report_input(
                kind,
                &record.rcpt_address,
                Some(&record),
                &record.job_id,
                &facts,
            );
            input.pages = report.pages.or(record.pages);
            input.duration = report.duration_s.map(Duration::from_secs);
            input.attempts = report.attempts;
            input.remote_id = report.remote_id.clone();
            input.at = clock::parse_rfc3339(&report.finished_at).unwrap_or_else(|| {
                tracing::warn!(event = "outbound.report_time_unreadable", instance = %self.instance, job_id = %report.job_id, finished_at = %report.finished_at, "not `YYYY-MM-DDTHH:MM:SSZ`; the report says now instead");
                clock::now()
            });
            let prefs = ReportPrefs {
                language: record.language,
                html: record.html,
            };
            self.report(to, &input, prefs).await?;
        }
        self.gateway
            .report_done(incoming)
            .await
            .map_err(WorkError::Gateway)?;
        if let Err(e) = self.jobs.remove(&report.job_id).await {
            tracing::warn!(event = "outbound.job_record_remove_failed", instance = %self.instance, job_id = %report.job_id, error = %e);
        }
        Ok(())
    }
}
