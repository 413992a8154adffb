//! The configuration model of `umsgate.toml` (DESIGN.md §3), parsed once into typed values.
//!
//! Implementation summary: every section is a serde struct with `deny_unknown_fields`; each
//! field's type does its own validation while the file is read (durations, sizes, CIDR ranges,
//! address templates, password hashes, closed sets), so a bad value is reported with the line
//! that holds it. Checks that span several fields or instances (unique ids and listen
//! addresses, retry count, TLS needed for AUTH, secrets read from `*_file`) run in
//! [`load::validate`] on the parsed tree, still with spans. Relative paths are resolved against
//! the folder of the configuration file. After [`Config::load`] returns, nothing re-parses.
//!
//! Some sections describe capabilities that later parts of umsgate implement (directory,
//! gateway, print-unread); their format is settled here so that one file serves every release.
//!
//! The values that need more than a type of their own live in modules: [`address`] (the
//! address templates, read in both directions), [`ldap`] (LDAP server URLs, presets) and
//! [`ldap_filter`] (filter templates, compiled and escaped) and [`print_unread`] (the
//! print-unread rules, compiled with the site's number plan). This crate depends on the domain
//! types only: the directory, spool and listeners read their settings from here.
#![forbid(unsafe_code)]

pub mod address;
pub mod hylafax;
pub mod kannel;
pub mod ldap;
pub mod ldap_filter;
mod load;
pub mod logs;
mod mail;
pub mod metrics;
pub mod portal;
pub mod print_unread;
pub mod store;
pub mod units;
pub mod web;
pub mod web_auth;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use umsgate_domain::{InboundFax, Language, PerDay, Priority, Rights};

pub use hylafax::HylafaxConfig;
pub use kannel::KannelConfig;
pub use load::{ConfigError, ConfigErrors};
pub use metrics::MetricsConfig;
use units::{ByteSize, Cidr, InstanceId, PasswordHash};

use crate::address::AddressTemplate;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub service: ServiceConfig,
    #[serde(default)]
    pub site: SiteConfig,
    #[serde(default, rename = "instance")]
    pub instances: Vec<InstanceConfig>,
    /// The file the configuration was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

impl Config {
    /// Reads, parses and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        load::load(path)
    }

    /// Parses configuration text as if it had been read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
        load::parse(text, path)
    }

    /// The instances with `enabled = true`.
    pub fn enabled_instances(&self) -> impl Iterator<Item = &InstanceConfig> {
        self.instances.iter().filter(|i| i.enabled)
    }

    /// The state folder of one instance: `state_dir/<id>/`.
    pub fn instance_state_dir(&self, id: &InstanceId) -> PathBuf {
        self.service.state_dir.join(id.as_str())
    }

    /// The log folder of one instance: `log_dir/<id>/`.
    pub fn instance_log_dir(&self, id: &InstanceId) -> PathBuf {
        self.service.log_dir.join(id.as_str())
    }
}

/// `[service]`: process-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    pub state_dir: PathBuf,
    pub log_dir: PathBuf,
    pub log_rotate: LogRotate,
    /// `[service.logs.<category>]`: per category on/off, size and count.
    pub logs: logs::LogsConfig,
    pub store: Spanned<String>,
    /// The PostgreSQL store's password, when it is not in the URL.
    pub store_password_file: Option<Spanned<PathBuf>>,
    /// `[service.store_pool]`: connections to a PostgreSQL store.
    pub store_pool: store::StorePool,
    /// Read from `store_password_file` when the configuration is loaded.
    #[serde(skip)]
    pub store_secret: Option<Secret>,
    pub web: Option<WebConfig>,
    /// `metrics.listen`: the Prometheus `/metrics` listener.
    pub metrics: Option<MetricsConfig>,
    /// Folder of report templates and strings that replace the built-in ones
    /// (`<name>.html.j2`, `<name>.txt.j2`, `<lang>/reports.ftl`).
    pub templates_dir: Option<PathBuf>,
    /// Cover-page templates the administrator provides (`<name>.svg`, `<name>.sms.txt`).
    pub covers_dir: Option<PathBuf>,
    /// `[service.render]`: how attachments become fax pages.
    pub render: RenderConfig,
}

