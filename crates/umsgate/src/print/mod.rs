//! Print unread: a received fax that nobody reads within its rule's queue time is printed.
//!
//! Contract:
//! - **Asking.** For an inbound fax whose called number matches a rule (`[[instance.print_unread]]`,
//!   top-down, first match wins; [`crate::config::print_unread`]) and whose mail is sent
//!   (`mail.store = "send"`), [`PrintUnread::expect`] keeps the fax's PDF in
//!   `state_dir/<instance>/print/<fax id>.pdf` (written, fsynced) and records the fax with its
//!   deadline in the state store *before* any of its mails leaves; [`PrintUnread::asked`]
//!   links each mail's Message-ID to the fax, and that mail carries
//!   `Disposition-Notification-To: <report_sender>` ([`crate::inbound::compose::with_receipt_request`]).
//!   Composing the mail again after a crash keeps the first deadline.
//! - **Receipts.** Mail for `report_sender` is offered to [`PrintUnread::receipt`] before the
//!   outbound worker would keep it: an MDN whose disposition is `displayed`, or a person's
//!   reply naming the mail's Message-ID ([`mdn`]), clears a fax still waiting; other
//!   dispositions (`deleted`, `denied`, …) are logged and clear nothing. A receipt is never
//!   an outbound job. One that names no mail umsgate asked about is left to the outbound
//!   worker, which keeps it in `smtp-in/error/`.
//! - **Printing.** [`PrintUnread::run`] takes due faxes every second (with a lease in the
//!   store, so that two processes sharing the store never take the same fax at once) and
//!   sends the PDF with IPP `Print-Job` to the rule's printer ([`ipp`]), job name `Fax
//!   <calling number> <received time>`. The printer's job id and state are recorded and the
//!   job is followed with `Get-Job-Attributes` until it is final: `completed` → printed (the
//!   PDF is removed); `canceled` or `aborted`, or a printer that cannot be reached or refuses
//!   the job → tried again after the instance's `mail.retry` intervals; after the last one
//!   the default recipient gets a mail with the reason and the PDF attached (state
//!   `reported`), so no fax is lost. A store that fails leaves the fax as it was, for the
//!   next round.
//! - **Visible.** Every match, receipt, submission, answer and report is one line of
//!   `print.log`; `queue list --state print` shows the pending faxes with their deadline.
//!   Final states are kept in the store for [`KEEP_FINAL`], then forgotten.
//!
//! The schedule is kept in the store, not in memory (as [`crate::rounds`] keeps it): a
//! restart must neither forget a deadline nor retry a printer at once, and several nodes
//! share it.

pub mod ipp;
pub mod mdn;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use tokio::sync::watch;
use umsgate_domain::SitePlan;

use crate::clock;
use crate::config::InstanceConfig;
use crate::config::print_unread::{PrintRule, PrintRules};
use crate::delivery::Delivery;
use crate::gateway::received::ReceivedMessage;
use crate::logs::InstanceLogs;
use crate::spool::{QueueId, Sidecar, sync_dir, write_synced};
use crate::store::{PendingPrint, PrintState, ReceiptEffect, Store, StoreError};
use ipp::{JobStatus, PrintError, Printer};

/// How often due faxes are looked for.
const TICK: Duration = Duration::from_secs(1);
/// How often a job the printer holds is asked about.
const FOLLOW: Duration = Duration::from_secs(2);
/// Faxes taken in one round (printed at once).
const BATCH: u32 = 16;
/// How long final states stay in the store.
pub const KEEP_FINAL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Why a fax could not be set up for print-unread; temporary, the message is tried again.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExpectError {
    /// Its PDF could not be written to `print/`.
    Pdf(std::io::Error),
    Store(StoreError),
}

impl std::fmt::Display for ExpectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectError::Pdf(e) => write!(f, "print-unread: keeping the PDF: {e}"),
            ExpectError::Store(e) => write!(f, "print-unread: {e}"),
        }
    }
}

impl std::error::Error for ExpectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExpectError::Pdf(e) => Some(e),
            ExpectError::Store(e) => Some(e),
        }
    }
}

