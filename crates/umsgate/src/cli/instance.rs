//! `umsgate instance list|new|enable|disable|delete`: the `[[instance]]` entries of the
//! configuration file and their folders.
//!
//! Contract: the file is changed only when the result is a valid configuration (checked by
//! the same loader as `umsgate run`, before anything is written); it is replaced atomically
//! (a temporary file in the same folder, fsynced, renamed, keeping the file's permissions),
//! and everything outside the edited `[[instance]]` stays byte for byte as it was, comments
//! included. `new ID` refuses an id that exists or is not an instance id; the new instance
//! takes the first instance's `smtp_in` (except `listen`), `mail`, `directory` and `defaults`,
//! the simulated gateway, and is written **disabled** (`enabled = false`), so that it accepts
//! nothing until its engine is set; its listen address is `--listen` (refused when the file listens there already), or the first free port
//! above every port the file names, on the first instance's address. Its folders are created
//! under `state_dir`. `delete ID` refuses while mail of the instance waits in any queue
//! (`smtp-in/`, `smtp-out/`, Badmail, `smtp-in/error/`, `received/`) unless `--keep-queued`
//! (the entry goes, the folders stay) or `--force` (the entry and the folders go). Its folders
//! are kept, too, while `umsgate run` is running (the pid file in `state_dir` names a live
//! process): the running service stops the instance at its next reload (SIGHUP). Logs in
//! `log_dir/<id>/` are kept in every case. `enable ID` / `disable ID` set the entry's
//! `enabled` ([`config_file::set_enabled`], the code the console's Instances page uses). A
//! running service picks up every change at its next SIGHUP.
//!
//! Implementation summary: the edits, their check and the atomic replacement are
//! [`config_file`]'s (`delete` cuts the entry's lines out of the text). `new` appends the new entry's text to the end of the file instead:
//! a `[[instance]]` may follow any table, and tables built in a separate `toml_edit`
//! document carry positions that would interleave them with the file's own tables.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;

use clap::Subcommand;
use umsgate::config::Config;
use umsgate::config::units::InstanceId;
use umsgate::config_file::{self, Toggled};
use umsgate::spool::admin;
use umsgate::spool::layout::InstanceDirs;

use super::Exit;

