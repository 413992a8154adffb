//! The self-service portal's view of one user and the changes he may make.
//!
//! Contract: [`Portal::view`] shows what applies to the user now: per service his send
//! rights, per-day limit with what he used today ([`Store::used_today`]), fax pages and
//! highest priority (the same [`Effective`] the outbound policy decides with), and the four
//! fields he may own: cover page, fax headline, report language and inbound fax format, each
//! with its effective value, whether it is his own or the default, and whether
//! `[service.web.portal]` lets him change it. A hidden field is absent from the view; a
//! malformed UMS attribute is shown as "defaults only" and cannot be changed here (an
//! administrator repairs it). [`Portal::save`] checks every submitted field first (editable,
//! valid: a cover from the administrator's list, a headline without control characters and
//! at most [`MAX_HEADLINE_CHARS`], one of the seven languages, pdf / tif / pdf+tif; the
//! empty choice goes back to the default) and then writes them all in one rewrite of the
//! attribute through the directory's write path ([`LdapDirectory::update_settings`]: keys
//! umsgate does not know are kept, a concurrent change is read again, the directory's cache
//! of this process forgets the user, so his next job uses the new values). Nothing is
//! written when one field is refused.
//!
//! The users file is the administrator's own text (see `cli::user`): there, the portal shows
//! the settings and refuses changes ([`PortalError::ReadOnlyDirectory`]).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use umsgate_domain::{InboundFax, Language, Priority, Rights, Service, UserSettings};

use crate::config::portal::{FieldAccess, PortalConfig, Visibility};
use crate::config::units::InstanceId;
use crate::config::{Config, DefaultsConfig, InstanceConfig};
use crate::directory::{Directory, DirectoryError, LdapDirectory, User};
use crate::outbound::policy::Effective;
use crate::store::{Store, StoreError};
#[cfg(doc)]
use umsgate_render::cover::Covers;

/// Longest fax headline, in characters (a fax page header line holds about this much next
/// to the date, the sender's number and the page number).
pub const MAX_HEADLINE_CHARS: usize = 60;

/// A field the user may own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Cover,
    Headline,
    ReportLanguage,
    InboundFax,
}

impl Field {
    /// The `[service.web.portal]` key, also the form field's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Cover => "cover",
            Field::Headline => "headline",
            Field::ReportLanguage => "report_language",
            Field::InboundFax => "inbound_fax",
        }
    }

    /// The UMS settings key it is stored in (DESIGN.md §5).
    fn key(self) -> &'static str {
        match self {
            Field::Cover => "cover",
            Field::Headline => "fax.headline",
            Field::ReportLanguage => "report.lang",
            Field::InboundFax => "fax.inbound",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldView<T> {
    /// What applies: the user's own value, else the default (`None` for a cover or a
    /// headline: the system default, no headline).
    pub value: T,
    /// The user set it himself.
    pub own: bool,
    pub editable: bool,
}

/// Rights for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    pub service: Service,
    pub rights: Rights,
    /// `None` = unlimited.
    pub per_day: Option<u32>,
    pub used_today: u32,
    /// Fax only; `None` = unlimited.
    pub max_pages: Option<u32>,
}

/// Everything the portal page shows for one user (serialised as the page template reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortalView {
    #[serde(serialize_with = "instance_id")]
    pub instance: InstanceId,
    pub address: String,
    pub name: String,
    /// The UMS attribute does not parse: only the defaults apply, and nothing can be changed.
    pub malformed: bool,
    /// The directory cannot be written from here (users file).
    pub read_only: bool,
    /// `None` when `rights = "hide"`.
    pub services: Option<Vec<ServiceView>>,
    pub priority: Option<Priority>,
    /// `None` = hidden; inside, `None` = the system default cover.
    pub cover: Option<FieldView<Option<String>>>,
    /// The covers to choose from (besides the system default).
    pub covers: Vec<String>,
    pub headline: Option<FieldView<Option<String>>>,
    pub report_language: Option<FieldView<Language>>,
    pub inbound_fax: Option<FieldView<InboundFax>>,
}

/// What the user submitted: `Some` for each field on the form; `Some("")` = back to the default.
/// Deserialises from the form (field names as [`Field::as_str`]; other fields, such as a
/// CSRF token, are left to the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Changes {
    pub cover: Option<String>,
    pub headline: Option<String>,
    pub report_language: Option<String>,
    pub inbound_fax: Option<String>,
}

