//! `/portal`: a user's own settings — what he may send, and the fields he may change.
//!
//! Contract: any session may open it (an administrator from `[[service.web.admins]]` has no
//! directory entry and is told so). The user is the first instance's directory (in
//! configuration order) that knows his login name, as at the login. `GET` shows
//! [`crate::web::portal::Portal::view`]; `POST` passes the CSRF checks, then
//! [`crate::web::portal::Portal::save`]: every field is checked before anything is written,
//! and a refused field shows the page again with the reason in the page's language (400, or
//! 403 for a locked field) and nothing changed. A directory that cannot be asked is a 503
//! with "try again later".

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::web::portal::{Changes, MAX_HEADLINE_CHARS, Portal, PortalError, PortalView, Problem};
use crate::web::{Ctx, Web, i18n, redirect, urlencode};

/// The administrator's cover names, read once (the templates are drawn when they load).
pub(crate) fn covers(web: &Web) -> Vec<String> {
    web.portal_covers
        .get_or_init(|| match crate::rendering::covers(&web.config) {
            Ok(c) => c.names().map(str::to_owned).collect(),
            Err(e) => {
                tracing::error!(event = "portal.covers", error = %e, "the portal offers no cover");
                Vec::new()
            }
        })
        .clone()
}

/// The portals of the running instances, in configuration order.
fn portals(web: &Web) -> Vec<Portal> {
    let running = web.running.read().map(|r| r.clone()).unwrap_or_default();
    let Some(store) = web.store() else {
        return Vec::new();
    };
    let config = web.current();
    config
        .instances
        .iter()
        .filter_map(|inst| {
            let r = running
                .iter()
                .find(|r| r.id == inst.id.get_ref().as_str())?;
            Some(Portal::new(
                &config,
                inst,
                covers(web),
                Arc::clone(&r.directory),
                store.clone(),
            ))
        })
        .collect()
}

/// The portal and view of `name`: `Ok(None)` when no directory knows him.
pub(crate) async fn find(
    web: &Web,
    name: &str,
) -> Result<Option<(Portal, PortalView)>, PortalError> {
    let mut failed = None;
    for p in portals(web) {
        match p.view(name).await {
            Ok(v) => return Ok(Some((p, v))),
            Err(PortalError::NotFound { .. }) => {}
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    failed.map_or(Ok(None), Err)
}

fn page(
    web: &Web,
    ctx: &Ctx,
    status: StatusCode,
    view: Option<&PortalView>,
    message: Option<(&str, &str)>,
) -> Response {
    let editable = view.is_some_and(|v| {
        v.cover.as_ref().is_some_and(|f| f.editable)
            || v.headline.as_ref().is_some_and(|f| f.editable)
            || v.report_language.as_ref().is_some_and(|f| f.editable)
            || v.inbound_fax.as_ref().is_some_and(|f| f.editable)
    });
    web.page(
        ctx,
        status,
        "portal.html",
        minijinja::context! {
            nav => "portal",
            view => minijinja::Value::from(minijinja::value::Serde(&view)),
            editable,
            max_headline => MAX_HEADLINE_CHARS,
            message => message.map(|(key, _)| i18n::text(ctx.lang, key)),
            message_class => message.map(|(_, class)| class),
        },
    )
}

/// The message key and status of a refused save or a failed lookup.
fn refusal(e: &PortalError) -> (StatusCode, &'static str) {
    match e {
        PortalError::Locked { .. } => (StatusCode::FORBIDDEN, "portal.error.locked"),
        PortalError::Invalid { problem, .. } => (
            StatusCode::BAD_REQUEST,
            match problem {
                Problem::TooLong { .. } => "portal.error.too_long",
                Problem::ControlCharacter => "portal.error.control",
                Problem::NotOffered => "portal.error.not_offered",
            },
        ),
        PortalError::ReadOnlyDirectory => (StatusCode::FORBIDDEN, "portal.read_only"),
        PortalError::Malformed => (StatusCode::CONFLICT, "portal.malformed"),
        PortalError::NotFound { .. } => (StatusCode::NOT_FOUND, "portal.none"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "portal.unavailable"),
    }
}

pub async fn show(State(web): State<Arc<Web>>, ctx: Ctx) -> Response {
    let Some(name) = ctx.principal().map(|p| p.name.clone()) else {
        return redirect(&format!("/login?next={}", urlencode("/portal")));
    };
    match find(&web, &name).await {
        Ok(Some((_, v))) => page(&web, &ctx, StatusCode::OK, Some(&v), None),
        Ok(None) => page(
            &web,
            &ctx,
            StatusCode::OK,
            None,
            Some(("portal.none", "info")),
        ),
        Err(e) => {
            tracing::error!(event = "portal.unavailable", name, error = %e);
            let (status, key) = refusal(&e);
            page(&web, &ctx, status, None, Some((key, "error")))
        }
    }
}

/// The form: the CSRF token and the fields.
#[derive(Debug, serde::Deserialize)]
pub struct PortalForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(flatten)]
    changes: Changes,
}

