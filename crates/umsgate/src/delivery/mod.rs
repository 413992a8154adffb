//! Delivery of `smtp-out/` to the mail server (DESIGN.md §1 inbound step 5, §7).
//!
//! Every mail umsgate writes for the mail server — received faxes/SMS/voice, delivery
//! reports, notifications — is a pair `<ID>.eml` + `<ID>.json` in the instance's `smtp-out/`
//! spool. [`Delivery::run`] sends them over SMTP (or, with `maildir = …`, into Maildirs) and
//! keeps them there until the server has taken them.
//!
//! # Contract
//! - **At least once.** A pair is removed only after the server answered 250 for every
//!   recipient still in it (or the recipient was moved to Badmail). After a crash a message
//!   may go out twice, never zero times.
//! - **Per recipient.** A delivered recipient is removed from the sidecar (tmp, fsync, rename,
//!   directory fsync) before anything else happens to the pair, so a retry goes only to the
//!   rest.
//! - **Temporary vs permanent** is [`DeliveryError`]'s kind: a 5xx reply to MAIL, RCPT or DATA
//!   or an unusable address is permanent, everything else (4xx, refused connection, timeout,
//!   TLS, a 5xx greeting, a refused AUTH) temporary.
//! - **Retry schedule** (`[instance.mail] retry`, 1..10 intervals): after a temporary failure
//!   `attempts += 1`, `next_attempt = now + retry[attempts-1]`, `last_error` = the reason. When
//!   a failure happens with every interval used (`attempts > retry.len()`) the pair moves to
//!   `smtp-out/badmail/` with `last_error = "retries exhausted after N attempts: …"`. A
//!   permanent failure moves it there at once, with the server's reply.
//! - **Badmail is an admin's folder.** Moving a pair back into `smtp-out/` (by hand, or with
//!   `umsgate queue requeue`, which resets `attempts`) sends it again: a file with no or a past
//!   `next_attempt` is due.
//! - **Dropped in by hand.** An `.eml` without sidecar takes its envelope from its headers
//!   (`From:` → sender; `To:`, `Cc:`, `Bcc:` → recipients); a sidecar (`origin = "file"`) is
//!   written for it before the first attempt. To avoid reading a file that is still being
//!   copied in, a bare `.eml` is taken only once it has not changed for [`HAND_SETTLE`].
//!   One without any recipient goes to Badmail.
//! - **One transaction per message**, pipelined when the server offers PIPELINING; every
//!   recipient gets its own outcome (see `smtp`).
//! - **Logs.** `smtp.log`: every attempt (`out attempt`), every delivery (`out delivered id=…
//!   to=<…> server=… reply=…`), deferral (`out deferred id=… attempt=N next=… reason=…`) and
//!   Badmail move (`out badmail id=… reason=…`); `msgid.log`: `out delivered id=… message-id=…`.
//!   `tracing` events `delivery.sent`, `delivery.deferred`, `delivery.badmail`. Neither the
//!   password nor the message body is ever logged.
//!
//! - **New mail is tried at once.** [`Delivery::submit`] is how the inbound worker and the
//!   report writer hand over a mail they have just composed: one attempt straight from memory;
//!   whatever it does not deliver is made durable before `submit` returns — temporary
//!   failures in `smtp-out/` with `attempts = 1` and `next_attempt` from the schedule,
//!   permanent ones in Badmail — so the caller may then drop its own copy. A mail delivered by
//!   that attempt never touches `smtp-out/` (the durable original — the received message or
//!   the gateway's report — is removed by the caller only after `submit` returns). After a
//!   temporary failure, new mail skips the attempt for [`DIRECT_PAUSE`] (or until a spooled
//!   mail is delivered) and goes straight to `smtp-out/`, so that a server that is down costs
//!   one timeout, not one per message.
//!
//! # Implementation summary
//! One worker per instance ([`Delivery::run`]). A *pass* lists `smtp-out/` oldest first and
//! starts every due message, at most [`PARALLEL`] at a time (each on its own pooled SMTP
//! connection); the pass ends when all have finished. Between passes the worker sleeps until
//! the earliest `next_attempt` or at most [`SCAN_INTERVAL`] (for files moved in by hand),
//! and wakes at once when the spool stores a new message or shutdown is signalled. Shutdown
//! abandons sends in flight: their files are untouched, so they are sent again on the next
//! start.
//!
//! When some recipients of a message fail permanently and others temporarily, the permanent
//! ones get a copy of the message in Badmail under `<ID>-<n>` (a pair can be in only one
//! folder) and the temporary ones stay in `smtp-out/<ID>`.
//!
//! Every change to a file in `smtp-out/` and Badmail is one of the spool's transitions
//! (`crate::spool`'s `transitions`), never a rename or removal here: a deferral is
//! `rewrite`, a delivered pair `retire` (its removal fsynced at once, since a removal lost to
//! a power failure would send the mail again), the pair to Badmail `move_to`, the Badmail
//! copy `<ID>-<n>` and a mail from [`Delivery::submit`] that goes to Badmail `put`, a pair
//! whose sidecar cannot be read `quarantine`. Each is durable when it returns and publishes
//! the sidecar first and the `.eml` last; a move removes the original only once the copy in
//! Badmail is durable, so a crash in between leaves both the copy in Badmail and the old pair
//! in `smtp-out/`, which is sent again.

