//! `umsgate user show ADDRESS|NUMBER` and `umsgate user set ADDRESS key=value…`.
//!
//! Implementation summary: both commands open the instance's directory the way the running
//! instance does (its `ldap.log` included) and search without the cache. `show` prints every
//! key of DESIGN.md §5 with the value that applies, marked `user` (from the UMS attribute) or
//! `default` (from `[instance.defaults]`), then the keys this release does not know (kept on
//! every rewrite). `set` applies the pairs with [`UserSettings::set`] (a key outside the §5
//! table is refused, so a typo is not stored; `key=` removes the key, so the instance default
//! applies again), and writes the attribute back through `write_url` with the write account.
//!
//! XXX: the file directory is not rewritten: `users.toml` is the administrator's own text,
//! with comments and order that a TOML round trip would lose, and the running instance
//! re-reads it when it changes. `user set` on a file directory therefore refuses, and prints
//! the `ums` line to paste instead.

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use clap::Subcommand;
use umsgate_domain::{Key, NumberError, SettingsError, SitePlan, SitePlanError, UserSettings};

use super::ldap::Malformed;
use super::{Directory, DirectoryError, FileDirectory, LdapDirectory, User};
use umsgate_config::units::InstanceId;
use umsgate_config::{Config, DirectoryKind, InstanceConfig};
use umsgate_logs::InstanceLogs;

/// `umsgate user …`.
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Effective UMS settings of a user: his values over the instance defaults
    Show {
        /// Mail address (or alias) of the user, or a number that reaches him
        target: String,
        /// Instance whose directory is asked (default: the only enabled one)
        #[arg(long)]
        instance: Option<InstanceId>,
    },
    /// Change UMS settings in the directory; `key=` removes a key (default applies)
    Set {
        /// Mail address (or alias) of the user
        address: String,
        /// Pairs of DESIGN.md §5, e.g. fax.rights=national sms.per_day=5
        #[arg(required = true)]
        pairs: Vec<String>,
        #[arg(long)]
        instance: Option<InstanceId>,
    },
}

/// Why a `user` command did nothing; `Display` is the message for the administrator.
#[derive(Debug)]
#[non_exhaustive]
pub enum UserError {
    /// `--instance` names no instance of the configuration.
    NoSuchInstance { id: String, config: PathBuf },
    /// No instance is enabled, and none was named.
    NoEnabledInstance { config: PathBuf },
    /// Several instances are enabled, and none was named.
    SeveralInstances,
    /// The site's number plan is unusable.
    Plan(SitePlanError),
    /// The target is neither an address nor a number.
    Target { target: String, error: NumberError },
    /// The directory could not be opened, asked or changed.
    Directory(DirectoryError),
    /// `user show`: nobody matches.
    NotFound { target: String },
    /// `user set` on a file directory: the address is not in the users file.
    NotInUsersFile { address: String },
    /// A pair is not `key=value`.
    NotAPair { pair: String },
    /// `key=` names no UMS settings key.
    NotAKey { key: String },
    /// A pair's value (or key) is refused.
    BadPair { pair: String, error: SettingsError },
    /// The user's `ums` value in the users file does not parse.
    MalformedUms { user: String, error: SettingsError },
    /// `user set` on a file directory: the line to paste instead.
    HandEdited {
        path: PathBuf,
        mail: String,
        ums: String,
    },
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::NoSuchInstance { id, config } => {
                write!(f, "no instance `{id}` in {}", config.display())
            }
            UserError::NoEnabledInstance { config } => {
                write!(f, "no enabled instance in {}", config.display())
            }
            UserError::SeveralInstances => {
                f.write_str("several instances are enabled: name one with --instance")
            }
            UserError::Plan(e) => e.fmt(f),
            UserError::Target { target, error } => {
                write!(f, "`{target}` is neither an address nor a number: {error}")
            }
            UserError::Directory(e) => e.fmt(f),
            UserError::NotFound { target } => write!(
                f,
                "{target}: not in the directory (instance defaults apply to unknown senders \
                 according to unknown_sender)"
            ),
            UserError::NotInUsersFile { address } => {
                write!(f, "{address}: not in the users file")
            }
            UserError::NotAPair { pair } => write!(f, "`{pair}`: expected key=value"),
            UserError::NotAKey { key } => write!(f, "`{key}` is not a UMS settings key"),
            UserError::BadPair { pair, error } => write!(f, "`{pair}`: {error}"),
            UserError::MalformedUms { user, error } => write!(f, "ums of {user}: {error}"),
            UserError::HandEdited { path, mail, ums } => write!(
                f,
                "the file directory is edited by hand, not by umsgate: in {}, set for user {mail}\n  ums = \"{}\"\n(the running instance re-reads the file when it changes)",
                path.display(),
                ums.replace('\\', "\\\\").replace('"', "\\\"")
            ),
        }
    }
}

