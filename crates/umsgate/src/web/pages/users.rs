//! `/users`: an administrator looks a user up and changes his UMS settings.
//!
//! Contract: administrators only (the [`Admin`] extractor). `GET /users?instance=…&q=…`
//! finds the users `q` names in the instance's directory — a mail address (primary or alias)
//! or a fax/SMS/voice number as typed, normalised with the site's plan — without the
//! directory's cache ([`admin::lookup`], as `umsgate user show`), and shows for each every
//! key of DESIGN.md §5 with the value that applies and where it comes from ([`admin::rows`]:
//! the user's own attribute, `[instance.defaults]`, or umsgate's fixed default), then the
//! keys umsgate does not know. The instance is the first running one unless the form picks
//! another. `POST /users` passes the CSRF checks, then changes only the keys whose submitted
//! value differs from the user's own value now (empty = back to the default), checks every
//! pair before anything is written, and writes them in one rewrite through the running
//! instance's directory ([`admin::write`]: keys umsgate does not know are kept, and the
//! cache of this process forgets the user, so his next job uses the new values). The users
//! file is not rewritten: the page shows the `ums` line to paste instead. A malformed
//! attribute is only replaced when the form says so (`replace_malformed`): then by the
//! submitted values alone, the old value logged. Not found (404), a
//! refused value (400), a malformed attribute (409), a directory that cannot be asked (503)
//! or that refuses the write (502) are shown as a message in the page's language and logged;
//! nothing changes then.
//!
//! Limits: the search text is at most [`MAX_TARGET`] characters, each value at most
//! [`MAX_VALUE`]; the settings' own limits ([`UserSettings::MAX_LEN`], …) apply on top.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use umsgate_domain::{InboundFax, Key, Language, Priority, Rights, UserSettings};

use crate::config::InstanceConfig;
use crate::directory::admin::{self, Source, UserError};
use crate::directory::ldap::Malformed;
use crate::directory::{Directory, ErrorKind, User};
use crate::web::{Admin, Ctx, Running, Web, i18n};

/// Longest search text (an address is at most 254 characters).
pub const MAX_TARGET: usize = 320;
/// Longest value of one key.
pub const MAX_VALUE: usize = 1024;
/// Most users one search shows (a number shared by a whole department).
pub const MAX_USERS: usize = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Search {
    instance: Option<String>,
    q: Option<String>,
}

/// One key as the page shows it.
#[derive(Debug, Serialize)]
struct RowView {
    key: String,
    value: String,
    /// `user`, `instance`, `built_in` or `unknown` (the words' key).
    source: &'static str,
    /// The user's own value, what the form starts with (`""` = the default).
    own: String,
    /// The values to choose from, for a closed set; `None` = free text.
    choices: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
struct UserView {
    id: String,
    mail: String,
    name: String,
    attribute: Option<String>,
    /// The attribute does not parse (the reason): only the defaults apply.
    malformed: Option<String>,
    rows: Vec<RowView>,
}

fn source_key(s: Source) -> &'static str {
    match s {
        Source::User => "user",
        Source::Instance => "instance",
        Source::BuiltIn => "built_in",
        Source::Unknown => "unknown",
    }
}

/// The values a key takes, when it is a closed set.
fn choices(key: &str, covers: &[String]) -> Option<Vec<String>> {
    let list = |s: &[&str]| Some(s.iter().map(|v| (*v).to_owned()).collect());
    match key.parse::<Key>().ok()? {
        Key::Vip | Key::CoverForce | Key::ReportDelete => list(&["0", "1"]),
        Key::FaxRights | Key::SmsRights | Key::VoiceRights => list(Rights::SPELLINGS),
        Key::Priority => list(Priority::SPELLINGS),
        Key::ReportLang => list(Language::SPELLINGS),
        Key::FaxInbound => list(InboundFax::SPELLINGS),
        Key::Cover => Some(covers.to_vec()),
        _ => None,
    }
}

