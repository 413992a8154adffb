//! The inbound worker: `received/` → directory → mail to the mail server (or the journal).
//!
//! Implementation summary: received messages are taken oldest first, up to sixteen at once. The called number is
//! normalised and looked up (spaced as signalled when the engine signalled it spaced, else by
//! the site's plan: `called`); every user who owns it gets a mail, nobody → the default
//! recipient. A directory failure follows `ldap_error`: `default_recipient` delivers there at
//! once, `retry` keeps the message and tries again later. Each mail is composed in the
//! recipient's language (`texts`: the strings and templates of [`Reports`], overridable in
//! `service.templates_dir`; an SMS text cleaned of control characters), as HTML with a text
//! alternative when `[instance.defaults] reports.html` is on (a fax shows its first
//! `reports.preview_pages` pages as inline images, made once per message on a blocking thread;
//! a fax whose pages cannot be decoded is mailed without them, logged), with the fax as PDF,
//! TIFF or both (the user's `fax.inbound`, else the instance's `inbound_fax`), then stored according to `store`: `send` → delivery (sent at
//! once, `smtp-out/` for what that attempt does not deliver),
//! `journal` → `journal/` plus an index row ([`crate::message_journal`]), `delete` → only
//! logged — except that mail to the default recipient is sent in every mode. The message folder is
//! removed only after every copy is delivered or durable (mail goes through
//! [`Delivery::submit`]: sent at once, else spooled). A message that cannot be read, whose text
//! cannot be rendered, or whose mail would carry CR/LF/NUL in a header, moves to
//! `received/error/` with `reason.txt`: kept, never dropped.
//!
//! A fax that matches a print-unread rule ([`crate::print`]) has its PDF kept and its
//! deadline recorded before any of its mails leaves; each of its mails asks for a read
//! receipt (`Disposition-Notification-To`) and has its Message-ID linked to the fax first.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use umsgate_domain::{InboundFax, Service, SitePlan, UserSettings};

use super::compose::{HtmlBody, InboundMail, Part, compose, with_receipt_request};
use super::preview::{self, FaxPreviews};

use super::{called, texts};
use crate::config::{InstanceConfig, LdapErrorPolicy, MessageStore};
use crate::delivery::Delivery;
use crate::directory::{Directory, User};
use crate::gateway::received::ReceivedMessage;
use crate::logs::InstanceLogs;
use crate::message_journal::MessageJournal;
use crate::reports::{InboundFacts, Reports};
use crate::spool::layout::InstanceDirs;
use crate::spool::{QueueId, Sidecar, sync_dir};
use crate::store::Store;
use crate::store::{JournalEntry, JournalKind};
use crate::{clock, rounds};

const SCAN_INTERVAL: Duration = Duration::from_secs(2);
/// Messages composed at once.
const PARALLEL: usize = 16;
/// Done message folders removed together, after one fsync of `received/`.
const DONE_BATCH: usize = 64;

/// Everything the worker needs, wired by the instance.
pub struct Inbound {
    pub instance: String,
    pub config: InstanceConfig,
    pub plan: SitePlan,
    pub dirs: InstanceDirs,
    /// Mail is handed to delivery (sent at once, or spooled in `smtp-out/`).
    pub mailer: Arc<Delivery>,
    pub directory: Arc<Directory>,
    /// The strings and templates of the mail texts (shared with the reports).
    pub reports: Arc<Reports>,
    pub store: Store,
    pub logs: Arc<InstanceLogs>,
    pub hostname: String,
    /// Woken by `send-test` and engines in the same process.
    pub wake: Arc<Notify>,
    /// Folders of done messages (`.<id>.done`) not yet removed.
    pub done: std::sync::Mutex<Vec<PathBuf>>,
    /// Print-unread (set by the instance; `None` only in tests that do without it).
    pub print: Option<Arc<crate::print::PrintUnread>>,
}

/// Why a received message could not become mail now: always temporary — it stays in
/// `received/` and is tried again (a message that can never become mail is set aside in
/// `received/error/` instead, with its reason).
#[derive(Debug)]
#[non_exhaustive]
pub enum InboundError {
    /// Its files could not be read.
    Files(std::io::Error),
    /// The directory could not be asked who owns the number (`ldap_error = "retry"`).
    Directory(crate::directory::DirectoryError),
    /// The mail could be neither delivered nor spooled.
    Mail(crate::delivery::SubmitError),
    /// The message store (`store = "journal"`): its file, or its index in the state store.
    Journal(crate::message_journal::JournalError),
    /// Its folder could not be moved out of `received/` (done, or set aside).
    Folder(std::io::Error),
    /// Print-unread could not keep the fax or link its mail (see [`crate::print`]).
    Print(crate::print::ExpectError),
}