pub async fn save(State(web): State<Arc<Web>>, ctx: Ctx, Form(f): Form<PortalForm>) -> Response {
    let Some(name) = ctx.principal().map(|p| p.name.clone()) else {
        return redirect("/login");
    };
    if let Err(e) = ctx.check_csrf(f.csrf.as_deref()) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let (portal, view) = match find(&web, &name).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return page(
                &web,
                &ctx,
                StatusCode::NOT_FOUND,
                None,
                Some(("portal.none", "error")),
            );
        }
        Err(e) => {
            tracing::error!(event = "portal.unavailable", name, error = %e);
            let (status, key) = refusal(&e);
            return page(&web, &ctx, status, None, Some((key, "error")));
        }
    };
    match portal.save(&name, &f.changes).await {
        Ok(v) => page(
            &web,
            &ctx,
            StatusCode::OK,
            Some(&v),
            Some(("portal.saved", "ok")),
        ),
        Err(e) => {
            tracing::warn!(event = "portal.refused", name, client = %ctx.client, error = %e);
            let (status, key) = refusal(&e);
            page(&web, &ctx, status, Some(&view), Some((key, "error")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use umsgate_domain::{InboundFax, Priority, Rights, Service};

    #[test]
    fn every_value_the_page_names_has_words_in_every_language() {
        let mut keys = Vec::new();
        keys.extend(
            Service::SPELLINGS
                .iter()
                .map(|s| format!("portal.service.{s}")),
        );
        keys.extend(
            Rights::SPELLINGS
                .iter()
                .map(|s| format!("portal.rights.{s}")),
        );
        keys.extend(
            Priority::SPELLINGS
                .iter()
                .map(|s| format!("portal.priority.{s}")),
        );
        keys.extend(
            InboundFax::SPELLINGS
                .iter()
                .map(|s| format!("portal.inbound.{}", s.replace('+', "_"))),
        );
        for e in [
            PortalError::Locked {
                field: crate::web::portal::Field::Cover,
            },
            PortalError::Invalid {
                field: crate::web::portal::Field::Headline,
                problem: Problem::TooLong { max: 60 },
            },
            PortalError::Invalid {
                field: crate::web::portal::Field::Headline,
                problem: Problem::ControlCharacter,
            },
            PortalError::Invalid {
                field: crate::web::portal::Field::Cover,
                problem: Problem::NotOffered,
            },
            PortalError::ReadOnlyDirectory,
            PortalError::Malformed,
            PortalError::NotFound {
                address: String::new(),
            },
        ] {
            keys.push(refusal(&e).1.to_owned());
        }
        for k in &keys {
            assert!(i18n::known(k), "{k}");
        }
        // the headline's limit is the one the words name
        for lang in [umsgate_domain::Language::De, umsgate_domain::Language::En] {
            assert!(
                i18n::text(lang, "portal.error.too_long").contains(&MAX_HEADLINE_CHARS.to_string())
            );
        }
    }
}
