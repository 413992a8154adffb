//! Reading `umsgate.toml`: parse, locate errors, validate across fields, resolve paths.
//!
//! Contract: every error names the file, the line (when the file has one for it) and the
//! dotted key, e.g. `umsgate.toml:14: instance.smtp_in.max_message_size: "5 furlongs" has an
//! unknown unit`. All errors of the validation pass are collected, not only the first.
//! Whatever `umsgate run` would refuse at start without asking a peer (a store this release
//! cannot use, a listener certificate that does not load) is refused here, so that
//! `umsgate check` and `umsgate run` agree.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{Config, DirectoryKind, GatewayKind, MailTlsMode, Secret};

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

pub(super) fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.to_owned(),
            line: None,
            key: String::new(),
            message: format!("cannot read the configuration: {e}"),
        }])
    })?;
    parse(&text, path)
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
    let locate = Locator { text, file: path };
    let mut config: Config = toml::from_str(text).map_err(|e| {
        let (line, key) = match e.span() {
            Some(span) => (Some(locate.line(&span)), locate.key_at(&span)),
            None => (None, String::new()),
        };
        ConfigErrors(vec![ConfigError {
            file: path.to_owned(),
            line,
            key,
            message: e.message().trim_end().to_owned(),
        }])
    })?;
    config.path = path.to_owned();
    let base = path.parent().map(Path::to_owned).unwrap_or_default();
    let mut errors = Vec::new();
    validate(&mut config, &base, &locate, &mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(ConfigErrors(errors))
    }
}

/// Maps byte spans of the text to lines and dotted keys.
struct Locator<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Locator<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text
            .get(..end)
            .map_or(0, |t| t.bytes().filter(|b| *b == b'\n').count())
            + 1
    }

    /// The dotted key that a span belongs to: the enclosing `[table]` header, the key that
    /// starts the line, and the innermost key before the span when it sits in an inline table.
    fn key_at(&self, span: &Range<usize>) -> String {
        let start = span.start.min(self.text.len());
        let before = self.text.get(..start).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[line_start..]
            .find('\n')
            .map_or(self.text.len(), |i| line_start + i);
        let line = &self.text[line_start..line_end];
        let mut header = String::new();
        for l in before[..line_start].lines().rev() {
            let t = l.trim();
            if let Some(h) = t.strip_prefix("[[").and_then(|t| t.split("]]").next()) {
                header = h.trim().to_owned();
                break;
            }
            if let Some(h) = t.strip_prefix('[').and_then(|t| t.split(']').next()) {
                header = h.trim().to_owned();
                break;
            }
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            return trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
        }
        let key_of = |s: &str| s.trim().trim_matches('"').to_owned();
        let mut key = String::new();
        if let Some((k, _)) = line.split_once('=') {
            key = key_of(k);
        }
        // Inside an inline table on this line: the innermost `name =` before the span.
        let col = start - line_start;
        let head = &line[..col.min(line.len())];
        if head.contains('{') {
            if let Some(eq) = head.rfind('=') {
                let name_start = head[..eq].rfind([',', '{']).map_or(0, |i| i + 1);
                let inner = key_of(&head[name_start..eq]);
                if !inner.is_empty() && inner != key {
                    key = format!("{key}.{inner}");
                }
            }
        } else if key.is_empty() || !head.contains('=') {
            // The span is the key itself (an unknown field).
            let tail = &line[col.min(line.len())..];
            let k = tail.split(['=', ' ', '\t']).next().unwrap_or("");
            if !k.is_empty() {
                key = key_of(k);
            }
        }
        match (header.is_empty(), key.is_empty()) {
            (true, _) => key,
            (false, true) => header,
            (false, false) => format!("{header}.{key}"),
        }
    }

    /// The span of the line that sets `key` (`key = …`, `key.x = …` or a `[table.key]`
    /// header) in `[table]` of the array entry that starts at `from`; for values that carry
    /// no span of their own.
    fn key_line(&self, from: usize, table: &str, key: &str) -> Option<Range<usize>> {
        let start = self
            .text
            .get(..from.min(self.text.len()))?
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let mut header = String::new();
        let mut offset = start;
        for (n, line) in self.text[start..].split_inclusive('\n').enumerate() {
            let here = offset;
            offset += line.len();
            let t = line.trim();
            if t.starts_with("[[") && n > 0 {
                return None;
            }
            if let Some(h) = t.strip_prefix('[').and_then(|t| t.split(']').next()) {
                header = h.trim_start_matches('[').trim().to_owned();
                if header == format!("{table}.{key}") {
                    return Some(here..here + t.len());
                }
                continue;
            }
            if header != table {
                continue;
            }
            if let Some(rest) = t.strip_prefix(key)
                && (rest.trim_start().starts_with('=') || rest.starts_with('.'))
            {
                return Some(here..here + t.len());
            }
        }
        None
    }

    fn error(&self, span: Option<&Range<usize>>, key: &str, message: String) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            line: span.filter(|s| !s.is_empty()).map(|s| self.line(s)),
            key: key.to_owned(),
            message,
        }
    }
}