#[derive(Subcommand)]
pub(crate) enum InstanceCommand {
    /// The configured instances
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a (disabled) instance with the first instance's settings and a free port
    New {
        id: String,
        /// SMTP listen address [default: a free port]
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Enable an instance (it starts at the next reload)
    Enable { id: String },
    /// Disable an instance (it stops at the next reload; its queues stay)
    Disable { id: String },
    /// Remove an instance from the configuration, and its folders
    Delete {
        id: String,
        /// Remove the entry even though mail waits; keep its folders
        #[arg(long, conflicts_with = "force")]
        keep_queued: bool,
        /// Remove the entry and its folders even though mail waits in them
        #[arg(long)]
        force: bool,
    },
}

pub(crate) fn instance(config: &Config, cmd: &InstanceCommand) -> Exit {
    match cmd {
        InstanceCommand::List { json } => list(config, *json),
        InstanceCommand::New { id, listen } => new(config, id, *listen),
        InstanceCommand::Enable { id } => toggle(config, id, true),
        InstanceCommand::Disable { id } => toggle(config, id, false),
        InstanceCommand::Delete {
            id,
            keep_queued,
            force,
        } => delete(config, id, *keep_queued, *force),
    }
}

fn list(config: &Config, json: bool) -> Exit {
    let rows: Vec<serde_json::Value> = config
        .instances
        .iter()
        .map(|i| {
            serde_json::json!({
                "id": i.id.get_ref().as_str(),
                "name": i.name,
                "enabled": i.enabled,
                "listen": i.smtp_in.listen.get_ref().iter().map(ToString::to_string).collect::<Vec<_>>(),
                "gateway": format!("{:?}", i.gateway.kind).to_lowercase(),
                "state_dir": config.instance_state_dir(i.id.get_ref()),
            })
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return Exit::Success;
    }
    for i in &config.instances {
        let listen: Vec<String> = i
            .smtp_in
            .listen
            .get_ref()
            .iter()
            .map(ToString::to_string)
            .collect();
        println!(
            "{}\t{}\t{}\t{}\t{}",
            i.id.get_ref(),
            if i.enabled { "enabled" } else { "disabled" },
            listen.join(","),
            format!("{:?}", i.gateway.kind).to_lowercase(),
            i.name
        );
    }
    Exit::Success
}

/// Every address the configuration listens on (instances, enabled or not, and the service).
fn configured_addrs(config: &Config) -> Vec<SocketAddr> {
    super::listen_check::listen_addresses(config, true)
        .into_iter()
        .map(|(_, a)| a)
        .collect()
}

/// Every port the configuration names.
fn configured_ports(config: &Config) -> Vec<u16> {
    configured_addrs(config)
        .iter()
        .map(SocketAddr::port)
        .collect()
}

/// Whether two listen addresses would collide (same port, same or a wildcard address).
fn collide(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// The first port above every configured one that is free on `ip`, trying at most 200.
fn free_listen(config: &Config, ip: IpAddr) -> Option<SocketAddr> {
    let ports = configured_ports(config);
    let from = ports
        .iter()
        .copied()
        .max()
        .unwrap_or(10024)
        .saturating_add(1);
    (from..=u16::MAX)
        .take(200)
        .filter(|p| !ports.contains(p))
        .map(|p| SocketAddr::new(ip, p))
        .find(|a| TcpListener::bind(a).is_ok())
}

fn new(config: &Config, id: &str, listen: Option<SocketAddr>) -> Exit {
    let id: InstanceId = match id.parse() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return Exit::Config;
        }
    };
    if config.instances.iter().any(|i| *i.id.get_ref() == id) {
        eprintln!(
            "instance `{id}` exists already in {}",
            config.path.display()
        );
        return Exit::Config;
    }
    let text = match std::fs::read_to_string(&config.path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}: {e}", config.path.display());
            return Exit::Runtime;
        }
    };
    let raw: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: {e}", config.path.display());
            return Exit::Config;
        }
    };
    let first = raw
        .get("instance")
        .and_then(toml::Value::as_array)
        .and_then(|a| a.first())
        .and_then(toml::Value::as_table);
    let ip = config
        .instances
        .first()
        .and_then(|i| i.smtp_in.listen.get_ref().first())
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), SocketAddr::ip);
    if let Some(l) = listen
        && let Some(other) = configured_addrs(config)
            .into_iter()
            .find(|a| collide(*a, l))
    {
        eprintln!("--listen {l}: the configuration listens on {other} already");
        return Exit::Config;
    }
    let Some(listen) = listen.or_else(|| free_listen(config, ip)) else {
        eprintln!("no free port found on {ip}: give one with --listen");
        return Exit::Runtime;
    };
    let entry = new_entry(first, &id, listen);
    let appended = match toml::to_string(&entry) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot write the new instance: {e}");
            return Exit::Runtime;
        }
    };
    let mut out = text.clone();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&appended);
    let Some(checked) = validated(&out, &config.path) else {
        return Exit::Config;
    };
    if let Err(e) = config_file::replace(&config.path, &out) {
        eprintln!("cannot write {}: {e}", config.path.display());
        return Exit::Runtime;
    }
    let dirs = InstanceDirs::new(&checked.instance_state_dir(&id));
    if let Err(e) = dirs.create() {
        eprintln!("cannot create {}: {e}", dirs.root.display());
        return Exit::Runtime;
    }
    println!(
        "instance {id}: added to {} (disabled), listen {listen}, folders in {}",
        config.path.display(),
        dirs.root.display()
    );
    println!(
        "set its [instance.gateway] and enabled = true, then reload umsgate (SIGHUP) to start it"
    );
    Exit::Success
}

/// `{ instance = [ … ] }` holding the new entry, copied from `first` where it is sane.
fn new_entry(first: Option<&toml::Table>, id: &InstanceId, listen: SocketAddr) -> toml::Table {
    let copied = |key: &str| first.and_then(|f| f.get(key)).cloned();
    let mut smtp_in = copied("smtp_in")
        .and_then(|v| v.as_table().cloned())
        .unwrap_or_default();
    smtp_in.insert(
        "listen".into(),
        toml::Value::Array(vec![toml::Value::String(listen.to_string())]),
    );
    let mail = copied("mail").unwrap_or_else(|| {
        let mut m = toml::Table::new();
        for (k, v) in [
            ("domain", "example.com"),
            ("default_recipient", "postmaster@example.com"),
            ("report_sender", "ums@example.com"),
        ] {
            m.insert(k.into(), toml::Value::String(v.into()));
        }
        toml::Value::Table(m)
    });
    let mut gateway = toml::Table::new();
    gateway.insert("kind".into(), toml::Value::String("sim".into()));
    let mut inst = toml::Table::new();
    inst.insert("id".into(), toml::Value::String(id.to_string()));
    inst.insert("name".into(), toml::Value::String(id.to_string()));
    inst.insert("enabled".into(), toml::Value::Boolean(false));
    inst.insert("smtp_in".into(), toml::Value::Table(smtp_in));
    inst.insert("mail".into(), mail);
    for key in ["directory", "defaults"] {
        if let Some(v) = copied(key) {
            inst.insert(key.into(), v);
        }
    }
    inst.insert("gateway".into(), toml::Value::Table(gateway));
    let mut doc = toml::Table::new();
    doc.insert(
        "instance".into(),
        toml::Value::Array(vec![toml::Value::Table(inst)]),
    );
    doc
}