impl std::fmt::Display for InboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InboundError::Files(e) => write!(f, "reading files: {e}"),
            InboundError::Directory(e) => write!(f, "recipient lookup: {e}"),
            InboundError::Mail(e) => write!(f, "mail: {e}"),
            InboundError::Journal(e) => write!(f, "{e}"),
            InboundError::Folder(e) => write!(f, "received/: {e}"),
            InboundError::Print(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for InboundError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InboundError::Files(e) | InboundError::Folder(e) => Some(e),
            InboundError::Directory(e) => Some(e),
            InboundError::Mail(e) => Some(e),
            InboundError::Journal(e) => Some(e),
            InboundError::Print(e) => Some(e),
        }
    }
}

/// One addressee of a received message.
struct Addressee {
    mail: String,
    name: String,
    settings: Option<UserSettings>,
}

impl Inbound {
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = rounds::Backoff::default();
        loop {
            if *shutdown.borrow() {
                return;
            }
            let items = self
                .pending()
                .into_iter()
                .map(|(id, path)| (id.clone(), (id, path)));
            rounds::round(
                items,
                PARALLEL,
                &mut backoff,
                &shutdown,
                ("inbound.deferred", &self.instance),
                |(id, path)| {
                    let me = Arc::clone(&self);
                    async move { me.process(&id, &path).await }
                },
            )
            .await;
            let rest = std::mem::take(
                &mut *self
                    .done
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            self.remove_done(rest).await;
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(SCAN_INTERVAL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Published message folders, oldest first. Leftovers of messages that were done when the
    /// process stopped (`.<id>.done`) are removed on the way.
    fn pending(&self) -> Vec<(String, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(&self.dirs.received) else {
            return Vec::new();
        };
        let mut leftovers = Vec::new();
        let mut out: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                if name.starts_with('.') && name.ends_with(".done") {
                    leftovers.push(e.path());
                    return None;
                }
                (!name.starts_with('.') && name != "error").then(|| (name, e.path()))
            })
            .collect();
        if !leftovers.is_empty() {
            remove_done_now(&self.dirs.received, &leftovers);
        }
        out.sort();
        out
    }

    /// Removes done folders after making their renames durable (see [`Inbound::process`]).
    async fn remove_done(&self, batch: Vec<PathBuf>) {
        if batch.is_empty() {
            return;
        }
        let received = self.dirs.received.clone();
        let _ = tokio::task::spawn_blocking(move || remove_done_now(&received, &batch)).await;
    }

    async fn process(&self, id: &str, dir: &Path) -> Result<(), InboundError> {
        let msg = match ReceivedMessage::read(dir) {
            Ok(m) => m,
            Err(why) => return self.set_aside(id, dir, &why.to_string()),
        };
        let addressees = self.addressees(&msg).await?;
        let calling = self.plan.normalise(&msg.calling).ok();
        let calling_shown = calling
            .as_ref()
            .map_or_else(|| msg.calling.trim().to_owned(), |n| self.plan.spaced(n));
        let from_address = match &calling {
            Some(n) => self.config.mail.sender_template.render(
                &n.e164(),
                msg.service,
                &self.config.mail.domain,
            ),
            None => self.config.mail.report_sender.clone(),
        };
        let reply_to = match (&self.config.mail.reply_to_template, &calling) {
            (Some(t), Some(n)) => {
                t.0.as_ref()
                    .map(|t| t.render(&n.e164(), msg.service, &self.config.mail.domain))
            }
            _ => None,
        };
        let files = self.load_files(dir, &msg).map_err(InboundError::Files)?;
        let mut pdf_cache: Option<Option<Vec<u8>>> = None;
        let mut preview_cache: Option<Option<FaxPreviews>> = None;
        let print = self.print_unread(id, &msg, &files, &mut pdf_cache).await?;

        for a in &addressees {
            let lang = a
                .settings
                .as_ref()
                .and_then(UserSettings::report_lang)
                .unwrap_or(self.config.defaults.reports.language);
            let attachments = match msg.service {
                Service::Fax => {
                    let want = a
                        .settings
                        .as_ref()
                        .and_then(UserSettings::fax_inbound)
                        .unwrap_or_else(|| self.config.defaults.inbound_fax());
                    self.fax_parts(&files, want, &mut pdf_cache, id)
                }
                Service::Voice => files
                    .iter()
                    .map(|(_, data)| Part {
                        content_type: "audio/wav",
                        filename: "voice.wav",
                        data: data.clone(),
                    })
                    .take(1)
                    .collect(),
                Service::Sms => Vec::new(),
            };
            let facts = InboundFacts {
                service: msg.service,
                calling: &calling_shown,
                called: &msg.called,
                received_at: &msg.received_at,
                pages: msg.pages,
                duration: msg.duration_s.map(Duration::from_secs),
                sms_text: msg.text.as_deref().filter(|_| msg.service == Service::Sms),
            };
            let inbound = self.reports.inbound();
            let written = texts::subject(inbound, lang, msg.service, &calling_shown, msg.pages)
                .and_then(|subject| Ok((subject, texts::body(inbound, lang, &facts)?)));
            let (subject, text) = match written {
                Ok(t) => t,
                Err(e) => {
                    return self.set_aside(id, dir, &format!("cannot write the mail text: {e}"));
                }
            };
            let qid = QueueId::generate();
            let message_id = format!("{qid}.{}@{}", msg.service, self.hostname);
            let html = if self.config.defaults.reports.html {
                if msg.service == Service::Fax && preview_cache.is_none() {
                    preview_cache = Some(self.previews(&files, id).await);
                }
                let previews = preview_cache.as_ref().and_then(Option::as_ref);
                match preview::html(inbound, lang, &facts, previews, &message_id) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        return self.set_aside(
                            id,
                            dir,
                            &format!("cannot write the mail text: {e}"),
                        );
                    }
                }
            } else {
                None
            };
            let (html, inline) = html.map_or((None, Vec::new()), |(h, i)| (Some(h), i));
            let mail = InboundMail {
                from_address: &from_address,
                from_name: &self.config.mail.display_name,
                reply_to: reply_to.as_deref(),
                to: &a.mail,
                to_name: &a.name,
                subject: &subject,
                text: &text,
                html: html.as_deref().map(|html| HtmlBody { html, inline }),
                message_id: &message_id,
                date: clock::now(),
                attachments,
            };
            let mut eml = match compose(&mail) {
                Ok(e) => e,
                Err(e) => return self.set_aside(id, dir, &e.to_string()),
            };
            if let Some(print) = &print {
                let sender = &self.config.mail.report_sender;
                eml = match with_receipt_request(eml, sender) {
                    Ok(e) => e,
                    Err(e) => return self.set_aside(id, dir, &e.to_string()),
                };
                print
                    .asked(id, &message_id, &a.mail)
                    .await
                    .map_err(|e| InboundError::Print(crate::print::ExpectError::Store(e)))?;
            }
            self.store_mail(&qid, &message_id, &a.mail, &msg, eml, id)
                .await?;
        }
        // Done: one atomic rename takes the message out of the queue (a crash can no longer
        // leave a half-deleted folder that looks like a message). The rename is not fsynced
        // on its own, like an MTA removing a delivered queue file: every copy is already
        // delivered or durable, and a crash that undoes it only sends the message again. The
        // files go in batches, after one fsync of `received/` makes the batch's renames
        // durable, so that no crash can bring back a folder that has lost its files.
        let done = self.dirs.received.join(format!(".{id}.done"));
        std::fs::rename(dir, &done).map_err(InboundError::Folder)?;
        let batch = {
            let mut list = self
                .done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            list.push(done);
            (list.len() >= DONE_BATCH).then(|| std::mem::take(&mut *list))
        };
        if let Some(batch) = batch {
            self.remove_done(batch).await;
        }
        Ok(())
    }

    async fn addressees(&self, msg: &ReceivedMessage) -> Result<Vec<Addressee>, InboundError> {
        let default = || Addressee {
            mail: self.config.mail.default_recipient.clone(),
            name: String::new(),
            settings: None,
        };
        let Ok(query) = called::query(&self.plan, &msg.called) else {
            tracing::warn!(event = "inbound.bad_called_number", instance = %self.instance, called = %msg.called);
            return Ok(vec![default()]);
        };
        let started = std::time::Instant::now();
        let found = self.directory.by_number(&query).await;
        crate::metrics::lookup_time(
            &self.instance,
            crate::metrics::Lookup::Number,
            started.elapsed(),
        );
        let users = match found {
            Ok(u) => u,
            Err(e) => match self.config.mail.ldap_error {
                LdapErrorPolicy::Retry => return Err(InboundError::Directory(e)),
                LdapErrorPolicy::DefaultRecipient => {
                    tracing::warn!(event = "inbound.directory_unavailable", instance = %self.instance, error = %e, "delivering to the default recipient");
                    return Ok(vec![default()]);
                }
            },
        };
        if users.is_empty() {
            tracing::info!(event = "inbound.unknown_number", instance = %self.instance, called = %query.number().e164(), spaced = %query.spaced());
            return Ok(vec![default()]);
        }
        Ok(users.into_iter().map(|u| self.addressee(u)).collect())
    }

    fn addressee(&self, u: User) -> Addressee {
        let settings = match u.ums.as_deref() {
            None | Some("") => None,
            Some(attr) => UserSettings::parse(attr)
                .map_err(|e| {
                    tracing::warn!(event = "inbound.bad_settings", instance = %self.instance, user = %u.id, error = %e);
                })
                .ok(),
        };
        Addressee {
            mail: u.mail,
            name: u.name,
            settings,
        }
    }

    fn load_files(
        &self,
        dir: &Path,
        msg: &ReceivedMessage,
    ) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        msg.files
            .iter()
            .map(|f| Ok((f.clone(), std::fs::read(dir.join(f))?)))
            .collect()
    }

    /// The previews of a received fax (its files in order), made on a blocking thread; `None`
    /// (logged) when a page cannot be decoded: the fax is then mailed without them.
    async fn previews(&self, files: &[(String, Vec<u8>)], id: &str) -> Option<FaxPreviews> {
        let tiffs: Vec<Vec<u8>> = files.iter().map(|(_, d)| d.clone()).collect();
        let shown = self.config.defaults.reports.preview_pages;
        let made = tokio::task::spawn_blocking(move || FaxPreviews::make(&tiffs, shown)).await;
        match made {
            Ok(Ok(p)) => Some(p),
            Ok(Err(e)) => {
                tracing::warn!(event = "inbound.preview_failed", instance = %self.instance, id, error = %e, "the fax is mailed without a preview");
                None
            }
            Err(e) => {
                tracing::error!(event = "inbound.preview_failed", instance = %self.instance, id, error = %e, "the fax is mailed without a preview");
                None
            }
        }
    }

    /// Print-unread: when a rule matches, keeps the fax's PDF with its deadline and answers
    /// the instance's [`crate::print::PrintUnread`], so that its mails ask for a receipt. A fax
    /// that has no PDF cannot be printed: logged, and its mail goes out without asking.
    async fn print_unread(
        &self,
        id: &str,
        msg: &ReceivedMessage,
        files: &[(String, Vec<u8>)],
        pdf_cache: &mut Option<Option<Vec<u8>>>,
    ) -> Result<Option<Arc<crate::print::PrintUnread>>, InboundError> {
        let Some(print) = &self.print else {
            return Ok(None);
        };
        let Some(rule) = print.rule_for(msg) else {
            return Ok(None);
        };
        let tiffs: Vec<&[u8]> = files.iter().map(|(_, d)| d.as_slice()).collect();
        let Some(pdf) = self.pdf(&tiffs, pdf_cache, id) else {
            tracing::warn!(event = "print.no_pdf", instance = %self.instance, id, rule = %rule.name, "the fax cannot be printed; its mail does not ask for a receipt");
            self.logs.print.line(&format!(
                "match fax={id} rule=\"{}\" skipped: no PDF of the fax",
                rule.name
            ));
            return Ok(None);
        };
        print
            .expect(id, rule, msg, pdf)
            .await
            .map_err(InboundError::Print)?;
        Ok(Some(Arc::clone(print)))
    }

    /// The fax as PDF, converted once per message; `None` (logged) when it cannot be.
    fn pdf<'c>(
        &self,
        tiffs: &[&[u8]],
        pdf_cache: &'c mut Option<Option<Vec<u8>>>,
        id: &str,
    ) -> Option<&'c Vec<u8>> {
        if tiffs.is_empty() {
            return None;
        }
        pdf_cache
            .get_or_insert_with(|| {
                umsgate_fax::tiff_to_pdf(tiffs, &umsgate_fax::Limits::default())
                    .map_err(|e| {
                        // Never lose the fax: the TIFF goes out instead.
                        tracing::error!(event = "inbound.pdf_failed", instance = %self.instance, id, error = %e, "attaching the TIFF instead");
                    })
                    .ok()
            })
            .as_ref()
    }

    fn fax_parts(
        &self,
        files: &[(String, Vec<u8>)],
        want: InboundFax,
        pdf_cache: &mut Option<Option<Vec<u8>>>,
        id: &str,
    ) -> Vec<Part> {
        // A fax handed over as a PDF (`umsgate send-test --file x.pdf`) goes out as it is.
        if let Some((_, pdf)) = files
            .iter()
            .find(|(_, d)| umsgate_fax::detect(d) == Some(umsgate_fax::DocumentKind::Pdf))
        {
            return vec![Part {
                content_type: "application/pdf",
                filename: "fax.pdf",
                data: pdf.clone(),
            }];
        }
        let tiffs: Vec<&[u8]> = files.iter().map(|(_, d)| d.as_slice()).collect();
        if tiffs.is_empty() {
            return Vec::new();
        }
        let mut parts = Vec::new();
        let mut want_tif = matches!(want, InboundFax::Tif | InboundFax::PdfAndTif);
        if matches!(want, InboundFax::Pdf | InboundFax::PdfAndTif) {
            match self.pdf(&tiffs, pdf_cache, id) {
                Some(p) => parts.push(Part {
                    content_type: "application/pdf",
                    filename: "fax.pdf",
                    data: p.clone(),
                }),
                None => want_tif = true,
            }
        }
        if want_tif {
            for (_, data) in files.iter().take(1) {
                parts.push(Part {
                    content_type: "image/tiff",
                    filename: "fax.tif",
                    data: data.clone(),
                });
            }
        }
        parts
    }

    async fn store_mail(
        &self,
        qid: &QueueId,
        message_id: &str,
        to: &str,
        msg: &ReceivedMessage,
        eml: Vec<u8>,
        received: &str,
    ) -> Result<(), InboundError> {
        // The default recipient's mail (a number nobody owns, the directory unreachable) is
        // the system's to tell: mailed in every mode, since no user reads it in the portal.
        let store = if to.eq_ignore_ascii_case(&self.config.mail.default_recipient) {
            MessageStore::Send
        } else {
            self.config.mail.store
        };
        let kind = match store {
            MessageStore::Send => "send",
            MessageStore::Journal => "journal",
            MessageStore::Delete => "deleted",
        };
        // Logged before the hand-over, so that msgid.log reads in order (composed, then
        // delivered); a failed hand-over is logged too and the message is composed again.
        self.logs.msgid.line(&format!(
            "out id={qid} message-id=<{message_id}> to=<{to}> kind={} store={kind} calling={} called={} received={received}",
            msg.service, msg.calling, msg.called
        ));
        tracing::info!(event = "inbound.composed", instance = %self.instance, queue_id = %qid, service = %msg.service, to, store = kind);
        match store {
            MessageStore::Send => {
                let sc = Sidecar::local(
                    qid,
                    self.config.id.get_ref(),
                    clock::now(),
                    &self.config.mail.report_sender,
                    to,
                    message_id,
                );
                self.mailer
                    .submit(sc, eml)
                    .await
                    .map_err(InboundError::Mail)?;
            }
            MessageStore::Journal => {
                let entry = JournalEntry {
                    instance: self.instance.clone(),
                    id: qid.to_string(),
                    kind: JournalKind::Message,
                    service: msg.service,
                    calling: msg.calling.clone(),
                    called: msg.called.clone(),
                    recipient: to.to_owned(),
                    received_at: msg.received_at.clone(),
                    subject: crate::message_journal::subject_of(&eml),
                    size: eml.len() as u64,
                };
                MessageJournal::new(&self.instance, &self.dirs.journal, self.store.clone())
                    .keep(&entry, &eml)
                    .await
                    .map_err(InboundError::Journal)?;
            }
            MessageStore::Delete => {}
        }
        Ok(())
    }

    /// Moves a message that cannot become a mail to `received/error/` with its reason.
    fn set_aside(&self, id: &str, dir: &Path, why: &str) -> Result<(), InboundError> {
        let errors = self.dirs.received.join("error");
        let target = errors.join(id);
        std::fs::create_dir_all(&errors)
            .and_then(|()| std::fs::rename(dir, &target))
            .and_then(|()| std::fs::write(target.join("reason.txt"), format!("{why}\n")))
            .and_then(|()| sync_dir(&errors))
            .map_err(InboundError::Folder)?;
        tracing::error!(event = "inbound.set_aside", instance = %self.instance, id, reason = why, "moved to received/error/");
        Ok(())
    }
}

/// One fsync of `received/` (the renames to `.<id>.done` become durable), then the folders go.
/// If the fsync fails they stay, and the next scan tries again.
fn remove_done_now(received: &Path, batch: &[PathBuf]) {
    if let Err(e) = sync_dir(received) {
        tracing::warn!(event = "inbound.cleanup_deferred", dir = %received.display(), error = %e);
        return;
    }
    for dir in batch {
        let _ = std::fs::remove_dir_all(dir);
    }
}
