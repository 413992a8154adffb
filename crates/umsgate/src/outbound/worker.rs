//! The outbound worker: `smtp-in/` → sender → plan → hand-over, one message at a time.
//!
//! Contract: every message taken from `smtp-in/` ends in one spool transition
//! ([`crate::spool::Spool`]'s `retire`, `rewrite`, `move_to` or `quarantine`): retired when every recipient
//! is handled (a job handed over, or a refusal reported); moved to `smtp-in/error/` for mail
//! to umsgate's own mailbox (except read receipts print-unread asked for, which are retired
//! once [`crate::print::PrintUnread::receipt`] has taken them) and, if configured, for
//! unknown senders; rewritten when something
//! temporary stops it ([`WorkError`]) — the recipients handled so far are marked in the
//! sidecar with their outcome, and the attempt count, reason and time of the next attempt are
//! recorded, so that neither a retry nor a restart handles a recipient twice or tries too
//! early; moved to `smtp-in/corrupt/` (`quarantine`) when its sidecar cannot be read (an
//! `.eml` without any sidecar was dropped in by hand and takes its envelope from its
//! headers). A recipient's job id is `<queue id>-<key>`, the key given when the message was
//! queued, so it never changes between attempts and the engine takes each job once.
//!
//! Implementation summary. One loop takes the messages of `smtp-in/` oldest first — those in
//! the spool's intake log from memory, the others from their files — woken by the listener
//! after each commit, and every few seconds for files dropped in by hand and for retries. For
//! each message: parse the MIME once; resolve the sender ([`super::sender`]); then for every
//! recipient still to do: the plan ([`super::plan`], pure), the hand-over
//! ([`super::handover`]), and for a job not sent the report to the sender ([`super::tell`]).
//! A round waits for a pause in intake ([`Spool::lull`]: 100 ms without a new message, 5 s at
//! most): a burst of mail is accepted with no processing writing and syncing beside it — its
//! fsyncs would share the disk with the intake log's — and processed right after. Up to
//! [`Gateway::max_in_flight`] messages are processed at once (each hand-over costs a few
//! fsyncs, which then overlap, and for a network engine a round trip: eight for a local
//! engine, 32 for Kannel, where eight made umsgate hand over SMS at 0.2× the rate of a plain
//! sendsms client — bench/README.md); a slot is freed as soon as its message is done, and a
//! scan round ends when all of them are done, so one message is never handled twice at the
//! same time. Delivery reports are collected by a second loop
//! ([`super::collector`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use umsgate_domain::{Service, SitePlan};
use umsgate_render::cover::Covers;
use umsgate_render::{RenderError, RenderErrorKind, Renderer};

use super::error::WorkError;
use super::handover::HandedOver;
use super::jobs::JobRecords;
use super::mime::{self, MessageContent};
use super::plan::{self, Context, FaxBody, MessageFacts, Plan, ReportPrefs, Target};
use super::policy::UnknownSenderOutcome;
use super::refusal::Refusal;
use super::sender::{Sender, SenderResolution};
use crate::config::InstanceConfig;
use crate::delivery::Delivery;
use crate::directory::Directory;
use crate::gateway::Gateway;
use crate::logs::InstanceLogs;
use crate::reports::{ReportKind, Reports};
use crate::spool::layout::InstanceDirs;
use crate::spool::{Entry, Recipient, RecipientOutcome, Sidecar, Spool, adopt};
use crate::store::Store;
use crate::{clock, rounds};

/// How often folders are scanned besides the wake-ups.
const SCAN_INTERVAL: Duration = Duration::from_secs(5);
/// Intake first: a round starts once no mail has been stored for this long ([`Spool::lull`]),
/// so that a burst is taken with no processing writing and syncing beside it...
const INTAKE_QUIET: Duration = Duration::from_millis(100);
/// ...but never later than this after the worker woke (and at once from the backlog's slow
/// mark): under steady load mail still waits at most a few seconds.
const INTAKE_PATIENCE: Duration = Duration::from_secs(5);
/// Delivery reports mailed at once by the collector; their fsyncs overlap instead of
/// queueing behind each other. (Messages handed over at once: [`Gateway::max_in_flight`].)
pub(super) const PARALLEL: usize = 8;

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
    /// Turns fax payloads into pages (shared by the instances).
    pub renderer: Arc<Renderer>,
    /// Cover templates (shared by the instances).
    pub covers: Arc<Covers>,
    /// Print-unread, which reads receipts sent to `report_sender` (set by the instance;
    /// `None` only in tests that do without it).
    pub print: Option<Arc<crate::print::PrintUnread>>,
}

