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

use std::fmt::Write as _;

use clap::Subcommand;
use umsgate_domain::{Key, UserSettings};

use super::{FileDirectory, LdapDirectory, User};
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

/// Runs a `user` command; `Ok` is the text for stdout, `Err` the message for stderr.
pub async fn run(config: &Config, cmd: &UserCommand) -> Result<String, String> {
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

fn pick<'a>(config: &'a Config, id: Option<&InstanceId>) -> Result<&'a InstanceConfig, String> {
    match id {
        Some(id) => config
            .instances
            .iter()
            .find(|i| i.id.get_ref() == id)
            .ok_or_else(|| format!("no instance `{id}` in {}", config.path.display())),
        None => {
            let enabled: Vec<_> = config.enabled_instances().collect();
            match enabled.as_slice() {
                [one] => Ok(one),
                [] => Err(format!("no enabled instance in {}", config.path.display())),
                _ => Err("several instances are enabled: name one with --instance".into()),
            }
        }
    }
}

fn ldap(config: &Config, inst: &InstanceConfig) -> Result<LdapDirectory, String> {
    let plan = config.site.plan().map_err(|e| e.to_string())?;
    // Log into the instance's ldap.log like the running instance; without it, nowhere.
    let logs = InstanceLogs::open(
        &config.instance_log_dir(inst.id.get_ref()),
        config.service.log_rotate,
    )
    .ok()
    .map(std::sync::Arc::new);
    LdapDirectory::new(&inst.directory, plan, logs)
}

fn file(config: &Config, inst: &InstanceConfig) -> Result<FileDirectory, String> {
    let plan = config.site.plan().map_err(|e| e.to_string())?;
    FileDirectory::open(&inst.directory.path.clone().unwrap_or_default(), plan)
}

async fn find(config: &Config, inst: &InstanceConfig, target: &str) -> Result<Vec<User>, String> {
    match inst.directory.kind {
        DirectoryKind::Ldap => ldap(config, inst)?.find(target).await,
        DirectoryKind::File => {
            let d = file(config, inst)?;
            if target.contains('@') {
                Ok(d.by_sender(target)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .collect())
            } else {
                let plan = config.site.plan().map_err(|e| e.to_string())?;
                let n = plan
                    .normalise(target)
                    .map_err(|e| format!("`{target}` is neither an address nor a number: {e}"))?;
                d.by_number(&n).map_err(|e| e.to_string())
            }
        }
    }
}

/// `user show`.
pub async fn show(config: &Config, inst: &InstanceConfig, target: &str) -> Result<String, String> {
    let users = find(config, inst, target).await?;
    if users.is_empty() {
        return Err(format!(
            "{target}: not in the directory (instance defaults apply to unknown senders \
             according to unknown_sender)"
        ));
    }
    let mut out = String::new();
    for u in &users {
        out.push_str(&effective(inst, u));
    }
    Ok(out)
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
    let settings = match u.ums.as_deref() {
        None | Some("") => {
            let _ = writeln!(out, "{attr}  (not set)");
            UserSettings::new()
        }
        Some(v) => {
            let _ = writeln!(out, "{attr}  {v}");
            match UserSettings::parse(v) {
                Ok(s) => s,
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "warning   the attribute is malformed ({e}): only the instance defaults apply"
                    );
                    UserSettings::new()
                }
            }
        }
    };
    let d = &inst.defaults;
    let per_day = |p: umsgate_domain::PerDay, system: u32| match p {
        umsgate_domain::PerDay::System if system == 0 => "system (unlimited)".to_owned(),
        umsgate_domain::PerDay::System => format!("system ({system})"),
        other => other.to_string(),
    };
    let default_of = |k: Key| -> String {
        match k {
            Key::Vip | Key::CoverForce | Key::ReportDelete => "0".into(),
            Key::Origin | Key::Billing | Key::Cover | Key::FaxSender | Key::FaxHeadline => {
                "(none)".into()
            }
            Key::ReportLang => d.reports.language.to_string(),
            Key::Priority => d.priority.to_string(),
            Key::FaxRights => d.fax.rights.to_string(),
            Key::SmsRights => d.sms.rights.to_string(),
            Key::VoiceRights => d.voice.rights.to_string(),
            Key::FaxMaxPages if d.fax.max_pages == 0 => "0 (no limit)".into(),
            Key::FaxMaxPages => d.fax.max_pages.to_string(),
            Key::FaxPerDay => per_day(d.fax.per_day, d.system_per_day.fax),
            Key::SmsPerDay => per_day(d.sms.per_day, d.system_per_day.sms),
            Key::VoicePerDay => per_day(d.voice.per_day, d.system_per_day.voice),
            Key::FaxInbound => d.inbound_fax().to_string(),
        }
    };
    let _ = writeln!(out, "{:<15} {:<28} from", "key", "value");
    for spelling in Key::SPELLINGS {
        let Ok(k) = spelling.parse::<Key>() else {
            continue;
        };
        match settings.get(k) {
            Some(s) => {
                let _ = writeln!(out, "{spelling:<15} {:<28} user", s.value());
            }
            None => {
                let _ = writeln!(out, "{spelling:<15} {:<28} default", default_of(k));
            }
        }
    }
    for (k, v) in settings.unknown() {
        let _ = writeln!(out, "{k:<15} {v:<28} unknown key (kept, ignored)");
    }
    out.push('\n');
    out
}

/// Applies `key=value` pairs (`key=` removes) to settings.
pub fn apply_pairs(settings: &mut UserSettings, pairs: &[String]) -> Result<(), String> {
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("`{p}`: expected key=value"))?;
        if v.is_empty() {
            if k.parse::<Key>().is_err() {
                return Err(format!("`{k}` is not a UMS settings key"));
            }
            settings.remove(k);
        } else {
            settings.set(k, v).map_err(|e| format!("`{p}`: {e}"))?;
        }
    }
    Ok(())
}

/// `user set`.
pub async fn set(
    config: &Config,
    inst: &InstanceConfig,
    address: &str,
    pairs: &[String],
) -> Result<String, String> {
    // Check the pairs before anything is asked or written.
    apply_pairs(&mut UserSettings::new(), pairs)?;
    match inst.directory.kind {
        DirectoryKind::Ldap => {
            let d = ldap(config, inst)?;
            let (dn, value) = d
                .update_settings(address, |s| apply_pairs(s, pairs))
                .await?;
            let attr = &d.settings().ums_attribute;
            let mut out = format!("{dn}: {attr} = {value}\n");
            if let Some(u) = d.find(address).await?.into_iter().next() {
                out.push_str(&effective(inst, &u));
            }
            Ok(out)
        }
        DirectoryKind::File => {
            let d = file(config, inst)?;
            let u = d
                .by_sender(address)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{address}: not in the users file"))?;
            let mut s = match u.ums.as_deref() {
                None | Some("") => UserSettings::new(),
                Some(v) => UserSettings::parse(v).map_err(|e| format!("ums of {}: {e}", u.id))?,
            };
            apply_pairs(&mut s, pairs)?;
            Err(format!(
                "the file directory is edited by hand, not by umsgate: in {}, set for user {}\n  ums = \"{}\"\n(the running instance re-reads the file when it changes)",
                inst.directory.path.clone().unwrap_or_default().display(),
                u.mail,
                s.to_attribute().replace('\\', "\\\\").replace('"', "\\\"")
            ))
        }
    }
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