/// Print-unread for one instance.
pub struct PrintUnread {
    instance: String,
    config: InstanceConfig,
    rules: PrintRules,
    plan: SitePlan,
    store: Store,
    logs: Arc<InstanceLogs>,
    /// `state_dir/<instance>/print/`: the PDFs of faxes not yet printed or cleared.
    dir: PathBuf,
    mailer: Arc<Delivery>,
    hostname: String,
}

impl PrintUnread {
    /// Print-unread for an instance; `root` is its state folder (the PDFs go to `print/` in
    /// it, created when the first is kept). It runs also when the instance has no rules (any
    /// more): faxes recorded under earlier rules are still printed, and their receipts read.
    pub fn new(
        config: &InstanceConfig,
        plan: SitePlan,
        store: Store,
        logs: Arc<InstanceLogs>,
        root: &Path,
        mailer: Arc<Delivery>,
        hostname: String,
    ) -> Arc<PrintUnread> {
        Arc::new(PrintUnread {
            instance: config.id.get_ref().to_string(),
            config: config.clone(),
            rules: config.print_rules.clone(),
            plan,
            store,
            logs,
            dir: root.join("print"),
            mailer,
            hostname,
        })
    }

    /// The rule for a received message: faxes whose mail is sent, by called number.
    pub fn rule_for(&self, msg: &ReceivedMessage) -> Option<&PrintRule> {
        if msg.service != umsgate_domain::Service::Fax
            || self.config.mail.store != crate::config::MessageStore::Send
        {
            return None;
        }
        let called = self.plan.normalise(&msg.called).ok()?;
        self.rules.first_match(&called)
    }

    fn pdf_path(&self, fax: &str) -> PathBuf {
        self.dir.join(format!("{fax}.pdf"))
    }

    /// Keeps the fax's PDF and records its deadline (see the module contract).
    pub async fn expect(
        &self,
        fax: &str,
        rule: &PrintRule,
        msg: &ReceivedMessage,
        pdf: &[u8],
    ) -> Result<(), ExpectError> {
        let path = self.pdf_path(fax);
        let dir = self.dir.clone();
        let data = pdf.to_vec();
        tokio::task::spawn_blocking(move || {
            let parent = dir.parent().map(Path::to_path_buf);
            std::fs::create_dir_all(&dir)?;
            if let Some(parent) = parent {
                sync_dir(&parent)?;
            }
            write_synced(&path, &data).and_then(|()| sync_dir(&dir))
        })
        .await
        .map_err(|e| ExpectError::Pdf(std::io::Error::other(e.to_string())))?
        .map_err(ExpectError::Pdf)?;
        let deadline = clock::unix_seconds(clock::now() + rule.queue_time);
        let p = PendingPrint {
            instance: self.instance.clone(),
            fax: fax.to_owned(),
            rule: rule.name.clone(),
            printer: rule.printer.to_string(),
            calling: msg.calling.clone(),
            called: msg.called.clone(),
            received_at: msg.received_at.clone(),
            deadline,
            state: PrintState::Waiting,
            attempts: 0,
            next_attempt: deadline,
            last_error: None,
            job_id: None,
            job_state: None,
        };
        self.store
            .print_expect(&p)
            .await
            .map_err(ExpectError::Store)?;
        self.logs.print.line(&format!(
            "match fax={fax} calling={} called={} rule=\"{}\" printer={} queue_time={}s",
            msg.calling,
            msg.called,
            rule.name,
            rule.printer,
            rule.queue_time.as_secs()
        ));
        Ok(())
    }

    /// Links a mail that asks for a receipt to its fax.
    pub async fn asked(&self, fax: &str, message_id: &str, to: &str) -> Result<(), StoreError> {
        self.store
            .print_message(&self.instance, fax, message_id)
            .await?;
        self.logs.print.line(&format!(
            "receipt-requested fax={fax} message-id=<{message_id}> to=<{to}>"
        ));
        Ok(())
    }

