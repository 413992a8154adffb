//! The `umsgate` command line (DESIGN.md §2).
//!
//! Exit codes: 0 success; 1 the configuration is invalid or a check failed; 2 the command
//! line is wrong (clap); 3 a runtime failure (cannot listen, folder not writable, I/O);
//! 4 a queue entry that was asked for does not exist. `fax` commands exit 1 when the input is
//! not a document they can read.
#![forbid(unsafe_code)]

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use umsgate::config::Config;
use umsgate::config::units::InstanceId;
use umsgate::spool::QueueId;
use umsgate::spool::admin::{self, QueueItem};
use umsgate::spool::layout::{InstanceDirs, QueueState};
use umsgate::{demo, instance, logs};

const EXIT_CONFIG: u8 = 1;
const EXIT_RUNTIME: u8 = 3;
const EXIT_NOT_FOUND: u8 = 4;

#[derive(Parser)]
#[command(
    name = "umsgate",
    version,
    about = "Unified-messaging mail connector: e-mail to fax/SMS/voice and back"
)]
struct Cli {
    /// Configuration file [default: ./umsgate.toml, then /etc/umsgate/umsgate.toml]
    #[arg(long, global = true, env = "UMSGATE_CONFIG")]
    config: Option<PathBuf>,
    /// Log events as JSON lines on stdout
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run all enabled instances in the foreground until SIGTERM/SIGINT
    Run,
    /// Validate the configuration; exit 1 on any error
    Check,
    /// Write a self-contained demo into ./umsgate-demo/ (unless present) and run it
    Demo {
        /// Folder of the demo
        #[arg(long, default_value = "umsgate-demo")]
        dir: PathBuf,
        /// SMTP listener of a newly written demo
        #[arg(long, default_value = demo::DEFAULT_LISTEN)]
        listen: SocketAddr,
    },
    /// Version, instances, paths and queue counts
    Info {
        #[arg(long)]
        json: bool,
    },
    /// Inject a received fax/SMS/voice message; the running instance delivers it
    SendTest {
        #[arg(long)]
        instance: InstanceId,
        /// fax, sms or voice
        #[arg(long = "type")]
        service: umsgate_domain::Service,
        /// Caller number
        #[arg(long)]
        calling: String,
        /// Called number (looked up in the directory)
        #[arg(long)]
        called: String,
        /// SMS text (default: a test text)
        #[arg(long)]
        text: Option<String>,
        /// Fax TIFF or voice WAV (default: a built-in one-page test fax for fax)
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Queued mail: list, show, requeue, delete
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Fax document tools
    #[command(subcommand)]
    Fax(FaxCommand),
    /// Print an argon2 hash of a password read from standard input (for auth.users)
    HashPassword,
    /// Effective UMS settings of a user; edit them in the directory
    #[command(subcommand)]
    User(umsgate::directory::admin::UserCommand),
}

#[derive(Subcommand)]
enum FaxCommand {
    /// Convert TIFF G3/G4 faxes to one PDF, CCITT data embedded unchanged
    ToPdf {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print the number of pages of a PDF or TIFF
    Pages { file: PathBuf },
}

#[derive(Subcommand)]
enum QueueCommand {
    /// What waits where, with attempts and next try
    List {
        #[arg(long)]
        instance: Option<InstanceId>,
        #[arg(long, value_enum)]
        state: Option<QueueState>,
        #[arg(long)]
        json: bool,
    },
    /// Envelope, state and headers of one message
    Show { id: String },
    /// Send again: Badmail → smtp-out/, error → smtp-in/, deferred → now
    Requeue {
        ids: Vec<String>,
        #[arg(long, conflicts_with = "ids")]
        all_badmail: bool,
    },
    /// Remove messages for good
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logs::init_tracing(cli.log_json);
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command {
        Command::Demo { dir, listen } => run_demo(&dir, listen),
        Command::HashPassword => hash_password(),
        Command::Fax(ref f) => fax(f),
        ref other => {
            let config = match load(cli.config.as_deref()) {
                Ok(c) => c,
                Err(code) => return code,
            };
            match other {
                Command::Run => run(&config, None),
                Command::Check => check(&config),
                Command::Info { json } => info(&config, *json),
                Command::Queue(q) => queue(&config, q),
                Command::SendTest {
                    instance,
                    service,
                    calling,
                    called,
                    text,
                    file,
                } => send_test(
                    &config,
                    instance,
                    *service,
                    calling,
                    called,
                    text.as_deref(),
                    file.as_deref(),
                ),
                Command::User(cmd) => umsgate::directory::admin::main(&config, cmd),
                Command::Demo { .. } | Command::HashPassword | Command::Fax(_) => ExitCode::SUCCESS,
            }
        }
    }
}

fn load(explicit: Option<&Path>) -> Result<Config, ExitCode> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => [
            PathBuf::from("umsgate.toml"),
            PathBuf::from("/etc/umsgate/umsgate.toml"),
        ]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("umsgate.toml")),
    };
    Config::load(&path).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("cannot start the runtime: {e}");
            ExitCode::from(EXIT_RUNTIME)
        })
}

