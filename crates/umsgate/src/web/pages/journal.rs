//! `/journal` (administrators) and `/portal/messages` (a user's own): the message journal of
//! `store = "journal"` — received messages and delivery reports kept instead of mailed.
//!
//! Contract: lists are pages of the state store's index ([`Store::journal_list`], newest
//! first, [`PAGE_SIZE`] a page), filtered by instance, service and kind and searched by
//! recipient, number, id or subject; no folder is scanned. An entry is shown as its headers,
//! its text and the list of its attachments — every value escaped by the templates (a mail's
//! HTML is never rendered: its text is shown as text), bounded ([`TEXT_MAX`], [`HEADER_MAX`],
//! [`ATTACHMENTS_MAX`]; the `.eml` itself at [`crate::message_journal::MAX_ENTRY_BYTES`]).
//! The `.eml` downloads as `message/rfc822`. Administrators may also resend an entry as a mail
//! (to its recipient, or to a checked address typed in): a copy under a new queue id goes into
//! the instance's `smtp-out/` ([`crate::spool::admin::enqueue`]), where the daemon delivers
//! it as any other mail; and delete it. Both are POSTs past the CSRF checks, and logged with
//! who did it. In the portal a user sees only entries whose recipient is his own address in
//! the instance whose directory knows him; any other entry is answered 404, as if it did not
//! exist. Every page works without JavaScript.
//!
//! Implementation summary: one set of handlers for both readers (`Reader`: an
//! administrator, or a user with his instance and address), the same two templates with the
//! administrator's actions shown only to him. Mails are read with mail-parser (the text of a
//! text part, else of the HTML part converted to text by mail-parser). The address typed for
//! a resend is checked by [`mail_address`], a short hand-written rule (one plain
//! `local@domain`, dot-atom and DNS labels): the workspace's mail crates build and parse
//! messages but offer no check of a bare address, and the rule is stricter than RFC 5322 on
//! purpose (no quoted local parts, no display names, no comments).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;
use umsgate_domain::Service;

use crate::config::InstanceConfig;
use crate::message_journal::MessageJournal;
use crate::spool::layout::InstanceDirs;
use crate::spool::{QueueId, Sidecar};
use crate::store::{JournalEntry, JournalKind, JournalQuery, Store};
use crate::web::{Admin, Ctx, Web, i18n, redirect, urlencode};

/// Entries per page.
pub const PAGE_SIZE: u32 = 50;
/// Most characters of a mail's text shown.
pub const TEXT_MAX: usize = 256 * 1024;
/// Most bytes of a mail's header shown.
pub const HEADER_MAX: usize = 64 * 1024;
/// Most attachments listed.
pub const ATTACHMENTS_MAX: usize = 1000;
/// Most characters of the search.
const SEARCH_MAX: usize = 200;

/// Whose journal a page shows.
#[derive(Debug, Clone)]
enum Reader {
    /// An administrator: every entry of every instance.
    Admin,
    /// A user: his own entries in his instance.
    User { instance: String, address: String },
}

impl Reader {
    fn base(&self) -> &'static str {
        match self {
            Reader::Admin => "/journal",
            Reader::User { .. } => "/portal/messages",
        }
    }

    fn may_read(&self, e: &JournalEntry) -> bool {
        match self {
            Reader::Admin => true,
            Reader::User { instance, address } => {
                // Folded as the index folds the recipient (`Store::journal_add`).
                e.instance == *instance && e.recipient.to_lowercase() == address.to_lowercase()
            }
        }
    }
}

/// Instance `id` of the configuration the process runs now.
fn instance(web: &Web, id: &str) -> Option<InstanceConfig> {
    web.current()
        .instances
        .iter()
        .find(|i| i.id.get_ref().as_str() == id)
        .cloned()
}

fn journal(web: &Web, store: &Store, inst: &InstanceConfig) -> MessageJournal {
    let dirs = InstanceDirs::new(&web.current().instance_state_dir(inst.id.get_ref()));
    MessageJournal::new(inst.id.get_ref().as_str(), &dirs.journal, store.clone())
}

/// One row of the list.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    entry: JournalEntry,
    /// The number to show: the calling one of a message, the destination of a report.
    number: String,
}

