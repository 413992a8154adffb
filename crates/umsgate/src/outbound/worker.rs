//! The outbound worker: `smtp-in/` → policy → gateway, and delivery reports → mail.
//!
//! Implementation summary. One loop takes the messages of `smtp-in/` oldest first — those in
//! the spool's intake log from memory, the others from their files — woken by the listener
//! after each commit, and every few seconds for files dropped in by hand and for retries. A
//! logged message that is not finished at once is written out as files and retried from
//! there ([`Spool::keep`]). For each message: parse the MIME once; look the sender up (a directory failure
//! keeps the message for a later try); then for every recipient: read service and number
//! from the address, normalise and classify the number, build the payload, decide with the
//! policy, reserve the per-day slot, write the job record, submit to the gateway. A refusal
//! becomes an error report to the sender — always, whatever `report.delete` says. A temporary
//! failure (directory, store, gateway) keeps the message; the recipients already handled are
//! removed from its sidecar first, so a retry does not send them twice. Only when every
//! recipient is handled — and every report delivered or durably in `smtp-out/`
//! ([`Delivery::submit`]) — is the message removed (or archived to `smtp-in/error/`).
//!
//! A second loop collects delivery reports from the gateway ([`Gateway::reports`]) and mails
//! them to the sender (unless he chose "no delivery reports"); only then does the engine
//! forget the report and umsgate the job record.
//!
//! Up to eight messages are processed at once (each hand-over costs a few fsyncs, which then
//! overlap); a scan round ends when all of them are done, so one message is never handled
//! twice at the same time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use umsgate_domain::{Language, PhoneNumber, Service, SitePlan, UserSettings};

use super::jobs::{JobRecord, JobRecords};
use super::mime::{self, MessageContent, Payload};
use super::policy::{self, Decision, Effective, JobFacts, UnknownSenderOutcome, decide};
use super::refusal::Refusal;
use crate::config::{InstanceConfig, UnknownSenderAction};
use crate::directory::{Directory, User};
use crate::gateway::{DeliveryStatus, Gateway, IncomingReport, Job};
use crate::inbound::delivery::Delivery;
use crate::logs::InstanceLogs;
use crate::outbound::smtp_server::header_value;
use crate::reports::{MailParts, ReportInput, ReportKind, Reports};
use crate::spool::layout::InstanceDirs;
use crate::spool::{
    Entry, Origin, QueueId, Recipient, Sidecar, Spool, sidecar, sync_dir, write_synced,
};
use crate::store::Store;
use crate::{clock, rounds};

/// How often folders are scanned besides the wake-ups.
const SCAN_INTERVAL: Duration = Duration::from_secs(5);
/// Messages processed at once; their fsyncs (job record, gateway hand-over, counters)
/// overlap instead of queueing behind each other.
const PARALLEL: usize = 8;

/// Everything the worker needs, wired by the instance.
pub struct Outbound {
    pub instance: String,
    pub config: InstanceConfig,
    pub plan: SitePlan,
    pub dirs: InstanceDirs,
    pub smtp_in: Spool,
    /// Reports are handed to delivery (sent at once, or spooled in `smtp-out/`).
    pub mailer: Arc<Delivery>,
    pub directory: Arc<Directory>,
    pub gateway: Arc<Gateway>,
    pub store: Store,
    pub reports: Arc<Reports>,
    pub logs: Arc<InstanceLogs>,
    pub jobs: JobRecords,
    pub hostname: String,
    pub limits: mime::Limits,
    /// Messages removed from `smtp-in/` since its folder was last fsynced.
    pub removed_unsynced: std::sync::atomic::AtomicUsize,
}

/// Removals from `smtp-in/` made durable together, with one folder fsync.
const REMOVAL_BATCH: usize = 64;

/// Gives a logged message back to the spool's waiting queue when its work ends without
/// settling it (the write-out after a failure failed too, or the work panicked).
struct Release<'a>(&'a Spool, &'a Entry);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}