/// The configuration `text` would be at `path`, or `None` with its errors printed.
fn validated(text: &str, path: &Path) -> Option<Config> {
    match config_file::validate(text, path) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

/// How many messages of instance `id` wait: queue folders and `received/`.
fn waiting(config: &Config, id: &InstanceId) -> std::io::Result<usize> {
    let queued = admin::list(config, Some(id), None)?.len();
    let received = InstanceDirs::new(&config.instance_state_dir(id)).received;
    let received = match std::fs::read_dir(&received) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    Ok(queued + received)
}

fn delete(config: &Config, id: &str, keep_queued: bool, force: bool) -> Exit {
    let Some(inst) = config
        .instances
        .iter()
        .find(|i| i.id.get_ref().as_str() == id)
    else {
        eprintln!("no instance `{id}` in {}", config.path.display());
        return Exit::NotFound;
    };
    let id = inst.id.get_ref();
    let waiting = match waiting(config, id) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("cannot read the queues of `{id}`: {e}");
            return Exit::Runtime;
        }
    };
    if waiting > 0 && !keep_queued && !force {
        eprintln!(
            "instance `{id}`: {waiting} message(s) wait in its queues (`umsgate queue list --instance {id}`); \
             nothing changed. --keep-queued removes the entry and keeps the folders, --force removes both"
        );
        return Exit::Config;
    }
    let text = match std::fs::read_to_string(&config.path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}: {e}", config.path.display());
            return Exit::Runtime;
        }
    };
    let Some(out) = config_file::without_entry(&text, id.as_str()) else {
        eprintln!(
            "{}: no [[instance]] table with id = \"{id}\" (instances written another way must be edited by hand)",
            config.path.display()
        );
        return Exit::Config;
    };
    if validated(&out, &config.path).is_none() {
        return Exit::Config;
    }
    if let Err(e) = config_file::replace(&config.path, &out) {
        eprintln!("cannot write {}: {e}", config.path.display());
        return Exit::Runtime;
    }
    println!("instance {id}: removed from {}", config.path.display());
    let root = config.instance_state_dir(id);
    if let Some(pid) = super::run::running_pid(config) {
        println!(
            "umsgate is running (pid {pid}): its folders {} are kept; reload it (kill -HUP {pid}) to stop the instance",
            root.display()
        );
        return Exit::Success;
    }
    if keep_queued && waiting > 0 {
        println!("its folders are kept: {}", root.display());
        return Exit::Success;
    }
    match std::fs::remove_dir_all(&root) {
        Ok(()) => println!("removed {}", root.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            eprintln!("cannot remove {}: {e}", root.display());
            return Exit::Runtime;
        }
    }
    Exit::Success
}

fn toggle(config: &Config, id: &str, enabled: bool) -> Exit {
    let word = if enabled { "enabled" } else { "disabled" };
    match config_file::set_enabled(&config.path, id, enabled) {
        Ok(Toggled::AlreadySo) => {
            println!("instance {id}: {word} already in {}", config.path.display());
            Exit::Success
        }
        Ok(Toggled::Changed) => {
            println!("instance {id}: {word} in {}", config.path.display());
            match super::run::running_pid(config) {
                Some(pid) => println!(
                    "umsgate is running (pid {pid}): reload it (kill -HUP {pid}) to apply the change"
                ),
                None => println!("it applies when umsgate starts"),
            }
            Exit::Success
        }
        Err(e) if e.is_config() => {
            eprintln!("{e}");
            Exit::Config
        }
        Err(e) => {
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            eprintln!("{e}{cause}");
            Exit::Runtime
        }
    }
}