impl std::error::Error for UserError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UserError::Plan(e) => Some(e),
            UserError::Target { error, .. } => Some(error),
            UserError::Directory(e) => Some(e),
            UserError::BadPair { error, .. } | UserError::MalformedUms { error, .. } => Some(error),
            UserError::NoSuchInstance { .. }
            | UserError::NoEnabledInstance { .. }
            | UserError::SeveralInstances
            | UserError::NotFound { .. }
            | UserError::NotInUsersFile { .. }
            | UserError::NotAPair { .. }
            | UserError::NotAKey { .. }
            | UserError::HandEdited { .. } => None,
        }
    }
}

impl From<DirectoryError> for UserError {
    fn from(e: DirectoryError) -> UserError {
        UserError::Directory(e)
    }
}

impl From<SitePlanError> for UserError {
    fn from(e: SitePlanError) -> UserError {
        UserError::Plan(e)
    }
}

/// Runs a `user` command; `Ok` is the text for stdout, `Err` the message for stderr.
pub async fn run(config: &Config, cmd: &UserCommand) -> Result<String, UserError> {
    match cmd {
        UserCommand::Show { target, instance } => {
            let inst = pick(config, instance.as_ref())?;
            show(config, inst, target).await
        }
        UserCommand::Set {
            address,
            pairs,
            instance,
        } => {
            let inst = pick(config, instance.as_ref())?;
            set(config, inst, address, pairs).await
        }
    }
}

fn pick<'a>(config: &'a Config, id: Option<&InstanceId>) -> Result<&'a InstanceConfig, UserError> {
    match id {
        Some(id) => config
            .instances
            .iter()
            .find(|i| i.id.get_ref() == id)
            .ok_or_else(|| UserError::NoSuchInstance {
                id: id.to_string(),
                config: config.path.clone(),
            }),
        None => {
            let enabled: Vec<_> = config.enabled_instances().collect();
            match enabled.as_slice() {
                [one] => Ok(one),
                [] => Err(UserError::NoEnabledInstance {
                    config: config.path.clone(),
                }),
                _ => Err(UserError::SeveralInstances),
            }
        }
    }
}

fn ldap(config: &Config, inst: &InstanceConfig) -> Result<LdapDirectory, UserError> {
    let plan = config.site.plan()?;
    // Log into the instance's ldap.log like the running instance; without it, nowhere.
    let logs = InstanceLogs::open_with(
        &config.instance_log_dir(inst.id.get_ref()),
        &config.service.logs,
        config.service.log_rotate,
    )
    .ok()
    .map(std::sync::Arc::new);
    Ok(LdapDirectory::new(&inst.directory, plan, logs)?)
}

fn file(config: &Config, inst: &InstanceConfig) -> Result<FileDirectory, UserError> {
    let plan = config.site.plan()?;
    Ok(FileDirectory::open(
        &inst.directory.path.clone().unwrap_or_default(),
        plan,
    )?)
}

async fn find(
    config: &Config,
    inst: &InstanceConfig,
    target: &str,
) -> Result<Vec<User>, UserError> {
    let plan = config.site.plan()?;
    let directory = match inst.directory.kind {
        DirectoryKind::Ldap => Directory::Ldap(Box::new(ldap(config, inst)?)),
        DirectoryKind::File => Directory::File(file(config, inst)?),
    };
    lookup(&directory, &plan, target).await
}

/// The users `target` finds in `directory`: an address (primary or alias) or a number as
/// typed, normalised with `plan`. LDAP is searched without the cache.
pub async fn lookup(
    directory: &Directory,
    plan: &SitePlan,
    target: &str,
) -> Result<Vec<User>, UserError> {
    let target = target.trim();
    if target.contains('@') {
        return match directory {
            Directory::Ldap(d) => Ok(d.find(target).await?),
            Directory::File(d) => Ok(d.by_sender(target)?.into_iter().collect()),
        };
    }
    // The same check `LdapDirectory::find` makes, said the same way for both kinds.
    let number = plan.normalise(target).map_err(|error| UserError::Target {
        target: target.to_owned(),
        error,
    })?;
    match directory {
        Directory::Ldap(d) => Ok(d.find(target).await?),
        Directory::File(d) => Ok(d.by_number(&number)?),
    }
}

/// `user show`.
pub async fn show(
    config: &Config,
    inst: &InstanceConfig,
    target: &str,
) -> Result<String, UserError> {
    let users = find(config, inst, target).await?;
    if users.is_empty() {
        return Err(UserError::NotFound {
            target: target.to_owned(),
        });
    }
    let mut out = String::new();
    for u in &users {
        out.push_str(&effective(inst, u));
    }
    Ok(out)
}

