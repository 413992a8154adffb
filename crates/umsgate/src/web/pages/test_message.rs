//! `/test`: the administrators' "Send test message" — a fax (an uploaded TIFF or PDF, or the
//! built-in page), an SMS (a text) or a voice message (an uploaded WAV, or the built-in
//! recording) to a called number, through an instance's real inbound path.
//!
//! Contract: `GET /test` shows the form (every configured instance, with the services its
//! engine carries). `POST /test` (`multipart/form-data`) is refused with 403 before its body
//! is read when the Origin / Sec-Fetch-Site checks fail, and with 403 after it is read when
//! the form's CSRF token is wrong; nothing is written then. A body larger than
//! [`MAX_UPLOAD`] is answered with 413 and a page that says so. Otherwise the message goes
//! through [`crate::test_message::send`] — the function `umsgate send-test` calls — which
//! checks the content as an engine would; its refusal is shown in words (422), its result
//! is the received message's id with a link to the instance's `msgid.log` filtered by it
//! (the line `out … received=<id>` appears once the mail is composed). The uploaded file's
//! name is never used.
//!
//! Implementation summary: axum's `Multipart` under a `DefaultBodyLimit` of [`MAX_UPLOAD`];
//! fields beyond the known ones are read and dropped; the write (fsyncs) runs on the
//! blocking pool; the running instance's inbound worker is woken once the message is written.

use std::sync::Arc;

use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use umsgate_domain::Service;

use crate::test_message::{self, TestMessage, TestMessageError};
use crate::web::{Admin, Ctx, Web, csrf};

/// Largest request body of `POST /test`: the largest file a test message carries and room
/// for the other fields.
pub const MAX_UPLOAD: usize = test_message::MAX_FILE + 64 * 1024;

/// Longest value of a field other than the file.
const MAX_FIELD: usize = test_message::MAX_TEXT;

/// The form's values, as sent (shown again after a refusal).
#[derive(Debug, Default)]
struct Form {
    csrf: String,
    instance: String,
    service: String,
    calling: String,
    called: String,
    text: String,
    file: Option<Vec<u8>>,
}

/// Why the form could not be read.
enum ReadFailure {
    TooLarge,
    Bad,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, ReadFailure> {
    let failure = |e: &MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ReadFailure::TooLarge
        } else {
            ReadFailure::Bad
        }
    };
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| failure(&e))? {
        let name = field.name().unwrap_or("").to_owned();
        let data = field.bytes().await.map_err(|e| failure(&e))?;
        if name == "file" {
            // An empty file input means "none chosen".
            if !data.is_empty() {
                form.file = Some(data.to_vec());
            }
            continue;
        }
        if data.len() > MAX_FIELD {
            return Err(ReadFailure::TooLarge);
        }
        let value = String::from_utf8_lossy(&data).into_owned();
        match name.as_str() {
            "csrf" => form.csrf = value,
            "instance" => form.instance = value,
            "service" => form.service = value,
            "calling" => form.calling = value,
            "called" => form.called = value,
            "text" => form.text = value,
            _ => {}
        }
    }
    Ok(form)
}

/// The instances for the form: id, name, and the services the engine carries.
fn instances(web: &Web) -> Vec<minijinja::Value> {
    let config = web.current();
    let running = web.running.read().map(|r| r.clone()).unwrap_or_default();
    config
        .instances
        .iter()
        .map(|i| {
            let id = i.id.get_ref().as_str();
            minijinja::context! {
                id,
                name => i.name.clone(),
                running => running.iter().any(|r| r.id == id),
                services => crate::routes::carried(i.gateway.kind).iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            }
        })
        .collect()
}

fn render(
    web: &Web,
    ctx: &Ctx,
    status: StatusCode,
    form: &Form,
    result: Option<minijinja::Value>,
    refusal: Option<minijinja::Value>,
) -> Response {
    web.page(
        ctx,
        status,
        "test.html",
        minijinja::context! {
            nav => "test",
            instances => instances(web),
            max_mb => test_message::MAX_FILE / (1024 * 1024),
            form => minijinja::context! {
                instance => form.instance.clone(),
                service => if form.service.is_empty() { "fax".to_owned() } else { form.service.clone() },
                calling => form.calling.clone(),
                called => form.called.clone(),
                text => form.text.clone(),
            },
            result,
            refusal,
        },
    )
}