fn resolve(base: &Path, p: &mut PathBuf) {
    if p.is_relative() {
        *p = base.join(&*p);
    }
}

fn read_secret(base: &Path, file: &Path) -> Result<Secret, String> {
    let path = if file.is_relative() {
        base.join(file)
    } else {
        file.to_owned()
    };
    let s = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let s = s.trim_end_matches(['\r', '\n']).to_owned();
    if s.is_empty() {
        return Err(format!(
            "{} is empty; an empty password never binds",
            path.display()
        ));
    }
    Ok(Secret::new(s))
}

/// An empty string where a path or URL is optional means "not set".
fn blank_is_none(c: &mut Config) {
    for inst in &mut c.instances {
        let d = &mut inst.directory;
        if d.ca.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            d.ca = None;
        }
        if d.write_url.as_ref().is_some_and(String::is_empty) {
            d.write_url = None;
        }
        if d.bind_password_file
            .as_ref()
            .is_some_and(|p| p.get_ref().as_os_str().is_empty())
        {
            d.bind_password_file = None;
        }
        if d.write_bind_password_file
            .as_ref()
            .is_some_and(|p| p.get_ref().as_os_str().is_empty())
        {
            d.write_bind_password_file = None;
        }
        let m = &mut inst.mail;
        if m.auth
            .password_file
            .as_ref()
            .is_some_and(|p| p.get_ref().as_os_str().is_empty())
        {
            m.auth.password_file = None;
        }
        if m.tls.ca.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            m.tls.ca = None;
        }
    }
}

