//! `[instance.directory]` with `kind = "ldap"`: presets, server URLs and the settings a running
//! LDAP directory uses.
//!
//! Implementation summary: a preset (`active-directory`, `openldap`, `domino`) fills every
//! attribute and filter key that the file leaves out; keys that are set win. Without a preset
//! the defaults of DESIGN.md §3 apply (they are the `openldap` attribute names with the
//! AD-style filters). The preset is applied while the configuration loads
//! ([`apply_preset`]), so every later reader (the outbound worker's cover-page mapping, `check`,
//! `user show`) sees the effective values. Server URLs are parsed once into [`ServerUrl`].

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::ldap_filter::{FilterTemplate, TemplateKind};
use crate::{CoverpageMapping, DirectoryConfig, LdapPreset, Secret};

/// `number_filter`, compiled when the configuration is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFilter(pub FilterTemplate);

/// `sender_filter`, compiled when the configuration is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderFilter(pub FilterTemplate);

/// `failback`: after a failover, when the first server is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failback {
    /// One lookup tries the first server this long after the failover, and again every
    /// such interval while it fails.
    After(Duration),
    /// `"never"`: stay on the server failed over to until it fails itself or umsgate
    /// restarts (a first server that comes back is not trusted until then).
    Never,
}

impl Failback {
    /// The interval, or `None` for [`Failback::Never`].
    pub fn interval(self) -> Option<Duration> {
        match self {
            Failback::After(d) => Some(d),
            Failback::Never => None,
        }
    }
}

impl<'de> Deserialize<'de> for Failback {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().eq_ignore_ascii_case("never") {
            return Ok(Failback::Never);
        }
        crate::units::parse_duration(&s)
            .map(Failback::After)
            .map_err(|e| serde::de::Error::custom(format!("{e}, or \"never\"")))
    }
}

impl<'de> Deserialize<'de> for NumberFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FilterTemplate::compile(&s, TemplateKind::Number)
            .map(NumberFilter)
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for SenderFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FilterTemplate::compile(&s, TemplateKind::Sender)
            .map(SenderFilter)
            .map_err(serde::de::Error::custom)
    }
}

/// The number filter of DESIGN.md §3: fax, other fax and IXI proxy address, each spaced and
/// compact (the proxy attribute's matching rule does not ignore blanks).
pub const DEFAULT_NUMBER_FILTER: &str = "(|(facsimileTelephoneNumber=${UMS})(facsimileTelephoneNumber=${UMS}_wHTSPC)(otherFacsimileTelephoneNumber=${UMS})(otherFacsimileTelephoneNumber=${UMS}_wHTSPC)(proxyAddresses=IXI:${UMS})(proxyAddresses=IXI:${UMS}_wHTSPC))";
/// The sender filter of DESIGN.md §3: primary address or an `smtp:` proxy address.
pub const DEFAULT_SENDER_FILTER: &str = "(|(mail=${MAIL})(proxyAddresses=smtp:${MAIL}))";