/// Where the value of a settings key that applies comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The user's own UMS attribute.
    User,
    /// `[instance.defaults]` (with its built-in values where the file says nothing).
    Instance,
    /// Fixed: umsgate has no setting for it besides the user's attribute.
    BuiltIn,
    /// A key this release does not know: kept on every rewrite, ignored.
    Unknown,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::User => "user",
            Source::Instance => "instance",
            Source::BuiltIn => "built-in",
            Source::Unknown => "unknown",
        }
    }
}

/// One key of the effective settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    /// The value that applies (for a default, as `user show` words it).
    pub value: String,
    pub source: Source,
}

/// A user's settings: the parsed attribute, or the parse error (only the defaults apply).
pub fn settings_of(u: &User) -> Result<UserSettings, SettingsError> {
    match u.ums.as_deref() {
        None | Some("") => Ok(UserSettings::new()),
        Some(v) => UserSettings::parse(v),
    }
}

/// Every key of DESIGN.md §5 with the value that applies and where it comes from, then the
/// keys this release does not know.
pub fn rows(inst: &InstanceConfig, settings: &UserSettings) -> Vec<Row> {
    let d = &inst.defaults;
    let per_day = |p: umsgate_domain::PerDay, system: u32| match p {
        umsgate_domain::PerDay::System if system == 0 => "system (unlimited)".to_owned(),
        umsgate_domain::PerDay::System => format!("system ({system})"),
        other => other.to_string(),
    };
    let default_of = |k: Key| -> (String, Source) {
        let instance = |v: String| (v, Source::Instance);
        match k {
            Key::Vip | Key::CoverForce | Key::ReportDelete => ("0".into(), Source::BuiltIn),
            Key::Origin | Key::Billing | Key::Cover | Key::FaxSender | Key::FaxHeadline => {
                ("(none)".into(), Source::BuiltIn)
            }
            Key::ReportLang => instance(d.reports.language.to_string()),
            Key::Priority => instance(d.priority.to_string()),
            Key::FaxRights => instance(d.fax.rights.to_string()),
            Key::SmsRights => instance(d.sms.rights.to_string()),
            Key::VoiceRights => instance(d.voice.rights.to_string()),
            Key::FaxMaxPages if d.fax.max_pages == 0 => instance("0 (no limit)".into()),
            Key::FaxMaxPages => instance(d.fax.max_pages.to_string()),
            Key::FaxPerDay => instance(per_day(d.fax.per_day, d.system_per_day.fax)),
            Key::SmsPerDay => instance(per_day(d.sms.per_day, d.system_per_day.sms)),
            Key::VoicePerDay => instance(per_day(d.voice.per_day, d.system_per_day.voice)),
            Key::FaxInbound => instance(d.inbound_fax().to_string()),
        }
    };
    let mut out = Vec::new();
    for spelling in Key::SPELLINGS {
        let Ok(k) = spelling.parse::<Key>() else {
            continue;
        };
        let (value, source) = match settings.get(k) {
            Some(s) => (s.value().into_owned(), Source::User),
            None => default_of(k),
        };
        out.push(Row {
            key: (*spelling).to_owned(),
            value,
            source,
        });
    }
    for (k, v) in settings.unknown() {
        out.push(Row {
            key: k.to_owned(),
            value: v.to_owned(),
            source: Source::Unknown,
        });
    }
    out
}

/// The effective settings of one user as a table.
pub fn effective(inst: &InstanceConfig, u: &User) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "user      {}", u.id);
    let _ = writeln!(out, "mail      {}", u.mail);
    if !u.name.is_empty() {
        let _ = writeln!(out, "name      {}", u.name);
    }
    let attr = inst.directory.ums_attribute.as_deref().unwrap_or("ums");
    match u.ums.as_deref() {
        None | Some("") => {
            let _ = writeln!(out, "{attr}  (not set)");
        }
        Some(v) => {
            let _ = writeln!(out, "{attr}  {v}");
        }
    }
    let settings = settings_of(u).unwrap_or_else(|e| {
        let _ = writeln!(
            out,
            "warning   the attribute is malformed ({e}): only the instance defaults apply"
        );
        UserSettings::new()
    });
    let _ = writeln!(out, "{:<15} {:<28} from", "key", "value");
    for r in rows(inst, &settings) {
        let from = match r.source {
            Source::User => "user",
            Source::Instance | Source::BuiltIn => "default",
            Source::Unknown => "unknown key (kept, ignored)",
        };
        let _ = writeln!(out, "{:<15} {:<28} {from}", r.key, r.value);
    }
    out.push('\n');
    out
}