fn view(inst: &InstanceConfig, covers: &[String], u: &User) -> UserView {
    let parsed = admin::settings_of(u);
    let malformed = parsed.as_ref().err().map(ToString::to_string);
    let settings = parsed.unwrap_or_default();
    let rows = admin::rows(inst, &settings)
        .into_iter()
        .map(|r| {
            let own = if r.source == Source::User {
                r.value.clone()
            } else {
                String::new()
            };
            let mut choices = choices(&r.key, covers);
            // A value outside the list (a cover removed since) stays selectable.
            if let Some(c) = &mut choices
                && !own.is_empty()
                && !c.contains(&own)
            {
                c.push(own.clone());
            }
            RowView {
                source: source_key(r.source),
                choices: (r.source != Source::Unknown).then_some(choices).flatten(),
                key: r.key,
                value: r.value,
                own,
            }
        })
        .collect();
    UserView {
        id: u.id.clone(),
        mail: u.mail.clone(),
        name: u.name.clone(),
        attribute: u.ums.clone().filter(|v| !v.is_empty()),
        malformed,
        rows,
    }
}

/// What the page says after a search or a save.
struct Message {
    key: &'static str,
    class: &'static str,
    /// The reason in umsgate's words (a refused value, the directory's answer).
    detail: Option<String>,
    /// The users file's line to paste.
    paste: Option<String>,
}

impl Message {
    fn new(key: &'static str, class: &'static str) -> Message {
        Message {
            key,
            class,
            detail: None,
            paste: None,
        }
    }
}

/// The status and words of a failed lookup or save.
fn refusal(e: &UserError) -> (StatusCode, Message) {
    let with = |status, key, detail: bool| {
        let mut m = Message::new(key, "error");
        if detail {
            m.detail = Some(e.to_string());
        }
        (status, m)
    };
    match e {
        UserError::NoSuchInstance { .. } => {
            with(StatusCode::NOT_FOUND, "users.error.instance", false)
        }
        UserError::Target { .. } => with(StatusCode::BAD_REQUEST, "users.error.target", true),
        UserError::NotFound { .. } | UserError::NotInUsersFile { .. } => {
            with(StatusCode::NOT_FOUND, "users.error.not_found", false)
        }
        UserError::NotAPair { .. } | UserError::NotAKey { .. } | UserError::BadPair { .. } => {
            with(StatusCode::BAD_REQUEST, "users.error.invalid", true)
        }
        UserError::MalformedUms { .. } => with(StatusCode::CONFLICT, "users.error.malformed", true),
        UserError::HandEdited { mail, ums, .. } => {
            let mut m = Message::new("users.file", "info");
            m.paste = Some(format!(
                "mail = \"{mail}\"\nums = \"{}\"",
                ums.replace('\\', "\\\\").replace('"', "\\\"")
            ));
            (StatusCode::CONFLICT, m)
        }
        UserError::Directory(d) => match d.kind() {
            ErrorKind::NotFound => with(StatusCode::NOT_FOUND, "users.error.not_found", false),
            ErrorKind::Target => with(StatusCode::BAD_REQUEST, "users.error.target", true),
            ErrorKind::Edit => with(StatusCode::BAD_REQUEST, "users.error.invalid", true),
            ErrorKind::BadData => with(StatusCode::CONFLICT, "users.error.malformed", true),
            ErrorKind::Unreachable | ErrorKind::Timeout => with(
                StatusCode::SERVICE_UNAVAILABLE,
                "users.error.unavailable",
                true,
            ),
            _ => with(StatusCode::BAD_GATEWAY, "users.error.refused", true),
        },
        _ => with(StatusCode::BAD_GATEWAY, "users.error.refused", true),
    }
}

/// The running instances (configuration order) with their configuration.
fn instances(web: &Web) -> Vec<(InstanceConfig, Arc<Directory>)> {
    let running: Vec<Running> = web.running.read().map(|r| r.clone()).unwrap_or_default();
    web.current()
        .instances
        .iter()
        .filter_map(|inst| {
            let r = running
                .iter()
                .find(|r| r.id == inst.id.get_ref().as_str())?;
            Some((inst.clone(), Arc::clone(&r.directory)))
        })
        .collect()
}

