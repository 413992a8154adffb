//! `/instances`: every configured instance — enabled or not, running or not, its listener
//! and engine — with enable/disable, its configuration and its checks.
//!
//! Contract: the list is the configuration the running instances were (re)loaded from, with
//! what runs now. `POST /instances/{id}/enable|disable` (CSRF-checked like every POST) sets
//! the entry's `enabled` in the configuration file through [`config_file::set_enabled`] —
//! the code `umsgate instance enable|disable` runs: comments kept, the result validated
//! before the file is replaced atomically, nothing written when it would be invalid — and
//! then asks the running process to reload (the same reload as SIGHUP), so that the
//! instance stops or starts without a restart; the page it redirects to says what happened
//! (changed and reloaded, already so, not applied because the reload failed, or the file's
//! refusal). `GET /instances/{id}` shows the entry as the file has it, with every secret
//! replaced exactly as on the Information page ([`super::info::redacted`]), and the
//! `umsgate` commands for what the console does not edit; with `?check=1` it also runs the
//! instance's `umsgate check` probes ([`crate::diagnostics::instance`], each at most
//! [`PROBE_LIMIT`], all at most [`CHECK_LIMIT`]) and shows each one's result.
//!
//! Implementation summary: the file edit and the probes run off the request's task (the
//! blocking pool, `tokio::time::timeout`); the reload request goes through the channel the
//! supervisor listens on and waits at most [`RELOAD_LIMIT`] for its answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::config::InstanceConfig;
use crate::config_file::{self, Toggled};
use crate::diagnostics::{self, Outcome};
use crate::supervisor::ReloadRequest;
use crate::test_message::engine_name;
use crate::web::{Admin, Ctx, Web, redirect, urlencode};

/// Longest wait for one peer's answer on the checks.
pub const PROBE_LIMIT: Duration = Duration::from_secs(10);
/// Longest wait for all of an instance's checks.
pub const CHECK_LIMIT: Duration = Duration::from_secs(45);
/// Longest wait for the running process's reload.
pub const RELOAD_LIMIT: Duration = Duration::from_secs(120);

#[derive(serde::Deserialize)]
pub struct ToggleForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// What the list says after an edit (`?done=…`): a closed set, so that the query cannot
/// put words on the page.
const NOTICES: [&str; 5] = [
    "changed",
    "already",
    "reload_failed",
    "no_reload",
    "reload_timeout",
];

fn state_of(inst: &InstanceConfig, running: bool) -> &'static str {
    match (inst.enabled, inst.hold, running) {
        (false, _, true) => "running",
        (false, _, false) => "disabled",
        (true, true, _) => "held",
        (true, false, true) => "running",
        (true, false, false) => "none",
    }
}

fn commands(web: &Web, id: &str) -> Vec<String> {
    let cfg = web.config.path.display().to_string();
    let pid = web.config.service.state_dir.join("umsgate.pid");
    vec![
        format!("umsgate instance enable {id} --config {cfg}"),
        format!("umsgate instance disable {id} --config {cfg}"),
        format!("umsgate instance new ID --config {cfg}"),
        format!("umsgate instance delete {id} --config {cfg}"),
        format!("umsgate check --config {cfg}"),
        format!("kill -HUP $(cat {})", pid.display()),
    ]
}

pub async fn list(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let config = web.current();
    let running = web.running.read().map(|r| r.clone()).unwrap_or_default();
    let instances: Vec<minijinja::Value> = config
        .instances
        .iter()
        .map(|i| {
            let id = i.id.get_ref().as_str();
            let run = running.iter().find(|r| r.id == id);
            let listen: Vec<String> = match run {
                Some(r) => r.listen.iter().map(ToString::to_string).collect(),
                None => i
                    .smtp_in
                    .listen
                    .get_ref()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            };
            minijinja::context! {
                id,
                name => i.name.clone(),
                enabled => i.enabled,
                state => state_of(i, run.is_some()),
                listen,
                engine => engine_name(i.gateway.kind),
                services => crate::routes::carried(i.gateway.kind).iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            }
        })
        .collect();
    let notice = q
        .get("done")
        .and_then(|d| NOTICES.iter().find(|n| **n == d.as_str()))
        .map(|n| format!("instances.done_{n}"));
    let notice_id = q
        .get("id")
        .filter(|id| {
            config
                .instances
                .iter()
                .any(|i| i.id.get_ref().as_str() == id.as_str())
        })
        .cloned();
    web.page(
        &ctx,
        StatusCode::OK,
        "instances.html",
        minijinja::context! {
            nav => "instances",
            instances,
            notice,
            notice_id,
            reload_offered => web.reload.is_some(),
            commands => commands(&web, "ID"),
        },
    )
}

