//! `/info`: versions, paths, the configuration (with every secret replaced) and its
//! diagnostics, and the `umsgate` commands that change things.
//!
//! Contract: the configuration shown is the file as it is on disk now, parsed with
//! `toml_edit`, where every value whose key names a secret (`password`, `secret`, `hash`,
//! `key`, `token`) is replaced by `"********"`; a file that does not parse is not shown at
//! all (only its diagnostics). The diagnostics are those of loading the file now (so an edit
//! not yet applied by a restart is checked), plus whether the console has an administrator.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::config::Config;
use crate::web::{Admin, Web};

/// Keys whose values are never shown.
const SECRET_WORDS: [&str; 5] = ["password", "secret", "hash", "key", "token"];

fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| k.contains(w))
}

fn redact_item(item: &mut toml_edit::Item) {
    match item {
        toml_edit::Item::Table(t) => redact_table(t),
        toml_edit::Item::ArrayOfTables(a) => {
            for t in a.iter_mut() {
                redact_table(t);
            }
        }
        toml_edit::Item::Value(v) => redact_value(v),
        toml_edit::Item::None => {}
    }
}

fn redact_value(v: &mut toml_edit::Value) {
    match v {
        toml_edit::Value::InlineTable(t) => {
            for (k, v) in t.iter_mut() {
                if secret_key(&k) {
                    *v = toml_edit::Value::from("********");
                } else {
                    redact_value(v);
                }
            }
        }
        toml_edit::Value::Array(a) => {
            for v in a.iter_mut() {
                redact_value(v);
            }
        }
        _ => {}
    }
}

fn redact_table(t: &mut toml_edit::Table) {
    for (k, item) in t.iter_mut() {
        if secret_key(&k) && item.is_value() {
            *item = toml_edit::value("********");
        } else {
            redact_item(item);
        }
    }
}

/// The configuration text with every secret value replaced, or `None` when it does not
/// parse as TOML.
pub fn redacted(text: &str) -> Option<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().ok()?;
    redact_table(doc.as_table_mut());
    Some(doc.to_string())
}

pub async fn info(State(web): State<Arc<Web>>, Admin(ctx): Admin) -> Response {
    let path = web.config.path.clone();
    let (text, reloaded) =
        tokio::task::spawn_blocking(move || (std::fs::read_to_string(&path), Config::load(&path)))
            .await
            .unwrap_or_else(|e| {
                (
                    Err(std::io::Error::other(e)),
                    Config::load(&web.config.path),
                )
            });
    let mut diagnostics = Vec::new();
    match &reloaded {
        Ok(c) => diagnostics.push(minijinja::context! {
            level => "ok",
            text => format!("{}: valid, {} instance(s)", web.config.path.display(), c.instances.len()),
        }),
        Err(errors) => {
            for line in errors.to_string().lines() {
                diagnostics.push(minijinja::context! { level => "error", text => line });
            }
        }
    }
    let admins = web
        .config
        .service
        .web
        .as_ref()
        .map_or(0, |w| w.admins.len());
    let group = web
        .config
        .service
        .web
        .as_ref()
        .and_then(|w| w.admin_group.clone());
    if admins == 0 && group.is_none() {
        diagnostics.push(minijinja::context! {
            level => "error",
            text => "no [[service.web.admins]] and no web.admin_group: nobody can log in to the console",
        });
    }
    let config = text.ok().as_deref().and_then(redacted).unwrap_or_default();
    // The instances the process runs now (the same `[service]` as at start).
    let current = web.current();
    let c = &*current;
    let mut paths = vec![
        ("config".to_owned(), c.path.display().to_string()),
        (
            "state_dir".to_owned(),
            c.service.state_dir.display().to_string(),
        ),
        (
            "log_dir".to_owned(),
            c.service.log_dir.display().to_string(),
        ),
    ];
    if let Some(t) = &c.service.templates_dir {
        paths.push(("templates_dir".to_owned(), t.display().to_string()));
    }
    for inst in &c.instances {
        let id = inst.id.get_ref();
        paths.push((
            format!("{id} state"),
            c.instance_state_dir(id).display().to_string(),
        ));
        paths.push((
            format!("{id} logs"),
            c.instance_log_dir(id).display().to_string(),
        ));
    }
    let cfg = c.path.display().to_string();
    let commands = vec![
        format!("umsgate check --config {cfg}"),
        format!("umsgate queue list --config {cfg}"),
        "umsgate hash-password".to_owned(),
        "systemctl restart umsgate".to_owned(),
    ];
    web.page(
        &ctx,
        StatusCode::OK,
        "info.html",
        minijinja::context! { nav => "info", paths, diagnostics, commands, config },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_are_replaced_everywhere() {
        let text = r#"
[service.web]
listen = "127.0.0.1:8080"
tls = { cert = "c.pem", key = "k.pem" }
[[service.web.admins]]
name = "admin"
password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"
[[instance]]
id = "a"
[instance.directory]
bind_password = "ldap-secret"
[instance.mail]
auth = { user = "u", password = "mail-secret" }
"#;
        let r = redacted(text).unwrap();
        for secret in ["ldap-secret", "mail-secret", "$argon2id", "k.pem"] {
            assert!(!r.contains(secret), "{secret} shown:\n{r}");
        }
        assert!(r.contains("c.pem") && r.contains("admin") && r.contains("127.0.0.1:8080"));
        assert!(redacted("[[").is_none());
    }
}