mod maildir;
pub use umsgate_smtp::client as smtp;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

pub use umsgate_smtp::DeliveryError;
pub use umsgate_smtp::client::{COMMAND_TIMEOUT, POOL_IDLE, POOL_SIZE};

use crate::clock;
use crate::config::units::InstanceId;
use crate::config::{MailConfig, MailTlsMode};
use crate::logs::InstanceLogs;
use crate::metrics::DeliveryOutcome;
use crate::spool::{CORRUPT_DIR, Entry, Naming, QueueId, Recipient, Sidecar, Spool, adopt};
use maildir::MaildirTarget;
use smtp::SmtpTarget;

/// Messages sent at the same time, at most.
pub const PARALLEL: usize = POOL_SIZE as usize;
/// Longest sleep between two looks at `smtp-out/` (picks up files moved in by hand).
pub const SCAN_INTERVAL: Duration = Duration::from_secs(5);
/// A bare `.eml` is taken once it has not been modified for this long.
pub const HAND_SETTLE: Duration = adopt::SETTLE;
/// After a temporary failure of an immediate attempt, new mail is spooled without one for
/// this long.
pub const DIRECT_PAUSE: Duration = Duration::from_secs(30);

/// Where mail goes: a closed set, one dispatch point.
#[derive(Debug)]
enum Target {
    Smtp(Box<SmtpTarget>),
    Maildir(MaildirTarget),
}

impl Target {
    fn from_config(mail: &MailConfig) -> Result<Target, SetupError> {
        Ok(match &mail.maildir {
            Some(root) => Target::Maildir(MaildirTarget::new(root.clone())),
            None => Target::Smtp(Box::new(
                SmtpTarget::new(mail, &umsgate_smtp::server::host_name())
                    .map_err(SetupError::MailServer)?,
            )),
        })
    }

    fn name(&self) -> String {
        match self {
            Target::Smtp(s) => s.server().to_owned(),
            Target::Maildir(m) => format!("maildir:{}", m.root().display()),
        }
    }

    async fn deliver(
        &self,
        id: &str,
        from: &str,
        rcpts: &[String],
        eml: Arc<Vec<u8>>,
    ) -> Vec<Result<String, DeliveryError>> {
        match self {
            Target::Smtp(s) => s.send(from, rcpts, &eml).await,
            Target::Maildir(m) => {
                let (m, id, rcpts) = (m.clone(), id.to_owned(), rcpts.to_vec());
                let n = rcpts.len();
                tokio::task::spawn_blocking(move || m.deliver(&id, &rcpts, &eml))
                    .await
                    .unwrap_or_else(|e| {
                        let err = DeliveryError::temporary(format!("maildir writer failed: {e}"));
                        vec![Err(err); n]
                    })
            }
        }
    }
}