/// Gives a logged message back to the spool's waiting queue when its work ends without
/// settling it (the rewrite after a failure failed too, or the work panicked).
struct Release<'a>(&'a Spool, &'a Entry);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}

impl Outbound {
    /// Processes `smtp-in/` until shutdown.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = rounds::Backoff::default();
        loop {
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                _ = self.smtp_in.lull(INTAKE_QUIET, INTAKE_PATIENCE) => {}
                _ = shutdown.changed() => continue,
            }
            match self.smtp_in.list() {
                Ok(files) => {
                    let now = clock::now();
                    let mut entries = self.smtp_in.take_logged();
                    entries.extend(files.into_iter().filter(|e| due(e, now)));
                    entries.sort_by(|a, b| a.id.cmp(&b.id));
                    let items = entries.into_iter().map(|e| (e.id.to_string(), e));
                    let not_started = rounds::round(
                        items,
                        self.gateway.max_in_flight(),
                        &mut backoff,
                        &shutdown,
                        ("outbound.deferred", &self.instance),
                        |entry| {
                            let me = Arc::clone(&self);
                            async move {
                                let _unfinished = Release(&me.smtp_in, &entry);
                                me.process(&entry).await
                            }
                        },
                    )
                    .await;
                    for entry in &not_started {
                        self.smtp_in.release(entry);
                    }
                    let me = Arc::clone(&self);
                    let synced = tokio::task::spawn_blocking(move || me.smtp_in.sync_removals())
                        .await
                        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
                    if let Err(e) = synced {
                        tracing::warn!(event = "outbound.sync_failed", instance = %self.instance, error = %e);
                    }
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

    fn context(&self) -> Context<'_> {
        Context {
            config: &self.config,
            plan: &self.plan,
            limits: &self.limits,
            covers: &self.covers,
        }
    }

    /// One message; see the module contract. `Err` = kept for a later attempt (recorded).
    pub(super) async fn process(&self, entry: &Entry) -> Result<(), WorkError> {
        if entry.sidecar.is_none()
            && entry.logged.is_none()
            && entry.eml.with_extension("json").exists()
        {
            return self.quarantine(entry);
        }
        let eml = self.smtp_in.read(entry).map_err(WorkError::Read)?;
        let mut sc = match &entry.sidecar {
            Some(s) => s.clone(),
            None => {
                let now = clock::now();
                let received = adopt::settled(&entry.eml, now)
                    .ok()
                    .flatten()
                    .unwrap_or(now);
                adopt::sidecar(&entry.id, self.config.id.get_ref(), received, &eml)
            }
        };
        match self.handle(entry, &eml, &mut sc).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.defer(entry, &mut sc, &e);
                Err(e)
            }
        }
    }

    async fn handle(&self, entry: &Entry, eml: &[u8], sc: &mut Sidecar) -> Result<(), WorkError> {
        let content = mime::parse(eml, &self.limits);
        let facts = facts(&content, eml);
        let from_header = content.as_ref().ok().and_then(|c| c.from.clone());
        let sender_address = if sc.mail_from.is_empty() {
            from_header
        } else {
            Some(sc.mail_from.clone())
        };

        // Mail for umsgate's own mailbox (read receipts, bounces of reports): kept for the
        // administrator, never turned into jobs.
        let system = self.config.mail.report_sender.clone();
        let own = |r: &Recipient| r.address.eq_ignore_ascii_case(&system);
        let Some(first) = sc.rcpts.iter().find(|r| !own(r)) else {
            if sc.rcpts.is_empty() {
                return self.archive(entry, sc, "no recipient");
            }
            if let Some(print) = &self.print
                && print
                    .receipt(eml, entry.id.as_str())
                    .await
                    .map_err(WorkError::Receipt)?
            {
                return self.smtp_in.retire(entry).map_err(WorkError::Spool);
            }
            return self.archive(entry, sc, "mail for umsgate's own mailbox");
        };
        let first = first.clone();

        let sender = match self.resolve_sender(sender_address.as_deref()).await? {
            SenderResolution::Known(s) => s,
            SenderResolution::Unknown(outcome) => {
                let who = sender_address.unwrap_or_else(|| "<>".to_owned());
                tracing::warn!(event = "outbound.unknown_sender", instance = %self.instance, queue_id = %entry.id, sender = %who, outcome = ?outcome);
                if outcome == UnknownSenderOutcome::Notify {
                    let defaults = &self.config.defaults.reports;
                    let prefs = ReportPrefs {
                        language: defaults.language,
                        html: defaults.html,
                    };
                    let to = self.config.mail.default_recipient.clone();
                    self.refuse(
                        &job_id(entry, &first),
                        &first.address,
                        Some(&to),
                        ReportKind::Refused(Refusal::UnknownSender { sender: who }),
                        prefs,
                        &facts,
                    )
                    .await?;
                }
                return if self.config.defaults.unknown_sender.archive {
                    self.archive(entry, sc, "unknown sender")
                } else {
                    self.smtp_in.retire(entry).map_err(WorkError::Spool)
                };
            }
        };

        // Each pending recipient's address is read once; a fax is rendered once, for all
        // the message's fax recipients.
        let targets: Vec<(usize, Target)> = sc
            .rcpts
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_pending() && !own(r))
            .map(|(i, r)| (i, plan::target(self.context(), &sender, &r.address)))
            .collect();
        let wants_fax = targets.iter().any(|(_, t)| t.service == Service::Fax);
        let fax = match (&content, wants_fax) {
            (Ok(c), true) => Some(self.render_fax(entry, c).await?),
            _ => None,
        };
        for (i, target) in &targets {
            let rcpt = &sc.rcpts[*i];
            let outcome = self
                .one(
                    &job_id(entry, rcpt),
                    target,
                    &sender,
                    &content,
                    fax.as_ref(),
                    &facts,
                )
                .await?;
            sc.rcpts[*i].outcome = Some(outcome);
        }
        self.smtp_in.retire(entry).map_err(WorkError::Spool)
    }

    /// One recipient: a job handed over, or a refusal reported.
    async fn one(
        &self,
        job_id: &str,
        target: &Target,
        sender: &Sender,
        content: &Result<MessageContent, Refusal>,
        fax: Option<&FaxBody>,
        facts: &MessageFacts,
    ) -> Result<RecipientOutcome, WorkError> {
        let ctx = self.context();
        let sent_today = match target.per_day() {
            Some(_) => self
                .store
                .used_today(&self.instance, &sender.user.mail, target.service)
                .await
                .map_err(WorkError::Store)?,
            None => 0,
        };
        let report_to = sender.report_to.as_deref();
        let planned = match plan::plan(
            ctx,
            job_id,
            target,
            sender,
            content,
            fax,
            facts,
            sent_today,
            clock::now(),
        ) {
            Plan::Job(p) => p,
            Plan::Refuse(refusal, prefs) => {
                let kind = ReportKind::Refused(refusal);
                self.refuse(job_id, &target.address, report_to, kind, prefs, facts)
                    .await?;
                return Ok(RecipientOutcome::Refused);
            }
        };
        match self.hand_over(&planned).await? {
            HandedOver::Submitted => Ok(RecipientOutcome::Submitted),
            HandedOver::Refused(kind) => {
                self.refuse(
                    job_id,
                    &target.address,
                    report_to,
                    kind,
                    planned.prefs,
                    facts,
                )
                .await?;
                Ok(RecipientOutcome::Refused)
            }
        }
    }

    /// The message's fax pages: rendered, or the refusal that names the part that cannot be
    /// faxed. A converter that is down is a [`WorkError`]: the message is tried again later.
    async fn render_fax(
        &self,
        entry: &Entry,
        content: &MessageContent,
    ) -> Result<FaxBody, WorkError> {
        let parts = match mime::build(content, Service::Fax, &self.limits) {
            Ok(mime::Payload::Fax(f)) => f.parts,
            Ok(_) => return Ok(Err(Refusal::EmptyMessage)),
            Err(r) => return Ok(Err(r)),
        };
        match self.renderer.render(&parts).await {
            Ok(body) => {
                tracing::info!(event = "outbound.rendered", instance = %self.instance, queue_id = %entry.id, parts = parts.len(), pages = body.pages());
                Ok(Ok(Arc::new(body)))
            }
            Err(e) if e.is_temporary() => Err(WorkError::Render(e)),
            Err(e) => {
                tracing::warn!(event = "outbound.render_refused", instance = %self.instance, queue_id = %entry.id, error = %e);
                Ok(Err(refusal_of(e)))
            }
        }
    }

    /// Records a failed attempt in the sidecar (outcomes so far, attempt count, reason, next
    /// attempt). Should that fail too, the message stays as it was: a logged one goes back to
    /// memory, a file is tried again at the next scan.
    fn defer(&self, entry: &Entry, sc: &mut Sidecar, why: &WorkError) {
        sc.attempts = sc.attempts.saturating_add(1);
        sc.last_error = Some(why.to_string());
        sc.next_attempt = Some(clock::now() + rounds::retry_delay(sc.attempts));
        if let Err(e) = self.smtp_in.rewrite(entry, sc) {
            tracing::error!(event = "outbound.defer_failed", instance = %self.instance, queue_id = %entry.id, error = %e, "retry state not recorded");
        }
    }

    /// A pair whose sidecar cannot be read goes to `smtp-in/corrupt/`, as the spool moves such
    /// pairs when it opens: its envelope is never guessed from its headers.
    fn quarantine(&self, entry: &Entry) -> Result<(), WorkError> {
        let kept = self.smtp_in.quarantine(entry).map_err(WorkError::Spool)?;
        tracing::error!(event = "outbound.corrupt", instance = %self.instance, queue_id = %entry.id, kept_as = %kept, "unreadable sidecar, moved to corrupt/");
        Ok(())
    }

    /// Moves a message to `smtp-in/error/` with the reason logged and in its sidecar.
    fn archive(&self, entry: &Entry, sc: &Sidecar, why: &str) -> Result<(), WorkError> {
        let mut sc = sc.clone();
        sc.last_error = Some(why.to_owned());
        self.smtp_in
            .move_to(entry, &sc, &self.dirs.smtp_in_error)
            .map_err(WorkError::Spool)?;
        tracing::info!(event = "outbound.archived", instance = %self.instance, queue_id = %entry.id, reason = why);
        Ok(())
    }
}