/// The instance `id` names, else the first running one.
fn pick(web: &Web, id: Option<&str>) -> Result<(InstanceConfig, Arc<Directory>), UserError> {
    let all = instances(web);
    let found = match id.filter(|i| !i.is_empty()) {
        Some(id) => all.into_iter().find(|(i, _)| i.id.get_ref().as_str() == id),
        None => all.into_iter().next(),
    };
    found.ok_or_else(|| UserError::NoSuchInstance {
        id: id.unwrap_or_default().to_owned(),
        config: web.current().path.clone(),
    })
}

async fn lookup(web: &Web, directory: &Directory, target: &str) -> Result<Vec<User>, UserError> {
    if target.chars().count() > MAX_TARGET {
        return Err(UserError::NotFound {
            target: target.chars().take(40).collect(),
        });
    }
    let plan = web.current().site.plan()?;
    let mut users = admin::lookup(directory, &plan, target).await?;
    if users.is_empty() {
        return Err(UserError::NotFound {
            target: target.to_owned(),
        });
    }
    users.truncate(MAX_USERS);
    Ok(users)
}

fn page(
    web: &Web,
    ctx: &Ctx,
    status: StatusCode,
    selected: Option<&str>,
    q: &str,
    users: &[UserView],
    message: Option<Message>,
) -> Response {
    let instances: Vec<String> = instances(web)
        .into_iter()
        .map(|(i, _)| i.id.get_ref().as_str().to_owned())
        .collect();
    let selected = selected
        .map(str::to_owned)
        .or_else(|| instances.first().cloned());
    web.page(
        ctx,
        status,
        "users.html",
        minijinja::context! {
            nav => "users",
            instances,
            instance => selected,
            q,
            users => minijinja::Value::from(minijinja::value::Serde(users)),
            message => message.as_ref().map(|m| i18n::text(ctx.lang, m.key)),
            message_class => message.as_ref().map(|m| m.class),
            detail => message.as_ref().and_then(|m| m.detail.clone()),
            paste => message.as_ref().and_then(|m| m.paste.clone()),
        },
    )
}

pub async fn show(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Query(s): Query<Search>,
) -> Response {
    let q = s.q.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let selected = s.instance.as_deref();
    if q.is_empty() {
        return page(&web, &ctx, StatusCode::OK, selected, "", &[], None);
    }
    let (inst, directory) = match pick(&web, selected) {
        Ok(found) => found,
        Err(e) => {
            let (status, m) = refusal(&e);
            return page(&web, &ctx, status, selected, &q, &[], Some(m));
        }
    };
    let id = inst.id.get_ref().as_str().to_owned();
    match lookup(&web, &directory, &q).await {
        Ok(users) => {
            let covers = super::portal::covers(&web);
            let views: Vec<UserView> = users.iter().map(|u| view(&inst, &covers, u)).collect();
            page(&web, &ctx, StatusCode::OK, Some(&id), &q, &views, None)
        }
        Err(e) => {
            let (status, m) = refusal(&e);
            if status.is_server_error() {
                tracing::error!(event = "users.lookup_failed", instance = id, target = q, error = %e);
            } else {
                tracing::info!(event = "users.not_shown", instance = id, target = q, error = %e);
            }
            page(&web, &ctx, status, Some(&id), &q, &[], Some(m))
        }
    }
}

/// The edit form: the token, where the user is, and `set.<key>` per key.
fn form_field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The `key=value` pairs of the keys whose submitted value differs from the user's own.
fn changed_pairs(form: &[(String, String)], own: &UserSettings) -> Result<Vec<String>, UserError> {
    let mut pairs = Vec::new();
    for spelling in Key::SPELLINGS {
        let Some(v) = form_field(form, &format!("set.{spelling}")) else {
            continue;
        };
        let v = v.trim();
        if v.chars().count() > MAX_VALUE {
            return Err(UserError::BadPair {
                pair: format!("{spelling}=…"),
                error: umsgate_domain::SettingsError::TooLong { len: v.len() },
            });
        }
        let now = spelling
            .parse::<Key>()
            .ok()
            .and_then(|k| own.get(k))
            .map(|s| s.value().into_owned())
            .unwrap_or_default();
        if v != now {
            pairs.push(format!("{spelling}={v}"));
        }
    }
    Ok(pairs)
}