fn run(config: &Config, banner: Option<String>) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async {
        let mut stop = instance::Termination::install();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let started = tokio::select! {
            s = instance::start_all(config, rx) => s,
            _ = stop.wait() => {
                let _ = tx.send(true);
                return ExitCode::SUCCESS;
            }
        };
        let instances = match started {
            Ok(i) => i,
            Err(e) => {
                eprintln!("umsgate: {e}");
                let _ = tx.send(true);
                return ExitCode::from(EXIT_RUNTIME);
            }
        };
        if instances.is_empty() {
            eprintln!("umsgate: no enabled instance in {}", config.path.display());
            return ExitCode::from(EXIT_CONFIG);
        }
        if let Some(b) = banner {
            println!("{b}");
        }
        stop.wait().await;
        tracing::info!(
            event = "shutdown",
            "stopping: no new connections, finishing sessions"
        );
        let _ = tx.send(true);
        for i in instances {
            i.wait().await;
        }
        ExitCode::SUCCESS
    })
}

fn run_demo(dir: &Path, listen: SocketAddr) -> ExitCode {
    match demo::write(dir, listen) {
        Ok(true) => println!("wrote a new demo into {}/", dir.display()),
        Ok(false) => println!("using the existing demo in {}/", dir.display()),
        Err(e) => {
            eprintln!("cannot write the demo into {}: {e}", dir.display());
            return ExitCode::from(EXIT_RUNTIME);
        }
    }
    let config = match load(Some(&dir.join("umsgate.toml"))) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let listen = config
        .instances
        .first()
        .and_then(|i| i.smtp_in.listen.get_ref().first().copied())
        .unwrap_or(listen);
    run(&config, Some(demo::instructions(dir, listen)))
}

