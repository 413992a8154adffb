//! `/login`, `/logout` and `/lang/{code}`.
//!
//! Contract: a login passes the Origin checks, is refused without a check while the client
//! or the name is over its failure limit ([`crate::web::auth::limiter`]), and on success starts a new session (the old one, if any, is
//! dropped) and goes to `next` (a local path only). Every failure is logged with the client
//! and the name, never the password.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::web::session::Sessions;
use crate::web::{Ctx, Web, i18n, local_path, redirect, set_cookie};

pub async fn login_form(
    State(web): State<Arc<Web>>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let next = local_path(q.get("next").map(String::as_str));
    if ctx.session.is_some() {
        return redirect(&next);
    }
    form(&web, &ctx, StatusCode::OK, &next, "", None)
}

fn form(
    web: &Web,
    ctx: &Ctx,
    status: StatusCode,
    next: &str,
    name: &str,
    message: Option<&str>,
) -> Response {
    web.page(
        ctx,
        status,
        "login.html",
        minijinja::context! {
            next, name, message => message.map(|k| i18n::text(ctx.lang, k)),
        },
    )
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Longest name or password looked at (argon2 of a megabyte is a denial of service).
const MAX_FIELD: usize = 1024;

pub async fn login(State(web): State<Arc<Web>>, ctx: Ctx, Form(f): Form<LoginForm>) -> Response {
    if let Err(e) = crate::web::csrf::check_origin(&ctx.headers) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let next = local_path(Some(&f.next));
    let name = f.name.trim();
    // Per client address and per name; an attempt being checked counts as a failure.
    let ticket = match web.limiter.begin(ctx.client, name) {
        Ok(t) => t,
        Err(limited) => {
            tracing::warn!(event = "web.login_blocked", client = %ctx.client, name = %f.name, reason = %limited);
            return form(
                &web,
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                &f.name,
                Some("login.blocked"),
            );
        }
    };
    if name.is_empty()
        || f.password.is_empty()
        || name.len() > MAX_FIELD
        || f.password.len() > MAX_FIELD
    {
        ticket.failed();
        return form(
            &web,
            &ctx,
            StatusCode::UNAUTHORIZED,
            &next,
            name,
            Some("login.failed"),
        );
    }
    match web.auth.authenticate(name, &f.password).await {
        Ok(Some(principal)) => {
            ticket.succeeded();
            let old = ctx.session.as_ref().map(|s| s.id.clone());
            let Some(session) = web.sessions.login(principal, old.as_deref()) else {
                return web.error(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal");
            };
            tracing::info!(event = "web.login", client = %ctx.client, name = %session.principal.name, admin = (session.principal.role == crate::web::session::Role::Admin));
            // A portal user has nothing at `/` (the console): his page is the portal.
            let to = if next == "/" && session.principal.role == crate::web::session::Role::User {
                "/portal"
            } else {
                next.as_str()
            };
            let mut r = redirect(to);
            set_cookie(&mut r, &web.sessions.set_cookie(&session, web.tls));
            r
        }
        Ok(None) => {
            ticket.failed();
            tracing::warn!(event = "web.login_failed", client = %ctx.client, name = %name);
            form(
                &web,
                &ctx,
                StatusCode::UNAUTHORIZED,
                &next,
                name,
                Some("login.failed"),
            )
        }
        Err(e) => {
            // Not checked: not counted.
            ticket.abandon();
            tracing::error!(event = "web.login_unavailable", client = %ctx.client, error = %e, cause = ?std::error::Error::source(&e).map(ToString::to_string));
            form(
                &web,
                &ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                &next,
                name,
                Some("login.unavailable"),
            )
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

pub async fn logout(State(web): State<Arc<Web>>, ctx: Ctx, Form(f): Form<CsrfForm>) -> Response {
    let Some(session) = &ctx.session else {
        return redirect("/login");
    };
    if let Err(e) = ctx.check_csrf(f.csrf.as_deref()) {
        return super::csrf_refused(&web, &ctx, e);
    }
    web.sessions.logout(&session.id);
    tracing::info!(event = "web.logout", client = %ctx.client, name = %session.principal.name);
    let mut r = redirect("/login");
    set_cookie(&mut r, &Sessions::clear_cookie(web.tls));
    r
}

/// Sets the language cookie (one year) and goes back.
pub async fn language(
    State(web): State<Arc<Web>>,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let back = local_path(q.get("back").map(String::as_str));
    let mut r = redirect(&back);
    if let Some(lang) = i18n::from_code(&code) {
        set_cookie(
            &mut r,
            &format!(
                "{}={}; Path=/; SameSite=Strict; Max-Age=31536000{}",
                i18n::COOKIE,
                i18n::code(lang),
                if web.tls { "; Secure" } else { "" }
            ),
        );
    }
    r
}