pub async fn show(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let config = web.current();
    let Some(inst) = config
        .instances
        .iter()
        .find(|i| i.id.get_ref().as_str() == id)
        .cloned()
    else {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    };
    let path = web.config.path.clone();
    let wanted = id.clone();
    let text = tokio::task::spawn_blocking(move || {
        config_file::read(&path)
            .ok()
            .and_then(|t| config_file::entry_text(&t, &wanted))
            .and_then(|t| super::info::redacted(&t))
    })
    .await
    .ok()
    .flatten();
    let running = web
        .running
        .read()
        .map(|r| r.iter().any(|r| r.id == id))
        .unwrap_or(false);
    // The probes connect to every peer: only for a request from the console itself (or typed
    // in), never for one another site embeds (`<img src=…?check=1>`).
    let asked = q.get("check").is_some_and(|c| c == "1");
    let from_here = match crate::web::csrf::check_origin(&ctx.headers) {
        Ok(()) => true,
        Err(e) if asked => {
            tracing::warn!(event = "web.checks_refused", client = %ctx.client, reason = %e);
            false
        }
        Err(_) => false,
    };
    let checks = if asked && from_here {
        let all = tokio::time::timeout(
            CHECK_LIMIT,
            diagnostics::instance(&config, &inst, PROBE_LIMIT),
        )
        .await;
        Some(match all {
            Ok(checks) => checks
                .into_iter()
                .map(|c| match c.outcome {
                    Outcome::Ok(s) => {
                        minijinja::context! { what => c.what, level => "ok", text => s }
                    }
                    Outcome::Failed(s) => {
                        minijinja::context! { what => c.what, level => "error", text => s }
                    }
                })
                .collect::<Vec<_>>(),
            Err(_) => vec![minijinja::context! {
                what => "checks",
                level => "error",
                text => format!("no result within {}s", CHECK_LIMIT.as_secs()),
            }],
        })
    } else {
        None
    };
    web.page(
        &ctx,
        StatusCode::OK,
        "instance.html",
        minijinja::context! {
            nav => "instances",
            id => id.clone(),
            name => inst.name.clone(),
            enabled => inst.enabled,
            state => state_of(&inst, running),
            engine => engine_name(inst.gateway.kind),
            config => text,
            checks,
            commands => commands(&web, &id),
        },
    )
}

pub async fn enable(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
    Form(f): Form<ToggleForm>,
) -> Response {
    toggle(web, ctx, id, f, true).await
}

pub async fn disable(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
    Form(f): Form<ToggleForm>,
) -> Response {
    toggle(web, ctx, id, f, false).await
}

/// Asks the supervisor to reload and takes over what it loaded.
async fn reload(web: &Web) -> &'static str {
    let Some(tx) = &web.reload else {
        return "no_reload";
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    if tx.send(ReloadRequest { reply }).await.is_err() {
        return "no_reload";
    }
    let answered = tokio::time::timeout(RELOAD_LIMIT, answer).await;
    // The list that follows shows what runs now.
    if let Some(rx) = &web.snapshots {
        web.follow(rx.borrow().clone());
    }
    match answered {
        Ok(Ok(Ok(r))) if r.failed.is_empty() => "changed",
        Ok(Ok(_)) => "reload_failed",
        Ok(Err(_)) => "no_reload",
        Err(_) => "reload_timeout",
    }
}

async fn toggle(web: Arc<Web>, ctx: Ctx, id: String, f: ToggleForm, enabled: bool) -> Response {
    if let Err(e) = ctx.check_csrf(f.csrf.as_deref()) {
        return super::csrf_refused(&web, &ctx, e);
    }
    if !web
        .current()
        .instances
        .iter()
        .any(|i| i.id.get_ref().as_str() == id)
    {
        return web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found");
    }
    let path = web.config.path.clone();
    let wanted = id.clone();
    let done =
        tokio::task::spawn_blocking(move || config_file::set_enabled(&path, &wanted, enabled))
            .await;
    let who = ctx.principal().map(|p| p.name.clone()).unwrap_or_default();
    let notice = match done {
        Ok(Ok(Toggled::AlreadySo)) => "already",
        Ok(Ok(Toggled::Changed)) => {
            tracing::info!(event = "web.instance_toggled", admin = %who, instance = %id, enabled, "configuration file written; reloading");
            reload(&web).await
        }
        Ok(Err(e)) => {
            tracing::warn!(event = "web.instance_toggled", admin = %who, instance = %id, enabled, error = %e);
            return web.page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                "error.html",
                minijinja::context! { message => format!("{}: {e}", crate::web::i18n::text(ctx.lang, "instances.not_written")) },
            );
        }
        Err(e) => {
            tracing::error!(event = "web.instance_toggled", error = %e);
            return web.error(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal");
        }
    };
    redirect(&format!("/instances?done={notice}&id={}", urlencode(&id)))
}