pub async fn save(
    State(web): State<Arc<Web>>,
    Admin(ctx): Admin,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = ctx.check_csrf(form_field(&form, "csrf")) {
        return super::csrf_refused(&web, &ctx, e);
    }
    let admin_name = ctx.principal().map(|p| p.name.clone()).unwrap_or_default();
    let selected = form_field(&form, "instance");
    let address = form_field(&form, "address")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let q = form_field(&form, "q")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .unwrap_or(&address)
        .to_owned();
    let (inst, directory) = match pick(&web, selected) {
        Ok(found) => found,
        Err(e) => {
            let (status, m) = refusal(&e);
            return page(&web, &ctx, status, selected, &q, &[], Some(m));
        }
    };
    let id = inst.id.get_ref().as_str().to_owned();
    let covers = super::portal::covers(&web);
    let result = async {
        let users = lookup(&web, &directory, &address).await?;
        let user = users.first().ok_or_else(|| UserError::NotFound {
            target: address.clone(),
        })?;
        let replace = form_field(&form, "replace_malformed") == Some("1");
        let (own, malformed) = match admin::settings_of(user) {
            Ok(s) => (s, Malformed::Refuse),
            Err(_) if replace => (UserSettings::new(), Malformed::Replace),
            Err(error) => {
                return Err(UserError::MalformedUms {
                    user: user.id.clone(),
                    error,
                });
            }
        };
        let pairs = changed_pairs(&form, &own)?;
        if pairs.is_empty() && malformed == Malformed::Refuse {
            return Ok(None);
        }
        let written = admin::write(
            &directory,
            inst.directory.path.as_deref(),
            &user.mail,
            &pairs,
            malformed,
        )
        .await?;
        if malformed == Malformed::Replace {
            tracing::warn!(
                event = "users.replaced_malformed",
                instance = id,
                admin = admin_name,
                dn = user.id,
                old = user.ums.as_deref().unwrap_or_default(),
                "a malformed settings attribute was replaced"
            );
        }
        Ok(Some((written, pairs)))
    }
    .await;
    let reread = async || {
        lookup(&web, &directory, &q).await.map(|users| {
            users
                .iter()
                .map(|u| view(&inst, &covers, u))
                .collect::<Vec<_>>()
        })
    };
    match result {
        Ok(written) => {
            let message = match &written {
                Some(((dn, value), pairs)) => {
                    tracing::info!(
                        event = "users.saved",
                        instance = id,
                        admin = admin_name,
                        dn,
                        changed = pairs.join(" "),
                        value,
                        "settings changed by an administrator"
                    );
                    Message::new("users.saved", "ok")
                }
                None => Message::new("users.unchanged", "info"),
            };
            match reread().await {
                Ok(views) => page(
                    &web,
                    &ctx,
                    StatusCode::OK,
                    Some(&id),
                    &q,
                    &views,
                    Some(message),
                ),
                Err(e) => {
                    let (status, m) = refusal(&e);
                    page(&web, &ctx, status, Some(&id), &q, &[], Some(m))
                }
            }
        }
        Err(e) => {
            let (status, m) = refusal(&e);
            if status.is_server_error() {
                tracing::error!(event = "users.save_failed", instance = id, admin = admin_name, address, error = %e);
            } else {
                tracing::warn!(event = "users.refused", instance = id, admin = admin_name, address, error = %e);
            }
            let views = reread().await.unwrap_or_default();
            page(&web, &ctx, status, Some(&id), &q, &views, Some(m))
        }
    }
}