impl Changes {
    fn fields(&self) -> impl Iterator<Item = (Field, &str)> {
        [
            (Field::Cover, &self.cover),
            (Field::Headline, &self.headline),
            (Field::ReportLanguage, &self.report_language),
            (Field::InboundFax, &self.inbound_fax),
        ]
        .into_iter()
        .filter_map(|(f, v)| v.as_deref().map(|v| (f, v)))
    }
}

fn instance_id<S: serde::Serializer>(id: &InstanceId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(id.as_str())
}

/// Why a value is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Longer than [`MAX_HEADLINE_CHARS`].
    TooLong { max: usize },
    /// A control character (CR, LF, NUL, …).
    ControlCharacter,
    /// Not one of the values offered.
    NotOffered,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TooLong { max } => write!(f, "longer than {max} characters"),
            Problem::ControlCharacter => f.write_str("contains a control character"),
            Problem::NotOffered => f.write_str("not one of the values offered"),
        }
    }
}

/// Why the portal could not show or save.
#[derive(Debug)]
#[non_exhaustive]
pub enum PortalError {
    /// The user is not (or no longer) in the directory.
    NotFound {
        address: String,
    },
    /// The field is shown read-only or hidden (`[service.web.portal]`).
    Locked {
        field: Field,
    },
    /// The value is refused.
    Invalid {
        field: Field,
        problem: Problem,
    },
    /// The UMS attribute does not parse; an administrator has to repair it first.
    Malformed,
    /// The users file is not written by umsgate.
    ReadOnlyDirectory,
    Directory(DirectoryError),
    Store(StoreError),
}

impl fmt::Display for PortalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortalError::NotFound { address } => write!(f, "{address} is not in the directory"),
            PortalError::Locked { field } => write!(f, "{field} cannot be changed here"),
            PortalError::Invalid { field, problem } => write!(f, "{field}: {problem}"),
            PortalError::Malformed => {
                f.write_str("the settings attribute is malformed: an administrator has to fix it")
            }
            PortalError::ReadOnlyDirectory => {
                f.write_str("the users file is edited by the administrator only")
            }
            PortalError::Directory(e) => e.fmt(f),
            PortalError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PortalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PortalError::Directory(e) => Some(e),
            PortalError::Store(e) => Some(e),
            PortalError::NotFound { .. }
            | PortalError::Locked { .. }
            | PortalError::Invalid { .. }
            | PortalError::Malformed
            | PortalError::ReadOnlyDirectory => None,
        }
    }
}

impl From<DirectoryError> for PortalError {
    fn from(e: DirectoryError) -> Self {
        PortalError::Directory(e)
    }
}

impl From<StoreError> for PortalError {
    fn from(e: StoreError) -> Self {
        PortalError::Store(e)
    }
}

/// The portal of one instance.
#[derive(Debug, Clone)]
pub struct Portal {
    pub instance: InstanceId,
    pub config: PortalConfig,
    pub defaults: DefaultsConfig,
    /// The administrator's cover names (`rendering::covers`).
    pub covers: Vec<String>,
    /// The instance's own directory, so that a change reaches its cache.
    pub directory: Arc<Directory>,
    pub store: Store,
}

/// The user's settings, or `None` when the attribute is malformed (logged with the DN).
fn settings_of(user: &User) -> Result<UserSettings, ()> {
    match user.ums.as_deref() {
        None | Some("") => Ok(UserSettings::new()),
        Some(v) => UserSettings::parse(v).map_err(|e| {
            tracing::warn!(event = "portal.malformed_settings", dn = user.id, error = %e, "only the instance defaults apply");
        }),
    }
}

impl Portal {
    /// The portal of one instance: `[service.web.portal]`, the instance's defaults, the
    /// service's cover names ([`Covers::names`]), and the instance's own directory ([`crate::instance::Instance`]'s,
    /// shared with its workers) and store.
    pub fn new(
        config: &Config,
        inst: &InstanceConfig,
        covers: Vec<String>,
        directory: Arc<Directory>,
        store: Store,
    ) -> Portal {
        Portal {
            instance: inst.id.get_ref().clone(),
            config: config
                .service
                .web
                .as_ref()
                .map(|w| w.portal)
                .unwrap_or_default(),
            defaults: inst.defaults.clone(),
            covers,
            directory,
            store,
        }
    }