async fn list(web: &Arc<Web>, ctx: &Ctx, reader: Reader, q: &HashMap<String, String>) -> Response {
    let Some(store) = web.store() else {
        return web.error(ctx, StatusCode::SERVICE_UNAVAILABLE, "journal.unavailable");
    };
    let param = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let service = param("service").and_then(|s| s.parse::<Service>().ok());
    let kind = param("kind").and_then(JournalKind::parse);
    let search: String = param("q").unwrap_or("").chars().take(SEARCH_MAX).collect();
    let page: u64 = param("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let chosen = param("instance")
        .and_then(|i| instance(web, i))
        .map(|i| i.id.get_ref().to_string());
    let (instance, recipient) = match &reader {
        Reader::Admin => (chosen.clone(), None),
        Reader::User { instance, address } => (Some(instance.clone()), Some(address.clone())),
    };
    let query = JournalQuery {
        instance,
        recipient,
        service,
        kind,
        search: (!search.is_empty()).then(|| search.clone()),
        limit: PAGE_SIZE,
        offset: (page - 1) * u64::from(PAGE_SIZE),
    };
    let (entries, total) = match store.journal_list(&query).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(event = "web.journal_list", error = %e);
            return web.error(ctx, StatusCode::SERVICE_UNAVAILABLE, "journal.unavailable");
        }
    };
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let rows: Vec<Row> = entries
        .into_iter()
        .map(|e| Row {
            number: match e.kind {
                JournalKind::Message => e.calling.clone(),
                JournalKind::Report => e.called.clone(),
            },
            entry: e,
        })
        .collect();
    // The filters again, for the pager's links.
    let mut keep = String::new();
    for (k, v) in [
        ("instance", chosen.as_deref().unwrap_or("")),
        ("service", service.map_or("", Service::as_str)),
        ("kind", kind.map_or("", JournalKind::as_str)),
        ("q", search.as_str()),
    ] {
        if !v.is_empty() {
            keep.push_str(&format!("&{k}={}", urlencode(v)));
        }
    }
    let notice = param("done").and_then(|d| match d {
        "resent" => Some(i18n::text(ctx.lang, "journal.resent")),
        "deleted" => Some(i18n::text(ctx.lang, "journal.deleted")),
        _ => None,
    });
    web.page(
        ctx,
        StatusCode::OK,
        "journal.html",
        minijinja::context! {
            nav => if matches!(reader, Reader::Admin) { "journal" } else { "messages" },
            base => reader.base(),
            admin_view => matches!(reader, Reader::Admin),
            instances => web.current().instances.iter().map(|i| i.id.get_ref().to_string()).collect::<Vec<_>>(),
            instance => chosen.unwrap_or_default(),
            services => Service::SPELLINGS.to_vec(),
            service => service.map_or("", Service::as_str),
            kinds => JournalKind::ALL.map(JournalKind::as_str),
            kind => kind.map_or("", JournalKind::as_str),
            q => search,
            rows => minijinja::Value::from(minijinja::value::Serde(&rows)),
            total,
            page => page.min(pages),
            pages,
            keep,
            notice,
        },
    )
}

/// The entry a URL names, when the reader may see it (anything else: 404).
async fn located(
    web: &Arc<Web>,
    ctx: &Ctx,
    reader: &Reader,
    instance_id: &str,
    id: &str,
) -> Result<(MessageJournal, JournalEntry, Vec<u8>), Response> {
    let not_found = || web.error(ctx, StatusCode::NOT_FOUND, "error.not_found");
    let (Some(inst), Some(store)) = (instance(web, instance_id), web.store()) else {
        return Err(not_found());
    };
    let journal = journal(web, &store, &inst);
    match journal.read(id).await {
        Ok(Some((entry, eml))) if reader.may_read(&entry) => Ok((journal, entry, eml)),
        Ok(_) => Err(not_found()),
        Err(e) => {
            tracing::error!(event = "web.journal_read", instance = instance_id, id, error = %e);
            Err(web.error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal"))
        }
    }
}

/// An attachment, as listed.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub size: usize,
}