/// What a preset fills in.
struct Preset {
    ums_attribute: &'static str,
    mail_attribute: &'static str,
    name_attribute: &'static str,
    number_filter: &'static str,
    sender_filter: &'static str,
    coverpage: [&'static str; 8],
}

const GENERIC: Preset = Preset {
    ums_attribute: "umsUserData",
    mail_attribute: "mail",
    name_attribute: "cn",
    number_filter: DEFAULT_NUMBER_FILTER,
    sender_filter: DEFAULT_SENDER_FILTER,
    coverpage: [
        "o",
        "street",
        "postalCode",
        "l",
        "departmentNumber",
        "physicalDeliveryOfficeName",
        "telephoneNumber",
        "facsimileTelephoneNumber",
    ],
};

fn preset(p: Option<LdapPreset>) -> Preset {
    match p {
        None => GENERIC,
        // Exchange's extensionAttribute1..15 are free for the site; proxyAddresses carries
        // the SMTP aliases and IXI: numbers. Users only: no contacts, no computers.
        Some(LdapPreset::ActiveDirectory) => Preset {
            ums_attribute: "extensionAttribute1",
            mail_attribute: "mail",
            name_attribute: "displayName",
            number_filter: "(&(objectCategory=person)(objectClass=user)(|(facsimileTelephoneNumber=${UMS})(facsimileTelephoneNumber=${UMS}_wHTSPC)(otherFacsimileTelephoneNumber=${UMS})(otherFacsimileTelephoneNumber=${UMS}_wHTSPC)(proxyAddresses=IXI:${UMS})(proxyAddresses=IXI:${UMS}_wHTSPC)))",
            sender_filter: "(&(objectCategory=person)(objectClass=user)(|(mail=${MAIL})(proxyAddresses=smtp:${MAIL})))",
            coverpage: [
                "company",
                "streetAddress",
                "postalCode",
                "l",
                "department",
                "physicalDeliveryOfficeName",
                "telephoneNumber",
                "facsimileTelephoneNumber",
            ],
        },
        Some(LdapPreset::Openldap) => Preset {
            number_filter: "(&(objectClass=inetOrgPerson)(|(facsimileTelephoneNumber=${UMS})(facsimileTelephoneNumber=${UMS}_wHTSPC)))",
            sender_filter: "(&(objectClass=inetOrgPerson)(mail=${MAIL}))",
            ..GENERIC
        },
        // Domino LDAP: names.nsf persons; the fax number field is published as
        // facsimileTelephoneNumber, the internet address as mail; the UMS field is the one
        // added to the person form (docs/schema/README.md).
        Some(LdapPreset::Domino) => Preset {
            ums_attribute: "umsUserData",
            mail_attribute: "mail",
            name_attribute: "cn",
            number_filter: "(&(objectClass=dominoPerson)(|(facsimileTelephoneNumber=${UMS})(facsimileTelephoneNumber=${UMS}_wHTSPC)))",
            sender_filter: "(&(objectClass=dominoPerson)(mail=${MAIL}))",
            coverpage: [
                "companyName",
                "street",
                "postalCode",
                "l",
                "department",
                "physicalDeliveryOfficeName",
                "telephoneNumber",
                "facsimileTelephoneNumber",
            ],
        },
    }
}

/// Fills the keys the file left out from the preset (or the generic defaults). The cover-page
/// mapping takes the preset's attribute for each field still at the generic default.
pub fn apply_preset(d: &mut DirectoryConfig) {
    let p = preset(d.preset);
    let fill = |v: &mut Option<String>, def: &str| {
        if v.as_deref().is_none_or(str::is_empty) {
            *v = Some(def.to_owned());
        }
    };
    fill(&mut d.ums_attribute, p.ums_attribute);
    fill(&mut d.mail_attribute, p.mail_attribute);
    fill(&mut d.name_attribute, p.name_attribute);
    // The preset templates are constants; the unit tests compile every one of them.
    if d.number_filter.is_none()
        && let Ok(t) = FilterTemplate::compile(p.number_filter, TemplateKind::Number)
    {
        d.number_filter = Some(NumberFilter(t));
    }
    if d.sender_filter.is_none()
        && let Ok(t) = FilterTemplate::compile(p.sender_filter, TemplateKind::Sender)
    {
        d.sender_filter = Some(SenderFilter(t));
    }
    let generic = CoverpageMapping::default();
    let c = &mut d.coverpage;
    for (field, (def, new)) in [
        &mut c.company,
        &mut c.street,
        &mut c.zip,
        &mut c.city,
        &mut c.department,
        &mut c.office,
        &mut c.phone,
        &mut c.fax,
    ]
    .into_iter()
    .zip(
        [
            &generic.company,
            &generic.street,
            &generic.zip,
            &generic.city,
            &generic.department,
            &generic.office,
            &generic.phone,
            &generic.fax,
        ]
        .into_iter()
        .zip(p.coverpage),
    ) {
        if field == def {
            *field = new.to_owned();
        }
    }
}

/// How a server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `ldap://`: plain TCP.
    Plain,
    /// `ldaps://`: TLS from the first byte.
    Tls,
    /// `ldap+starttls://`: plain TCP, then the StartTLS extended operation before the bind.
    StartTls,
}