    /// Reads a mail for umsgate's own address as a receipt. `Ok(true)`: it was one, about a
    /// mail umsgate asked about, and is done with; `Ok(false)`: it is none of that.
    pub async fn receipt(&self, eml: &[u8], queue_id: &str) -> Result<bool, StoreError> {
        let Some(receipt) = mdn::parse(eml) else {
            return Ok(false);
        };
        let (kind, disposition) = match &receipt {
            mdn::Receipt::Mdn { disposition, .. } => ("mdn", disposition.as_str().to_owned()),
            mdn::Receipt::Reply { .. } => ("reply", "replied".to_owned()),
        };
        let read = receipt.read_ids();
        let mut known = false;
        for id in receipt.named_ids() {
            if !read.contains(&id) {
                // Not read (deleted, denied…): logged when umsgate asked about that mail.
                if self.store.print_has_message(&self.instance, id).await? {
                    known = true;
                    self.logs.print.line(&format!(
                        "receipt queue-id={queue_id} kind={kind} message-id=<{id}> disposition={disposition} effect=none (not read)"
                    ));
                }
                continue;
            }
            let effect = self.store.print_receipt(&self.instance, id).await?;
            let what = match &effect {
                ReceiptEffect::Unknown => continue,
                ReceiptEffect::Cleared(fax) => format!("fax={fax} effect=cleared"),
                ReceiptEffect::TooLate(fax, PrintState::Waiting) => {
                    format!("fax={fax} effect=none (already due for printing)")
                }
                ReceiptEffect::TooLate(fax, state) => {
                    format!("fax={fax} effect=none (already {})", state.as_str())
                }
            };
            known = true;
            self.logs.print.line(&format!(
                "receipt queue-id={queue_id} kind={kind} message-id=<{id}> disposition={disposition} {what}"
            ));
            if let ReceiptEffect::Cleared(fax) = &effect {
                tracing::info!(event = "print.cleared", instance = %self.instance, fax = %fax, message_id = %id);
                self.remove_pdf(fax);
            }
        }
        Ok(known)
    }