    /// The view of the user who logged in as `address`.
    pub async fn view(&self, address: &str) -> Result<PortalView, PortalError> {
        let user =
            self.directory
                .by_sender(address)
                .await?
                .ok_or_else(|| PortalError::NotFound {
                    address: address.to_owned(),
                })?;
        let parsed = settings_of(&user);
        let malformed = parsed.is_err();
        let settings = parsed.unwrap_or_default();
        let read_only = matches!(*self.directory, Directory::File(_));
        let s = (!malformed).then_some(&settings);
        let c = &self.config;
        let field = |access: FieldAccess, own: bool| {
            access
                .shown()
                .then_some((own, access.editable() && !malformed && !read_only))
        };
        let mut services = None;
        if c.rights == Visibility::Show {
            let mut v = Vec::new();
            for service in Service::ALL {
                let e = Effective::resolve(s, &self.defaults, service);
                v.push(ServiceView {
                    service,
                    rights: e.rights,
                    per_day: e.per_day,
                    used_today: self
                        .store
                        .used_today(self.instance.as_str(), &user.mail, service)
                        .await?,
                    max_pages: (service == Service::Fax).then_some(e.max_pages).flatten(),
                });
            }
            services = Some(v);
        }
        let e = Effective::resolve(s, &self.defaults, Service::Fax);
        let own = |k: &str| s.is_some_and(|s| s.iter().any(|(key, _)| key == k));
        Ok(PortalView {
            instance: self.instance.clone(),
            address: user.mail.clone(),
            name: user.name.clone(),
            malformed,
            read_only,
            priority: services.is_some().then_some(e.priority_cap),
            services,
            cover: field(c.cover, own("cover")).map(|(own, editable)| FieldView {
                value: e.cover.clone(),
                own,
                editable,
            }),
            covers: self.covers.clone(),
            headline: field(c.headline, own("fax.headline")).map(|(own, editable)| FieldView {
                value: e.headline.clone(),
                own,
                editable,
            }),
            report_language: field(c.report_language, own("report.lang")).map(|(own, editable)| {
                FieldView {
                    value: e.report_lang,
                    own,
                    editable,
                }
            }),
            inbound_fax: field(c.inbound_fax, own("fax.inbound")).map(|(own, editable)| {
                FieldView {
                    value: s
                        .and_then(UserSettings::fax_inbound)
                        .unwrap_or_else(|| self.defaults.inbound_fax()),
                    own,
                    editable,
                }
            }),
        })
    }

    /// Checks a submitted value; `Ok(None)` = back to the default.
    pub fn check(&self, field: Field, value: &str) -> Result<Option<String>, PortalError> {
        let access = match field {
            Field::Cover => self.config.cover,
            Field::Headline => self.config.headline,
            Field::ReportLanguage => self.config.report_language,
            Field::InboundFax => self.config.inbound_fax,
        };
        if !access.editable() {
            return Err(PortalError::Locked { field });
        }
        let invalid = |problem| Err(PortalError::Invalid { field, problem });
        let value = match field {
            Field::Headline => value,
            _ => value.trim(),
        };
        if value.chars().any(char::is_control) {
            return invalid(Problem::ControlCharacter);
        }
        if value.trim().is_empty() {
            return Ok(None);
        }
        match field {
            Field::Headline if value.chars().count() > MAX_HEADLINE_CHARS => {
                invalid(Problem::TooLong {
                    max: MAX_HEADLINE_CHARS,
                })
            }
            Field::Headline => Ok(Some(value.to_owned())),
            Field::Cover => match self.covers.iter().find(|c| c.as_str() == value) {
                Some(c) => Ok(Some(c.clone())),
                None => invalid(Problem::NotOffered),
            },
            Field::ReportLanguage => match value.parse::<Language>() {
                Ok(l) => Ok(Some(l.as_str().to_owned())),
                Err(_) => invalid(Problem::NotOffered),
            },
            Field::InboundFax => match value.parse::<InboundFax>() {
                Ok(f) => Ok(Some(f.as_str().to_owned())),
                Err(_) => invalid(Problem::NotOffered),
            },
        }
    }