/// `[service.render]`: the fax renderer and its external converters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RenderConfig {
    /// Office and OpenDocument files: `"soffice"` (a resident LibreOffice) or `"none"`
    /// (refused as unsupported).
    pub converter: OfficeConverterKind,
    /// The LibreOffice program.
    pub soffice: PathBuf,
    /// HTML-only bodies: `"chromium"` (headless print to PDF) or `"none"` (their text).
    pub html: HtmlRendererKind,
    /// The Chromium program.
    pub chromium: PathBuf,
    /// Longest one conversion may take.
    #[serde(deserialize_with = "units::duration")]
    pub timeout: Duration,
    /// Most pages one fax may have after rendering (each part and the whole).
    pub max_pages: u32,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig {
            converter: OfficeConverterKind::Soffice,
            soffice: PathBuf::from("soffice"),
            html: HtmlRendererKind::Chromium,
            chromium: PathBuf::from("chromium"),
            timeout: Duration::from_secs(60),
            max_pages: 200,
        }
    }
}

/// `render.converter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OfficeConverterKind {
    Soffice,
    None,
}

/// `render.html`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HtmlRendererKind {
    Chromium,
    None,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            state_dir: PathBuf::from("/var/lib/umsgate"),
            log_dir: PathBuf::from("/var/log/umsgate"),
            log_rotate: LogRotate::default(),
            logs: logs::LogsConfig::default(),
            store: Spanned::new(0..0, "sqlite".to_owned()),
            store_password_file: None,
            store_pool: store::StorePool::default(),
            store_secret: None,
            web: None,
            metrics: None,
            templates_dir: None,
            covers_dir: None,
            render: RenderConfig::default(),
        }
    }
}

/// `log_rotate = { size = "10MB", keep = 5 }`: per category file; `size = 0` never rotates,
/// `keep = 0` deletes no old file. [`logs`] overrides it per category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogRotate {
    pub size: ByteSize,
    pub keep: u32,
}

impl Default for LogRotate {
    fn default() -> Self {
        LogRotate {
            size: ByteSize(10 << 20),
            keep: 5,
        }
    }
}

pub use web::{WebAdmin, WebConfig};

/// `[site]`: the number plan (DESIGN.md §4). Values are digit strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    pub country_code: Spanned<String>,
    pub area_code: Spanned<String>,
    pub subscriber: Spanned<String>,
    pub extension_digits: u8,
    pub international_prefix: Spanned<String>,
    pub national_prefix: Spanned<String>,
    pub outside_line: Spanned<String>,
}

impl Default for SiteConfig {
    fn default() -> Self {
        let s = |v: &str| Spanned::new(0..0, v.to_owned());
        SiteConfig {
            country_code: s("49"),
            area_code: s(""),
            subscriber: s(""),
            extension_digits: 0,
            international_prefix: s("00"),
            national_prefix: s("0"),
            outside_line: s(""),
        }
    }
}

impl SiteConfig {
    /// The validated number plan (checked when the configuration loads).
    pub fn plan(&self) -> Result<umsgate_domain::SitePlan, umsgate_domain::SitePlanError> {
        umsgate_domain::SitePlan::new(umsgate_domain::SitePlanFields {
            country_code: self.country_code.get_ref().clone(),
            area_code: self.area_code.get_ref().clone(),
            subscriber: self.subscriber.get_ref().clone(),
            extension_digits: self.extension_digits,
            international_prefix: self.international_prefix.get_ref().clone(),
            national_prefix: self.national_prefix.get_ref().clone(),
            outside_line: self.outside_line.get_ref().clone(),
        })
    }
}

/// One `[[instance]]`: its own listener, mail system, directory, gateway, spool and logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    pub id: Spanned<InstanceId>,
    #[serde(default)]
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub emergency_mode: bool,
    /// Accept mail but keep it in `smtp-in/` instead of turning it into jobs (maintenance of
    /// the engine, or of the rights); processing resumes when this is switched off.
    #[serde(default)]
    pub hold: bool,
    pub smtp_in: SmtpInConfig,
    pub mail: MailConfig,
    #[serde(default)]
    pub directory: DirectoryConfig,
    #[serde(default)]
    pub defaults: DefaultsConfig,
    #[serde(default)]
    pub gateway: GatewayConfig,
    #[serde(default)]
    pub print_unread: Vec<PrintUnreadRule>,
    /// `print_unread`, compiled with the site's plan by the validation pass.
    #[serde(skip)]
    pub print_rules: print_unread::PrintRules,
}