    fn remove_pdf(&self, fax: &str) {
        if let Err(e) = std::fs::remove_file(self.pdf_path(fax))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(event = "print.pdf_not_removed", instance = %self.instance, fax, error = %e);
        }
    }

    /// Prints due faxes until shutdown (see the module contract).
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut forgotten_at: Option<SystemTime> = None;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let now = clock::now();
            match self.store.print_claim_due(&self.instance, now, BATCH).await {
                Ok(due) => {
                    // At once: each step is bounded by the IPP request timeout, well inside
                    // the lease, and one printer that does not answer holds up no other.
                    let mut steps = tokio::task::JoinSet::new();
                    for p in due {
                        steps.spawn(Arc::clone(&self).step(p));
                    }
                    while let Some(done) = steps.join_next().await {
                        if let Err(e) = done {
                            // The fax keeps its lease and is taken again after it.
                            tracing::error!(event = "print.step_panicked", instance = %self.instance, error = %e);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(event = "print.store_failed", instance = %self.instance, error = %e)
                }
            }
            if forgotten_at
                .is_none_or(|t| now.duration_since(t).unwrap_or_default() > KEEP_FINAL / 30)
            {
                forgotten_at = Some(now);
                if let Err(e) = self.store.print_forget(now - KEEP_FINAL).await {
                    tracing::warn!(event = "print.store_failed", instance = %self.instance, error = %e);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One claimed fax: submit it, or follow its job.
    async fn step(self: Arc<Self>, mut p: PendingPrint) {
        let printer = match Printer::new(&p.printer) {
            Ok(pr) => pr,
            Err(e) => return self.failed(p, &e).await,
        };
        let answer = match (p.state, p.job_id) {
            (PrintState::Submitted, Some(job)) => {
                let id = i32::try_from(job).unwrap_or(i32::MAX);
                match printer.job(id).await {
                    Ok(a) => a,
                    Err(e) => return self.failed(p, &e).await,
                }
            }
            _ => {
                let pdf = match std::fs::read(self.pdf_path(&p.fax)) {
                    Ok(pdf) => pdf,
                    Err(e) => {
                        let why = format!("its PDF cannot be read: {e}");
                        return self.report(p, &why).await;
                    }
                };
                let name = job_name(&p);
                match printer.print(pdf, &name).await {
                    Ok(a) => {
                        self.logs.print.line(&format!(
                            "submitted fax={} printer={} job-name=\"{name}\" job-id={} job-state={} attempt={}",
                            p.fax,
                            p.printer,
                            a.job_id,
                            a.status.as_str(),
                            p.attempts + 1
                        ));
                        a
                    }
                    Err(e) => return self.failed(p, &e).await,
                }
            }
        };
        let changed = p.job_state.as_deref() != Some(answer.status.as_str());
        p.job_id = Some(i64::from(answer.job_id));
        p.job_state = Some(answer.status.as_str().to_owned());
        if changed && p.state == PrintState::Submitted {
            self.logs.print.line(&format!(
                "job fax={} printer={} job-id={} job-state={} reasons={}",
                p.fax,
                p.printer,
                answer.job_id,
                answer.status.as_str(),
                answer.reasons
            ));
        }
        match answer.status {
            JobStatus::Completed => {
                p.state = PrintState::Printed;
                if self.save(&p).await {
                    tracing::info!(event = "print.printed", instance = %self.instance, fax = %p.fax, job_id = answer.job_id);
                    self.logs.print.line(&format!(
                        "printed fax={} printer={} job-id={}",
                        p.fax, p.printer, answer.job_id
                    ));
                    self.remove_pdf(&p.fax);
                }
            }
            JobStatus::Canceled | JobStatus::Aborted => {
                let why = format!(
                    "job {} {} ({})",
                    answer.job_id,
                    answer.status.as_str(),
                    answer.reasons
                );
                p.state = PrintState::Waiting;
                p.job_id = None;
                self.retry_or_report(p, &why).await;
            }
            _ => {
                p.state = PrintState::Submitted;
                p.next_attempt = clock::unix_seconds(clock::now() + FOLLOW);
                self.save(&p).await;
            }
        }
    }

    async fn failed(&self, p: PendingPrint, e: &PrintError) {
        let why = e.to_string();
        if e.is_transient() {
            self.retry_or_report(p, &why).await;
        } else {
            self.report(p, &why).await;
        }
    }

    /// Counts a failed attempt: waits the next `mail.retry` interval, or after the last one
    /// tells the default recipient.
    async fn retry_or_report(&self, mut p: PendingPrint, why: &str) {
        p.attempts = p.attempts.saturating_add(1);
        p.last_error = Some(why.to_owned());
        let schedule = &self.config.mail.retry;
        let Some(wait) = usize::try_from(p.attempts - 1)
            .ok()
            .and_then(|i| schedule.intervals().get(i))
        else {
            return self.report(p, why).await;
        };
        p.next_attempt = clock::unix_seconds(clock::now() + *wait);
        tracing::warn!(event = "print.deferred", instance = %self.instance, fax = %p.fax, attempts = p.attempts, retry_in_s = wait.as_secs(), reason = why);
        self.logs.print.line(&format!(
            "deferred fax={} printer={} attempt={} retry-in={}s reason=\"{why}\"",
            p.fax,
            p.printer,
            p.attempts,
            wait.as_secs()
        ));
        self.save(&p).await;
    }

    /// Gives up on printing: the default recipient gets the reason and the PDF.
    async fn report(&self, mut p: PendingPrint, why: &str) {
        let pdf = std::fs::read(self.pdf_path(&p.fax)).ok();
        let qid = QueueId::generate();
        let message_id = format!("{qid}.print@{}", self.hostname);
        let to = self.config.mail.default_recipient.clone();
        let eml = report_mail(
            &self.config.mail.report_sender,
            &to,
            &message_id,
            &p,
            why,
            pdf.as_deref(),
        );
        let eml = match eml {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(event = "print.report_failed", instance = %self.instance, fax = %p.fax, error = %e);
                return;
            }
        };
        let sc = Sidecar::local(
            &qid,
            self.config.id.get_ref(),
            clock::now(),
            &self.config.mail.report_sender,
            &to,
            &message_id,
        );
        if let Err(e) = self.mailer.submit(sc, eml).await {
            // The fax stays claimed by its lease and is tried again after it.
            tracing::error!(event = "print.report_failed", instance = %self.instance, fax = %p.fax, error = %e);
            return;
        }
        p.state = PrintState::Reported;
        p.last_error = Some(why.to_owned());
        if self.save(&p).await {
            tracing::error!(event = "print.reported", instance = %self.instance, fax = %p.fax, to = %to, reason = why);
            self.logs.print.line(&format!(
                "reported fax={} printer={} to=<{to}> message-id=<{message_id}> reason=\"{why}\"",
                p.fax, p.printer
            ));
            self.remove_pdf(&p.fax);
        }
    }

    /// Records the fax's new state; `false` (logged) when the store failed — the lease then
    /// runs out and the fax is taken again.
    async fn save(&self, p: &PendingPrint) -> bool {
        match self.store.print_update(p).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(event = "print.store_failed", instance = %self.instance, fax = %p.fax, error = %e);
                false
            }
        }
    }
}

