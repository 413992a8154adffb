//! The HTTP listener Kannel calls: `/dlr` (delivery reports) and `/mo` (received SMS), GET or
//! POST.
//!
//! Contract: a caller whose address is not in `allow_from` (when set), or whose `key` is not the
//! callback secret (when set), gets 403 and nothing is read further. A malformed callback gets
//! 400 with the reason as text ([`CallbackError`]); a body over [`MAX_BODY`] 413; a callback
//! beyond [`MAX_CONCURRENT`] at once waits up to [`TURN_WAIT`] for its turn, then gets 503 (Kannel
//! tries again later); a callback not answered within [`REQUEST_TIME`] 408. A final DLR is written as the job's report, and a received SMS into `received/`
//! (service `sms`, `called` the number it was sent to, in the site's canonical form when it
//! reads as a number), both fsynced before the 200; a write that fails answers 500 so that
//! Kannel tries again (`http-request-retry`) and nothing is acknowledged that is not on disk.
//! Intermediate DLRs (queued, SMSC ack) are logged and answered 200. A received SMS whose
//! Kannel id was seen recently (the last [`RECENT_IDS`]) is answered 200 and not written again.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::sync::Semaphore;
use umsgate_domain::{Service, SitePlan};

use super::callback::{self, CallbackError, Dlr, Mo, Params};
use super::{Store, received_at};
use crate::clock;
use crate::config::KannelConfig;
use crate::config::units::Cidr;
use crate::gateway::received::{self, ReceivedMessage};
use crate::gateway::{DeliveryReport, DeliveryStatus};

/// Largest request body (a `post-url` text).
pub(super) const MAX_BODY: usize = 32 * 1024;
/// Callbacks served at once.
pub(super) const MAX_CONCURRENT: usize = 64;
/// Longest time a callback waits for one of the [`MAX_CONCURRENT`] turns. Kannel sends a
/// burst of delivery reports on many connections at once; waiting a moment costs a task, a
/// 503 costs Kannel a retry queue and the callback again later.
pub(super) const TURN_WAIT: Duration = Duration::from_secs(5);
/// Longest time one callback may take.
pub(super) const REQUEST_TIME: Duration = Duration::from_secs(30);
/// Received-SMS ids remembered against repeated calls.
pub(super) const RECENT_IDS: usize = 1024;

/// What every callback needs.
#[derive(Debug)]
pub(super) struct Shared {
    key: Option<String>,
    allow_from: Vec<Cidr>,
    plan: SitePlan,
    store: Store,
    received: PathBuf,
    wake: Arc<tokio::sync::Notify>,
    permits: Arc<Semaphore>,
    recent: Mutex<VecDeque<String>>,
}

impl Shared {
    pub(super) fn new(
        cfg: &KannelConfig,
        plan: SitePlan,
        store: Store,
        received: PathBuf,
        wake: Arc<tokio::sync::Notify>,
    ) -> Shared {
        Shared {
            key: cfg.callback_key.as_ref().map(|k| k.expose().to_owned()),
            allow_from: cfg.allow_from.clone(),
            plan,
            store,
            received,
            wake,
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT)),
            recent: Mutex::new(VecDeque::new()),
        }
    }
}

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/dlr", any(dlr))
        .route("/mo", any(mo))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIME,
        ))
        .with_state(shared)
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn bad(e: &CallbackError, peer: SocketAddr, what: &str) -> Response {
    tracing::warn!(event = "kannel.callback_refused", kind = what, peer = %peer.ip(), error = %e);
    text(StatusCode::BAD_REQUEST, format!("{e}\n"))
}

/// Why a callback is not served.
enum Refused {
    Forbidden,
    Bad(CallbackError),
}

impl Refused {
    fn answer(self, peer: SocketAddr, what: &str) -> Response {
        match self {
            Refused::Forbidden => text(StatusCode::FORBIDDEN, "forbidden\n"),
            Refused::Bad(e) => bad(&e, peer, what),
        }
    }
}

/// Checks the source and the secret, and parses the query.
fn admit(s: &Shared, peer: SocketAddr, query: Option<&str>, what: &str) -> Result<Params, Refused> {
    if !s.allow_from.is_empty() && !s.allow_from.iter().any(|c| c.contains(peer.ip())) {
        tracing::warn!(event = "kannel.callback_forbidden", kind = what, peer = %peer.ip(), "address not in allow_from");
        return Err(Refused::Forbidden);
    }
    let params = Params::parse(query.unwrap_or_default()).map_err(Refused::Bad)?;
    if let Some(key) = &s.key
        && !params
            .raw("key")
            .is_some_and(|given| callback::key_matches(given, key))
    {
        tracing::warn!(event = "kannel.callback_forbidden", kind = what, peer = %peer.ip(), "wrong or missing key");
        return Err(Refused::Forbidden);
    }
    Ok(params)
}

/// One of the callbacks' turns, waited for up to [`TURN_WAIT`]; `None` when none came free.
async fn turn(permits: &Arc<Semaphore>) -> Option<tokio::sync::OwnedSemaphorePermit> {
    tokio::time::timeout(TURN_WAIT, Arc::clone(permits).acquire_owned())
        .await
        .ok()?
        .ok()
}