fn yes() -> bool {
    true
}

/// `[instance.smtp_in]`: the listener the mail server relays outbound jobs to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpInConfig {
    pub listen: Spanned<Vec<SocketAddr>>,
    /// Client ranges allowed to connect; empty = any.
    #[serde(default)]
    pub allow_from: Vec<Cidr>,
    #[serde(default = "default_max_message_size")]
    pub max_message_size: ByteSize,
    /// Message data held in memory by all sessions of the listener together; a message that
    /// finds no room is read to its end and deferred with 452 4.3.1.
    #[serde(default = "default_max_data_memory")]
    pub max_data_memory: Spanned<ByteSize>,
    #[serde(default)]
    pub auth: SmtpAuthConfig,
    pub tls: Option<TlsFiles>,
    /// Name in the greeting and EHLO reply; default: the host name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Concurrent sessions on this instance.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Concurrent sessions from one client address.
    #[serde(default = "default_max_connections_per_client")]
    pub max_connections_per_client: u32,
    /// Recipients per message.
    #[serde(default = "default_max_recipients")]
    pub max_recipients: u32,
    /// Idle time allowed between commands.
    #[serde(
        default = "default_command_timeout",
        deserialize_with = "units::duration"
    )]
    pub command_timeout: Duration,
    /// Idle time allowed while the message is being sent.
    #[serde(default = "default_data_timeout", deserialize_with = "units::duration")]
    pub data_timeout: Duration,
}

fn default_max_message_size() -> ByteSize {
    ByteSize(50 << 20)
}
fn default_max_data_memory() -> Spanned<ByteSize> {
    Spanned::new(0..0, ByteSize(128 << 20))
}
fn default_max_connections() -> u32 {
    200
}
fn default_max_connections_per_client() -> u32 {
    50
}
fn default_max_recipients() -> u32 {
    100
}
fn default_command_timeout() -> Duration {
    Duration::from_secs(300)
}
fn default_data_timeout() -> Duration {
    Duration::from_secs(600)
}

/// `auth.users` and `auth.require_tls` of the listener. No users = no AUTH offered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpAuthConfig {
    pub users: Vec<SmtpUser>,
    pub require_tls: bool,
    /// Failed attempts per client address before it is refused for `failure_window`.
    pub max_failures: u32,
    #[serde(deserialize_with = "units::duration")]
    pub failure_window: Duration,
}

impl Default for SmtpAuthConfig {
    fn default() -> Self {
        SmtpAuthConfig {
            users: Vec::new(),
            require_tls: true,
            max_failures: 5,
            failure_window: Duration::from_secs(300),
        }
    }
}

/// One account the mail server may authenticate as.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpUser {
    pub name: String,
    pub password_hash: PasswordHash,
}

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The rustls server configuration of a listener: the certificate chain and key read,
    /// and checked to belong together. The error names the file.
    pub fn server_config(&self) -> Result<std::sync::Arc<rustls::ServerConfig>, TlsFilesError> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let cert = |source| TlsFilesError::Certificate {
            path: self.cert.clone(),
            source,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .map_err(cert)?
            .collect::<Result<_, _>>()
            .map_err(cert)?;
        if certs.is_empty() {
            return Err(TlsFilesError::NoCertificate(self.cert.clone()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|source| TlsFilesError::Key {
            path: self.key.clone(),
            source,
        })?;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .map_err(|source| TlsFilesError::Setup {
                path: self.cert.clone(),
                source,
            })?;
        Ok(std::sync::Arc::new(config))
    }
}

/// Why a listener's certificate and key cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsFilesError {
    /// The certificate file cannot be read, or holds no valid PEM.
    Certificate {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    NoCertificate(PathBuf),
    /// The key file cannot be read, or holds no key.
    Key {
        path: PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    /// Certificate and key do not make a TLS configuration (e.g. they do not belong together).
    Setup {
        path: PathBuf,
        source: rustls::Error,
    },
}

impl std::fmt::Display for TlsFilesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsFilesError::Certificate { path, source } => {
                write!(f, "cannot read certificate {}: {source}", path.display())
            }
            TlsFilesError::NoCertificate(path) => write!(f, "no certificate in {}", path.display()),
            TlsFilesError::Key { path, source } => {
                write!(f, "cannot read key {}: {source}", path.display())
            }
            TlsFilesError::Setup { path, source } => {
                write!(f, "TLS setup with {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for TlsFilesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsFilesError::Certificate { source, .. } | TlsFilesError::Key { source, .. } => {
                Some(source)
            }
            TlsFilesError::Setup { source, .. } => Some(source),
            TlsFilesError::NoCertificate(_) => None,
        }
    }
}

