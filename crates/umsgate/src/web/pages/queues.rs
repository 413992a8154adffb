//! `/queues`: the queued mail of each instance, by state, searchable and paginated; one
//! message with its headers and sidecar; requeue, delete and the `.eml`.
//!
//! Contract: the list is served from [`crate::web::queue_index`] (no folder scan per
//! request) and shows [`PAGE_SIZE`] messages a page; the search matches the id, the sender
//! and the recipients (a number is found whatever its separators). A message is named by
//! instance, state and id; requeue and delete do what `umsgate queue requeue|delete` do
//! ([`crate::spool::admin`]), log who did it, and refuse a message that is still in the
//! intake log (only the daemon changes that log).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::config::InstanceConfig;
use crate::spool::QueueId;
use crate::spool::admin::{self, QueueItem};
use crate::spool::layout::{InstanceDirs, QueueState};
use crate::web::queue_index::{Search, Summary, intake_summaries};
use crate::web::{Admin, Ctx, Web, i18n, redirect};

/// Messages per page.
pub const PAGE_SIZE: usize = 50;
/// Most bytes of a message's header shown.
const HEADER_MAX: usize = 64 * 1024;

/// What the state tabs show: a queue state or print-unread's pending faxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Queue(QueueState),
    Print,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Queue(QueueState::Incoming),
        Tab::Queue(QueueState::Outgoing),
        Tab::Queue(QueueState::Deferred),
        Tab::Queue(QueueState::Badmail),
        Tab::Queue(QueueState::Error),
        Tab::Print,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Queue(s) => s.as_str(),
            Tab::Print => "print",
        }
    }

    pub fn parse(s: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The instance `id` of the configuration the instances run on now.
fn instance<'a>(config: &'a crate::config::Config, id: &str) -> Option<&'a InstanceConfig> {
    config
        .instances
        .iter()
        .find(|i| i.id.get_ref().as_str() == id)
}

fn dirs(web: &Web, inst: &InstanceConfig) -> InstanceDirs {
    InstanceDirs::new(&web.current().instance_state_dir(inst.id.get_ref()))
}

/// The messages of one instance in one queue state, oldest first: the index's own list
/// where the folder holds one state only (no copy), else the part of it in `state`.
pub async fn messages(
    web: &Web,
    inst: &InstanceConfig,
    state: QueueState,
) -> std::io::Result<Arc<Vec<Arc<Summary>>>> {
    let d = dirs(web, inst);
    let folder = d.folder(state).to_owned();
    let all = web.index.snapshot(&folder, state).await?;
    match state {
        QueueState::Outgoing | QueueState::Deferred => Ok(Arc::new(
            all.iter().filter(|s| s.state == state).cloned().collect(),
        )),
        QueueState::Incoming => {
            let smtp_in = d.smtp_in.clone();
            let logged = tokio::task::spawn_blocking(move || intake_summaries(&smtp_in))
                .await
                .map_err(std::io::Error::other)??;
            if logged.is_empty() {
                return Ok(all);
            }
            let mut out = all.as_ref().clone();
            out.extend(logged);
            Ok(Arc::new(out))
        }
        QueueState::Badmail | QueueState::Error => Ok(all),
    }
}

/// How many messages wait in each state of `inst` (the dashboard's and the tabs' numbers).
pub async fn counts(web: &Web, inst: &InstanceConfig) -> Vec<(Tab, usize)> {
    let d = dirs(web, inst);
    let out_folder = web
        .index
        .snapshot(&d.smtp_out, QueueState::Outgoing)
        .await
        .unwrap_or_default();
    let deferred = out_folder
        .iter()
        .filter(|s| s.state == QueueState::Deferred)
        .count();
    let mut out = Vec::new();
    for tab in Tab::ALL {
        let n = match tab {
            Tab::Queue(QueueState::Deferred) => deferred,
            Tab::Queue(QueueState::Outgoing) => out_folder.len() - deferred,
            Tab::Queue(s) => messages(web, inst, s).await.map_or(0, |m| m.len()),
            Tab::Print => prints(web, inst).await.len(),
        };
        out.push((tab, n));
    }
    out
}