/// The delivery worker of one instance.
#[derive(Debug)]
pub struct Delivery {
    instance: InstanceId,
    target: Target,
    retry: Vec<Duration>,
    smtp_out: Spool,
    badmail: PathBuf,
    logs: Arc<InstanceLogs>,
    /// Until when [`Delivery::submit`] spools without trying (after a temporary failure).
    direct_paused_until: Mutex<Option<Instant>>,
}

/// What one attempt left to do: the recipients that were not delivered, and why.
#[derive(Default)]
struct Undelivered {
    temporary: Vec<(Recipient, DeliveryError)>,
    permanent: Vec<(Recipient, DeliveryError)>,
}

/// What one look at one message decided.
enum Step {
    /// Nothing left to do for it in this pass.
    Done,
    /// Look again at this time.
    At(SystemTime),
}

impl Delivery {
    /// `smtp_out` = the instance's smtp-out spool (already opened by the instance:
    /// `crate::spool::Spool`), `badmail` = its smtp-out/badmail/ folder.
    ///
    /// Fails on a configuration that cannot work (an unreadable `tls.ca`, an uncreatable
    /// Badmail folder). Must run inside the tokio runtime.
    pub fn new(
        instance: InstanceId,
        mail: &MailConfig,
        smtp_out: Spool,
        badmail: PathBuf,
        logs: Arc<InstanceLogs>,
    ) -> Result<Delivery, SetupError> {
        let target = Target::from_config(mail)?;
        std::fs::create_dir_all(&badmail).map_err(|source| SetupError::Folder {
            path: badmail.clone(),
            source,
        })?;
        Ok(Delivery {
            instance,
            target,
            retry: mail.retry.intervals().to_vec(),
            smtp_out,
            badmail,
            logs,
            direct_paused_until: Mutex::new(None),
        })
    }

    /// Hands over a mail just composed; see "New mail is tried at once" in the module
    /// contract. `Err` only when the mail could be neither delivered nor made durable: the
    /// caller keeps its original and tries again later.
    pub async fn submit(&self, mut sidecar: Sidecar, eml: Vec<u8>) -> Result<(), SubmitError> {
        if self.direct_paused() {
            return self.spool(sidecar, eml).await;
        }
        sidecar.size = eml.len() as u64;
        let id = sidecar.id.to_string();
        let eml = Arc::new(eml);
        let failed = self.send_logged(&id, &sidecar, Arc::clone(&eml)).await;
        let attempt = sidecar.attempts + 1;
        if !failed.permanent.is_empty() {
            let reason = reasons(&failed.permanent);
            let mut copy = sidecar.clone();
            copy.rcpts = failed.permanent.into_iter().map(|(r, _)| r).collect();
            copy.attempts = attempt;
            copy.last_error = Some(reason.clone());
            // A pair in Badmail keeps the id unless its other recipients are spooled under it.
            let naming = if failed.temporary.is_empty() {
                Naming::Same
            } else {
                Naming::Numbered
            };
            let badmail_id = self
                .put_badmail(copy, Arc::clone(&eml), naming)
                .await
                .map_err(SubmitError::Badmail)?;
            self.badmail_logged(&id, badmail_id.as_str(), &reason);
        }
        if failed.temporary.is_empty() {
            return Ok(());
        }
        self.set_direct_pause(Some(Instant::now() + DIRECT_PAUSE));
        let reason = reasons(&failed.temporary);
        sidecar.rcpts = failed.temporary.into_iter().map(|(r, _)| r).collect();
        sidecar.attempts = attempt;
        sidecar.last_error = Some(reason.clone());
        let Some(wait) = self.retry.first().copied() else {
            let reason = format!("retries exhausted after {attempt} attempts: {reason}");
            sidecar.last_error = Some(reason.clone());
            self.put_badmail(sidecar, eml, Naming::Same)
                .await
                .map_err(SubmitError::Badmail)?;
            self.badmail_logged(&id, &id, &reason);
            return Ok(());
        };
        let eml = Arc::try_unwrap(eml).unwrap_or_else(|shared| (*shared).clone());
        let next = clock::now() + wait;
        let next_text = clock::rfc3339(next);
        sidecar.next_attempt = Some(next);
        self.spool(sidecar, eml).await?;
        self.logs.smtp.line(&format!(
            "out deferred id={id} attempt={attempt} next={next_text} reason={reason}"
        ));
        crate::metrics::retry(self.instance.as_str());
        tracing::warn!(event = "delivery.deferred", instance = %self.instance, queue_id = %id, attempt, next_attempt = %next_text, reason = %reason);
        Ok(())
    }