/// The job id of a recipient: stable for the life of the message (see the module contract).
/// What the sender is told about a part the renderer could not turn into pages.
pub(super) fn refusal_of(e: RenderError) -> Refusal {
    match e.kind {
        RenderErrorKind::Unsupported => Refusal::UnsupportedAttachment {
            name: e.name,
            content_type: e.content_type,
        },
        _ => Refusal::Malformed {
            detail: e.to_string(),
        },
    }
}

fn job_id(entry: &Entry, rcpt: &Recipient) -> String {
    format!("{}-{}", entry.id, rcpt.key)
}

/// A message whose sidecar schedules its next attempt later than `now` waits, and so does a
/// file dropped in by hand that may still be being copied ([`adopt::SETTLE`]).
fn due(entry: &Entry, now: SystemTime) -> bool {
    match &entry.sidecar {
        Some(s) => s.next_attempt.is_none_or(|at| at <= now),
        // A file that cannot be looked at is taken: reading it reports why.
        None if entry.logged.is_none() => {
            adopt::settled(&entry.eml, now).map_or(true, |m| m.is_some())
        }
        None => true,
    }
}

/// Subject and Message-ID, from the parsed message or, when it could not be parsed, from the
/// raw headers.
fn facts(content: &Result<MessageContent, Refusal>, eml: &[u8]) -> MessageFacts {
    match content {
        Ok(c) => MessageFacts {
            subject: c.subject.clone(),
            message_id: c.message_id.clone(),
        },
        Err(_) => MessageFacts {
            subject: None,
            message_id: adopt::message_id(eml),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A file dropped into `smtp-in/` by hand is not taken while it may still be being copied.
    #[test]
    fn a_hand_dropped_file_waits_until_it_has_settled() {
        let dir = std::env::temp_dir().join(format!("umsgate-due-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("0000000000000A01.eml"), b"To: a@x\r\n\r\nhalf").unwrap();
        let entry = crate::spool::list_dir(&dir).unwrap().remove(0);
        assert!(entry.sidecar.is_none());
        let now = clock::now();
        assert!(!due(&entry, now), "just written");
        assert!(due(&entry, now + adopt::SETTLE + Duration::from_secs(1)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
