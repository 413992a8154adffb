//! The console's handlers, one file per page; [`auth`] has the login, logout and the
//! language switch.

// The message journal: `/journal` and `/portal/messages`.
pub mod journal;

pub mod auth;
pub mod dashboard;
pub mod info;
pub mod instances;
pub mod logs;
pub mod portal;
pub mod queues;
pub mod test_message;
pub mod users;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::{Ctx, Web};

/// The vendored script and style sheet.
const STATIC: [(&str, &str, &str); 2] = [
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../../static/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../static/console.js"),
    ),
];

pub async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => (
            [(CONTENT_TYPE, *mime), (CACHE_CONTROL, "max-age=3600")],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn not_found(State(web): State<Arc<Web>>, ctx: Ctx) -> Response {
    if ctx.session.is_none() {
        return super::redirect("/login");
    }
    web.error(&ctx, StatusCode::NOT_FOUND, "error.not_found")
}

/// The 403 of a refused CSRF check (logged with the reason).
pub(crate) fn csrf_refused(web: &Web, ctx: &Ctx, e: super::csrf::CsrfRefusal) -> Response {
    tracing::warn!(event = "web.csrf_refused", client = %ctx.client, reason = %e);
    web.error(ctx, StatusCode::FORBIDDEN, "error.bad_request")
}