/// A condition that may clear: keep the message and try again later.
#[derive(Debug)]
struct Temporary(String);

/// The sender as the directory and the unknown-sender rule see him.
enum SenderResolution {
    Known(Sender),
    /// Not in the directory, and not sent as anybody else.
    Unknown(UnknownSenderOutcome),
}

/// Who the jobs of a message are charged to, and where reports go.
struct Sender {
    /// The directory entry whose settings apply.
    user: User,
    settings: Option<UserSettings>,
    /// The address reports go to (the original sender, also with `send_as`).
    report_to: Option<String>,
}

impl Outbound {
    /// Processes `smtp-in/` until shutdown.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = rounds::Backoff::default();
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.smtp_in.list() {
                Ok(files) => {
                    let mut entries = self.smtp_in.take_logged();
                    entries.extend(files);
                    entries.sort_by(|a, b| a.id.cmp(&b.id));
                    let items = entries.into_iter().map(|e| (e.id.to_string(), e));
                    let not_started = rounds::round(
                        items,
                        PARALLEL,
                        &mut backoff,
                        &shutdown,
                        ("outbound.deferred", &self.instance),
                        |entry| {
                            let me = Arc::clone(&self);
                            async move {
                                let _unfinished = Release(&me.smtp_in, &entry);
                                let result = me.process(&entry).await;
                                if result.is_err() {
                                    me.smtp_in.keep(&entry);
                                }
                                result.map_err(|Temporary(why)| why)
                            }
                        },
                    )
                    .await;
                    for entry in &not_started {
                        self.smtp_in.release(entry);
                    }
                    let me = Arc::clone(&self);
                    let _ = tokio::task::spawn_blocking(move || me.sync_removals()).await;
                }
                Err(e) => {
                    tracing::error!(event = "outbound.scan_failed", instance = %self.instance, error = %e)
                }
            }
            tokio::select! {
                _ = self.smtp_in.stored() => {}
                _ = tokio::time::sleep(SCAN_INTERVAL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

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

    async fn process(&self, entry: &Entry) -> Result<(), Temporary> {
        let eml = self
            .smtp_in
            .read(entry)
            .map_err(|e| Temporary(format!("cannot read {}: {e}", entry.id)))?;
        let mut sc = match &entry.sidecar {
            Some(s) => s.clone(),
            None => self.envelope_from_headers(&entry.id, &eml),
        };
        let content = mime::parse(&eml, &self.limits);
        let header_from = content.as_ref().ok().and_then(|c| c.from.clone());
        let sender_address = if sc.mail_from.is_empty() {
            header_from.clone()
        } else {
            Some(sc.mail_from.clone())
        };
        let (subject, message_id) = match &content {
            Ok(c) => (c.subject.clone(), c.message_id.clone()),
            Err(_) => (None, header_value(&eml, "message-id")),
        };

        // Mail for umsgate's own mailbox (read receipts, bounces of reports): kept for the
        // administrator, never turned into jobs.
        let system = &self.config.mail.report_sender;
        let (own, jobs): (Vec<Recipient>, Vec<Recipient>) = sc
            .rcpts
            .iter()
            .cloned()
            .partition(|r| r.address.eq_ignore_ascii_case(system));
        if jobs.is_empty() {
            let why = if own.is_empty() {
                "no recipient"
            } else {
                "mail for umsgate's own mailbox"
            };
            return self.archive(entry, why);
        }

        let sender = match self.resolve_sender(sender_address.as_deref()).await? {
            SenderResolution::Known(s) => s,
            SenderResolution::Unknown(outcome) => {
                let who = sender_address.clone().unwrap_or_else(|| "<>".to_owned());
                tracing::warn!(event = "outbound.unknown_sender", instance = %self.instance, queue_id = %entry.id, sender = %who, outcome = ?outcome);
                if outcome == UnknownSenderOutcome::Notify {
                    let input = self.report_input(
                        ReportKind::Refused(Refusal::UnknownSender {
                            sender: who.clone(),
                        }),
                        jobs[0].address.as_str(),
                        None,
                        &format!("{}-0", entry.id),
                        subject.clone(),
                        message_id.clone(),
                    );
                    let to = self.config.mail.default_recipient.clone();
                    self.queue_report(
                        &to,
                        &input,
                        self.config.defaults.reports.language,
                        self.config.defaults.reports.html,
                    )
                    .await?;
                }
                return if self.config.defaults.unknown_sender.archive {
                    self.archive(entry, "unknown sender")
                } else {
                    self.remove(entry)
                };
            }
        };

        let mut remaining = Vec::new();
        let mut failure = None;
        for (idx, rcpt) in sc.rcpts.iter().enumerate() {
            if rcpt.address.eq_ignore_ascii_case(system) {
                continue;
            }
            if failure.is_some() {
                remaining.push(rcpt.clone());
                continue;
            }
            let job_id = format!("{}-{idx}", entry.id);
            if let Err(t) = self
                .one(
                    &job_id,
                    rcpt,
                    &sender,
                    &content,
                    subject.clone(),
                    message_id.clone(),
                )
                .await
            {
                failure = Some(t);
                remaining.push(rcpt.clone());
            }
        }
        if let Some(t) = failure {
            if remaining.len() < sc.rcpts.len() {
                sc.rcpts = remaining;
                self.rewrite_sidecar(entry, &sc)
                    .map_err(|e| Temporary(format!("sidecar rewrite: {e}")))?;
            }
            return Err(t);
        }
        self.remove(entry)
    }

    /// One recipient: a job handed over, a refusal reported, or a temporary failure.
    async fn one(
        &self,
        job_id: &str,
        rcpt: &Recipient,
        sender: &Sender,
        content: &Result<MessageContent, Refusal>,
        subject: Option<String>,
        message_id: Option<String>,
    ) -> Result<(), Temporary> {
        let parsed = self
            .config
            .mail
            .sender_template
            .parse(&rcpt.address, &self.config.mail.domain);
        let service = parsed.as_ref().map(|p| p.service).unwrap_or(Service::Fax);
        let eff = Effective::resolve(sender.settings.as_ref(), &self.config.defaults, service);
        let refused = |r: Refusal| (r, eff.report_lang, eff.report_html);
        let outcome: Result<(Job, JobRecord), (Refusal, Language, bool)> = async {
            let parsed = parsed.map_err(|e| {
                refused(Refusal::BadNumber {
                    number: rcpt.address.clone(),
                    detail: e.to_string(),
                })
            })?;
            let number = self.plan.normalise(&parsed.number).map_err(|e| {
                refused(Refusal::BadNumber {
                    number: parsed.number.clone(),
                    detail: e.to_string(),
                })
            })?;
            let content = content.as_ref().map_err(|r| refused(r.clone()))?;
            let payload = mime::build(content, service, &self.limits).map_err(refused)?;
            let pages = match &payload {
                Payload::Fax(f) => Some(f.pages),
                _ => None,
            };
            let facts = JobFacts {
                service,
                class: self.plan.classify(&number),
                pages,
                requested_priority: content.priority,
            };
            let used = self
                .store
                .used_today(&self.instance, &sender.user.mail, service)
                .await
                .unwrap_or(0);
            let priority = match decide(&eff, self.config.emergency_mode, &facts, used) {
                Decision::Accept { priority } => priority,
                Decision::Refuse(r) => return Err(refused(r)),
            };
            let job = self.job(
                job_id, service, &number, sender, &eff, priority, payload, content,
            );
            let record = JobRecord {
                job_id: job_id.to_owned(),
                service,
                e164: number.e164(),
                rcpt_address: rcpt.address.clone(),
                report_to: sender.report_to.clone(),
                user: sender.user.mail.clone(),
                language: eff.report_lang,
                html: eff.report_html,
                report_delete: eff.report_delete,
                subject: subject.clone(),
                original_message_id: message_id.clone(),
                pages,
                queued_at: clock::rfc3339(clock::now()),
            };
            Ok((job, record))
        }
        .await;

        let (job, record) = match outcome {
            Ok(j) => j,
            Err((refusal, lang, html)) => {
                tracing::info!(event = "outbound.refused", instance = %self.instance, job_id, rcpt = %rcpt.address, reason = refusal.code(), detail = %refusal);
                let input = self.report_input(
                    ReportKind::Refused(refusal),
                    &rcpt.address,
                    None,
                    job_id,
                    subject,
                    message_id,
                );
                if let Some(to) = &sender.report_to {
                    self.queue_report(to, &input, lang, html).await?;
                }
                return Ok(());
            }
        };

        let user = &sender.user.mail;
        let granted = self
            .store
            .reserve(&self.instance, user, job.service, eff.per_day)
            .await
            .map_err(|e| Temporary(e.to_string()))?;
        if !granted {
            let limit = eff.per_day.unwrap_or(0);
            let input = self.report_input(
                ReportKind::Refused(Refusal::DailyLimit {
                    service: job.service,
                    limit,
                }),
                &rcpt.address,
                None,
                job_id,
                subject,
                message_id,
            );
            tracing::info!(event = "outbound.refused", instance = %self.instance, job_id, reason = "daily_limit");
            if let Some(to) = &sender.report_to {
                self.queue_report(to, &input, eff.report_lang, eff.report_html)
                    .await?;
            }
            return Ok(());
        }
        let written = {
            let (jobs, record) = (self.jobs.clone(), record.clone());
            tokio::task::spawn_blocking(move || jobs.write(&record))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
        };
        if let Err(e) = written {
            let _ = self.store.release(&self.instance, user, job.service).await;
            return Err(Temporary(format!("job record: {e}")));
        }
        match self.gateway.submit(&job).await {
            Ok(()) => {
                tracing::info!(event = "outbound.submitted", instance = %self.instance, job_id, service = %job.service, number = %job.e164, pages = ?job.pages, priority = %job.priority);
                self.logs.msgid.line(&format!(
                    "job id={job_id} message-id={} service={} number={} sender=<{user}>",
                    record.original_message_id.as_deref().unwrap_or("-"),
                    job.service,
                    job.e164
                ));
                Ok(())
            }
            Err(e) if e.temporary => {
                let _ = self.store.release(&self.instance, user, job.service).await;
                let _ = self.jobs.remove(job_id);
                Err(Temporary(e.to_string()))
            }
            Err(e) => {
                let _ = self.store.release(&self.instance, user, job.service).await;
                let _ = self.jobs.remove(job_id);
                let input = self.report_input(
                    ReportKind::Failed {
                        reason: e.detail.clone(),
                    },
                    &rcpt.address,
                    None,
                    job_id,
                    subject,
                    message_id,
                );
                if let Some(to) = &sender.report_to {
                    self.queue_report(to, &input, eff.report_lang, eff.report_html)
                        .await?;
                }
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn job(
        &self,
        job_id: &str,
        service: Service,
        number: &PhoneNumber,
        sender: &Sender,
        eff: &Effective,
        priority: umsgate_domain::Priority,
        payload: Payload,
        content: &MessageContent,
    ) -> Job {
        let map = &self.config.directory.coverpage;
        let mut cover_fields = std::collections::BTreeMap::new();
        for (field, attr) in [
            ("company", &map.company),
            ("street", &map.street),
            ("zip", &map.zip),
            ("city", &map.city),
            ("department", &map.department),
            ("office", &map.office),
            ("phone", &map.phone),
            ("fax", &map.fax),
            ("custom1", &map.custom1),
            ("custom2", &map.custom2),
            ("custom3", &map.custom3),
        ] {
            if let Some(v) = sender.user.attribute(attr) {
                cover_fields.insert(field.to_owned(), v.to_owned());
            }
        }
        if !sender.user.name.is_empty() {
            cover_fields.insert("name".to_owned(), sender.user.name.clone());
        }
        let (text, pages, files) = match payload {
            Payload::Fax(f) => (
                None,
                Some(f.pages),
                f.documents.into_iter().map(|d| (d.name, d.data)).collect(),
            ),
            Payload::Sms(s) => (Some(s.text), None, Vec::new()),
            Payload::Voice(v) => (
                v.text,
                None,
                v.wav
                    .into_iter()
                    .map(|d| (d.name, d.data))
                    .collect::<Vec<_>>(),
            ),
        };
        let cover = match (&eff.cover, eff.cover_force) {
            (Some(c), _) => Some(c.clone()),
            (None, true) => Some("default".to_owned()),
            (None, false) => None,
        };
        Job {
            job_id: job_id.to_owned(),
            service,
            number: self.plan.spaced(number),
            e164: number.e164(),
            sender: sender.user.mail.clone(),
            priority,
            pages,
            cover: if service == Service::Fax { cover } else { None },
            headline: eff.headline.clone(),
            origin: eff.origin.clone(),
            billing: eff.billing.clone(),
            text,
            attachments: files
                .iter()
                .map(|(n, _): &(String, Vec<u8>)| n.clone())
                .collect(),
            fax_sender: eff.fax_sender.clone(),
            cover_fields,
            subject: content.subject.clone(),
            files,
        }
    }

    /// The sender's directory entry and settings; `Ok(None)` = unknown (after `send_as`).
    async fn resolve_sender(&self, address: Option<&str>) -> Result<SenderResolution, Temporary> {
        let found = match address {
            Some(a) => self
                .directory
                .by_sender(a)
                .await
                .map_err(|e| Temporary(e.to_string()))?,
            None => None,
        };
        let user = match found {
            Some(u) => u,
            None => {
                let us = &self.config.defaults.unknown_sender;
                let send_as = match *us.action.get_ref() {
                    UnknownSenderAction::SendAs => self
                        .directory
                        .by_sender(&us.send_as)
                        .await
                        .map_err(|e| Temporary(e.to_string()))?,
                    _ => None,
                };
                match (
                    policy::unknown_sender(*us.action.get_ref(), send_as.is_some()),
                    send_as,
                ) {
                    (UnknownSenderOutcome::SendAs, Some(u)) => u,
                    (outcome, _) => {
                        if *us.action.get_ref() == UnknownSenderAction::SendAs {
                            tracing::error!(event = "outbound.send_as_missing", instance = %self.instance, send_as = %us.send_as, "the send_as user is not in the directory; notifying instead");
                        }
                        return Ok(SenderResolution::Unknown(outcome));
                    }
                }
            }
        };
        let settings = match user.ums.as_deref() {
            None | Some("") => None,
            Some(attr) => match UserSettings::parse(attr) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(event = "outbound.bad_settings", instance = %self.instance, user = %user.id, error = %e, "malformed UMS attribute: instance defaults apply");
                    self.logs
                        .ldap
                        .line(&format!("bad_settings user={} error={e}", user.id));
                    None
                }
            },
        };
        Ok(SenderResolution::Known(Sender {
            user,
            settings,
            report_to: address.map(str::to_owned),
        }))
    }

    fn report_input(
        &self,
        kind: ReportKind,
        rcpt_address: &str,
        record: Option<&JobRecord>,
        job_id: &str,
        subject: Option<String>,
        original_message_id: Option<String>,
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
            subject,
            original_message_id,
            job_id: job_id.to_owned(),
            pages: record.and_then(|r| r.pages),
            duration: None,
            attempts: None,
            remote_id: None,
            at: clock::now(),
        }
    }

    /// Renders a report and hands it to delivery: sent at once, else durably in `smtp-out/`.
    async fn queue_report(
        &self,
        to: &str,
        input: &ReportInput,
        lang: Language,
        html: bool,
    ) -> Result<(), Temporary> {
        let rendered = self
            .reports
            .render(input, lang, html)
            .map_err(|e| Temporary(format!("report render: {e}")))?;
        let id = QueueId::generate();
        let message_id = format!("{id}.report@{}", self.hostname);
        let now = clock::now();
        let parts = MailParts {
            from_address: &self.config.mail.report_sender,
            from_name: &self.config.mail.report_display_name,
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
            &id.to_string(),
            &self.instance,
            clock::rfc3339(now),
            &self.config.mail.report_sender,
            to,
            &message_id,
        );
        self.logs.msgid.line(&format!(
            "out id={id} message-id=<{message_id}> to=<{to}> kind=report job={}",
            input.job_id
        ));
        self.mailer.submit(sc, eml).await.map_err(Temporary)?;
        Ok(())
    }

    /// One pass over the gateway's reports: every report becomes a mail (unless the user
    /// asked for none), then the engine forgets it and the job record goes. Up to
    /// [`PARALLEL`] at once; one whose mail cannot be handed over stays for a later pass.
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
                async move {
                    me.collect_report(&incoming)
                        .await
                        .map_err(|Temporary(why)| why)
                }
            },
        )
        .await;
    }

    async fn collect_report(&self, incoming: &IncomingReport) -> Result<(), Temporary> {
        let report = match &incoming.report {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(event = "outbound.bad_report", instance = %self.instance, report = %incoming.key, error = %e);
                self.gateway.set_aside(incoming, "bad").await;
                return Ok(());
            }
        };
        let record = match self.jobs.read(&report.job_id) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(event = "outbound.report_without_job", instance = %self.instance, job_id = %report.job_id, error = %e);
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
        tracing::info!(event = "outbound.delivery_report", instance = %self.instance, job_id = %report.job_id, status = ?report.status, reason = ?report.reason);
        if !record.report_delete
            && let Some(to) = &record.report_to
        {
            let mut input = self.report_input(
                kind,
                &record.rcpt_address,
                Some(&record),
                &record.job_id,
                record.subject.clone(),
                record.original_message_id.clone(),
            );
            input.pages = report.pages.or(record.pages);
            input.duration = report.duration_s.map(Duration::from_secs);
            input.attempts = report.attempts;
            input.remote_id = report.remote_id.clone();
            input.at = clock::parse_rfc3339(&report.finished_at).unwrap_or_else(clock::now);
            self.queue_report(to, &input, record.language, record.html)
                .await?;
        }
        self.gateway
            .report_done(incoming)
            .await
            .map_err(|e| Temporary(e.to_string()))?;
        let jobs = self.jobs.clone();
        let job_id = report.job_id.clone();
        let removed = tokio::task::spawn_blocking(move || jobs.remove(&job_id)).await;
        if let Ok(Err(e)) = removed {
            tracing::warn!(event = "outbound.job_record_remove_failed", instance = %self.instance, job_id = %report.job_id, error = %e);
        }
        Ok(())
    }

    /// A bare `.eml` dropped in by hand: envelope from `From:` and `To:`/`Cc:`.
    fn envelope_from_headers(&self, id: &QueueId, eml: &[u8]) -> Sidecar {
        let addresses = |name: &str| -> Vec<String> {
            header_value(eml, name)
                .map(|v| {
                    v.split(',')
                        .filter_map(|part| {
                            let a = match (part.find('<'), part.rfind('>')) {
                                (Some(s), Some(e)) if s < e => &part[s + 1..e],
                                _ => part,
                            };
                            let a = a.trim();
                            a.contains('@').then(|| a.to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut rcpts = addresses("to");
        rcpts.extend(addresses("cc"));
        Sidecar {
            v: sidecar::VERSION,
            id: id.to_string(),
            instance: self.instance.clone(),
            received_at: clock::rfc3339(clock::now()),
            origin: Origin::File,
            client: None,
            helo: None,
            tls: false,
            auth: None,
            mail_from: addresses("from").into_iter().next().unwrap_or_default(),
            rcpts: rcpts
                .into_iter()
                .map(|address| Recipient {
                    address,
                    orcpt: None,
                })
                .collect(),
            size: eml.len() as u64,
            message_id: header_value(eml, "message-id"),
            attempts: 0,
            next_attempt: None,
            last_error: None,
        }
    }

    fn rewrite_sidecar(&self, entry: &Entry, sc: &Sidecar) -> std::io::Result<()> {
        let dir = self.smtp_in.dir();
        if entry.logged.is_some() {
            return self.smtp_in.write_out(entry, sc, dir);
        }
        let tmp = dir
            .join(crate::spool::TMP_DIR)
            .join(format!("{}.json.rewrite", entry.id));
        let _ = std::fs::remove_file(&tmp);
        write_synced(&tmp, &sc.to_bytes())?;
        std::fs::rename(&tmp, dir.join(format!("{}.json", entry.id)))?;
        sync_dir(dir)
    }

    /// Removes a processed message. The folder is fsynced once per [`REMOVAL_BATCH`]
    /// removals and at the end of each round, not per message: a removal undone by a power
    /// loss only submits the jobs again under the same job ids, which the engine takes once.
    fn remove(&self, entry: &Entry) -> Result<(), Temporary> {
        use std::sync::atomic::Ordering;
        if entry.logged.is_some() {
            self.smtp_in.retire(entry);
            return Ok(());
        }
        let json = entry.eml.with_extension("json");
        std::fs::remove_file(&entry.eml)
            .map_err(|e| Temporary(format!("remove {}: {e}", entry.eml.display())))?;
        let _ = std::fs::remove_file(json);
        if self.removed_unsynced.fetch_add(1, Ordering::SeqCst) + 1 >= REMOVAL_BATCH {
            self.sync_removals();
        }
        Ok(())
    }

    fn sync_removals(&self) {
        use std::sync::atomic::Ordering;
        if self.removed_unsynced.swap(0, Ordering::SeqCst) > 0
            && let Err(e) = sync_dir(self.smtp_in.dir())
        {
            tracing::warn!(event = "outbound.sync_failed", instance = %self.instance, error = %e);
        }
    }

    /// Moves a message to `smtp-in/error/` with the reason logged.
    fn archive(&self, entry: &Entry, why: &str) -> Result<(), Temporary> {
        let target: PathBuf = self.dirs.smtp_in_error.clone();
        if entry.logged.is_some() {
            let eml = self.smtp_in.read(entry).unwrap_or_default();
            let sc = entry
                .sidecar
                .clone()
                .unwrap_or_else(|| self.envelope_from_headers(&entry.id, &eml));
            self.smtp_in
                .write_out(entry, &sc, &target)
                .map_err(|e| Temporary(format!("archive {}: {e}", entry.id)))?;
            tracing::info!(event = "outbound.archived", instance = %self.instance, queue_id = %entry.id, reason = why);
            return Ok(());
        }
        let move_one = |from: &std::path::Path| -> std::io::Result<()> {
            match from.file_name() {
                Some(n) if from.exists() => std::fs::rename(from, target.join(n)),
                _ => Ok(()),
            }
        };
        let json = entry.eml.with_extension("json");
        move_one(&json)
            .and_then(|()| move_one(&entry.eml))
            .and_then(|()| sync_dir(&target))
            .map_err(|e| Temporary(format!("archive {}: {e}", entry.eml.display())))?;
        tracing::info!(event = "outbound.archived", instance = %self.instance, queue_id = %entry.id, reason = why);
        Ok(())
    }
}