/// `[instance.mail]`: delivery of inbound messages and reports to the mail server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    #[serde(default = "default_server")]
    pub server: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// `$(maildomain)`.
    pub domain: String,
    #[serde(default = "default_template")]
    pub sender_template: AddressTemplate,
    #[serde(default)]
    pub reply_to_template: Option<ReplyToTemplate>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub report_display_name: String,
    pub default_recipient: String,
    pub report_sender: String,
    #[serde(default)]
    pub store: MessageStore,
    #[serde(default)]
    pub retry: RetrySchedule,
    #[serde(default)]
    pub ldap_error: LdapErrorPolicy,
    #[serde(default)]
    pub auth: MailAuth,
    #[serde(default)]
    pub tls: MailTls,
    /// Deliver into `<maildir>/<recipient>/new/` instead of SMTP (demo and tests).
    #[serde(default)]
    pub maildir: Option<PathBuf>,
}

fn default_server() -> String {
    "127.0.0.1".to_owned()
}
fn default_port() -> u16 {
    25
}
fn default_template() -> AddressTemplate {
    // The default is a valid template by construction; a failure here would be a typo in
    // this line, caught by the config tests.
    "$(number)@$(addrtype).$(maildomain)"
        .parse()
        .unwrap_or_else(|e: String| panic!("{e}"))
}
/// The delivery retry schedule: 1 to 10 intervals; attempt *n* waits `intervals[n-1]`, and
/// after the last interval the message goes to Badmail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl RetrySchedule {
    pub const MAX_INTERVALS: usize = 10;

    pub fn intervals(&self) -> &[Duration] {
        &self.0
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule(
            [60, 600, 3600, 86_400, 172_800]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for RetrySchedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = units::durations(d)?;
        if v.is_empty() || v.len() > Self::MAX_INTERVALS {
            return Err(serde::de::Error::custom(format!(
                "retry needs 1 to {} intervals, not {}",
                Self::MAX_INTERVALS,
                v.len()
            )));
        }
        Ok(RetrySchedule(v))
    }
}

/// `reply_to_template`: empty means none.
#[derive(Debug, Clone)]
pub struct ReplyToTemplate(pub Option<AddressTemplate>);

impl<'de> Deserialize<'de> for ReplyToTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            Ok(ReplyToTemplate(None))
        } else {
            s.parse()
                .map(|t| ReplyToTemplate(Some(t)))
                .map_err(serde::de::Error::custom)
        }
    }
}

/// Message store mode: what happens to inbound messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStore {
    #[default]
    Send,
    Journal,
    Delete,
}

/// What an inbound message does when the directory cannot be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LdapErrorPolicy {
    #[default]
    DefaultRecipient,
    Retry,
}

/// `auth = { user, password | password_file }` towards the mail server; empty user = none.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailAuth {
    pub user: String,
    pub password: Option<String>,
    pub password_file: Option<Spanned<PathBuf>>,
    /// Send the password with `tls.mode = "none"` all the same (a mail server on the same host
    /// or a trusted link); without it such a configuration is refused.
    pub allow_cleartext: bool,
    /// Filled by validation from `password` or the file.
    #[serde(skip)]
    pub secret: Option<Secret>,
}

/// A secret read from the configuration or a `*_file`; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// `tls = { mode, ca, accept_invalid }` towards the mail server.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailTls {
    pub mode: MailTlsMode,
    pub ca: Option<PathBuf>,
    pub accept_invalid: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTlsMode {
    None,
    #[default]
    Starttls,
    Tls,
}

