//! The `umsgate` command line (DESIGN.md §2): parses the arguments and hands each
//! subcommand to its file in [`cli`].
//!
//! Exit codes ([`cli::Exit`]): 0 success; 1 the configuration is invalid or a check failed;
//! 2 the command line is wrong (clap); 3 a runtime failure (cannot listen, folder not
//! writable, I/O); 4 a queue entry that was asked for does not exist. `fax` commands exit 1
//! when the input is not a document they can read.
#![forbid(unsafe_code)]

mod cli;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cli::Exit;
use umsgate::{demo, logs};

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
    Check {
        /// Only the configuration and the cover templates: do not contact the peers (for the
        /// service's start, where a peer that is down must not keep umsgate from starting)
        #[arg(long)]
        config_only: bool,
    },
    /// Write a self-contained demo into ./umsgate-demo/ (unless present) and run it
    Demo {
        /// Folder of the demo
        #[arg(long, default_value = "umsgate-demo")]
        dir: PathBuf,
        /// SMTP listener of a newly written demo
        #[arg(long, default_value = demo::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Web console of a newly written demo
        #[arg(long, default_value = demo::DEFAULT_WEB_LISTEN)]
        web_listen: SocketAddr,
    },
    /// Version, instances, paths and queue counts
    Info {
        #[arg(long)]
        json: bool,
    },
    /// Inject a received fax/SMS/voice message; the running instance delivers it
    SendTest(cli::send_test::SendTestArgs),
    /// For HylaFAX's FaxRcvdCmd: hand a received fax to the instance's received/ folder
    HylafaxReceived(cli::hylafax_received::HylafaxReceivedArgs),
    /// Queued mail: list, show, requeue, delete
    #[command(subcommand)]
    Queue(cli::queue::QueueCommand),
    /// Fax document tools
    #[command(subcommand)]
    Fax(cli::fax::FaxCommand),
    /// Render a mail as the fax it would become (cover, body, attachments)
    Render(cli::render::RenderArgs),
    /// Print an argon2 hash of a password read from standard input (for auth.users)
    HashPassword,
    /// Effective UMS settings of a user; edit them in the directory
    #[command(subcommand)]
    User(umsgate::directory::admin::UserCommand),
    /// The instances in the configuration: list, new, delete
    #[command(subcommand)]
    Instance(cli::instance::InstanceCommand),
    /// The domains and addresses the mail server must route to umsgate
    Routes {
        #[arg(long)]
        json: bool,
    },
    /// Write the manual page umsgate(1) (roff) to FILE or stdout
    #[command(hide = true)]
    Man {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // What `Cli::parse` does, with the exit code named: help and version are
            // answers (stdout, 0), anything else is a usage error (stderr, 2).
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            }
            .into();
        }
    };
    logs::init_tracing(cli.log_json);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = match cli.command {
        Command::Demo {
            dir,
            listen,
            web_listen,
        } => return cli::demo::demo(&dir, listen, web_listen).into(),
        Command::HashPassword => return cli::hash_password::hash_password().into(),
        Command::Fax(ref f) => return cli::fax::fax(f).into(),
        Command::Man { ref out } => {
            return cli::man::man(<Cli as clap::CommandFactory>::command(), out.as_deref()).into();
        }
        _ => match cli::load(cli.config.as_deref()) {
            Ok(c) => c,
            Err(e) => return e.into(),
        },
    };
    match &cli.command {
        Command::Run => cli::run::run(&config, None).into(),
        Command::Check { config_only } => cli::check::check(&config, *config_only).into(),
        Command::Routes { json } => cli::routes::routes(&config, *json).into(),
        Command::Info { json } => cli::info::info(&config, *json).into(),
        Command::Queue(q) => cli::queue::queue(&config, q).into(),
        Command::SendTest(args) => cli::send_test::send_test(&config, args).into(),
        Command::HylafaxReceived(args) => {
            cli::hylafax_received::hylafax_received(&config, args).into()
        }
        Command::User(cmd) => cli::user::user(&config, cmd),
        Command::Render(args) => cli::render::render(&config, args).into(),
        Command::Instance(cmd) => cli::instance::instance(&config, cmd).into(),
        // Ran above, without a configuration.
        Command::Demo { .. } | Command::HashPassword | Command::Fax(_) | Command::Man { .. } => {
            Exit::Success.into()
        }
    }
}