/// Why a `servers` or `write_url` entry is not a server URL; `Display` quotes the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    url: String,
    kind: UrlErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum UrlErrorKind {
    Scheme,
    NotHostPort,
    UnclosedBracket,
    BadPort(String),
    NoHost,
}

impl UrlError {
    fn new(url: &str, kind: UrlErrorKind) -> UrlError {
        UrlError {
            url: url.to_owned(),
            kind,
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.url;
        match &self.kind {
            UrlErrorKind::Scheme => {
                write!(
                    f,
                    "`{s}` is not an ldap://, ldaps:// or ldap+starttls:// URL"
                )
            }
            UrlErrorKind::NotHostPort => write!(
                f,
                "`{s}`: give host and port only, e.g. ldaps://dc1.example.com:636"
            ),
            UrlErrorKind::UnclosedBracket => write!(f, "`{s}`: unclosed `[`"),
            UrlErrorKind::BadPort(p) => write!(f, "`{s}`: bad port `{p}`"),
            UrlErrorKind::NoHost => write!(f, "`{s}`: no host"),
        }
    }
}

impl std::error::Error for UrlError {}

/// One entry of `servers` (or `write_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    pub transport: Transport,
    pub host: String,
    pub port: u16,
}

impl ServerUrl {
    /// Parses `ldap://host[:port]`, `ldaps://host[:port]` or `ldap+starttls://host[:port]`,
    /// with an optional trailing `/`. IPv6 hosts in brackets.
    pub fn parse(s: &str) -> Result<ServerUrl, UrlError> {
        let (transport, rest, default_port) = if let Some(r) = s.strip_prefix("ldap+starttls://") {
            (Transport::StartTls, r, 389)
        } else if let Some(r) = s.strip_prefix("ldaps://") {
            (Transport::Tls, r, 636)
        } else if let Some(r) = s.strip_prefix("ldap://") {
            (Transport::Plain, r, 389)
        } else {
            return Err(UrlError::new(s, UrlErrorKind::Scheme));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '@', ' ']) {
            return Err(UrlError::new(s, UrlErrorKind::NotHostPort));
        }
        let (host, port) = if let Some(h) = rest.strip_prefix('[') {
            let (h, tail) = h
                .split_once(']')
                .ok_or_else(|| UrlError::new(s, UrlErrorKind::UnclosedBracket))?;
            (format!("[{h}]"), tail.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| UrlError::new(s, UrlErrorKind::BadPort(p.to_owned())))?,
            None => default_port,
        };
        if host.is_empty() {
            return Err(UrlError::new(s, UrlErrorKind::NoHost));
        }
        Ok(ServerUrl {
            transport,
            host,
            port,
        })
    }

    /// The URL the LDAP client opens (`ldap://` for StartTLS, which is a setting).
    pub fn client_url(&self) -> String {
        let scheme = match self.transport {
            Transport::Tls => "ldaps",
            Transport::Plain | Transport::StartTls => "ldap",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.transport {
            Transport::Plain => "ldap",
            Transport::Tls => "ldaps",
            Transport::StartTls => "ldap+starttls",
        };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// Why `[instance.directory]` cannot become [`LdapSettings`] (the loader reports the same
/// problems with file, line and key; this is for configurations built in code).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    /// An entry of `servers` or `write_url` is not a server URL.
    Url(UrlError),
    NoServers,
    NoBaseDns,
    /// `number_filter` or `sender_filter` is missing (presets fill both).
    NoFilters,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Url(e) => e.fmt(f),
            SettingsError::NoServers => f.write_str("kind = \"ldap\" needs servers"),
            SettingsError::NoBaseDns => f.write_str("kind = \"ldap\" needs base_dns"),
            SettingsError::NoFilters => f.write_str("filter templates missing"),
        }
    }
}

impl std::error::Error for SettingsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SettingsError::Url(e) => Some(e),
            _ => None,
        }
    }
}