/// `[instance.directory]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    pub kind: DirectoryKind,
    /// `kind = "file"`: the users file.
    pub path: Option<PathBuf>,
    pub preset: Option<LdapPreset>,
    /// Failover order: `ldap://`, `ldaps://` (TLS) or `ldap+starttls://` (StartTLS on the
    /// plain port); host and port, nothing else.
    pub servers: Vec<String>,
    pub ca: Option<PathBuf>,
    pub write_url: Option<String>,
    pub bind_dn: String,
    pub bind_password: Option<String>,
    pub bind_password_file: Option<Spanned<PathBuf>>,
    /// The account `umsgate user set` writes with; empty = `bind_dn` (which then needs
    /// write access to the UMS attribute).
    pub write_bind_dn: String,
    pub write_bind_password: Option<String>,
    pub write_bind_password_file: Option<Spanned<PathBuf>>,
    pub base_dns: Vec<String>,
    pub ums_attribute: Option<String>,
    pub mail_attribute: Option<String>,
    /// The attribute holding the display name (preset default: `cn` or `displayName`).
    pub name_attribute: Option<String>,
    pub number_filter: Option<NumberFilter>,
    pub sender_filter: Option<SenderFilter>,
    /// Operation timeout: bind, search, modify.
    #[serde(deserialize_with = "units::duration")]
    pub timeout: Duration,
    /// TCP connect (and TLS handshake) timeout per server.
    #[serde(deserialize_with = "units::duration")]
    pub connect_timeout: Duration,
    /// After a failover, how long until the first server is tried again (`"never"`: not
    /// before a restart).
    pub failback: ldap::Failback,
    /// Simple paged results page size (RFC 2696); 0 = no paging control.
    pub page_size: u32,
    #[serde(deserialize_with = "units::duration")]
    pub cache_ttl: Duration,
    /// Most cached lookups (found and not found) kept at once.
    pub cache_entries: usize,
    pub coverpage: CoverpageMapping,
    /// Further attributes read with each user, set by the loader (e.g. the SMS sender's
    /// mobile number for a Kannel gateway).
    #[serde(skip)]
    pub read_attributes: Vec<String>,
    #[serde(skip)]
    pub bind_secret: Option<Secret>,
    #[serde(skip)]
    pub write_secret: Option<Secret>,
}

pub use crate::ldap::{NumberFilter, SenderFilter};

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            kind: DirectoryKind::File,
            path: Some(PathBuf::from("users.toml")),
            preset: None,
            servers: Vec::new(),
            ca: None,
            write_url: None,
            bind_dn: String::new(),
            bind_password: None,
            bind_password_file: None,
            write_bind_dn: String::new(),
            write_bind_password: None,
            write_bind_password_file: None,
            base_dns: Vec::new(),
            ums_attribute: None,
            mail_attribute: None,
            name_attribute: None,
            number_filter: None,
            sender_filter: None,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            failback: ldap::Failback::After(Duration::from_secs(300)),
            page_size: 500,
            cache_ttl: Duration::from_secs(60),
            cache_entries: 10_000,
            coverpage: CoverpageMapping::default(),
            read_attributes: Vec::new(),
            bind_secret: None,
            write_secret: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectoryKind {
    Ldap,
    #[default]
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LdapPreset {
    ActiveDirectory,
    Openldap,
    Domino,
}

/// Which directory attribute fills each sender field of a cover page; empty = unused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoverpageMapping {
    pub company: String,
    pub street: String,
    pub zip: String,
    pub city: String,
    pub department: String,
    pub office: String,
    pub phone: String,
    pub fax: String,
    pub custom1: String,
    pub custom2: String,
    pub custom3: String,
}

impl Default for CoverpageMapping {
    fn default() -> Self {
        let s = str::to_owned;
        CoverpageMapping {
            company: s("o"),
            street: s("street"),
            zip: s("postalCode"),
            city: s("l"),
            department: s("departmentNumber"),
            office: s("physicalDeliveryOfficeName"),
            phone: s("telephoneNumber"),
            fax: s("facsimileTelephoneNumber"),
            custom1: String::new(),
            custom2: String::new(),
            custom3: String::new(),
        }
    }
}

/// `[instance.defaults]`: the settings of a user who has none of his own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DefaultsConfig {
    pub priority: Priority,
    pub fax: FaxDefaults,
    pub sms: ServiceDefaults,
    pub voice: ServiceDefaults,
    pub inbound_fax: Spanned<Vec<InboundFaxPart>>,
    pub reports: ReportDefaults,
    pub unknown_sender: UnknownSender,
    pub system_per_day: SystemPerDay,
}

impl Default for DefaultsConfig {
    fn default() -> Self {
        DefaultsConfig {
            priority: Priority::Normal,
            fax: FaxDefaults::default(),
            sms: ServiceDefaults {
                rights: Rights::National,
                per_day: PerDay::System,
            },
            voice: ServiceDefaults {
                rights: Rights::None,
                per_day: PerDay::System,
            },
            inbound_fax: Spanned::new(0..0, vec![InboundFaxPart::Pdf]),
            reports: ReportDefaults::default(),
            unknown_sender: UnknownSender::default(),
            system_per_day: SystemPerDay::default(),
        }
    }
}