fn validate(c: &mut Config, base: &Path, at: &Locator<'_>, errors: &mut Vec<ConfigError>) {
    blank_is_none(c);
    resolve(base, &mut c.service.state_dir);
    resolve(base, &mut c.service.log_dir);
    if let Some(t) = &mut c.service.templates_dir {
        resolve(base, t);
    }
    if let Some(t) = &mut c.service.covers_dir {
        resolve(base, t);
    }
    if let Some(web) = &mut c.service.web {
        if let Some(tls) = &mut web.tls {
            resolve(base, &mut tls.cert);
            resolve(base, &mut tls.key);
            if let Err(e) = tls.server_config() {
                errors.push(at.error(None, "service.web.tls", e.to_string()));
            }
        }
        for (key, message) in crate::web::problems(web) {
            errors.push(at.error(None, key, message));
        }
    }
    if c.service.render.max_pages == 0 {
        errors.push(at.error(
            None,
            "service.render.max_pages",
            "must be at least 1".into(),
        ));
    }

    match crate::store::StoreLocation::parse(c.service.store.get_ref()) {
        Err(e) => errors.push(at.error(Some(&c.service.store.span()), "service.store", e)),
        Ok(location) => match &c.service.store_password_file {
            None => {}
            Some(f) if location == crate::store::StoreLocation::Sqlite => errors.push(at.error(
                Some(&f.span()),
                "service.store_password_file",
                "only a postgres:// store has a password".into(),
            )),
            Some(f) if location.has_password() => errors.push(at.error(
                Some(&f.span()),
                "service.store_password_file",
                "the store URL has a password already; give it in one place".into(),
            )),
            Some(f) => match read_secret(base, f.get_ref()) {
                Ok(s) => c.service.store_secret = Some(s),
                Err(e) => errors.push(at.error(Some(&f.span()), "service.store_password_file", e)),
            },
        },
    }
    let pool = &c.service.store_pool;
    if pool.max_connections == 0 {
        errors.push(at.error(
            None,
            "service.store_pool.max_connections",
            "must be at least 1".into(),
        ));
    }
    if pool.connect_timeout.is_zero() || pool.acquire_timeout.is_zero() {
        errors.push(at.error(
            None,
            "service.store_pool",
            "connect_timeout and acquire_timeout must be longer than 0s".into(),
        ));
    }

    if let Err(e) = c.site.plan() {
        let span = match e.field() {
            "country_code" => Some(c.site.country_code.span()),
            "area_code" => Some(c.site.area_code.span()),
            "subscriber" => Some(c.site.subscriber.span()),
            "international_prefix" => Some(c.site.international_prefix.span()),
            "national_prefix" => Some(c.site.national_prefix.span()),
            "outside_line" => Some(c.site.outside_line.span()),
            _ => None,
        };
        errors.push(at.error(span.as_ref(), &format!("site.{}", e.field()), e.to_string()));
    }
    if c.instances.is_empty() {
        errors.push(at.error(None, "instance", "no [[instance]] is configured".to_owned()));
    }
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut listeners: HashMap<std::net::SocketAddr, String> = HashMap::new();
    let plan = c.site.plan().ok();
    for inst in &mut c.instances {
        let id = inst.id.get_ref().to_string();
        let id_span = inst.id.span();
        if ids.insert(id.clone(), id_span.start).is_some() {
            errors.push(at.error(
                Some(&id_span),
                "instance.id",
                format!("instance id `{id}` is used twice"),
            ));
        }
        let listen_span = inst.smtp_in.listen.span();
        if inst.smtp_in.listen.get_ref().is_empty() {
            errors.push(at.error(
                Some(&listen_span),
                "instance.smtp_in.listen",
                "needs at least one address".into(),
            ));
        }
        if inst.enabled {
            for addr in inst.smtp_in.listen.get_ref() {
                // Wildcard binds collide with every address on the same port.
                let clash = listeners.iter().find(|(other, _)| {
                    other.port() == addr.port()
                        && (other.ip() == addr.ip()
                            || other.ip().is_unspecified()
                            || addr.ip().is_unspecified())
                });
                if let Some((other, owner)) = clash {
                    errors.push(at.error(
                        Some(&listen_span),
                        "instance.smtp_in.listen",
                        format!("{addr} collides with {other} of instance `{owner}`"),
                    ));
                } else {
                    listeners.insert(*addr, id.clone());
                }
            }
        }
        let smtp = &mut inst.smtp_in;
        if let Some(tls) = &mut smtp.tls {
            resolve(base, &mut tls.cert);
            resolve(base, &mut tls.key);
            // Loaded as the listener will load them at start, so that `check` refuses what
            // `run` would.
            if let Err(e) = tls.server_config() {
                let span = at.key_line(id_span.start, "instance.smtp_in", "tls");
                errors.push(at.error(
                    Some(span.as_ref().unwrap_or(&id_span)),
                    "instance.smtp_in.tls",
                    e.to_string(),
                ));
            }
        }
        if !smtp.auth.users.is_empty() && smtp.auth.require_tls && smtp.tls.is_none() {
            errors.push(at.error(
                Some(&id_span),
                "instance.smtp_in.auth.require_tls",
                format!("instance `{id}` requires TLS for AUTH but has no tls.cert/tls.key"),
            ));
        }
        let memory = smtp.max_data_memory.get_ref().0;
        if memory < smtp.max_message_size.0 {
            let span = smtp.max_data_memory.span();
            errors.push(at.error(
                Some(if span.is_empty() { &id_span } else { &span }),
                "instance.smtp_in.max_data_memory",
                format!(
                    "{} is less than max_message_size ({}): a message of the largest allowed size could never be accepted",
                    smtp.max_data_memory.get_ref(),
                    smtp.max_message_size
                ),
            ));
        }
        if smtp.max_connections == 0
            || smtp.max_connections_per_client == 0
            || smtp.max_recipients == 0
        {
            errors.push(at.error(
                Some(&id_span),
                "instance.smtp_in",
                "max_connections, max_connections_per_client and max_recipients must be at least 1".into(),
            ));
        }

        let mail = &mut inst.mail;
        if let Some(m) = &mut mail.maildir {
            resolve(base, m);
        }
        if let Some(ca) = &mut mail.tls.ca {
            resolve(base, ca);
        }
        for (key, value) in [
            ("default_recipient", &mail.default_recipient),
            ("report_sender", &mail.report_sender),
        ] {
            if !is_plain_address(value) {
                errors.push(at.error(
                    Some(&id_span),
                    &format!("instance.mail.{key}"),
                    format!("`{value}` is not a mail address"),
                ));
            }
        }
        if mail.domain.is_empty()
            || mail
                .domain
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'@')
        {
            errors.push(at.error(
                Some(&id_span),
                "instance.mail.domain",
                format!("`{}` is not a domain", mail.domain),
            ));
        }
        for (key, v) in [
            ("display_name", &mail.display_name),
            ("report_display_name", &mail.report_display_name),
        ] {
            if v.chars().any(char::is_control) {
                errors.push(at.error(
                    Some(&id_span),
                    &format!("instance.mail.{key}"),
                    "contains control characters".into(),
                ));
            }
        }
        match (&mail.auth.password, &mail.auth.password_file) {
            (Some(_), Some(f)) => errors.push(at.error(
                Some(&f.span()),
                "instance.mail.auth",
                "give password or password_file, not both".into(),
            )),
            (Some(p), None) if !p.is_empty() => mail.auth.secret = Some(Secret::new(p.clone())),
            (None, Some(f)) => match read_secret(base, f.get_ref()) {
                Ok(s) => mail.auth.secret = Some(s),
                Err(e) => {
                    errors.push(at.error(Some(&f.span()), "instance.mail.auth.password_file", e))
                }
            },
            _ => {}
        }
        if !mail.auth.user.is_empty()
            && mail.tls.mode == MailTlsMode::None
            && mail.maildir.is_none()
            && !mail.auth.allow_cleartext
        {
            let span = at.key_line(id_span.start, "instance.mail", "auth");
            errors.push(at.error(
                Some(span.as_ref().unwrap_or(&id_span)),
                "instance.mail.auth",
                format!(
                    "AUTH as `{}` with tls.mode = \"none\" sends the password in clear text; use tls.mode = \"starttls\" or \"tls\", or set auth.allow_cleartext = true if the link is trusted",
                    mail.auth.user
                ),
            ));
        }
        if !mail.auth.user.is_empty() && mail.auth.secret.is_none() {
            errors.push(at.error(
                Some(&id_span),
                "instance.mail.auth",
                "a user needs a password or password_file (empty passwords never bind)".into(),
            ));
        }

        let dir = &mut inst.directory;
        match dir.kind {
            DirectoryKind::File => match &mut dir.path {
                Some(p) => resolve(base, p),
                None => errors.push(at.error(
                    Some(&id_span),
                    "instance.directory.path",
                    "kind = \"file\" needs path".into(),
                )),
            },
            DirectoryKind::Ldap => {
                if dir.servers.is_empty() {
                    errors.push(at.error(
                        Some(&id_span),
                        "instance.directory.servers",
                        "kind = \"ldap\" needs servers".into(),
                    ));
                }
                for s in dir.servers.iter().chain(&dir.write_url) {
                    if let Err(e) = crate::ldap::ServerUrl::parse(s) {
                        let key = if dir.write_url.as_ref() == Some(s) {
                            "instance.directory.write_url"
                        } else {
                            "instance.directory.servers"
                        };
                        errors.push(at.error(Some(&id_span), key, e.to_string()));
                    }
                }
                if dir.base_dns.is_empty() {
                    errors.push(at.error(
                        Some(&id_span),
                        "instance.directory.base_dns",
                        "kind = \"ldap\" needs base_dns".into(),
                    ));
                }
                if let Some(ca) = &mut dir.ca {
                    resolve(base, ca);
                }
                match (&dir.bind_password, &dir.bind_password_file) {
                    (Some(_), Some(f)) => errors.push(at.error(
                        Some(&f.span()),
                        "instance.directory.bind_password",
                        "give bind_password or bind_password_file, not both".into(),
                    )),
                    (Some(p), None) if !p.is_empty() => {
                        dir.bind_secret = Some(Secret::new(p.clone()))
                    }
                    (None, Some(f)) => match read_secret(base, f.get_ref()) {
                        Ok(s) => dir.bind_secret = Some(s),
                        Err(e) => errors.push(at.error(
                            Some(&f.span()),
                            "instance.directory.bind_password_file",
                            e,
                        )),
                    },
                    _ => {}
                }
                if !dir.bind_dn.is_empty() && dir.bind_secret.is_none() {
                    errors.push(at.error(
                        Some(&id_span),
                        "instance.directory.bind_dn",
                        "a bind DN needs bind_password or bind_password_file (empty passwords never bind)".into(),
                    ));
                }
                match (&dir.write_bind_password, &dir.write_bind_password_file) {
                    (Some(_), Some(f)) => errors.push(at.error(
                        Some(&f.span()),
                        "instance.directory.write_bind_password",
                        "give write_bind_password or write_bind_password_file, not both".into(),
                    )),
                    (Some(p), None) if !p.is_empty() => {
                        dir.write_secret = Some(Secret::new(p.clone()))
                    }
                    (None, Some(f)) => match read_secret(base, f.get_ref()) {
                        Ok(s) => dir.write_secret = Some(s),
                        Err(e) => errors.push(at.error(
                            Some(&f.span()),
                            "instance.directory.write_bind_password_file",
                            e,
                        )),
                    },
                    _ => {}
                }
                if !dir.write_bind_dn.is_empty() && dir.write_secret.is_none() {
                    errors.push(
                        at.error(
                            Some(&id_span),
                            "instance.directory.write_bind_dn",
                            "a write bind DN needs write_bind_password or write_bind_password_file"
                                .into(),
                        ),
                    );
                }
                if dir.timeout.is_zero() || dir.connect_timeout.is_zero() {
                    errors.push(at.error(
                        Some(&id_span),
                        "instance.directory.timeout",
                        "timeout and connect_timeout must be above zero".into(),
                    ));
                }
                // Filter templates were compiled while parsing; the preset fills the rest.
                crate::ldap::apply_preset(dir);
            }
        }

        let us = &inst.defaults.unknown_sender;
        if *us.action.get_ref() == super::UnknownSenderAction::SendAs && us.send_as.is_empty() {
            errors.push(at.error(
                Some(&us.action.span()),
                "instance.defaults.unknown_sender.send_as",
                "action = \"send_as\" needs send_as = \"<user address>\"".into(),
            ));
        }
        if inst.defaults.inbound_fax.get_ref().is_empty() {
            errors.push(at.error(
                Some(&inst.defaults.inbound_fax.span()),
                "instance.defaults.inbound_fax",
                "needs \"pdf\", \"tif\" or both".into(),
            ));
        }

        // Rules are compiled with the site's plan; a plan that does not load is reported above.
        if let Some(plan) = &plan {
            match crate::print_unread::PrintRules::compile(&inst.print_unread, plan) {
                Ok(rules) => inst.print_rules = rules,
                Err(list) => {
                    for e in list {
                        let span =
                            nth_table(at.text, id_span.start, "instance.print_unread", e.rule);
                        errors.push(at.error(
                            Some(span.as_ref().unwrap_or(&id_span)),
                            "instance.print_unread",
                            e.to_string(),
                        ));
                    }
                }
            }
        }

        let gw = &mut inst.gateway;
        if let Some(d) = &mut gw.dir {
            resolve(base, d);
        }
        if gw.kind == GatewayKind::Hylafax {
            for p in gw.hylafax.validate(|f| read_secret(base, f)) {
                errors.push(at.error(
                    Some(&id_span),
                    &format!("instance.gateway.hylafax.{}", p.key),
                    p.message,
                ));
            }
        }
        if gw.kind == GatewayKind::Kannel {
            for p in gw.kannel.validate(|f| read_secret(base, f)) {
                errors.push(at.error(
                    Some(&id_span),
                    &format!("instance.gateway.kannel.{}", p.key),
                    p.message,
                ));
            }
            // The sender's mobile number is read with the user.
            let attr = gw.kannel.sender_attribute.clone();
            if !attr.is_empty() {
                inst.directory.read_attributes.push(attr);
            }
        }
    }
}

