//! `[instance.gateway.hylafax]`: how umsgate reaches a HylaFAX server (hfaxd's client protocol,
//! `kind = "hylafax"`) and how it reads the faxes HylaFAX received.
//!
//! Contract: every value is checked while the file is read or in [`HylafaxConfig::validate`]
//! (called by the loader for `kind = "hylafax"` instances): a host without white space or
//! control characters, a user name hfaxd can take (printable ASCII, no space), a password given
//! inline or as `password_file` but not both (an empty password means hfaxd is not sent a
//! `PASS`), a dial template with known placeholders and only dial-string characters,
//! `max_dials`/`max_tries` 1..=255, `kill_after` between one minute and 99 days (HylaFAX's
//! `LASTTIME` is `DDHHMM`), and non-zero time-outs and poll interval. The password is held as a
//! [`Secret`] and never printed.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::Secret;
use crate::units;

/// The placeholders of `dial_template`.
pub const DIAL_PLACEHOLDERS: [&str; 3] = ["$(number)", "$(e164)", "$(digits)"];

/// `[instance.gateway.hylafax]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HylafaxConfig {
    /// hfaxd's host name or address.
    pub host: String,
    /// hfaxd's client port.
    pub port: u16,
    /// The account in hfaxd's `hosts.hfaxd`; owner of umsgate's jobs.
    pub user: String,
    pub password: Option<String>,
    pub password_file: Option<Spanned<PathBuf>>,
    /// Filled by validation from `password` or the file; `None` = no `PASS`.
    #[serde(skip)]
    pub secret: Option<Secret>,
    /// What HylaFAX dials: `$(number)` is the number as the site dials it (outside line,
    /// then national or international prefix per the site's plan), `$(e164)` `+4930123456`,
    /// `$(digits)` `4930123456`.
    pub dial_template: String,
    /// Dial attempts before HylaFAX gives up (`MAXDIALS`).
    pub max_dials: u32,
    /// Transmission attempts before HylaFAX gives up (`MAXTRIES`).
    pub max_tries: u32,
    /// How long HylaFAX keeps trying (`LASTTIME`).
    #[serde(deserialize_with = "units::duration")]
    pub kill_after: Duration,
    /// Vertical resolution asked for.
    pub resolution: FaxResolution,
    /// Page size asked for (`PAGEWIDTH`/`PAGELENGTH`).
    pub page_size: PageSize,
    /// How often finished jobs are looked for (`LIST doneq`).
    #[serde(deserialize_with = "units::duration")]
    pub poll_interval: Duration,
    /// Longest wait for one reply of hfaxd, and for a connection.
    #[serde(deserialize_with = "units::duration")]
    pub reply_timeout: Duration,
    /// Passive data connections (umsgate connects to hfaxd) instead of active ones (hfaxd
    /// connects back to umsgate, HylaFAX's default and faster with hfaxd).
    pub passive: bool,
    /// Longest upload or listing on a data connection.
    #[serde(deserialize_with = "units::duration")]
    pub transfer_timeout: Duration,
    /// How received faxes reach umsgate.
    pub received: ReceivedMode,
    /// With `received = "faxrcvd"`: remove the TIFF from HylaFAX's `recvq/` once umsgate has it.
    pub remove_received: bool,
    /// Which of faxrcvd's CALLID arguments (from 1) holds the caller's number.
    pub callid_calling: usize,
    /// Which of faxrcvd's CALLID arguments (from 1) holds the dialled number (DNIS).
    pub callid_called: usize,
    /// Remove a finished job from HylaFAX's `doneq/` (`JDELE`) once its report was mailed.
    pub delete_done: bool,
}

impl Default for HylafaxConfig {
    fn default() -> Self {
        HylafaxConfig {
            host: "127.0.0.1".into(),
            port: 4559,
            user: "umsgate".into(),
            password: None,
            password_file: None,
            secret: None,
            dial_template: "$(number)".into(),
            max_dials: 3,
            max_tries: 3,
            kill_after: Duration::from_secs(3 * 3600),
            resolution: FaxResolution::Fine,
            page_size: PageSize::A4,
            poll_interval: Duration::from_secs(5),
            reply_timeout: Duration::from_secs(30),
            transfer_timeout: Duration::from_secs(120),
            passive: false,
            received: ReceivedMode::Faxrcvd,
            remove_received: false,
            callid_calling: 1,
            callid_called: 3,
            delete_done: false,
        }
    }
}

/// `resolution`: 196 or 98 lines per inch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaxResolution {
    #[default]
    Fine,
    Standard,
}

impl FaxResolution {
    /// `VRES`.
    pub fn lines_per_inch(self) -> u32 {
        match self {
            FaxResolution::Fine => 196,
            FaxResolution::Standard => 98,
        }
    }
}

/// `page_size`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageSize {
    #[default]
    A4,
    Letter,
}

impl PageSize {
    /// `(PAGEWIDTH, PAGELENGTH)` in millimetres.
    pub fn millimetres(self) -> (u32, u32) {
        match self {
            PageSize::A4 => (209, 297),
            PageSize::Letter => (216, 279),
        }
    }
}

/// `received`: `faxrcvd` (HylaFAX's `FaxRcvdCmd` runs `umsgate hylafax-received`) or `poll`
/// (not available in this release).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceivedMode {
    #[default]
    Faxrcvd,
    Poll,
}

/// One problem of the section: the key (below `instance.gateway.hylafax`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HylafaxProblem {
    pub key: &'static str,
    pub message: String,
}

