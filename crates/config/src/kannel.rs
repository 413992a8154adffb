//! `[instance.gateway.kannel]`: how umsgate reaches Kannel's `sendsms` interface
//! (`kind = "kannel"`) and how Kannel calls umsgate back with delivery reports (DLR) and
//! received SMS (its sms-service `get-url`/`post-url`).
//!
//! Contract: every value is checked while the file is read or in [`KannelConfig::validate`]
//! (called by the loader for `kind = "kannel"` instances): `sendsms_url`, `status_url` and
//! `callback_url` are `http://` or `https://` URLs without white space; the sendsms user is
//! printable ASCII; each password is given inline or as `*_file` but not both; the callback is
//! protected by a secret, by `allow_from`, or by both (never by neither); `dlr_mask` is 1..=31
//! and asks for "delivered" (1) and for a failure (2 or 16), so every job gets a final
//! answer; `dlr_timeout`, `timeout` and `connect_timeout` are non-zero. Secrets are held as
//! [`Secret`] and never printed. [`KannelConfig::callback_base`] is the URL Kannel calls:
//! `callback_url`, else `http://<listen>`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::Secret;
use crate::units::{self, Cidr};

/// `[instance.gateway.kannel]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KannelConfig {
    /// smsbox's send-sms URL, `http://127.0.0.1:13013/cgi-bin/sendsms`.
    pub sendsms_url: String,
    /// `username` of the `sendsms-user` group.
    pub user: String,
    pub password: Option<String>,
    pub password_file: Option<Spanned<PathBuf>>,
    /// Filled by validation from `password` or the file.
    #[serde(skip)]
    pub secret: Option<Secret>,
    /// `get` (parameters in the query) or `post` (text as body, X-Kannel headers).
    pub method: SendMethod,
    /// Where umsgate listens for Kannel's DLR and MO callbacks.
    pub listen: SocketAddr,
    /// The base URL Kannel must call (a proxy or another host name); default `http://<listen>`.
    pub callback_url: Option<String>,
    pub callback_secret: Option<String>,
    pub callback_secret_file: Option<Spanned<PathBuf>>,
    /// Filled by validation: the secret every callback URL carries (`key=`).
    #[serde(skip)]
    pub callback_key: Option<Secret>,
    /// Source addresses allowed to call back; empty = any (then the secret protects).
    pub allow_from: Vec<Cidr>,
    /// The directory attribute holding the user's mobile number, sent as `from`; a user
    /// without it sends from the site's number.
    pub sender_attribute: String,
    /// `dlr-mask`: 1 delivered, 2 undelivered, 4 queued on SMSC, 8 SMSC ack, 16 SMSC nack.
    pub dlr_mask: u8,
    /// How long a job waits for its final DLR before it is reported unconfirmed.
    #[serde(deserialize_with = "units::duration")]
    pub dlr_timeout: Duration,
    /// `smsc`: route through this SMSC id; `None` = Kannel's routing.
    pub smsc: Option<String>,
    /// Longest sendsms request (and status request).
    #[serde(deserialize_with = "units::duration")]
    pub timeout: Duration,
    #[serde(deserialize_with = "units::duration")]
    pub connect_timeout: Duration,
    /// bearerbox's status page for `umsgate check`, `http://127.0.0.1:13000/status.xml`.
    pub status_url: Option<String>,
    pub status_password: Option<String>,
    pub status_password_file: Option<Spanned<PathBuf>>,
    /// Filled by validation.
    #[serde(skip)]
    pub status_secret: Option<Secret>,
}

impl Default for KannelConfig {
    fn default() -> Self {
        KannelConfig {
            sendsms_url: "http://127.0.0.1:13013/cgi-bin/sendsms".into(),
            user: "umsgate".into(),
            password: None,
            password_file: None,
            secret: None,
            method: SendMethod::Get,
            listen: SocketAddr::from(([127, 0, 0, 1], 10080)),
            callback_url: None,
            callback_secret: None,
            callback_secret_file: None,
            callback_key: None,
            allow_from: Vec::new(),
            sender_attribute: "mobile".into(),
            dlr_mask: 31,
            dlr_timeout: Duration::from_secs(2 * 86_400),
            smsc: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            status_url: None,
            status_password: None,
            status_password_file: None,
            status_secret: None,
        }
    }
}

/// `method`: how sendsms is called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendMethod {
    #[default]
    Get,
    Post,
}

/// DLR types that end a job: delivered, undelivered, SMSC nack.
pub const DLR_FINAL: u8 = 1 | 2 | 16;

/// A value of `[instance.gateway.kannel]` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KannelProblem {
    pub key: &'static str,
    pub message: String,
}

/// Whether `s` is an `http://` or `https://` URL with a host and no white space.
fn http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with(['/', ':'])
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