pub async fn form(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let form = Form {
        instance: q.get("instance").cloned().unwrap_or_default(),
        ..Form::default()
    };
    render(&web, &ctx, StatusCode::OK, &form, None, None)
}

/// The i18n key of a refusal.
fn refusal_key(e: &TestMessageError) -> &'static str {
    match e {
        TestMessageError::UnknownInstance(_) => "test.err_instance",
        TestMessageError::NotCarried { .. } => "test.err_not_carried",
        TestMessageError::BadNumber { .. } => "test.err_number",
        TestMessageError::NotAFax(_) => "test.err_not_fax",
        TestMessageError::NotAWav => "test.err_not_wav",
        TestMessageError::FileTooLarge { .. } => "test.err_too_large",
        TestMessageError::BadText => "test.err_text",
        TestMessageError::Write(_) => "test.err_write",
    }
}

pub async fn send(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Err(e) = csrf::check_origin(&ctx.headers) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let Ok(multipart) = multipart else {
        return web.error(&ctx, StatusCode::BAD_REQUEST, "error.bad_request");
    };
    let form = match read_form(multipart).await {
        Ok(f) => f,
        Err(ReadFailure::TooLarge) => {
            tracing::warn!(event = "web.test_message", client = %ctx.client, outcome = "too large", limit = MAX_UPLOAD);
            return web.error(&ctx, StatusCode::PAYLOAD_TOO_LARGE, "test.too_large");
        }
        Err(ReadFailure::Bad) => {
            return web.error(&ctx, StatusCode::BAD_REQUEST, "error.bad_request");
        }
    };
    if let Err(e) = ctx.check_csrf(Some(&form.csrf)) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let refuse = |status, key: &str, detail: String| {
        render(
            &web,
            &ctx,
            status,
            &form,
            None,
            Some(minijinja::context! { key => key.to_owned(), detail }),
        )
    };
    let (Ok(instance), Ok(service)) = (form.instance.parse(), form.service.parse::<Service>())
    else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "test.err_choice",
            String::new(),
        );
    };
    let msg = TestMessage {
        instance,
        service,
        calling: form.calling.clone(),
        called: form.called.clone(),
        text: (service == Service::Sms && !form.text.is_empty()).then(|| form.text.clone()),
        file: (service != Service::Sms)
            .then(|| form.file.clone())
            .flatten(),
    };
    let config = web.current();
    let who = ctx.principal().map(|p| p.name.clone()).unwrap_or_default();
    let done = tokio::task::spawn_blocking(move || test_message::send(&config, &msg)).await;
    match done {
        Ok(Ok(sent)) => {
            // The running instance takes it at once (else at its next scan of `received/`).
            if let Ok(wakes) = web.wake_inbound.read()
                && let Some((_, wake)) = wakes.iter().find(|(id, _)| id == sent.instance.as_str())
            {
                wake.notify_one();
            }
            tracing::info!(event = "web.test_message", admin = %who, instance = %sent.instance, service = %sent.service, id = %sent.id, outcome = "written");
            let result = minijinja::context! {
                id => sent.id.clone(),
                instance => sent.instance.as_str(),
                service => sent.service.as_str(),
                log => format!(
                    "/logs?instance={}&file=msgid&filter={}",
                    crate::web::urlencode(sent.instance.as_str()),
                    crate::web::urlencode(&format!("received={}", sent.id))
                ),
                queue => format!("/queues?instance={}&state=outgoing", crate::web::urlencode(sent.instance.as_str())),
            };
            render(&web, &ctx, StatusCode::OK, &form, Some(result), None)
        }
        Ok(Err(e)) => {
            tracing::warn!(event = "web.test_message", admin = %who, outcome = "refused", reason = %e);
            let status = if e.is_input() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            refuse(status, refusal_key(&e), e.to_string())
        }
        Err(e) => {
            tracing::error!(event = "web.test_message", error = %e);
            web.error(&ctx, StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
        }
    }
}