/// Builds the index of every queue folder, so that the first visit of a queue page does
/// not wait for it (started with the console).
pub async fn warm(web: Arc<Web>) {
    for inst in &web.current().instances {
        let _ = counts(&web, inst).await;
    }
}

#[derive(Serialize)]
struct PrintRow {
    fax: String,
    received_at: String,
    state: String,
    printer: String,
    attempts: u32,
    last_error: Option<String>,
}

async fn prints(web: &Web, inst: &InstanceConfig) -> Vec<PrintRow> {
    let Some(store) = web.store() else {
        return Vec::new();
    };
    match store.print_pending(Some(inst.id.get_ref().as_str())).await {
        Ok(v) => v
            .into_iter()
            .map(|p| PrintRow {
                fax: p.fax,
                received_at: p.received_at,
                state: p.state.as_str().to_owned(),
                printer: p.printer,
                attempts: p.attempts,
                last_error: p.last_error,
            })
            .collect(),
        Err(e) => {
            tracing::warn!(event = "web.store", error = %e);
            Vec::new()
        }
    }
}

pub async fn list(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let config = web.current();
    let instances: Vec<String> = config
        .instances
        .iter()
        .map(|i| i.id.get_ref().to_string())
        .collect();
    let Some(inst) = q
        .get("instance")
        .and_then(|i| instance(&config, i))
        .or_else(|| config.instances.first())
    else {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    };
    let tab = q
        .get("state")
        .and_then(|s| Tab::parse(s))
        .unwrap_or(Tab::Queue(QueueState::Incoming));
    let search: String = q
        .get("q")
        .map_or("", |s| s.trim())
        .chars()
        .take(200)
        .collect();
    let needle = Search::new(&search);
    let page: usize = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let tabs: Vec<_> = counts(&web, inst)
        .await
        .into_iter()
        .map(|(t, n)| minijinja::context! { state => t.as_str(), count => n })
        .collect();
    let (items, total, pages, print_rows) = match tab {
        Tab::Queue(state) => {
            let all = match messages(&web, inst, state).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(event = "web.queue_list", error = %e);
                    return web.error(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal");
                }
            };
            // One pass: the positions of the matches (all of them without a search).
            let hits: Vec<usize> = if needle.is_empty() {
                Vec::new()
            } else {
                (0..all.len())
                    .filter(|&i| all[i].matches(&needle))
                    .collect()
            };
            let total = if needle.is_empty() {
                all.len()
            } else {
                hits.len()
            };
            let pages = total.div_ceil(PAGE_SIZE).max(1);
            let from = (page.min(pages) - 1) * PAGE_SIZE;
            let page_items: Vec<Summary> = if needle.is_empty() {
                all.iter()
                    .skip(from)
                    .take(PAGE_SIZE)
                    .map(|s| s.as_ref().clone())
                    .collect()
            } else {
                hits.iter()
                    .skip(from)
                    .take(PAGE_SIZE)
                    .map(|&i| all[i].as_ref().clone())
                    .collect()
            };
            (page_items, total, pages, Vec::new())
        }
        Tab::Print => {
            let rows = prints(&web, inst).await;
            (Vec::new(), rows.len(), 1, rows)
        }
    };
    let notice = q.get("done").and_then(|d| match d.as_str() {
        "requeued" => Some(i18n::text(ctx.lang, "queue.requeued")),
        "deleted" => Some(i18n::text(ctx.lang, "queue.deleted")),
        _ => None,
    });
    web.page(
        &ctx,
        StatusCode::OK,
        "queues.html",
        minijinja::context! {
            nav => "queues",
            instances,
            instance => inst.id.get_ref().as_str(),
            state => tab.as_str(),
            states => tabs,
            q => search,
            items => minijinja::Value::from(minijinja::value::Serde(&items)),
            prints => minijinja::Value::from(minijinja::value::Serde(&print_rows)),
            total,
            page => page.min(pages),
            pages,
            notice,
        },
    )
}