/// What the page shows of a mail: its header (raw), the main header values decoded, the
/// text (a text part, else the HTML part turned into text), and the attachments.
#[derive(Debug, Serialize, Default)]
pub struct Shown {
    pub headers: String,
    pub from: String,
    pub to: String,
    pub date: String,
    pub subject: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

fn addresses(a: Option<&mail_parser::Address<'_>>) -> String {
    a.map(|a| {
        a.iter()
            .map(|m| match (m.name(), m.address()) {
                (Some(n), Some(addr)) => format!("{n} <{addr}>"),
                (None, Some(addr)) => addr.to_owned(),
                (Some(n), None) => n.to_owned(),
                (None, None) => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    })
    .unwrap_or_default()
}

/// Reads a mail for the page (see [`Shown`]); nothing of it is trusted as HTML.
pub fn show_mail(eml: &[u8]) -> Shown {
    let end = eml
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| eml.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(eml.len())
        .min(HEADER_MAX);
    let headers = String::from_utf8_lossy(&eml[..end]).into_owned();
    let Some(m) = MessageParser::default().parse(eml) else {
        return Shown {
            headers,
            ..Shown::default()
        };
    };
    let attachments = m
        .attachments()
        .take(ATTACHMENTS_MAX)
        .map(|a| Attachment {
            name: a.attachment_name().unwrap_or("").to_owned(),
            content_type: a
                .content_type()
                .map_or_else(String::new, |c| match c.subtype() {
                    Some(s) => format!("{}/{s}", c.ctype()),
                    None => c.ctype().to_owned(),
                }),
            size: a.len(),
        })
        .collect();
    Shown {
        headers,
        from: addresses(m.from()),
        to: addresses(m.to()),
        date: m.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
        subject: m.subject().unwrap_or("").to_owned(),
        text: m
            .body_text(0)
            .map(|t| t.chars().take(TEXT_MAX).collect())
            .unwrap_or_default(),
        attachments,
    }
}

async fn show(web: &Arc<Web>, ctx: &Ctx, reader: Reader, instance_id: &str, id: &str) -> Response {
    let (_, entry, eml) = match located(web, ctx, &reader, instance_id, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let shown = tokio::task::spawn_blocking(move || show_mail(&eml))
        .await
        .unwrap_or_default();
    web.page(
        ctx,
        StatusCode::OK,
        "journal_entry.html",
        minijinja::context! {
            nav => if matches!(reader, Reader::Admin) { "journal" } else { "messages" },
            base => reader.base(),
            admin_view => matches!(reader, Reader::Admin),
            entry => minijinja::Value::from(minijinja::value::Serde(&entry)),
            mail => minijinja::Value::from(minijinja::value::Serde(&shown)),
        },
    )
}

async fn download(
    web: &Arc<Web>,
    ctx: &Ctx,
    reader: Reader,
    instance_id: &str,
    id: &str,
) -> Response {
    match located(web, ctx, &reader, instance_id, id).await {
        Ok((_, entry, eml)) => (
            [
                (CONTENT_TYPE, "message/rfc822".to_owned()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.eml\"", entry.id),
                ),
            ],
            eml,
        )
            .into_response(),
        Err(r) => r,
    }
}

/// `address` when it is one plain mail address (`local@domain`, no display name, no
/// comment, nothing that could end a header or an SMTP command).
pub fn mail_address(address: &str) -> Option<&str> {
    let a = address.trim();
    let (local, domain) = a.rsplit_once('@')?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let domain_ok = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    (local_ok && domain_ok).then_some(a)
}

/// The form of resend and delete.
#[derive(Debug, serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: Option<String>,
    /// Resend: the address to send to; empty = the entry's recipient.
    #[serde(default)]
    to: Option<String>,
}

pub async fn admin_list(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    list(&web, &ctx, Reader::Admin, &q).await
}

pub async fn admin_show(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path((instance_id, id)): Path<(String, String)>,
) -> Response {
    show(&web, &ctx, Reader::Admin, &instance_id, &id).await
}

pub async fn admin_download(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path((instance_id, id)): Path<(String, String)>,
) -> Response {
    download(&web, &ctx, Reader::Admin, &instance_id, &id).await
}

pub async fn resend(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path((instance_id, id)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Err(e) = ctx.check_csrf(f.csrf.as_deref()) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let (_, entry, eml) = match located(&web, &ctx, &Reader::Admin, &instance_id, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let typed = f.to.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let Some(to) = mail_address(typed.unwrap_or(&entry.recipient)).map(str::to_owned) else {
        return web.error(&ctx, StatusCode::BAD_REQUEST, "journal.bad_address");
    };
    let Some(inst) = instance(&web, &instance_id) else {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    };
    let dirs = InstanceDirs::new(&web.current().instance_state_dir(inst.id.get_ref()));
    let qid = QueueId::generate();
    let message_id = MessageParser::default()
        .parse_headers(&eml)
        .and_then(|m| m.message_id().map(str::to_owned))
        .unwrap_or_else(|| format!("{qid}.journal@umsgate"));
    let sc = Sidecar::local(
        &qid,
        inst.id.get_ref(),
        crate::clock::now(),
        &inst.mail.report_sender,
        &to,
        &message_id,
    );
    let smtp_out = dirs.smtp_out.clone();
    let done =
        tokio::task::spawn_blocking(move || crate::spool::admin::enqueue(&smtp_out, &sc, &eml))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
    let who = ctx.principal().map_or("", |p| p.name.as_str());
    match done {
        Ok(()) => {
            tracing::info!(event = "web.journal_resent", instance = %instance_id, id = %entry.id, queue_id = %qid, to = %to, by = who, client = %ctx.client);
            redirect(&format!(
                "/journal?instance={}&done=resent",
                urlencode(&instance_id)
            ))
        }
        Err(e) => {
            tracing::error!(event = "web.journal_resend_failed", instance = %instance_id, id = %entry.id, error = %e, by = who);
            web.error(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
        }
    }
}

pub async fn delete(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path((instance_id, id)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Err(e) = ctx.check_csrf(f.csrf.as_deref()) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let (journal, entry, _) = match located(&web, &ctx, &Reader::Admin, &instance_id, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let who = ctx.principal().map_or("", |p| p.name.as_str());
    match journal.remove(&entry.id).await {
        Ok(_) => {
            tracing::info!(event = "web.journal_deleted", instance = %instance_id, id = %entry.id, kind = entry.kind.as_str(), recipient = %entry.recipient, by = who, client = %ctx.client);
            redirect(&format!(
                "/journal?instance={}&done=deleted",
                urlencode(&instance_id)
            ))
        }
        Err(e) => {
            tracing::error!(event = "web.journal_delete_failed", instance = %instance_id, id = %entry.id, error = %e, by = who);
            web.error(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
        }
    }
}

/// The logged-in user as a reader of his own entries; else the response to give.
async fn user(web: &Arc<Web>, ctx: &Ctx) -> Result<Reader, Response> {
    let Some(name) = ctx.principal().map(|p| p.name.clone()) else {
        return Err(redirect(&format!("/login?next={}", urlencode(&ctx.path))));
    };
    match super::portal::find(web, &name).await {
        Ok(Some((_, view))) => Ok(Reader::User {
            instance: view.instance.to_string(),
            address: view.address,
        }),
        Ok(None) => Err(web.error(ctx, StatusCode::NOT_FOUND, "portal.none")),
        Err(e) => {
            tracing::error!(event = "portal.unavailable", name, error = %e);
            Err(web.error(ctx, StatusCode::SERVICE_UNAVAILABLE, "portal.unavailable"))
        }
    }
}

pub async fn mine(
    State(web): State<Arc<Web>>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match user(&web, &ctx).await {
        Ok(reader) => list(&web, &ctx, reader, &q).await,
        Err(r) => r,
    }
}

pub async fn mine_show(
    State(web): State<Arc<Web>>,
    ctx: Ctx,
    Path((instance_id, id)): Path<(String, String)>,
) -> Response {
    match user(&web, &ctx).await {
        Ok(reader) => show(&web, &ctx, reader, &instance_id, &id).await,
        Err(r) => r,
    }
}

pub async fn mine_download(
    State(web): State<Arc<Web>>,
    ctx: Ctx,
    Path((instance_id, id)): Path<(String, String)>,
) -> Response {
    match user(&web, &ctx).await {
        Ok(reader) => download(&web, &ctx, reader, &instance_id, &id).await,
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_addresses_are_taken() {
        for good in ["jane@example.com", " max.mustermann+fax@mail.example.de "] {
            assert!(mail_address(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@localhost",
            "Jane <jane@example.com>",
            "jane@example.com\r\nBcc: x@example.com",
            "jane@exa mple.com",
            "ja..ne@example.com",
            "jane@-example.com",
            "jane@example..com",
            "a,b@example.com",
        ] {
            assert!(mail_address(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_mail_is_shown_as_text_with_its_attachments_listed() {
        let eml = b"From: \"Fax <b>\" <fax@example.com>\r\nTo: jane@example.com\r\n\
Subject: <script>x</script>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/html\r\n\r\n<p>Hello <img src=x onerror=alert(1)></p>\r\n--b\r\n\
Content-Type: application/pdf; name=fax.pdf\r\nContent-Disposition: attachment; filename=fax.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
        let s = show_mail(eml);
        assert_eq!(s.subject, "<script>x</script>");
        assert_eq!(s.from, "Fax <b> <fax@example.com>");
        assert!(s.text.contains("Hello"), "{}", s.text);
        assert!(!s.text.contains("<img"), "{}", s.text);
        assert_eq!(
            s.attachments,
            [Attachment {
                name: "fax.pdf".into(),
                content_type: "application/pdf".into(),
                size: 5,
            }]
        );
        assert!(s.headers.starts_with("From: ") && !s.headers.contains("--b"));
        // Not a mail at all: the header block, nothing else.
        assert_eq!(show_mail(b"\x00\x01").text, "");
    }
}