impl From<UrlError> for SettingsError {
    fn from(e: UrlError) -> SettingsError {
        SettingsError::Url(e)
    }
}

/// A bind: DN and password; an empty DN binds anonymously.
#[derive(Clone)]
pub struct Credentials {
    pub dn: String,
    pub password: Option<Secret>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({:?}, ..)", self.dn)
    }
}

/// Everything a running LDAP directory needs, resolved from the configuration.
#[derive(Debug, Clone)]
pub struct LdapSettings {
    pub servers: Vec<ServerUrl>,
    /// `write_url`, or (when unset) every server in failover order.
    pub write_urls: Vec<ServerUrl>,
    pub ca: Option<PathBuf>,
    pub read: Credentials,
    pub write: Credentials,
    pub base_dns: Vec<String>,
    pub ums_attribute: String,
    pub mail_attribute: String,
    pub name_attribute: String,
    /// Attributes read for cover pages (non-empty mappings) and `read_attributes`.
    pub extra_attributes: Vec<String>,
    pub number_filter: FilterTemplate,
    pub sender_filter: FilterTemplate,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub failback: Failback,
    pub page_size: u32,
    pub cache_ttl: Duration,
    pub cache_entries: usize,
}

impl LdapSettings {
    /// Resolves a loaded (validated) `[instance.directory]`; presets are applied here too,
    /// for configurations built in code.
    pub fn from_config(d: &DirectoryConfig) -> Result<LdapSettings, SettingsError> {
        let mut d = d.clone();
        apply_preset(&mut d);
        let servers = d
            .servers
            .iter()
            .map(|s| ServerUrl::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        if servers.is_empty() {
            return Err(SettingsError::NoServers);
        }
        let write_urls = match &d.write_url {
            Some(u) if !u.is_empty() => vec![ServerUrl::parse(u)?],
            _ => servers.clone(),
        };
        if d.base_dns.is_empty() {
            return Err(SettingsError::NoBaseDns);
        }
        let read = Credentials {
            dn: d.bind_dn.clone(),
            password: d.bind_secret.clone(),
        };
        let write = if d.write_bind_dn.is_empty() {
            read.clone()
        } else {
            Credentials {
                dn: d.write_bind_dn.clone(),
                password: d.write_secret.clone(),
            }
        };
        let c = &d.coverpage;
        let mut extra_attributes = Vec::new();
        for a in [
            &c.company,
            &c.street,
            &c.zip,
            &c.city,
            &c.department,
            &c.office,
            &c.phone,
            &c.fax,
            &c.custom1,
            &c.custom2,
            &c.custom3,
        ]
        .into_iter()
        .chain(&d.read_attributes)
        {
            if !a.is_empty()
                && !extra_attributes
                    .iter()
                    .any(|x: &String| x.eq_ignore_ascii_case(a))
            {
                extra_attributes.push(a.clone());
            }
        }
        let get = |v: Option<String>| v.unwrap_or_default();
        let (Some(number_filter), Some(sender_filter)) = (d.number_filter, d.sender_filter) else {
            return Err(SettingsError::NoFilters);
        };
        Ok(LdapSettings {
            servers,
            write_urls,
            ca: d.ca.clone(),
            read,
            write,
            base_dns: d.base_dns.clone(),
            ums_attribute: get(d.ums_attribute),
            mail_attribute: get(d.mail_attribute),
            name_attribute: get(d.name_attribute),
            extra_attributes,
            number_filter: number_filter.0,
            sender_filter: sender_filter.0,
            timeout: d.timeout,
            connect_timeout: d.connect_timeout,
            failback: d.failback,
            page_size: d.page_size,
            cache_ttl: d.cache_ttl,
            cache_entries: d.cache_entries,
        })
    }

    /// The attributes every search asks for.
    pub fn attributes(&self) -> Vec<String> {
        let mut v = vec![
            self.mail_attribute.clone(),
            self.name_attribute.clone(),
            self.ums_attribute.clone(),
        ];
        for a in &self.extra_attributes {
            if !v.iter().any(|x| x.eq_ignore_ascii_case(a)) {
                v.push(a.clone());
            }
        }
        v.retain(|a| !a.is_empty());
        v
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn failback_is_a_duration_or_never() {
        let parse = |v: &str| {
            let text = format!(
                "[[instance]]\nid = \"a\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\n[instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n[instance.directory]\nkind = \"ldap\"\nservers = [\"ldap://127.0.0.1:389\"]\nbase_dns = [\"dc=example,dc=com\"]\nfailback = \"{v}\"\n"
            );
            crate::Config::parse(&text, std::path::Path::new("/x/umsgate.toml"))
                .map(|c| c.instances[0].directory.failback)
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse("never"), Ok(Failback::Never));
        assert_eq!(parse("Never"), Ok(Failback::Never));
        assert_eq!(parse("10m"), Ok(Failback::After(Duration::from_secs(600))));
        let e = parse("soon").unwrap_err();
        assert!(
            e.starts_with("/x/umsgate.toml:13: instance.directory.failback:")
                && e.contains("never"),
            "{e}"
        );
        assert_eq!(
            DirectoryConfig::default().failback,
            Failback::After(Duration::from_secs(300))
        );
        assert_eq!(Failback::Never.interval(), None);
    }

    #[test]
    fn every_preset_compiles_and_config_values_win() {
        for p in [
            None,
            Some(LdapPreset::ActiveDirectory),
            Some(LdapPreset::Openldap),
            Some(LdapPreset::Domino),
        ] {
            let pr = preset(p);
            FilterTemplate::compile(pr.number_filter, TemplateKind::Number).unwrap();
            FilterTemplate::compile(pr.sender_filter, TemplateKind::Sender).unwrap();
        }
        let mut d = DirectoryConfig {
            preset: Some(LdapPreset::ActiveDirectory),
            mail_attribute: Some("userPrincipalName".into()),
            ..DirectoryConfig::default()
        };
        d.coverpage.city = "city".into();
        apply_preset(&mut d);
        assert_eq!(d.ums_attribute.as_deref(), Some("extensionAttribute1"));
        assert_eq!(d.mail_attribute.as_deref(), Some("userPrincipalName"));
        assert_eq!(d.coverpage.company, "company");
        assert_eq!(d.coverpage.city, "city");
        assert!(
            d.sender_filter
                .unwrap()
                .0
                .source()
                .contains("proxyAddresses=smtp:")
        );
    }

    #[test]
    fn server_urls() {
        let u = ServerUrl::parse("ldap+starttls://dc1.example.com").unwrap();
        assert_eq!(
            (u.transport, u.port, u.client_url().as_str()),
            (Transport::StartTls, 389, "ldap://dc1.example.com:389")
        );
        let u = ServerUrl::parse("ldaps://127.0.0.1:3636/").unwrap();
        assert_eq!((u.transport, u.port), (Transport::Tls, 3636));
        assert_eq!(ServerUrl::parse("ldap://[::1]:3268").unwrap().host, "[::1]");
        for bad in [
            "http://x",
            "ldap://",
            "ldap://h:99999",
            "ldap://h/dc=x",
            "ldap://u@h",
        ] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
        // the loader shows these texts after file, line and key
        for (bad, text) in [
            (
                "http://x",
                "`http://x` is not an ldap://, ldaps:// or ldap+starttls:// URL",
            ),
            ("ldap://h:99999", "`ldap://h:99999`: bad port `99999`"),
            ("ldaps://[::1", "`ldaps://[::1`: unclosed `[`"),
            ("ldap://:389", "`ldap://:389`: no host"),
        ] {
            assert_eq!(ServerUrl::parse(bad).unwrap_err().to_string(), text);
        }
        let e = LdapSettings::from_config(&DirectoryConfig {
            servers: vec!["ldap://h/x".into()],
            ..DirectoryConfig::default()
        })
        .unwrap_err();
        assert!(matches!(e, SettingsError::Url(_)), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
    }
}
