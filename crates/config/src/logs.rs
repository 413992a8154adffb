//! `[service.logs.<category>]`: each category log file of an instance switched on or off,
//! with its own rotation.
//!
//! Contract: a category without a section of its own is written and rotated by
//! `service.log_rotate`; a section overrides `enabled`, `size` and `keep` one by one, so
//! `[service.logs.smtp] keep = 20` keeps 20 old SMTP logs at the common size. `size = 0`
//! never rotates; `keep = 0` deletes no old file. The categories are a closed set
//! ([`LogCategory`]); an unknown one is a configuration error with its line.
//!
//! Implementation summary: serde reads each section into [`CategoryLogConfig`] with the
//! missing values as `None`; [`LogsConfig::settings`] resolves them against the common
//! rotation when the logs are opened, so that nothing is copied at load time.

use serde::Deserialize;

use crate::LogRotate;
use crate::units::ByteSize;

/// The category files of an instance (DESIGN.md §1, "Operations").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogCategory {
    /// `smtp.log`: sessions with the mail server, both directions, and their failures.
    Smtp,
    /// `ldap.log`: every directory search and its result.
    Ldap,
    /// `msgid.log`: the Message-ID of every message in and out.
    Msgid,
    /// `print.log`: print-unread rule matches, receipts and print submissions.
    Print,
}

impl LogCategory {
    /// Every category, in the order the README lists them.
    pub const ALL: [LogCategory; 4] = [
        LogCategory::Smtp,
        LogCategory::Ldap,
        LogCategory::Msgid,
        LogCategory::Print,
    ];

    /// The key of its section: `[service.logs.<key>]`.
    pub fn key(self) -> &'static str {
        match self {
            LogCategory::Smtp => "smtp",
            LogCategory::Ldap => "ldap",
            LogCategory::Msgid => "msgid",
            LogCategory::Print => "print",
        }
    }

    /// Its file in the instance's log folder.
    pub fn file_name(self) -> &'static str {
        match self {
            LogCategory::Smtp => "smtp.log",
            LogCategory::Ldap => "ldap.log",
            LogCategory::Msgid => "msgid.log",
            LogCategory::Print => "print.log",
        }
    }
}

/// `[service.logs]`: one optional section per category.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsConfig {
    pub smtp: CategoryLogConfig,
    pub ldap: CategoryLogConfig,
    pub msgid: CategoryLogConfig,
    pub print: CategoryLogConfig,
}

/// `[service.logs.<category>]`: what differs from `service.log_rotate`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategoryLogConfig {
    /// `false`: the file is neither opened nor written.
    pub enabled: bool,
    /// Rotate before the file would grow past this; `0` never rotates.
    pub size: Option<ByteSize>,
    /// Old files kept (`<file>.1` is the newest); `0` deletes none.
    pub keep: Option<u32>,
}

impl Default for CategoryLogConfig {
    fn default() -> Self {
        CategoryLogConfig {
            enabled: true,
            size: None,
            keep: None,
        }
    }
}

/// One category's effective settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryLogSettings {
    pub enabled: bool,
    pub rotate: LogRotate,
}

impl LogsConfig {
    /// The section of `category`.
    pub fn category(&self, category: LogCategory) -> &CategoryLogConfig {
        match category {
            LogCategory::Smtp => &self.smtp,
            LogCategory::Ldap => &self.ldap,
            LogCategory::Msgid => &self.msgid,
            LogCategory::Print => &self.print,
        }
    }

    /// The settings of `category`: its own values, else those of `default`
    /// (`service.log_rotate`).
    pub fn settings(&self, category: LogCategory, default: LogRotate) -> CategoryLogSettings {
        let c = self.category(category);
        CategoryLogSettings {
            enabled: c.enabled,
            rotate: LogRotate {
                size: c.size.unwrap_or(default.size),
                keep: c.keep.unwrap_or(default.keep),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Config;
    use std::path::Path;

    const BASE: &str = "[[instance]]\nid = \"a\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\n[instance.mail]\nserver = \"127.0.0.1\"\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n";

    fn parse(service: &str) -> Config {
        Config::parse(
            &format!("{service}\n{BASE}"),
            Path::new("/etc/umsgate/umsgate.toml"),
        )
        .unwrap()
    }

    #[test]
    fn a_category_overrides_the_common_rotation_value_by_value() {
        let c = parse(
            "[service]\nlog_rotate = { size = \"1MB\", keep = 3 }\n[service.logs.smtp]\nenabled = false\n[service.logs.ldap]\nkeep = 0\n[service.logs.msgid]\nsize = \"10MB\"\nkeep = 7\n",
        );
        let s = &c.service;
        let got = |cat| s.logs.settings(cat, s.log_rotate);
        assert_eq!(
            got(LogCategory::Smtp),
            CategoryLogSettings {
                enabled: false,
                rotate: LogRotate {
                    size: ByteSize(1 << 20),
                    keep: 3
                }
            }
        );
        assert_eq!(
            got(LogCategory::Ldap).rotate,
            LogRotate {
                size: ByteSize(1 << 20),
                keep: 0
            }
        );
        assert!(got(LogCategory::Ldap).enabled);
        assert_eq!(
            got(LogCategory::Msgid).rotate,
            LogRotate {
                size: ByteSize(10 << 20),
                keep: 7
            }
        );
        assert_eq!(
            got(LogCategory::Print).rotate,
            LogRotate {
                size: ByteSize(1 << 20),
                keep: 3
            }
        );
    }

    #[test]
    fn without_sections_every_category_follows_log_rotate() {
        let c = parse("");
        for cat in LogCategory::ALL {
            assert_eq!(
                c.service.logs.settings(cat, c.service.log_rotate),
                CategoryLogSettings {
                    enabled: true,
                    rotate: LogRotate::default()
                },
                "{cat:?}"
            );
        }
    }

    #[test]
    fn an_unknown_category_or_key_is_an_error_with_its_line() {
        for (text, prefix) in [
            (
                "[service.logs.fax]\nenabled = false\n",
                "/x/umsgate.toml:1: service.logs.fax:",
            ),
            (
                "[service.logs.smtp]\nkept = 2\n",
                "/x/umsgate.toml:2: service.logs.smtp.kept:",
            ),
        ] {
            let e = Config::parse(&format!("{text}{BASE}"), Path::new("/x/umsgate.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(prefix), "{e}");
        }
    }
}