/// The job name: the calling number and the time the fax came in.
pub fn job_name(p: &PendingPrint) -> String {
    let calling = if p.calling.trim().is_empty() {
        "unknown caller"
    } else {
        p.calling.trim()
    };
    let name: String = format!("Fax {calling} {}", p.received_at)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    // IPP names are at most 255 octets.
    let mut end = name.len().min(255);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

/// The mail that tells the default recipient a fax could not be printed.
fn report_mail(
    from: &str,
    to: &str,
    message_id: &str,
    p: &PendingPrint,
    why: &str,
    pdf: Option<&[u8]>,
) -> Result<Vec<u8>, std::io::Error> {
    let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    let text = format!(
        "A received fax could not be printed, and nobody read its mail.\n\n\
         From:     {}\nTo:       {}\nReceived: {}\nRule:     {}\nPrinter:  {}\nAttempts: {}\nReason:   {}\n\n{}\n",
        clean(&p.calling),
        clean(&p.called),
        clean(&p.received_at),
        clean(&p.rule),
        p.printer,
        p.attempts,
        clean(why),
        if pdf.is_some() {
            "The fax is attached."
        } else {
            "Its PDF was no longer there; the fax is in the mail its recipient got."
        }
    );
    let mut b = MessageBuilder::new()
        .from(from)
        .to(to)
        .subject(clean(&format!(
            "Fax from {} could not be printed",
            p.calling
        )))
        .message_id(message_id)
        .date(mail_builder::headers::date::Date::new(
            i64::try_from(clock::unix_seconds(clock::now())).unwrap_or(0),
        ))
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .text_body(text);
    if let Some(pdf) = pdf {
        b = b.attachment("application/pdf", "fax.pdf", pdf);
    }
    b.write_to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pending(calling: &str) -> PendingPrint {
        PendingPrint {
            instance: "i".into(),
            fax: "0000000000000A01".into(),
            rule: "Reception".into(),
            printer: "ipp://127.0.0.1:631/printers/p".into(),
            calling: calling.into(),
            called: "+49 8142 4799100".into(),
            received_at: "2026-12-04T10:00:00Z".into(),
            deadline: 0,
            state: PrintState::Waiting,
            attempts: 2,
            next_attempt: 0,
            last_error: None,
            job_id: None,
            job_state: None,
        }
    }

    #[test]
    fn the_job_name_carries_the_caller_and_the_time() {
        assert_eq!(
            job_name(&pending("+49 30 1234567")),
            "Fax +49 30 1234567 2026-12-04T10:00:00Z"
        );
        assert_eq!(
            job_name(&pending(" ")),
            "Fax unknown caller 2026-12-04T10:00:00Z"
        );
        assert!(job_name(&pending(&"é".repeat(300))).len() <= 255);
        assert!(!job_name(&pending("a\r\nb")).contains('\n'));
    }

    #[test]
    fn the_report_carries_the_reason_and_the_fax() {
        let eml = report_mail(
            "ums@example.com",
            "postmaster@example.com",
            "x@umsgate.test",
            &pending("+49 30 1234567"),
            "printer not reached",
            Some(b"%PDF-1.4 fax"),
        )
        .unwrap();
        let msg = mail_parser::MessageParser::default().parse(&eml).unwrap();
        assert_eq!(
            msg.subject(),
            Some("Fax from +49 30 1234567 could not be printed")
        );
        assert!(msg.body_text(0).unwrap().contains("printer not reached"));
        assert_eq!(msg.attachment(0).unwrap().contents(), b"%PDF-1.4 fax");
    }
}