fn hash_password() -> ExitCode {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("cannot read the password: {e}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    let password = input.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("an empty password is not allowed");
        return ExitCode::from(EXIT_CONFIG);
    }
    let mut salt = [0u8; 16];
    if let Err(e) = getrandom(&mut salt) {
        eprintln!("no randomness for the salt: {e}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    let hashed = SaltString::encode_b64(&salt)
        .map_err(|e| e.to_string())
        .and_then(|s| {
            argon2::Argon2::default()
                .hash_password(password.as_bytes(), &s)
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        });
    match hashed {
        Ok(h) => {
            println!("{h}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot hash: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// `umsgate check`: the configuration is valid (or `load` already failed); now ask every
/// enabled instance's peers: the directory, the mail server, the engine's folder.
fn check(config: &Config) -> ExitCode {
    println!(
        "{}: configuration is valid ({} instance(s))",
        config.path.display(),
        config.instances.len()
    );
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    let mut failed = false;
    let mut report = |inst: &str, what: &str, r: Result<String, String>| match r {
        Ok(s) => println!("instance {inst}: {what}: ok: {s}"),
        Err(e) => {
            failed = true;
            println!("instance {inst}: {what}: FAILED: {e}");
        }
    };
    let plan = match config.site.plan() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for inst in config.enabled_instances() {
        let id = inst.id.get_ref().to_string();
        let dir = match inst.directory.kind {
            umsgate::config::DirectoryKind::File => {
                let path = inst.directory.path.clone().unwrap_or_default();
                umsgate::directory::FileDirectory::open(&path, plan.clone())
                    .map(|_| format!("users file {}", path.display()))
            }
            umsgate::config::DirectoryKind::Ldap => {
                rt.block_on(umsgate::directory::ldap::check(&inst.directory, &plan))
            }
        };
        report(&id, "directory", dir);
        report(
            &id,
            "mail server",
            rt.block_on(umsgate::delivery::check_mail_server(&inst.mail)),
        );
        let gw = match (&inst.gateway.kind, &inst.gateway.dir) {
            (umsgate::config::GatewayKind::Spool, Some(d)) if !d.is_dir() => {
                Err(format!("spool folder {} does not exist", d.display()))
            }
            (kind, _) => Ok(format!("{kind:?}").to_lowercase()),
        };
        report(&id, "gateway", gw);
    }
    if failed {
        ExitCode::from(EXIT_CONFIG)
    } else {
        ExitCode::SUCCESS
    }
}

/// A one-page G3 fax for `send-test` without `--file`.
const TEST_FAX: &[u8] = include_bytes!("../../../testdata/samples/fax_1p_g3_1d.tif");

fn send_test(
    config: &Config,
    instance: &InstanceId,
    service: umsgate_domain::Service,
    calling: &str,
    called: &str,
    text: Option<&str>,
    file: Option<&Path>,
) -> ExitCode {
    use umsgate::gateway::received::{self, ReceivedMessage};
    use umsgate_domain::Service;
    if !config.instances.iter().any(|i| i.id.get_ref() == instance) {
        eprintln!("no instance `{instance}` in {}", config.path.display());
        return ExitCode::from(EXIT_CONFIG);
    }
    let data = match file.map(std::fs::read).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot read the file: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let (files, pages, text, duration_s) = match service {
        Service::Fax => {
            let tif = data.unwrap_or_else(|| TEST_FAX.to_vec());
            let pages = match umsgate_fax::page_count(&tif) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("not a fax document: {e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            (vec![("fax.tif".to_owned(), tif)], Some(pages), None, None)
        }
        Service::Sms => (
            Vec::new(),
            None,
            Some(text.unwrap_or("umsgate test message").to_owned()),
            None,
        ),
        Service::Voice => {
            let Some(wav) =
                data.filter(|d| d.starts_with(b"RIFF") && d.get(8..12) == Some(b"WAVE"))
            else {
                eprintln!("voice needs --file with a WAV file");
                return ExitCode::from(EXIT_CONFIG);
            };
            // 8 kHz 16-bit mono is what engines deliver; the length is informational.
            let secs = (wav.len() as u64).saturating_sub(44) / 16_000;
            (vec![("voice.wav".to_owned(), wav)], None, None, Some(secs))
        }
    };
    let msg = ReceivedMessage {
        service,
        calling: calling.to_owned(),
        called: called.to_owned(),
        received_at: umsgate::clock::rfc3339(umsgate::clock::now()),
        pages,
        csid: (service == Service::Fax).then(|| calling.to_owned()),
        files: files.iter().map(|(n, _)| n.clone()).collect(),
        text,
        duration_s,
    };
    let dirs = InstanceDirs::new(&config.instance_state_dir(instance));
    if let Err(e) = dirs.create() {
        eprintln!("cannot create {}: {e}", dirs.root.display());
        return ExitCode::from(EXIT_RUNTIME);
    }
    match received::write(&dirs.received, &msg, &files) {
        Ok(id) => {
            println!(
                "received {id}: {service} from {calling} to {called} written to {}",
                dirs.received.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write the message: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn fax(cmd: &FaxCommand) -> ExitCode {
    let limits = umsgate_fax::Limits::default();
    match cmd {
        FaxCommand::ToPdf { inputs, output } => {
            let mut data = Vec::with_capacity(inputs.len());
            for p in inputs {
                match std::fs::read(p) {
                    Ok(b) => data.push(b),
                    Err(e) => {
                        eprintln!("cannot read {}: {e}", p.display());
                        return ExitCode::from(EXIT_RUNTIME);
                    }
                }
            }
            let slices: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
            let pdf = match umsgate_fax::tiff_to_pdf(&slices, &limits) {
                Ok(pdf) => pdf,
                Err(e) => {
                    eprintln!("cannot convert: {e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            if let Err(e) = std::fs::write(output, pdf) {
                eprintln!("cannot write {}: {e}", output.display());
                return ExitCode::from(EXIT_RUNTIME);
            }
            ExitCode::SUCCESS
        }
        FaxCommand::Pages { file } => {
            let bytes = match std::fs::read(file) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("cannot read {}: {e}", file.display());
                    return ExitCode::from(EXIT_RUNTIME);
                }
            };
            match umsgate_fax::page_count_with(&bytes, &limits) {
                Ok(n) => {
                    println!("{n}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    ExitCode::from(EXIT_CONFIG)
                }
            }
        }
    }
}

fn getrandom(buf: &mut [u8]) -> std::io::Result<()> {
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

#[derive(serde::Serialize)]
struct InstanceInfo {
    id: String,
    name: String,
    enabled: bool,
    listen: Vec<String>,
    state_dir: PathBuf,
    log_dir: PathBuf,
    queues: std::collections::BTreeMap<&'static str, usize>,
}

fn info(config: &Config, json: bool) -> ExitCode {
    let items = match admin::list(config, None, None) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cannot read the queues: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let instances: Vec<InstanceInfo> = config
        .instances
        .iter()
        .map(|i| {
            let id = i.id.get_ref();
            let mut queues: std::collections::BTreeMap<&'static str, usize> =
                QueueState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
            for item in items.iter().filter(|it| it.instance == id.as_str()) {
                *queues.entry(item.state.as_str()).or_default() += 1;
            }
            InstanceInfo {
                id: id.to_string(),
                name: i.name.clone(),
                enabled: i.enabled,
                listen: i
                    .smtp_in
                    .listen
                    .get_ref()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                state_dir: InstanceDirs::new(&config.instance_state_dir(id)).root,
                log_dir: config.instance_log_dir(id),
                queues,
            }
        })
        .collect();
    if json {
        let v = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "config": config.path,
            "instances": instances,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    println!("umsgate {}", env!("CARGO_PKG_VERSION"));
    println!("config: {}", config.path.display());
    for i in instances {
        println!(
            "instance {} ({}){}: listen {}",
            i.id,
            i.name,
            if i.enabled { "" } else { " [disabled]" },
            i.listen.join(", ")
        );
        println!("  state: {}", i.state_dir.display());
        println!("  logs:  {}", i.log_dir.display());
        let q: Vec<String> = i.queues.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  queues: {}", q.join(" "));
    }
    ExitCode::SUCCESS
}

fn queue_id(s: &str) -> Result<QueueId, ExitCode> {
    QueueId::parse(s).ok_or_else(|| {
        eprintln!("`{s}` is not a queue id");
        ExitCode::from(EXIT_NOT_FOUND)
    })
}

fn print_items(items: &[QueueItem]) {
    if items.is_empty() {
        println!("no queued mail");
        return;
    }
    println!(
        "{:<10} {:<9} {:<18} {:>9} {:>3} {:<20} FROM -> TO",
        "INSTANCE", "STATE", "ID", "SIZE", "TRY", "NEXT"
    );
    for i in items {
        println!(
            "{:<10} {:<9} {:<18} {:>9} {:>3} {:<20} <{}> -> {}",
            i.instance,
            i.state.as_str(),
            i.id,
            i.size,
            i.attempts,
            i.next_attempt.as_deref().unwrap_or("-"),
            i.from.as_deref().unwrap_or("?"),
            i.to.join(", ")
        );
        if let Some(e) = &i.last_error {
            println!("{:>42} last error: {e}", "");
        }
    }
}

fn queue(config: &Config, cmd: &QueueCommand) -> ExitCode {
    let fail = |e: std::io::Error| {
        eprintln!("queue: {e}");
        ExitCode::from(EXIT_RUNTIME)
    };
    match cmd {
        QueueCommand::List {
            instance,
            state,
            json,
        } => match admin::list(config, instance.as_ref(), *state) {
            Ok(items) if *json => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&items).unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Ok(items) => {
                print_items(&items);
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        QueueCommand::Show { id } => {
            let id = match queue_id(id) {
                Ok(i) => i,
                Err(c) => return c,
            };
            match admin::find(config, &id) {
                Ok(Some((item, _))) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&item).unwrap_or_default()
                    );
                    if let Ok(bytes) = admin::message_bytes(&item) {
                        let end = bytes
                            .windows(4)
                            .position(|w| w == b"\r\n\r\n")
                            .unwrap_or(bytes.len().min(64 * 1024));
                        println!(
                            "--- headers ---\n{}",
                            String::from_utf8_lossy(&bytes[..end])
                        );
                    }
                    ExitCode::SUCCESS
                }
                Ok(None) => {
                    eprintln!("no queued message {id}");
                    ExitCode::from(EXIT_NOT_FOUND)
                }
                Err(e) => fail(e),
            }
        }
        QueueCommand::Requeue { ids, all_badmail } => {
            let ids: Vec<QueueId> = if *all_badmail {
                match admin::all_badmail(config) {
                    Ok(v) => v,
                    Err(e) => return fail(e),
                }
            } else {
                match ids.iter().map(|s| queue_id(s)).collect::<Result<_, _>>() {
                    Ok(v) => v,
                    Err(c) => return c,
                }
            };
            each(&ids, |id| admin::requeue(config, id), "requeued", fail)
        }
        QueueCommand::Delete { ids } => {
            let ids: Vec<QueueId> = match ids.iter().map(|s| queue_id(s)).collect::<Result<_, _>>()
            {
                Ok(v) => v,
                Err(c) => return c,
            };
            each(&ids, |id| admin::delete(config, id), "deleted", fail)
        }
    }
}

fn each(
    ids: &[QueueId],
    mut op: impl FnMut(&QueueId) -> std::io::Result<Option<QueueItem>>,
    verb: &str,
    fail: impl Fn(std::io::Error) -> ExitCode,
) -> ExitCode {
    let mut missing = false;
    for id in ids {
        match op(id) {
            Ok(Some(item)) => println!("{verb} {id} ({})", item.path.display()),
            Ok(None) => {
                eprintln!("no queued message {id}");
                missing = true;
            }
            Err(e) => return fail(e),
        }
    }
    if missing {
        ExitCode::from(EXIT_NOT_FOUND)
    } else {
        ExitCode::SUCCESS
    }
}