/// The message a URL names, when it is where the URL says.
async fn located(
    web: &Arc<Web>,
    ctx: &Ctx,
    instance_id: &str,
    state: &str,
    id: &str,
) -> Result<QueueItem, Response> {
    let not_found = || web.error(ctx, StatusCode::NOT_FOUND, "error.not_found");
    let (Some(_), Some(Tab::Queue(_)), Some(qid)) = (
        instance(&web.current(), instance_id).map(|_| ()),
        Tab::parse(state),
        QueueId::parse(id),
    ) else {
        return Err(not_found());
    };
    let config = web.current();
    let found = tokio::task::spawn_blocking(move || admin::find(&config, &qid)).await;
    match found {
        Ok(Ok(Some((item, _)))) if item.instance == instance_id => Ok(item),
        Ok(Ok(_)) => Err(not_found()),
        Ok(Err(e)) => {
            tracing::error!(event = "web.queue_find", id, error = %e);
            Err(web.error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal"))
        }
        Err(e) => {
            tracing::error!(event = "web.queue_find", id, error = %e);
            Err(web.error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal"))
        }
    }
}

pub async fn show(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path((instance_id, state, id)): Path<(String, String, String)>,
) -> Response {
    let item = match located(&web, &ctx, &instance_id, &state, &id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let for_read = item.clone();
    let (headers, sidecar) = tokio::task::spawn_blocking(move || {
        let headers = admin::message_bytes(&for_read).map_or_else(
            |e| format!("({e})"),
            |b| {
                let end = b
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .or_else(|| b.windows(2).position(|w| w == b"\n\n"))
                    .unwrap_or(b.len())
                    .min(HEADER_MAX);
                String::from_utf8_lossy(&b[..end]).into_owned()
            },
        );
        let sidecar = if for_read.in_intake_log {
            String::new()
        } else {
            std::fs::read(for_read.path.with_extension("json"))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        (headers, sidecar)
    })
    .await
    .unwrap_or_default();
    web.page(
        &ctx,
        StatusCode::OK,
        "message.html",
        minijinja::context! {
            nav => "queues",
            instance => instance_id,
            item => minijinja::Value::from(minijinja::value::Serde(&item)),
            headers,
            sidecar,
        },
    )
}

pub async fn download(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path((instance_id, state, id)): Path<(String, String, String)>,
) -> Response {
    let item = match located(&web, &ctx, &instance_id, &state, &id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let name = item.id.clone();
    match tokio::task::spawn_blocking(move || admin::message_bytes(&item)).await {
        Ok(Ok(bytes)) => (
            [
                (CONTENT_TYPE, "message/rfc822".to_owned()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.eml\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        _ => web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found"),
    }
}

#[derive(serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: Option<String>,
}

#[derive(Clone, Copy)]
enum Action {
    Requeue,
    Delete,
}

async fn act(
    web: Arc<Web>,
    ctx: Ctx,
    (instance_id, state, id): (String, String, String),
    form: ActionForm,
    action: Action,
) -> Response {
    if let Err(e) = ctx.check_csrf(form.csrf.as_deref()) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let item = match located(&web, &ctx, &instance_id, &state, &id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(qid) = QueueId::parse(&item.id) else {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    };
    let config = web.current();
    let done = tokio::task::spawn_blocking(move || match action {
        Action::Requeue => admin::requeue(&config, &qid),
        Action::Delete => admin::delete(&config, &qid),
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r);
    let who = ctx.principal().map_or("", |p| p.name.as_str());
    let verb = match action {
        Action::Requeue => "requeued",
        Action::Delete => "deleted",
    };
    match done {
        Ok(Some(_)) => {
            tracing::info!(event = "web.queue_action", action = verb, instance = %instance_id, id = %id, from_state = %state, by = who, client = %ctx.client);
            redirect(&format!(
                "/queues?instance={}&state={state}&done={verb}",
                crate::web::urlencode(&instance_id)
            ))
        }
        Ok(None) => web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found"),
        Err(e) => {
            tracing::warn!(event = "web.queue_action_failed", action = verb, id = %id, error = %e, by = who);
            web.page(
                &ctx,
                StatusCode::CONFLICT,
                "error.html",
                minijinja::context! { message => e.to_string() },
            )
        }
    }
}

pub async fn requeue(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path(p): Path<(String, String, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    act(web, ctx, p, f, Action::Requeue).await
}

pub async fn delete(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path(p): Path<(String, String, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    act(web, ctx, p, f, Action::Delete).await
}