impl HylafaxConfig {
    /// Checks the values and reads the password; `read_secret` reads a `*_file`.
    pub fn validate(
        &mut self,
        read_secret: impl Fn(&std::path::Path) -> Result<Secret, String>,
    ) -> Vec<HylafaxProblem> {
        let mut out = Vec::new();
        let mut bad = |key: &'static str, message: String| {
            out.push(HylafaxProblem { key, message });
        };
        if self.host.is_empty()
            || self
                .host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            bad("host", format!("`{}` is not a host name", self.host));
        }
        if self.port == 0 {
            bad("port", "must not be 0".into());
        }
        if self.user.is_empty() || !self.user.bytes().all(|b| b.is_ascii_graphic()) {
            bad(
                "user",
                "must be printable ASCII without spaces, and not empty".into(),
            );
        }
        match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => bad(
                "password",
                "give password or password_file, not both".into(),
            ),
            (Some(p), None) if p.chars().any(char::is_control) => {
                bad("password", "contains control characters".into())
            }
            (Some(p), None) if !p.is_empty() => self.secret = Some(Secret::new(p.clone())),
            (None, Some(f)) if !f.get_ref().as_os_str().is_empty() => {
                match read_secret(f.get_ref()) {
                    Ok(s) if s.expose().chars().any(char::is_control) => {
                        bad("password_file", "contains control characters".into())
                    }
                    Ok(s) => self.secret = Some(s),
                    Err(e) => bad("password_file", e),
                }
            }
            _ => {}
        }
        if let Err(e) = check_dial_template(&self.dial_template) {
            bad("dial_template", e);
        }
        for (key, v) in [("max_dials", self.max_dials), ("max_tries", self.max_tries)] {
            if !(1..=255).contains(&v) {
                bad(key, format!("{v} is not between 1 and 255"));
            }
        }
        if self.kill_after < Duration::from_secs(60)
            || self.kill_after >= Duration::from_secs(100 * 86_400)
        {
            bad(
                "kill_after",
                "must be between one minute and 99 days".into(),
            );
        }
        for (key, v) in [
            ("poll_interval", self.poll_interval),
            ("reply_timeout", self.reply_timeout),
            ("transfer_timeout", self.transfer_timeout),
        ] {
            if v.is_zero() {
                bad(key, "must not be zero".into());
            }
        }
        if self.received == ReceivedMode::Poll {
            bad(
                "received",
                "polling recvq is not available in this release; use \"faxrcvd\"".into(),
            );
        }
        for (key, v) in [
            ("callid_calling", self.callid_calling),
            ("callid_called", self.callid_called),
        ] {
            if !(1..=16).contains(&v) {
                bad(key, format!("{v} is not between 1 and 16"));
            }
        }
        out
    }
}

/// A dial template uses only the placeholders of [`DIAL_PLACEHOLDERS`] (at least one) and
/// the characters of a dial string (digits, `+*#,`, letters for modem dial modifiers).
pub fn check_dial_template(t: &str) -> Result<(), String> {
    let mut rest = t.to_owned();
    let mut found = false;
    for p in DIAL_PLACEHOLDERS {
        if rest.contains(p) {
            found = true;
            rest = rest.replace(p, "");
        }
    }
    if !found {
        return Err(format!(
            "`{t}` has none of the placeholders {}",
            DIAL_PLACEHOLDERS.join(", ")
        ));
    }
    if let Some(c) = rest
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '*' | '#' | ',' | '!' | '@')))
    {
        return Err(format!(
            "`{t}` contains `{c}`, which is neither a placeholder nor a dial character"
        ));
    }
    if t.len() > 64 {
        return Err(format!("`{t}` is longer than 64 characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn no_file(_: &std::path::Path) -> Result<Secret, String> {
        Err("no file".into())
    }

    #[test]
    fn defaults_are_valid_and_match_the_documentation() {
        let mut c = HylafaxConfig::default();
        assert_eq!(c.validate(no_file), vec![]);
        assert_eq!(c.port, 4559);
        assert_eq!(c.max_dials, 3);
        assert_eq!(c.kill_after, Duration::from_secs(10_800));
        assert!(c.secret.is_none());
    }

    #[test]
    fn dial_templates_are_checked() {
        assert!(check_dial_template("$(number)").is_ok());
        assert!(check_dial_template("0,$(digits)").is_ok());
        assert!(check_dial_template("0123").unwrap_err().contains("none of"));
        assert!(
            check_dial_template("$(number)\"")
                .unwrap_err()
                .contains('"')
        );
        assert!(check_dial_template("$(numbr)$(e164)").is_err());
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut c = HylafaxConfig {
            host: "a b".into(),
            user: String::new(),
            password: Some("x\ny".into()),
            max_dials: 0,
            kill_after: Duration::from_secs(5),
            poll_interval: Duration::ZERO,
            received: ReceivedMode::Poll,
            callid_called: 0,
            ..HylafaxConfig::default()
        };
        let keys: Vec<&str> = c.validate(no_file).iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "host",
                "user",
                "password",
                "max_dials",
                "kill_after",
                "poll_interval",
                "received",
                "callid_called"
            ]
        );
        let mut c = HylafaxConfig {
            password_file: Some(Spanned::new(0..0, PathBuf::from("/x"))),
            ..HylafaxConfig::default()
        };
        assert_eq!(c.validate(no_file)[0].key, "password_file");
        let mut c = HylafaxConfig {
            password_file: Some(Spanned::new(0..0, PathBuf::from("/x"))),
            ..HylafaxConfig::default()
        };
        let v = c.validate(|_| Ok(Secret::new("s3cret".into())));
        assert!(v.is_empty());
        assert_eq!(c.secret.unwrap().expose(), "s3cret");
    }
}