impl DefaultsConfig {
    /// `inbound_fax = ["pdf", "tif"]` as one value.
    pub fn inbound_fax(&self) -> InboundFax {
        let v = self.inbound_fax.get_ref();
        match (
            v.contains(&InboundFaxPart::Pdf),
            v.contains(&InboundFaxPart::Tif),
        ) {
            (true, true) => InboundFax::PdfAndTif,
            (false, true) => InboundFax::Tif,
            _ => InboundFax::Pdf,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InboundFaxPart {
    Pdf,
    Tif,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaxDefaults {
    pub rights: Rights,
    /// 0 = no limit.
    pub max_pages: u32,
    pub per_day: PerDay,
}

impl Default for FaxDefaults {
    fn default() -> Self {
        FaxDefaults {
            rights: Rights::International,
            max_pages: 0,
            per_day: PerDay::System,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDefaults {
    pub rights: Rights,
    #[serde(default = "system")]
    pub per_day: PerDay,
}

fn system() -> PerDay {
    PerDay::System
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportDefaults {
    pub html: bool,
    pub language: Language,
    /// Pages of a received fax shown as images in its HTML mail (0: none, the mail only says
    /// how many pages are attached). Each costs a decode and a PNG, a few ms of CPU.
    pub preview_pages: u32,
}

impl Default for ReportDefaults {
    fn default() -> Self {
        ReportDefaults {
            html: true,
            language: Language::En,
            preview_pages: 1,
        }
    }
}

/// What happens to mail from a sender the directory does not know.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnknownSender {
    pub action: Spanned<UnknownSenderAction>,
    /// The user whose settings apply with `action = "send_as"`.
    pub send_as: String,
    /// Keep a copy of deleted mail in `smtp-in/error/`.
    pub archive: bool,
}

impl Default for UnknownSender {
    fn default() -> Self {
        UnknownSender {
            action: Spanned::new(0..0, UnknownSenderAction::Notify),
            send_as: String::new(),
            archive: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownSenderAction {
    Delete,
    Notify,
    SendAs,
}

/// What `per_day = "system"` means per service; 0 = unlimited.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SystemPerDay {
    pub fax: u32,
    pub sms: u32,
    pub voice: u32,
}

/// `[instance.gateway]`: the fax / SMS / voice engine backend (DESIGN.md §6).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    pub kind: GatewayKind,
    /// `sim`: time until a job completes.
    #[serde(deserialize_with = "units::duration")]
    pub delay: Duration,
    /// `sim`: numbers matching these patterns (`*` = any digits) fail with "busy".
    pub fail_numbers: Vec<String>,
    /// `spool`: the exchange folder; default `<state>/<instance>/gateway/`.
    pub dir: Option<PathBuf>,
    /// The rendered fax handed to the engine: `"pdf"`, `"tiff"` (class F, G4) or `"tiff-g3"`.
    pub fax_format: FaxFormat,
    /// `hylafax`: `[instance.gateway.hylafax]`, the hfaxd connection.
    pub hylafax: HylafaxConfig,
    /// `kannel`: `[instance.gateway.kannel]`, sendsms and the callback listener.
    pub kannel: KannelConfig,
}

/// `gateway.fax_format`: what the engine receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaxFormat {
    #[default]
    Pdf,
    /// TIFF class F, G4 (T.6), 204×196 dpi.
    Tiff,
    /// TIFF class F, G3 (T.4 one-dimensional), 204×196 dpi.
    TiffG3,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            kind: GatewayKind::Sim,
            delay: Duration::from_secs(1),
            fail_numbers: Vec::new(),
            dir: None,
            fax_format: FaxFormat::Pdf,
            hylafax: HylafaxConfig::default(),
            kannel: KannelConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayKind {
    #[default]
    Sim,
    Spool,
    Hylafax,
    Kannel,
}

/// One `[[instance.print_unread]]` rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintUnreadRule {
    pub name: String,
    pub numbers: Vec<String>,
    #[serde(deserialize_with = "units::duration")]
    pub queue_time: Duration,
    pub printer: String,
}