    async fn spool(&self, sidecar: Sidecar, eml: Vec<u8>) -> Result<(), SubmitError> {
        self.smtp_out
            .store(sidecar, eml)
            .await
            .map(|_| ())
            .map_err(SubmitError::Spool)
    }

    fn direct_paused(&self) -> bool {
        let mut until = self.pause_lock();
        if until.is_some_and(|t| Instant::now() >= t) {
            *until = None;
        }
        until.is_some()
    }

    /// `Some(deadline)`: spool new mail without trying until then; `None`: try again.
    fn set_direct_pause(&self, until: Option<Instant>) {
        *self.pause_lock() = until;
    }

    fn pause_lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.direct_paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Delivers until the watch flips to true; woken by `smtp_out.stored()` for new mail, and
    /// by a timer for due retries and hand-dropped files.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(event = "delivery.started", instance = %self.instance, target = %self.target.name());
        while !*shutdown.borrow() {
            let wake = tokio::select! {
                w = Arc::clone(&self).pass() => w,
                _ = shutdown.changed() => break,
            };
            let sleep = wake
                .and_then(|t| t.duration_since(clock::now()).ok())
                .map_or(SCAN_INTERVAL, |d| d.min(SCAN_INTERVAL));
            tokio::select! {
                _ = self.smtp_out.stored() => {},
                _ = tokio::time::sleep(sleep) => {},
                r = shutdown.changed() => if r.is_err() { break },
            }
        }
        tracing::info!(event = "delivery.stopped", instance = %self.instance);
    }

    /// One pass over `smtp-out/`; returns the earliest time something wants another look.
    async fn pass(self: Arc<Self>) -> Option<SystemTime> {
        let entries = match self.smtp_out.list() {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(event = "delivery.scan_failed", instance = %self.instance, dir = %self.smtp_out.dir().display(), error = %e);
                return None;
            }
        };
        let slots = Arc::new(Semaphore::new(PARALLEL));
        let mut tasks = JoinSet::new();
        let mut wake: Option<SystemTime> = None;
        for entry in entries {
            let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            let me = Arc::clone(&self);
            tasks.spawn(async move {
                let id = entry.id.to_string();
                let step = me.one(entry).await;
                drop(permit);
                (id, step)
            });
            // Collect what has finished, so that the set does not grow with the folder.
            while let Some(done) = tasks.try_join_next() {
                wake = earliest(wake, self.finished(done));
            }
        }
        while let Some(done) = tasks.join_next().await {
            wake = earliest(wake, self.finished(done));
        }
        wake
    }

    fn finished(
        &self,
        done: Result<(String, io::Result<Step>), tokio::task::JoinError>,
    ) -> Option<SystemTime> {
        match done {
            Ok((_, Ok(Step::At(t)))) => Some(t),
            Ok((_, Ok(Step::Done))) => None,
            Ok((id, Err(e))) => {
                // A file operation failed (disk full, permissions): the pair stays where it
                // is and is looked at again on the next scan.
                self.logs
                    .smtp
                    .line(&format!("out error id={id} reason=spool: {e}"));
                tracing::error!(event = "delivery.spool_failed", instance = %self.instance, queue_id = %id, error = %e);
                None
            }
            Err(e) => {
                tracing::error!(event = "delivery.task_failed", instance = %self.instance, error = %e);
                None
            }
        }
    }

    /// Looks at one message: adopts a bare `.eml`, skips one not yet due, else sends it.
    async fn one(&self, entry: Entry) -> io::Result<Step> {
        let mut sidecar = match entry.sidecar.clone() {
            Some(s) => s,
            None if entry.eml.with_extension("json").exists() => {
                self.quarantine(&entry).await?;
                return Ok(Step::Done);
            }
            None => match self.adopt(&entry).await? {
                Adopted::Wait(t) => return Ok(Step::At(t)),
                Adopted::Gone => return Ok(Step::Done),
                Adopted::Ready(s) => *s,
            },
        };
        if let Some(next) = sidecar.next_attempt
            && next > clock::now()
        {
            return Ok(Step::At(next));
        }
        let eml = match tokio::fs::read(&entry.eml).await {
            Ok(b) => Arc::new(b),
            // Deleted or moved by an administrator meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Step::Done),
            Err(e) => return Err(e),
        };
        if sidecar.rcpts.is_empty() {
            // Every recipient was handled and the pair not yet removed (a crash in between).
            self.retire(&entry).await?;
            return Ok(Step::Done);
        }
        self.attempt(&entry, &mut sidecar, eml).await
    }

    /// Sends once to every recipient of `sidecar` and logs what happened (`out attempt`,
    /// `out delivered`, the msgid line); returns the recipients not delivered.
    async fn send_logged(&self, id: &str, sidecar: &Sidecar, eml: Arc<Vec<u8>>) -> Undelivered {
        let server = self.target.name();
        let attempt = sidecar.attempts + 1;
        let rcpts: Vec<String> = sidecar.rcpts.iter().map(|r| r.address.clone()).collect();
        self.logs.smtp.line(&format!(
            "out attempt id={id} server={server} attempt={attempt} from=<{}> rcpts={}",
            sidecar.mail_from,
            rcpts.len()
        ));
        tracing::debug!(event = "delivery.attempt", instance = %self.instance, queue_id = %id, server = %server, attempt, rcpts = rcpts.len());
        let started = std::time::Instant::now();
        let results = self
            .target
            .deliver(id, &sidecar.mail_from, &rcpts, Arc::clone(&eml))
            .await;
        crate::metrics::delivery_time(self.instance.as_str(), started.elapsed());

        let mut delivered = 0usize;
        let mut failed = Undelivered::default();
        for (rcpt, result) in sidecar.rcpts.iter().cloned().zip(results) {
            match result {
                Ok(reply) => {
                    delivered += 1;
                    self.logs.smtp.line(&format!(
                        "out delivered id={id} to=<{}> server={server} reply={reply}",
                        rcpt.address
                    ));
                    tracing::info!(event = "delivery.sent", instance = %self.instance, queue_id = %id, rcpt = %rcpt.address, server = %server, attempt);
                }
                Err(e) if e.is_permanent() => failed.permanent.push((rcpt, e)),
                Err(e) => failed.temporary.push((rcpt, e)),
            }
        }
        let instance = self.instance.as_str();
        crate::metrics::delivery(instance, DeliveryOutcome::Delivered, delivered);
        crate::metrics::delivery(instance, DeliveryOutcome::Deferred, failed.temporary.len());
        crate::metrics::delivery(instance, DeliveryOutcome::Failed, failed.permanent.len());
        if delivered > 0 {
            let message_id = sidecar
                .message_id
                .clone()
                .or_else(|| crate::spool::adopt::message_id(&eml));
            self.logs.msgid.line(&format!(
                "out delivered id={id} message-id={} rcpts={delivered}",
                message_id.map_or_else(|| "-".to_owned(), |m| bracket(&m))
            ));
        }
        failed
    }

    /// One delivery attempt of a spooled pair and what it leaves behind.
    async fn attempt(
        &self,
        entry: &Entry,
        sidecar: &mut Sidecar,
        eml: Arc<Vec<u8>>,
    ) -> io::Result<Step> {
        let id = entry.id.to_string();
        let attempt = sidecar.attempts + 1;
        let Undelivered {
            temporary,
            permanent,
        } = self.send_logged(&id, sidecar, Arc::clone(&eml)).await;
        if temporary.len() < sidecar.rcpts.len() {
            self.set_direct_pause(None);
        }

        if !permanent.is_empty() {
            let reason = reasons(&permanent);
            if temporary.is_empty() {
                sidecar.rcpts = permanent.into_iter().map(|(r, _)| r).collect();
                sidecar.attempts = attempt;
                sidecar.next_attempt = None;
                sidecar.last_error = Some(reason.clone());
                self.move_to_badmail(entry, sidecar.clone()).await?;
                self.badmail_logged(&id, &id, &reason);
                return Ok(Step::Done);
            }
            let mut copy = sidecar.clone();
            copy.rcpts = permanent.into_iter().map(|(r, _)| r).collect();
            copy.attempts = attempt;
            copy.next_attempt = None;
            copy.last_error = Some(reason.clone());
            let new_id = self
                .put_badmail(copy, Arc::clone(&eml), Naming::Numbered)
                .await?;
            self.badmail_logged(&id, new_id.as_str(), &reason);
        }

        if temporary.is_empty() {
            self.retire(entry).await?;
            return Ok(Step::Done);
        }
        let reason = reasons(&temporary);
        sidecar.rcpts = temporary.into_iter().map(|(r, _)| r).collect();
        sidecar.attempts = attempt;
        let Some(wait) = self.retry.get(attempt as usize - 1).copied() else {
            let reason = format!("retries exhausted after {attempt} attempts: {reason}");
            sidecar.next_attempt = None;
            sidecar.last_error = Some(reason.clone());
            self.move_to_badmail(entry, sidecar.clone()).await?;
            self.badmail_logged(&id, &id, &reason);
            return Ok(Step::Done);
        };
        let next = clock::now() + wait;
        let next_text = clock::rfc3339(next);
        sidecar.next_attempt = Some(next);
        sidecar.last_error = Some(reason.clone());
        self.rewrite(entry, sidecar.clone()).await?;
        self.logs.smtp.line(&format!(
            "out deferred id={id} attempt={attempt} next={next_text} reason={reason}"
        ));
        crate::metrics::retry(self.instance.as_str());
        tracing::warn!(event = "delivery.deferred", instance = %self.instance, queue_id = %id, attempt, next_attempt = %next_text, rcpts = sidecar.rcpts.len(), reason = %reason);
        Ok(Step::At(next))
    }

    fn badmail_logged(&self, id: &str, badmail_id: &str, reason: &str) {
        let copy = if id == badmail_id {
            String::new()
        } else {
            format!(" badmail-id={badmail_id}")
        };
        self.logs
            .smtp
            .line(&format!("out badmail id={id}{copy} reason={reason}"));
        crate::metrics::badmail(self.instance.as_str());
        tracing::error!(event = "delivery.badmail", instance = %self.instance, queue_id = %id, badmail_id, reason = %reason);
    }

    /// Gives a bare `.eml` its sidecar (from its headers), once it has stopped changing.
    async fn adopt(&self, entry: &Entry) -> io::Result<Adopted> {
        let id = &entry.id;
        let meta = match tokio::fs::metadata(&entry.eml).await {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Adopted::Gone),
            Err(e) => return Err(e),
        };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let settled = modified + HAND_SETTLE;
        if settled > clock::now() {
            return Ok(Adopted::Wait(settled));
        }
        let eml = match tokio::fs::read(&entry.eml).await {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Adopted::Gone),
            Err(e) => return Err(e),
        };
        let mut s = adopt::sidecar(id, &self.instance, modified, &eml);
        self.logs.smtp.line(&format!(
            "out adopted id={id} from=<{}> to=<{}> (dropped in without sidecar; envelope from headers)",
            s.mail_from,
            s.rcpts
                .iter()
                .map(|r| r.address.as_str())
                .collect::<Vec<_>>()
                .join(">,<")
        ));
        tracing::info!(event = "delivery.adopted", instance = %self.instance, queue_id = %id, rcpts = s.rcpts.len());
        if s.rcpts.is_empty() {
            let reason = "no recipient in To:, Cc: or Bcc: of a message dropped in without sidecar"
                .to_owned();
            s.last_error = Some(reason.clone());
            self.move_to_badmail(entry, s).await?;
            self.badmail_logged(id.as_str(), id.as_str(), &reason);
            return Ok(Adopted::Gone);
        }
        self.rewrite(entry, s.clone()).await?;
        Ok(Adopted::Ready(Box::new(s)))
    }

    /// A pair whose sidecar cannot be read goes to `smtp-out/corrupt/`, as the spool does it
    /// at start-up; it is never sent with a guessed envelope.
    async fn quarantine(&self, entry: &Entry) -> io::Result<()> {
        let id = entry.id.clone();
        let moved = entry.clone();
        let kept = self.on_spool(move |spool| spool.quarantine(&moved)).await?;
        let dir = self.smtp_out.dir().join(CORRUPT_DIR);
        self.logs.smtp.line(&format!(
            "out corrupt id={id} reason=unreadable sidecar, moved to {} as {kept}",
            dir.display()
        ));
        tracing::error!(event = "delivery.corrupt", instance = %self.instance, queue_id = %id, kept_as = %kept, "unreadable sidecar, moved to corrupt/");
        Ok(())
    }

    // ------------------------------------------------------------------------------------
    // Changes to queued files: the spool's transitions, off the async threads

    async fn on_spool<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Spool) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let spool = self.smtp_out.clone();
        tokio::task::spawn_blocking(move || f(&spool))
            .await
            .map_err(|e| io::Error::other(e.to_string()))?
    }

    /// Replaces the pair's sidecar (recipients left, attempts, next attempt), durably.
    async fn rewrite(&self, entry: &Entry, s: Sidecar) -> io::Result<()> {
        let entry = entry.clone();
        self.on_spool(move |spool| spool.rewrite(&entry, &s)).await
    }

    /// Moves the pair, with `s` as its sidecar, to Badmail.
    async fn move_to_badmail(&self, entry: &Entry, s: Sidecar) -> io::Result<()> {
        let (entry, badmail) = (entry.clone(), self.badmail.clone());
        self.on_spool(move |spool| spool.move_to(&entry, &s, &badmail))
            .await
    }

    /// Writes `eml` with `s` into Badmail, named by `naming`; returns its id there.
    async fn put_badmail(
        &self,
        s: Sidecar,
        eml: Arc<Vec<u8>>,
        naming: Naming,
    ) -> io::Result<QueueId> {
        let badmail = self.badmail.clone();
        self.on_spool(move |spool| spool.put(&badmail, &s, &eml, naming))
            .await
    }

    /// Takes a delivered pair out of `smtp-out/`, durable at once: a removal lost to a power
    /// failure would deliver the mail again.
    async fn retire(&self, entry: &Entry) -> io::Result<()> {
        let entry = entry.clone();
        self.on_spool(move |spool| {
            spool.retire(&entry)?;
            spool.sync_removals()
        })
        .await
    }
}

