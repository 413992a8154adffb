//! `umsgate instance list|new|delete`: the `[[instance]]` entries of the configuration file
//! and their folders.
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
//! `log_dir/<id>/` are kept in every case. A running service picks up every change at its
//! next SIGHUP.
//!
//! Implementation summary: `delete` finds the entry's extent with `toml_edit`'s spans (its
//! header, keys, values and subtables) and cuts those lines, with the comment lines directly
//! above the header and the blank lines before them, out of the text; `toml_edit`'s own
//! rendering would move comments that sit between two tables to whichever table follows. `new` appends the new entry's text to the end of the file instead:
//! a `[[instance]]` may follow any table, and tables built in a separate `toml_edit`
//! document carry positions that would interleave them with the file's own tables.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;

use clap::Subcommand;
use umsgate::config::Config;
use umsgate::config::units::InstanceId;
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
    if let Err(e) = replace_file(&config.path, &out) {
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
    match Config::parse(text, path) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("the result would not be a valid configuration; nothing changed:\n{e}");
            None
        }
    }
}

/// Replaces `path` by `text`: temporary file, fsync, same permissions, rename, folder fsync.
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "umsgate.toml".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `text` without the `[[instance]]` entry `id`: its header, keys and subtables, the
/// comment lines directly above its header and the blank lines before those. Everything
/// else stays byte for byte. `None` when there is no such entry.
fn without_entry(text: &str, id: &str) -> Option<String> {
    let doc = toml_edit::Document::parse(text.to_owned()).ok()?;
    let array = doc.get("instance")?.as_array_of_tables()?;
    let entry = array.iter().find(|t| {
        t.get("id")
            .and_then(toml_edit::Item::as_str)
            .is_some_and(|s| s == id)
    })?;
    let (mut lo, mut hi) = (usize::MAX, 0usize);
    spans_of_table(entry, &mut lo, &mut hi);
    if lo >= hi || hi > text.len() {
        return None;
    }
    // Whole lines: from the start of the first line to the end of the last one.
    let mut start = text[..lo].rfind('\n').map_or(0, |i| i + 1);
    let end = text[hi..].find('\n').map_or(text.len(), |i| hi + i + 1);
    // The comment block attached to the header, then the blank lines that set it apart.
    let mut comments = true;
    while start > 0 {
        let prev_start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[prev_start..start].trim();
        let take = if line.is_empty() {
            comments = false;
            true
        } else {
            comments && line.starts_with('#')
        };
        if !take {
            break;
        }
        start = prev_start;
    }
    Some(format!("{}{}", &text[..start], &text[end..]))
}

fn spans_of_table(t: &toml_edit::Table, lo: &mut usize, hi: &mut usize) {
    fn add(r: Option<std::ops::Range<usize>>, lo: &mut usize, hi: &mut usize) {
        if let Some(r) = r {
            *lo = (*lo).min(r.start);
            *hi = (*hi).max(r.end);
        }
    }
    add(t.span(), lo, hi);
    for (key, item) in t.iter() {
        add(t.key(key).and_then(toml_edit::Key::span), lo, hi);
        match item {
            toml_edit::Item::Table(sub) => spans_of_table(sub, lo, hi),
            toml_edit::Item::ArrayOfTables(a) => {
                for sub in a.iter() {
                    spans_of_table(sub, lo, hi);
                }
            }
            other => add(other.span(), lo, hi),
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
    let Some(out) = without_entry(&text, id.as_str()) else {
        eprintln!(
            "{}: no [[instance]] table with id = \"{id}\" (instances written another way must be edited by hand)",
            config.path.display()
        );
        return Exit::Config;
    };
    if validated(&out, &config.path).is_none() {
        return Exit::Config;
    }
    if let Err(e) = replace_file(&config.path, &out) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_goes_with_its_subtables_and_own_comments_only() {
        let text = "# head\n[service]\nstate_dir = \"s\"\n\n# about x\n[[instance]]\nid = \"x\"\nlisten = [\n  \"127.0.0.1:1\",\n]\n[instance.mail]\ndomain = \"d\" # inline\n[[instance.print_unread]]\nname = \"r\"\n\n# about the site\n[site]\ncountry_code = \"49\"\n\n[[instance]]\nid = \"y\"\n";
        let out = without_entry(text, "x").unwrap_or_default();
        assert_eq!(
            out,
            "# head\n[service]\nstate_dir = \"s\"\n\n# about the site\n[site]\ncountry_code = \"49\"\n\n[[instance]]\nid = \"y\"\n"
        );
        let out = without_entry(text, "y").unwrap_or_default();
        assert_eq!(
            out,
            &text[..text.len() - "\n[[instance]]\nid = \"y\"\n".len()]
        );
        assert_eq!(without_entry(text, "z"), None);
    }
}