fn busy() -> Response {
    tracing::warn!(
        event = "kannel.callback_busy",
        "too many callbacks at once for too long; Kannel is asked to retry"
    );
    text(StatusCode::SERVICE_UNAVAILABLE, "busy\n")
}

async fn dlr(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(_permit) = turn(&s.permits).await else {
        return busy();
    };
    let params = match admit(&s, peer, query.as_deref(), "dlr") {
        Ok(p) => p,
        Err(r) => return r.answer(peer, "dlr"),
    };
    let d = match Dlr::parse(&params) {
        Ok(d) => d,
        Err(e) => return bad(&e, peer, "dlr"),
    };
    if !d.kind.is_final() {
        tracing::info!(event = "kannel.dlr", job_id = %d.job_id, kind = d.kind.describe(), reply = %d.reply);
        return text(StatusCode::OK, "ok\n");
    }
    let report = DeliveryReport {
        job_id: d.job_id.clone(),
        status: if d.kind == super::DlrType::Delivered {
            DeliveryStatus::Sent
        } else {
            DeliveryStatus::Failed
        },
        pages: None,
        duration_s: None,
        attempts: None,
        remote_id: d.smsc_id.clone(),
        reason: (d.kind != super::DlrType::Delivered).then(|| {
            if d.reply.is_empty() {
                d.kind.describe().to_owned()
            } else {
                format!("{} ({})", d.kind.describe(), d.reply)
            }
        }),
        finished_at: clock::rfc3339(clock::now()),
    };
    let store = s.store.clone();
    match tokio::task::spawn_blocking(move || store.finish(&report)).await {
        Ok(Ok(true)) => {
            tracing::info!(event = "kannel.dlr_final", job_id = %d.job_id, kind = d.kind.describe(), reply = %d.reply);
            text(StatusCode::OK, "ok\n")
        }
        Ok(Ok(false)) => {
            tracing::warn!(event = "kannel.dlr_unknown_job", job_id = %d.job_id, kind = d.kind.describe(), "no pending job of that id (finished before, or not umsgate's)");
            text(StatusCode::OK, "ok\n")
        }
        Ok(Err(e)) => {
            tracing::error!(event = "kannel.report_write_failed", job_id = %d.job_id, error = %e);
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot store the report\n",
            )
        }
        Err(e) => {
            tracing::error!(event = "kannel.report_write_failed", job_id = %d.job_id, error = %e);
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot store the report\n",
            )
        }
    }
}

async fn mo(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(_permit) = turn(&s.permits).await else {
        return busy();
    };
    let params = match admit(&s, peer, query.as_deref(), "mo") {
        Ok(p) => p,
        Err(r) => return r.answer(peer, "mo"),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = (!body.is_empty()).then(|| (&body[..], callback::content_charset(content_type)));
    let m = match Mo::parse(&params, body) {
        Ok(m) => m,
        Err(e) => return bad(&e, peer, "mo"),
    };
    if let Some(id) = &m.id
        && s.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    {
        tracing::info!(event = "kannel.mo_repeated", id = %id, "received before; not written again");
        return text(StatusCode::OK, "ok\n");
    }
    let called = s
        .plan
        .normalise(&m.to)
        .map_or_else(|_| m.to.clone(), |n| s.plan.spaced(&n));
    let msg = ReceivedMessage {
        service: Service::Sms,
        calling: m.from.clone(),
        called,
        received_at: received_at(),
        pages: None,
        csid: None,
        files: Vec::new(),
        text: Some(m.text.clone()),
        duration_s: None,
    };
    let dir = s.received.clone();
    match tokio::task::spawn_blocking(move || received::write(&dir, &msg, &[])).await {
        Ok(Ok(id)) => {
            tracing::info!(event = "gateway.received", service = "sms", id = %id, calling = %m.from, called = %m.to);
            if let Some(kid) = m.id {
                let mut recent = s.recent.lock().unwrap_or_else(PoisonError::into_inner);
                if recent.len() >= RECENT_IDS {
                    recent.pop_front();
                }
                recent.push_back(kid);
            }
            s.wake.notify_one();
            text(StatusCode::OK, "ok\n")
        }
        Ok(Err(e)) => {
            tracing::error!(event = "kannel.mo_write_failed", error = %e);
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot store the message\n",
            )
        }
        Err(e) => {
            tracing::error!(event = "kannel.mo_write_failed", error = %e);
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot store the message\n",
            )
        }
    }
}

#[cfg(test)]
mod turn_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_callback_waits_for_a_turn_and_gives_up_after_turn_wait() {
        let permits = Arc::new(Semaphore::new(1));
        let held = turn(&permits).await;
        assert!(held.is_some());
        // All turns taken and none freed: refused once TURN_WAIT has passed.
        let start = tokio::time::Instant::now();
        assert!(turn(&permits).await.is_none());
        assert_eq!(start.elapsed(), TURN_WAIT);
        // A turn freed while waiting is taken.
        let waiter = tokio::spawn({
            let permits = Arc::clone(&permits);
            async move { turn(&permits).await.is_some() }
        });
        tokio::time::sleep(TURN_WAIT / 2).await;
        drop(held);
        assert!(waiter.await.unwrap_or(false));
    }
}