/// Applies `key=value` pairs (`key=` removes) to settings.
pub fn apply_pairs(settings: &mut UserSettings, pairs: &[String]) -> Result<(), UserError> {
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| UserError::NotAPair { pair: p.clone() })?;
        if v.is_empty() {
            if k.parse::<Key>().is_err() {
                return Err(UserError::NotAKey { key: k.to_owned() });
            }
            settings.remove(k);
        } else {
            settings.set(k, v).map_err(|error| UserError::BadPair {
                pair: p.clone(),
                error,
            })?;
        }
    }
    Ok(())
}

/// Checks `pairs` (before anything is asked), then writes them to `address`'s attribute
/// through `directory`: LDAP with the write account (keys umsgate does not know are kept,
/// and this directory's cache forgets the user); the users file is not rewritten
/// ([`UserError::HandEdited`] carries the line to paste). Returns the DN and the new value.
/// A malformed attribute is refused or, with [`Malformed::Replace`], replaced by the pairs
/// alone.
pub async fn write(
    directory: &Directory,
    path: Option<&std::path::Path>,
    address: &str,
    pairs: &[String],
    malformed: Malformed,
) -> Result<(String, String), UserError> {
    apply_pairs(&mut UserSettings::new(), pairs)?;
    match directory {
        Directory::Ldap(d) => Ok(d
            .rewrite_settings(address, malformed, |s| apply_pairs(s, pairs))
            .await?),
        Directory::File(d) => {
            let u = d
                .by_sender(address)?
                .ok_or_else(|| UserError::NotInUsersFile {
                    address: address.to_owned(),
                })?;
            let mut s = match settings_of(&u) {
                Ok(s) => s,
                Err(_) if malformed == Malformed::Replace => UserSettings::new(),
                Err(error) => {
                    return Err(UserError::MalformedUms {
                        user: u.id.clone(),
                        error,
                    });
                }
            };
            apply_pairs(&mut s, pairs)?;
            Err(UserError::HandEdited {
                path: path.map(std::path::Path::to_path_buf).unwrap_or_default(),
                mail: u.mail,
                ums: s.to_attribute(),
            })
        }
    }
}

/// `user set`.
pub async fn set(
    config: &Config,
    inst: &InstanceConfig,
    address: &str,
    pairs: &[String],
) -> Result<String, UserError> {
    // Check the pairs before anything is asked or written.
    apply_pairs(&mut UserSettings::new(), pairs)?;
    let directory = match inst.directory.kind {
        DirectoryKind::Ldap => Directory::Ldap(Box::new(ldap(config, inst)?)),
        DirectoryKind::File => Directory::File(file(config, inst)?),
    };
    let (dn, value) = write(
        &directory,
        inst.directory.path.as_deref(),
        address,
        pairs,
        Malformed::Refuse,
    )
    .await?;
    let mut out = String::new();
    if let Directory::Ldap(d) = &directory {
        let attr = &d.settings().ums_attribute;
        out = format!("{dn}: {attr} = {value}\n");
        if let Some(u) = d.find(address).await?.into_iter().next() {
            out.push_str(&effective(inst, &u));
        }
    }
    Ok(out)
}

/// The `umsgate user` command: runs [`run`] on its own runtime, prints the result; exit 1 on
/// any error (not found, refused, directory unreachable).
pub fn main(config: &Config, cmd: &UserCommand) -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::from(3);
        }
    };
    match rt.block_on(run(config, cmd)) {
        Ok(text) => {
            print!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pairs(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn refused_pairs_read_as_before() {
        let mut s = UserSettings::new();
        let e = apply_pairs(&mut s, &pairs(&["fax.rights"])).unwrap_err();
        assert_eq!(e.to_string(), "`fax.rights`: expected key=value");
        let e = apply_pairs(&mut s, &pairs(&["fax.colour="])).unwrap_err();
        assert_eq!(e.to_string(), "`fax.colour` is not a UMS settings key");
        let e = apply_pairs(&mut s, &pairs(&["fax.colour=1"])).unwrap_err();
        assert!(e.to_string().starts_with("`fax.colour=1`: "), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        assert!(apply_pairs(&mut s, &pairs(&["fax.rights=national", "sms.per_day="])).is_ok());
    }

    #[test]
    fn the_file_directory_refusal_quotes_the_line_to_paste() {
        let e = UserError::HandEdited {
            path: "/etc/umsgate/users.toml".into(),
            mail: "jane@example.com".into(),
            ums: "ums1;x=\"a\\b\"".into(),
        };
        assert_eq!(
            e.to_string(),
            "the file directory is edited by hand, not by umsgate: in /etc/umsgate/users.toml, \
             set for user jane@example.com\n  ums = \"ums1;x=\\\"a\\\\b\\\"\"\n(the running \
             instance re-reads the file when it changes)"
        );
    }
}