/// Delivery cannot start, or `check` finds the mail server (or Maildir) unusable.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// The mail server's settings do not work (`tls.ca`, the server name), or the server
    /// does not answer as it should.
    MailServer(umsgate_smtp::client::ClientError),
    /// A folder (Badmail, the Maildir root) cannot be created or written.
    Folder { path: PathBuf, source: io::Error },
}

impl SetupError {
    /// Whether the configuration itself is wrong (as opposed to a server not answering now).
    pub fn is_config(&self) -> bool {
        match self {
            SetupError::MailServer(e) => e.is_config(),
            SetupError::Folder { .. } => false,
        }
    }
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::MailServer(e) => write!(f, "{e}"),
            SetupError::Folder { path, source } => {
                write!(f, "{} is not usable: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SetupError::MailServer(e) => Some(e),
            SetupError::Folder { source, .. } => Some(source),
        }
    }
}

/// A mail handed to [`Delivery::submit`] could be neither delivered nor made durable: the
/// caller keeps what it was made from and tries again later.
#[derive(Debug)]
#[non_exhaustive]
pub enum SubmitError {
    /// It could not be written into `smtp-out/` for a later attempt.
    Spool(umsgate_spool::SpoolError),
    /// It (or the copy for its refused recipients) could not be written into Badmail.
    Badmail(io::Error),
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::Spool(e) => write!(f, "smtp-out: {e}"),
            SubmitError::Badmail(e) => write!(f, "badmail: {e}"),
        }
    }
}