/// The header line of the `n`-th (from 1) `[[table]]` entry after byte `from`, within the
/// same `[[instance]]`; for entries of an array of tables, which carry no span.
fn nth_table(text: &str, from: usize, table: &str, n: usize) -> Option<Range<usize>> {
    let header = format!("[[{table}]]");
    let mut offset = from.min(text.len());
    let mut seen = 0;
    for line in text.get(offset..)?.split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        let t = line.trim();
        if t.starts_with("[[instance]]") && here > from {
            return None;
        }
        if t.replace(' ', "") == header {
            seen += 1;
            if seen == n {
                return Some(here..here + t.len());
            }
        }
    }
    None
}

/// `local@domain` with no spaces, brackets or control characters.
fn is_plain_address(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((l, d)) => {
            !l.is_empty()
                && !d.is_empty()
                && !s
                    .bytes()
                    .any(|b| b.is_ascii_control() || b" <>()[],;\"".contains(&b))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MINIMAL: &str = r#"
[service]
state_dir = "state"
log_dir = "log"

[[instance]]
id = "inst1"

[instance.smtp_in]
listen = ["127.0.0.1:10025"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
"#;

    fn parse(text: &str) -> Result<Config, ConfigErrors> {
        Config::parse(text, Path::new("/etc/umsgate/umsgate.toml"))
    }

    fn only_error(text: &str) -> ConfigError {
        let errs = parse(text).unwrap_err();
        assert_eq!(errs.0.len(), 1, "{errs}");
        errs.0.into_iter().next().unwrap()
    }

    #[test]
    fn minimal_config_gets_the_documented_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.service.state_dir, Path::new("/etc/umsgate/state"));
        let i = &c.instances[0];
        assert_eq!(i.smtp_in.max_message_size.0, 50 << 20);
        assert_eq!(i.mail.retry.intervals().len(), 5);
        assert_eq!(
            i.mail.sender_template.as_str(),
            "$(number)@$(addrtype).$(maildomain)"
        );
        assert_eq!(i.directory.kind, DirectoryKind::File);
        assert_eq!(
            i.directory.path.as_deref(),
            Some(Path::new("/etc/umsgate/users.toml"))
        );
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = only_error(&MINIMAL.replace("max_message_size", "x").replace(
            "listen = [\"127.0.0.1:10025\"]",
            "listen = [\"127.0.0.1:10025\"]\nmax_mesage_size = \"5MB\"",
        ));
        assert_eq!(e.line, Some(11));
        assert_eq!(e.key, "instance.smtp_in.max_mesage_size");
        assert!(e.message.contains("unknown field"), "{}", e.message);
        assert!(
            e.to_string()
                .starts_with("/etc/umsgate/umsgate.toml:11: instance.smtp_in.max_mesage_size:")
        );
    }

    #[test]
    fn bad_duration_names_file_line_and_key() {
        let text = MINIMAL.to_owned() + "retry = [\"60s\", \"ten minutes\"]\n";
        let e = only_error(&text);
        assert_eq!(e.line, Some(16));
        assert_eq!(e.key, "instance.mail.retry");
        assert!(e.message.contains("ten minutes"), "{}", e.message);
    }

    #[test]
    fn bad_value_in_inline_table_names_the_inner_key() {
        let text = MINIMAL.to_owned() + "tls = { mode = \"sometimes\" }\n";
        let e = only_error(&text);
        assert_eq!(e.key, "instance.mail.tls.mode");
        assert_eq!(e.line, Some(16));
    }

    #[test]
    fn two_instances_on_one_port_collide() {
        let second = MINIMAL
            .replace("[service]\nstate_dir = \"state\"\nlog_dir = \"log\"\n", "")
            .replace("inst1", "inst2");
        let e = only_error(&(MINIMAL.to_owned() + &second));
        assert_eq!(e.key, "instance.smtp_in.listen");
        assert!(e.message.contains("collides"), "{}", e.message);
        let wildcard = second.replace("127.0.0.1:10025", "0.0.0.0:10025");
        assert!(parse(&(MINIMAL.to_owned() + &wildcard)).is_err());
        let other_port = second.replace("127.0.0.1:10025", "127.0.0.1:10026");
        assert_eq!(
            parse(&(MINIMAL.to_owned() + &other_port))
                .unwrap()
                .instances
                .len(),
            2
        );
    }

    #[test]
    fn cross_field_rules() {
        let auth = MINIMAL.replace(
            "[instance.mail]",
            "auth.users = [{ name = \"mx\", password_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$S3JYRmWz4WUpbfwnFNlqIHT+FzpZtUjbWSfK3K4bvkM\" }]\n\n[instance.mail]",
        );
        let e = only_error(&auth);
        assert_eq!(e.key, "instance.smtp_in.auth.require_tls");
        let bad_hash = MINIMAL.replace(
            "[instance.mail]",
            "auth.users = [{ name = \"mx\", password_hash = \"secret\" }]\n\n[instance.mail]",
        );
        assert_eq!(
            only_error(&bad_hash).key,
            "instance.smtp_in.auth.users.password_hash"
        );
        let empty_secret = MINIMAL.to_owned() + "auth = { user = \"gw\", password = \"\" }\n";
        assert_eq!(only_error(&empty_secret).key, "instance.mail.auth");
        let ldap = MINIMAL.to_owned()
            + "[instance.directory]\nkind = \"ldap\"\nservers = [\"ldap://127.0.0.1\"]\nbase_dns = [\"dc=x\"]\nnumber_filter = \"(fax=${NUMBER})\"\n";
        assert_eq!(only_error(&ldap).key, "instance.directory.number_filter");
        let retry = MINIMAL.to_owned() + "retry = []\n";
        assert_eq!(only_error(&retry).key, "instance.mail.retry");
    }

    #[test]
    fn the_memory_budget_must_hold_one_largest_message() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(
            c.instances[0].smtp_in.max_data_memory.get_ref().0,
            128 << 20
        );
        let small = MINIMAL.replace(
            "listen = [\"127.0.0.1:10025\"]",
            "listen = [\"127.0.0.1:10025\"]\nmax_message_size = \"10MB\"\nmax_data_memory = \"5MB\"",
        );
        let e = only_error(&small);
        assert_eq!(e.key, "instance.smtp_in.max_data_memory");
        assert_eq!(e.line, Some(12));
        assert!(
            e.message.contains("max_message_size (10MB)"),
            "{}",
            e.message
        );
        // The default message size does not fit a budget below it either.
        let below_default = MINIMAL.replace(
            "listen = [\"127.0.0.1:10025\"]",
            "listen = [\"127.0.0.1:10025\"]\nmax_data_memory = \"20MB\"",
        );
        assert_eq!(
            only_error(&below_default).key,
            "instance.smtp_in.max_data_memory"
        );
        let fine = small.replace("\"5MB\"", "\"10MB\"");
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn auth_to_the_mail_server_in_clear_text_needs_to_be_allowed() {
        let clear = MINIMAL.to_owned()
            + "tls = { mode = \"none\" }\nauth = { user = \"gw\", password = \"s3cret\" }\n";
        let e = only_error(&clear);
        assert_eq!(e.key, "instance.mail.auth");
        assert_eq!(e.line, Some(17));
        assert!(
            e.message.contains("allow_cleartext = true"),
            "{}",
            e.message
        );
        let dotted = MINIMAL.to_owned()
            + "tls.mode = \"none\"\nauth.user = \"gw\"\nauth.password = \"s3cret\"\n";
        assert_eq!(only_error(&dotted).line, Some(17));
        let allowed = clear.replace(
            "password = \"s3cret\"",
            "password = \"s3cret\", allow_cleartext = true",
        );
        let c = parse(&allowed).unwrap();
        assert!(c.instances[0].mail.auth.allow_cleartext);
        // Encrypted, without AUTH, or delivering into a maildir: nothing to refuse.
        assert!(parse(&clear.replace("\"none\"", "\"starttls\"")).is_ok());
        assert!(parse(&(MINIMAL.to_owned() + "tls = { mode = \"none\" }\n")).is_ok());
        assert!(parse(&(clear.clone() + "maildir = \"md\"\n")).is_ok());
    }

    #[test]
    fn what_run_refuses_is_refused_here() {
        let other = MINIMAL.replace(
            "log_dir = \"log\"",
            "log_dir = \"log\"\nstore = \"mysql://u:pw@h/db\"",
        );
        let e = only_error(&other);
        assert_eq!((e.key.as_str(), e.line), ("service.store", Some(5)));
        assert!(!e.message.contains("pw@"), "{}", e.message);
        let pg = MINIMAL.replace(
            "log_dir = \"log\"",
            "log_dir = \"log\"\nstore = \"postgres://u:pw@h/db\"\nstore_password_file = \"pw.txt\"",
        );
        let e = only_error(&pg);
        assert_eq!(
            (e.key.as_str(), e.line),
            ("service.store_password_file", Some(6))
        );
        assert!(
            parse(&MINIMAL.replace(
                "log_dir = \"log\"",
                "log_dir = \"log\"\nstore = \"postgres://u@h/db\""
            ))
            .is_ok()
        );
        let tls = MINIMAL.replace(
            "listen = [\"127.0.0.1:10025\"]",
            "listen = [\"127.0.0.1:10025\"]\ntls = { cert = \"nothere.crt\", key = \"nothere.key\" }",
        );
        let e = only_error(&tls);
        assert_eq!((e.key.as_str(), e.line), ("instance.smtp_in.tls", Some(11)));
        assert!(
            e.message.contains("/etc/umsgate/nothere.crt"),
            "{}",
            e.message
        );
    }

    #[test]
    fn filter_templates() {
        let ldap = MINIMAL.to_owned()
            + "[instance.directory]\nkind = \"ldap\"\nservers = [\"ldap+starttls://127.0.0.1\"]\nbase_dns = [\"dc=x\"]\n";
        let c = parse(&ldap).unwrap();
        let d = &c.instances[0].directory;
        assert_eq!(d.ums_attribute.as_deref(), Some("umsUserData"));
        assert!(
            d.number_filter
                .as_ref()
                .unwrap()
                .0
                .source()
                .contains("${UMS}_wHTSPC")
        );
        for (extra, key) in [
            (
                "sender_filter = \"(mail=${MAIL}\"\n",
                "instance.directory.sender_filter",
            ),
            (
                "sender_filter = \"(mail=${UMS})\"\n",
                "instance.directory.sender_filter",
            ),
            (
                "number_filter = \"(|(fax=${UMS})\"\n",
                "instance.directory.number_filter",
            ),
            (
                "write_url = \"ldapx://h\"\n",
                "instance.directory.write_url",
            ),
        ] {
            assert_eq!(only_error(&(ldap.clone() + extra)).key, key, "{extra}");
        }
    }

    #[test]
    fn print_unread_rules_are_compiled_and_a_bad_one_is_reported_with_its_line() {
        let good = MINIMAL.to_owned()
            + "[[instance.print_unread]]\nname = \"Reception\"\nnumbers = [\"+49 8142 4799100-+49 8142 4799199\", \"*\"]\nqueue_time = \"2s\"\nprinter = \"ipps://printer.example.com/ipp/print\"\n";
        let c = parse(&good).unwrap_or_else(|e| panic!("{e}"));
        let rules = c.instances[0].print_rules.rules();
        assert_eq!(rules.len(), 1);
        assert_eq!(
            rules[0].patterns[0].to_string(),
            "+4981424799100-+4981424799199"
        );
        let bad = MINIMAL.to_owned()
            + "[[instance.print_unread]]\nname = \"Fine\"\nnumbers = [\"*\"]\nqueue_time = \"1m\"\nprinter = \"ipp://p/x\"\n\n"
            + "[[instance.print_unread]]\nname = \"Reception\"\nnumbers = [\"+4930 200000-+4930 100000\"]\nqueue_time = \"30m\"\nprinter = \"http://printer/\"\n";
        let errs = parse(&bad).unwrap_err();
        assert_eq!(errs.0.len(), 2, "{errs}");
        for e in &errs.0 {
            assert_eq!(e.key, "instance.print_unread");
            let second = bad
                .lines()
                .enumerate()
                .filter(|(_, l)| l.contains("print_unread"))
                .nth(1)
                .unwrap()
                .0;
            assert_eq!(e.line, Some(second + 1), "{e}");
        }
        assert!(errs.to_string().contains("after the last"), "{errs}");
        assert!(
            errs.to_string().contains("not an ipp:// or ipps://"),
            "{errs}"
        );
    }

    #[test]
    fn the_design_example_parses() {
        let text = include_str!("../../../docs/umsgate.example.toml");
        let dir = std::env::temp_dir().join(format!("umsgate-config-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("secrets")).unwrap();
        std::fs::write(dir.join("secrets/ldap"), "readonly-secret\n").unwrap();
        let c = Config::parse(text, &dir.join("umsgate.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.instances[0]
                .directory
                .bind_secret
                .as_ref()
                .map(Secret::expose),
            Some("readonly-secret")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(c.instances.len(), 1);
    }
}