impl KannelConfig {
    /// Checks the values and reads the secrets; `read_secret` reads a `*_file`.
    pub fn validate(
        &mut self,
        read_secret: impl Fn(&std::path::Path) -> Result<Secret, String>,
    ) -> Vec<KannelProblem> {
        let mut out = Vec::new();
        let mut bad = |key: &'static str, message: String| {
            out.push(KannelProblem { key, message });
        };
        if !http_url(&self.sendsms_url) {
            bad(
                "sendsms_url",
                format!("`{}` is not an http:// or https:// URL", self.sendsms_url),
            );
        }
        for (key, url) in [
            ("status_url", &self.status_url),
            ("callback_url", &self.callback_url),
        ] {
            if let Some(u) = url
                && !http_url(u)
            {
                bad(key, format!("`{u}` is not an http:// or https:// URL"));
            }
        }
        if self.user.is_empty() || !self.user.chars().all(|c| c.is_ascii_graphic()) {
            bad(
                "user",
                format!("`{}` is not a printable ASCII user name", self.user),
            );
        }
        let mut secret = |key: &'static str,
                          inline: &Option<String>,
                          file: &Option<Spanned<PathBuf>>|
         -> Option<Secret> {
            match (inline, file) {
                (Some(_), Some(_)) => {
                    bad(
                        key,
                        "give the password inline or as a file, not both".into(),
                    );
                    None
                }
                (Some(p), None) if p.is_empty() => None,
                (Some(p), None) => Some(Secret::new(p.clone())),
                (None, Some(f)) => match read_secret(f.get_ref()) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        bad(key, e);
                        None
                    }
                },
                (None, None) => None,
            }
        };
        self.secret = secret("password_file", &self.password, &self.password_file);
        self.callback_key = secret(
            "callback_secret_file",
            &self.callback_secret,
            &self.callback_secret_file,
        );
        self.status_secret = secret(
            "status_password_file",
            &self.status_password,
            &self.status_password_file,
        );
        if let Some(k) = &self.callback_key
            && !k
                .expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
        {
            bad(
                "callback_secret",
                "may only hold letters, digits and - _ . ~ (it travels in a URL)".into(),
            );
        }
        if self.callback_key.is_none() && self.allow_from.is_empty() {
            bad(
                "callback_secret_file",
                "Kannel's callbacks need a secret, allow_from addresses, or both".into(),
            );
        }
        if self.sender_attribute.chars().any(|c| c.is_whitespace()) {
            bad(
                "sender_attribute",
                format!("`{}` is not an attribute name", self.sender_attribute),
            );
        }
        if self.dlr_mask == 0 || self.dlr_mask > 31 {
            bad("dlr_mask", format!("{} is not in 1..=31", self.dlr_mask));
        } else if self.dlr_mask & 1 == 0 || self.dlr_mask & (2 | 16) == 0 {
            bad(
                "dlr_mask",
                format!(
                    "{} must ask for delivered (1) and for undelivered (2) or SMSC nack (16), \
                     or jobs never end",
                    self.dlr_mask
                ),
            );
        }
        if let Some(s) = &self.smsc
            && (s.is_empty() || !s.chars().all(|c| c.is_ascii_graphic()))
        {
            bad("smsc", format!("`{s}` is not an smsc-id"));
        }
        for (key, d) in [
            ("dlr_timeout", self.dlr_timeout),
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
        ] {
            if d.is_zero() {
                bad(key, "must be longer than 0s".into());
            }
        }
        out
    }

    /// The base URL Kannel calls back: `callback_url` without a trailing `/`, else
    /// `http://<listen>`.
    pub fn callback_base(&self) -> String {
        match &self.callback_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn no_file(_: &std::path::Path) -> Result<Secret, String> {
        Err("no file".into())
    }

    #[test]
    fn defaults_need_a_callback_protection() {
        let mut c = KannelConfig::default();
        let p = c.validate(no_file);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].key, "callback_secret_file");
        c.callback_secret = Some("s3cr3t".into());
        assert!(c.validate(no_file).is_empty());
        assert_eq!(c.callback_key.as_ref().unwrap().expose(), "s3cr3t");
        assert_eq!(c.callback_base(), "http://127.0.0.1:10080");
    }

    #[test]
    fn bad_values_are_named() {
        let mut c = KannelConfig {
            sendsms_url: "ftp://x".into(),
            user: "a b".into(),
            password: Some("x".into()),
            password_file: Some(Spanned::new(0..0, PathBuf::from("p"))),
            callback_secret: Some("a/b".into()),
            dlr_mask: 4,
            timeout: Duration::ZERO,
            callback_url: Some("http://h/x y".into()),
            smsc: Some(String::new()),
            ..KannelConfig::default()
        };
        let keys: Vec<&str> = c.validate(no_file).iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "sendsms_url",
                "callback_url",
                "user",
                "password_file",
                "callback_secret",
                "dlr_mask",
                "smsc",
                "timeout"
            ]
        );
    }

    #[test]
    fn a_mask_without_a_failure_bit_is_refused() {
        for (mask, ok) in [
            (31, true),
            (3, true),
            (17, true),
            (1, false),
            (9, false),
            (32, false),
        ] {
            let mut c = KannelConfig {
                dlr_mask: mask,
                callback_secret: Some("k".into()),
                ..KannelConfig::default()
            };
            assert_eq!(c.validate(no_file).is_empty(), ok, "{mask}");
        }
    }

    #[test]
    fn the_config_file_form_parses() {
        let c: KannelConfig = toml::from_str(
            r#"
            sendsms_url = "http://10.0.0.5:13013/cgi-bin/sendsms"
            method = "post"
            listen = "0.0.0.0:10080"
            callback_url = "https://umsgate.example.com/kannel/"
            allow_from = ["10.0.0.5"]
            dlr_timeout = "1d"
            "#,
        )
        .unwrap();
        assert_eq!(c.method, SendMethod::Post);
        assert_eq!(c.dlr_timeout, Duration::from_secs(86_400));
        assert_eq!(c.callback_base(), "https://umsgate.example.com/kannel");
        assert!(toml::from_str::<KannelConfig>("methd = \"get\"").is_err());
    }
}