    /// Checks every submitted field, then writes them in one rewrite; returns the new view.
    pub async fn save(&self, address: &str, changes: &Changes) -> Result<PortalView, PortalError> {
        let mut pairs = Vec::new();
        for (field, value) in changes.fields() {
            pairs.push((field, self.check(field, value)?));
        }
        let ldap: &LdapDirectory = match &*self.directory {
            Directory::Ldap(l) => l,
            Directory::File(_) => return Err(PortalError::ReadOnlyDirectory),
        };
        if pairs.is_empty() {
            return self.view(address).await;
        }
        let written = ldap
            .update_settings(address, |s| {
                for (field, value) in &pairs {
                    match value {
                        Some(v) => s.set(field.key(), v)?,
                        None => {
                            s.remove(field.key());
                        }
                    }
                }
                Ok::<(), umsgate_domain::SettingsError>(())
            })
            .await;
        match written {
            Ok((dn, value)) => {
                tracing::info!(
                    event = "portal.saved",
                    instance = self.instance.as_str(),
                    dn,
                    value,
                    "settings changed by the user"
                );
            }
            Err(e) if e.kind() == crate::directory::ErrorKind::BadData => {
                return Err(PortalError::Malformed);
            }
            Err(e) if e.kind() == crate::directory::ErrorKind::NotFound => {
                return Err(PortalError::NotFound {
                    address: address.to_owned(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.view(address).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::directory::FileDirectory;
    use umsgate_domain::{SitePlan, SitePlanFields};
    use umsgate_render::cover::Covers;

    fn plan() -> SitePlan {
        SitePlan::new(SitePlanFields {
            country_code: "49".into(),
            area_code: "8142".into(),
            subscriber: "4799".into(),
            extension_digits: 3,
            international_prefix: "00".into(),
            national_prefix: "0".into(),
            outside_line: String::new(),
        })
        .unwrap()
    }

    async fn portal(name: &str, config: &str) -> (Portal, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("umsgate-portal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let users = dir.join("users.toml");
        std::fs::write(
            &users,
            "[[user]]\nmail = \"jane@example.com\"\nname = \"Jane Doe\"\n\
             ums = \"ums1;fax.headline=Example Corp;sms.per_day=5;fax.max_pages=9;x.site=kept\"\n\n\
             [[user]]\nmail = \"max@example.com\"\n\n\
             [[user]]\nmail = \"bad@example.com\"\nums = \"ums1;fax.rights=everything\"\n",
        )
        .unwrap();
        let mut defaults = DefaultsConfig::default();
        defaults.system_per_day.fax = 20;
        let store = Store::open(&dir.join("umsgate.db")).await.unwrap();
        (
            Portal {
                instance: "inst1".parse().unwrap(),
                config: toml::from_str(config).unwrap(),
                defaults,
                covers: vec!["standard".into(), "confidential".into()],
                directory: Arc::new(Directory::File(
                    FileDirectory::open(&users, plan()).unwrap(),
                )),
                store,
            },
            dir,
        )
    }

    #[tokio::test]
    async fn the_view_shows_effective_rights_usage_and_whose_each_value_is() {
        let (p, dir) = portal("view", "").await;
        p.store
            .reserve("inst1", "jane@example.com", Service::Sms, Some(5))
            .await
            .unwrap();
        let v = p.view("JANE@example.com").await.unwrap();
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(v.address, "jane@example.com");
        assert_eq!(v.name, "Jane Doe");
        assert!(!v.malformed && v.read_only);
        let services = v.services.unwrap();
        assert_eq!(
            services[0],
            ServiceView {
                service: Service::Fax,
                rights: Rights::International,
                per_day: Some(20),
                used_today: 0,
                max_pages: Some(9),
            }
        );
        assert_eq!(
            services[1],
            ServiceView {
                service: Service::Sms,
                rights: Rights::National,
                per_day: Some(5),
                used_today: 1,
                max_pages: None,
            }
        );
        assert_eq!(services[2].rights, Rights::None);
        assert_eq!(v.priority, Some(Priority::Normal));
        let h = v.headline.unwrap();
        assert_eq!(h.value.as_deref(), Some("Example Corp"));
        // the users file is not written from the portal
        assert!(h.own && !h.editable);
        let c = v.cover.unwrap();
        assert!(c.value.is_none() && !c.own);
        assert_eq!(v.covers, ["standard", "confidential"]);
        let l = v.report_language.unwrap();
        assert!(l.value == Language::En && !l.own);
        assert_eq!(json["instance"], "inst1");
        assert_eq!(json["services"][1]["service"], "sms");
        assert_eq!(json["services"][1]["per_day"], 5);
        assert_eq!(json["headline"]["value"], "Example Corp");
        assert_eq!(json["report_language"]["value"], "en");
        assert_eq!(v.inbound_fax.unwrap().value, InboundFax::Pdf);
        let form: Changes =
            serde_json::from_str(r#"{"headline":"Neu","cover":"","csrf":"t"}"#).unwrap();
        assert_eq!(
            form,
            Changes {
                headline: Some("Neu".into()),
                cover: Some(String::new()),
                ..Changes::default()
            }
        );
        // a malformed attribute: defaults only
        let v = p.view("bad@example.com").await.unwrap();
        assert!(v.malformed);
        assert_eq!(v.services.unwrap()[0].rights, Rights::International);
        assert!(matches!(
            p.view("nobody@example.com").await,
            Err(PortalError::NotFound { .. })
        ));
        let e = p
            .save(
                "jane@example.com",
                &Changes {
                    headline: Some("New".into()),
                    ..Changes::default()
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, PortalError::ReadOnlyDirectory), "{e:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn an_instance_portal_offers_the_services_covers_and_its_settings() {
        let dir = std::env::temp_dir().join(format!("umsgate-portal-new-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("users.toml"), "").unwrap();
        let text = "[service.web]\nlisten = \"127.0.0.1:8080\"\n[service.web.portal]\nheadline = \"show\"\n\n\
                    [[instance]]\nid = \"inst2\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:10025\"]\n\
                    [instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"p@example.com\"\n\
                    report_sender = \"u@example.com\"\n[instance.defaults]\npriority = \"high\"\n";
        let config = Config::parse(text, &dir.join("umsgate.toml")).unwrap();
        let covers = Covers::load(None)
            .unwrap()
            .names()
            .map(str::to_owned)
            .collect();
        let store = Store::open(&dir.join("umsgate.db")).await.unwrap();
        let directory = Arc::new(Directory::File(
            FileDirectory::open(&dir.join("users.toml"), plan()).unwrap(),
        ));
        let p = Portal::new(&config, &config.instances[0], covers, directory, store);
        assert_eq!(p.instance.as_str(), "inst2");
        assert_eq!(p.config.headline, FieldAccess::Show);
        assert_eq!(p.defaults.priority, Priority::High);
        assert!(p.covers.iter().any(|c| c == "standard"), "{:?}", p.covers);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn hidden_fields_are_absent_and_locked_ones_refused() {
        let (p, dir) = portal(
            "locked",
            "rights = \"hide\"\nheadline = \"show\"\ncover = \"hide\"",
        )
        .await;
        let v = p.view("jane@example.com").await.unwrap();
        assert!(v.services.is_none() && v.priority.is_none() && v.cover.is_none());
        assert!(!v.headline.unwrap().editable);
        for field in [Field::Headline, Field::Cover] {
            let e = p.check(field, "x").unwrap_err();
            assert!(
                matches!(e, PortalError::Locked { field: f } if f == field),
                "{e:?}"
            );
        }
        let e = p
            .save(
                "jane@example.com",
                &Changes {
                    report_language: Some("de".into()),
                    headline: Some("Mine".into()),
                    ..Changes::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "headline cannot be changed here");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn values_are_checked_before_anything_is_written() {
        let (p, dir) = portal("check", "").await;
        let bad = |f: Field, v: &str| match p.check(f, v) {
            Err(PortalError::Invalid { problem, .. }) => problem,
            other => panic!("{f} {v:?}: {other:?}"),
        };
        for v in ["a\r\nBcc: x", "a\nb", "nul\0", "tab\there"] {
            assert_eq!(bad(Field::Headline, v), Problem::ControlCharacter, "{v:?}");
        }
        let long = "é".repeat(MAX_HEADLINE_CHARS + 1);
        assert_eq!(
            bad(Field::Headline, &long),
            Problem::TooLong {
                max: MAX_HEADLINE_CHARS
            }
        );
        let fits = "é".repeat(MAX_HEADLINE_CHARS);
        assert_eq!(p.check(Field::Headline, &fits).unwrap(), Some(fits.clone()));
        assert_eq!(
            p.check(Field::Headline, "Firma; 100% = gut")
                .unwrap()
                .as_deref(),
            Some("Firma; 100% = gut")
        );
        assert_eq!(p.check(Field::Headline, "  ").unwrap(), None);
        assert_eq!(bad(Field::Cover, "../../etc/passwd"), Problem::NotOffered);
        assert_eq!(bad(Field::Cover, "Standard"), Problem::NotOffered);
        assert_eq!(
            p.check(Field::Cover, "confidential").unwrap().as_deref(),
            Some("confidential")
        );
        assert_eq!(p.check(Field::Cover, "").unwrap(), None);
        for l in Language::SPELLINGS {
            assert_eq!(
                p.check(Field::ReportLanguage, l).unwrap().as_deref(),
                Some(*l)
            );
        }
        assert_eq!(
            p.check(Field::ReportLanguage, "DE").unwrap().as_deref(),
            Some("de")
        );
        assert_eq!(bad(Field::ReportLanguage, "ru"), Problem::NotOffered);
        assert_eq!(
            p.check(Field::InboundFax, "pdf+tif").unwrap().as_deref(),
            Some("pdf+tif")
        );
        assert_eq!(bad(Field::InboundFax, "png"), Problem::NotOffered);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