impl std::error::Error for SubmitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SubmitError::Spool(e) => Some(e),
            SubmitError::Badmail(e) => Some(e),
        }
    }
}

enum Adopted {
    Ready(Box<Sidecar>),
    Wait(SystemTime),
    Gone,
}

fn earliest(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `reason` for one recipient, or `<a>: reason; <b>: reason` for several.
fn reasons(failed: &[(Recipient, DeliveryError)]) -> String {
    match failed {
        [(_, e)] => e.reason().to_owned(),
        many => many
            .iter()
            .map(|(r, e)| format!("<{}>: {}", r.address, e.reason()))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn bracket(message_id: &str) -> String {
    let bare = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    format!("<{bare}>")
}

/// For `umsgate check`: connect, EHLO, STARTTLS if configured, AUTH if configured;
/// `Ok(summary)` or `Err(reason)`. With `maildir = …`, checks that the folder is writable.
pub async fn check_mail_server(mail: &MailConfig) -> Result<String, SetupError> {
    match Target::from_config(mail)? {
        Target::Maildir(m) => {
            m.check().map_err(|source| SetupError::Folder {
                path: m.root().to_owned(),
                source,
            })?;
            Ok(format!("maildir {} is writable", m.root().display()))
        }
        Target::Smtp(s) => {
            s.check().await.map_err(SetupError::MailServer)?;
            let tls = match mail.tls.mode {
                MailTlsMode::None => "no TLS",
                MailTlsMode::Starttls => "STARTTLS",
                MailTlsMode::Tls => "implicit TLS",
            };
            let auth = if mail.auth.user.is_empty() {
                "no AUTH".to_owned()
            } else {
                format!("AUTH as {}", mail.auth.user)
            };
            Ok(format!("{}: connected, EHLO, {tls}, {auth}", s.server()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_each_recipient_when_several() {
        let r = |a: &str| Recipient::new(a.into(), None, 0);
        let one = [(r("a@x"), DeliveryError::permanent("550 no"))];
        assert_eq!(reasons(&one), "550 no");
        let two = [
            (r("a@x"), DeliveryError::permanent("550 no")),
            (r("b@x"), DeliveryError::temporary("451 later")),
        ];
        assert_eq!(reasons(&two), "<a@x>: 550 no; <b@x>: 451 later");
        assert_eq!(bracket("<m@x>"), "<m@x>");
        assert_eq!(bracket("m@x"), "<m@x>");
    }
}
