//! `umsgate queue list|show|requeue|delete`: the queued mail of every instance.
//!
//! Contract: an id that is not a queue id stops the command before anything is changed; an
//! id that names no queued message is reported while the others are still handled; both
//! answer [`Exit::NotFound`]. An I/O failure, or a message only the running daemon may
//! change (in the intake log), stops at once with [`Exit::Runtime`] and the reason.
//!
//! `queue list --state print` lists the faxes print-unread is waiting on (for a receipt, or
//! for the printer), from the state store, with their deadline; it opens no store that does
//! not exist yet.
//!
//! Implementation summary: [`admin`] finds, moves and deletes; this file parses ids and
//! prints the table or JSON.

use clap::Subcommand;
use umsgate::config::Config;
use umsgate::config::units::InstanceId;
use umsgate::spool::QueueId;
use umsgate::spool::admin::{self, QueueItem};
use umsgate::spool::layout::QueueState;
use umsgate::store::{PendingPrint, Store};

use super::{Exit, runtime};

/// What `queue list --state` takes: a spool folder, or print-unread's pending faxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ListState {
    Incoming,
    Outgoing,
    Deferred,
    Badmail,
    Error,
    /// Faxes waiting for their read receipt or for the printer.
    Print,
}

impl ListState {
    fn queue(self) -> Option<QueueState> {
        match self {
            ListState::Incoming => Some(QueueState::Incoming),
            ListState::Outgoing => Some(QueueState::Outgoing),
            ListState::Deferred => Some(QueueState::Deferred),
            ListState::Badmail => Some(QueueState::Badmail),
            ListState::Error => Some(QueueState::Error),
            ListState::Print => None,
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum QueueCommand {
    /// What waits where, with attempts and next try
    List {
        #[arg(long)]
        instance: Option<InstanceId>,
        #[arg(long, value_enum)]
        state: Option<ListState>,
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

/// Most bytes of a message printed by `show` when no blank line ends its header.
const SHOW_HEADER_MAX: usize = 64 * 1024;

pub(crate) fn queue(config: &Config, cmd: &QueueCommand) -> Exit {
    match cmd {
        QueueCommand::List {
            instance,
            state,
            json,
        } if *state == Some(ListState::Print) => prints(config, instance.as_ref(), *json),
        QueueCommand::List {
            instance,
            state,
            json,
        } => match admin::list(config, instance.as_ref(), state.and_then(ListState::queue)) {
            Ok(items) if *json => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&items).unwrap_or_default()
                );
                Exit::Success
            }
            Ok(items) => {
                print_items(&items);
                Exit::Success
            }
            Err(e) => fail(e),
        },
        QueueCommand::Show { id } => show(config, id),
        QueueCommand::Requeue { ids, all_badmail } => {
            let ids: Vec<QueueId> = if *all_badmail {
                match admin::all_badmail(config) {
                    Ok(v) => v,
                    Err(e) => return fail(e),
                }
            } else {
                match queue_ids(ids) {
                    Ok(v) => v,
                    Err(e) => return e,
                }
            };
            each(&ids, |id| admin::requeue(config, id), "requeued")
        }
        QueueCommand::Delete { ids } => match queue_ids(ids) {
            Ok(ids) => each(&ids, |id| admin::delete(config, id), "deleted"),
            Err(e) => e,
        },
    }
}

/// One pending fax as `queue list --state print` shows it.
#[derive(serde::Serialize)]
struct PrintItem {
    #[serde(flatten)]
    fax: PendingPrint,
    /// The deadline and next attempt in RFC 3339 (the store keeps Unix seconds).
    deadline_at: String,
    next_attempt_at: String,
}

fn prints(config: &Config, instance: Option<&InstanceId>, json: bool) -> Exit {
    let path = config.service.state_dir.join("umsgate.db");
    let shared = config.service.store.get_ref() != "sqlite";
    let found = if shared || path.exists() {
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(e) => return e,
        };
        let id = instance.map(InstanceId::as_str);
        let listed = rt.block_on(async {
            let store = Store::connect(&config.service).await?;
            let list = store.print_pending(id).await;
            store.close().await;
            list
        });
        match listed {
            Ok(l) => l,
            Err(e) => {
                eprintln!("queue: {e}");
                return Exit::Runtime;
            }
        }
    } else {
        Vec::new()
    };
    let at = |secs: u64| {
        umsgate::clock::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    };
    let items: Vec<PrintItem> = found
        .into_iter()
        .map(|fax| PrintItem {
            deadline_at: at(fax.deadline),
            next_attempt_at: at(fax.next_attempt),
            fax,
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return Exit::Success;
    }
    if items.is_empty() {
        println!("no pending prints");
        return Exit::Success;
    }
    println!(
        "{:<10} {:<18} {:<9} {:<20} {:>3} {:<16} {:<20} PRINTER / JOB",
        "INSTANCE", "FAX", "STATE", "DEADLINE", "TRY", "RULE", "CALLING"
    );
    for i in &items {
        let p = &i.fax;
        let job = match (p.job_id, &p.job_state) {
            (Some(id), Some(st)) => format!(" job {id} {st}"),
            _ => String::new(),
        };
        println!(
            "{:<10} {:<18} {:<9} {:<20} {:>3} {:<16} {:<20} {}{job}",
            p.instance,
            p.fax,
            p.state.as_str(),
            i.deadline_at,
            p.attempts,
            p.rule,
            p.calling,
            p.printer
        );
        if let Some(e) = &p.last_error {
            println!("{:>42} last error: {e}", "");
        }
    }
    Exit::Success
}

fn fail(e: std::io::Error) -> Exit {
    eprintln!("queue: {e}");
    Exit::Runtime
}

fn queue_id(s: &str) -> Result<QueueId, Exit> {
    QueueId::parse(s).ok_or_else(|| {
        eprintln!("`{s}` is not a queue id");
        Exit::NotFound
    })
}

fn queue_ids(ids: &[String]) -> Result<Vec<QueueId>, Exit> {
    ids.iter().map(|s| queue_id(s)).collect()
}

fn show(config: &Config, id: &str) -> Exit {
    let id = match queue_id(id) {
        Ok(i) => i,
        Err(e) => return e,
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
                    .unwrap_or(bytes.len().min(SHOW_HEADER_MAX));
                println!(
                    "--- headers ---\n{}",
                    String::from_utf8_lossy(&bytes[..end])
                );
            }
            Exit::Success
        }
        Ok(None) => {
            eprintln!("no queued message {id}");
            Exit::NotFound
        }
        Err(e) => fail(e),
    }
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

/// Applies `op` to every id; a missing one is reported and makes the answer
/// [`Exit::NotFound`], an I/O failure stops at once with [`Exit::Runtime`].
fn each(
    ids: &[QueueId],
    mut op: impl FnMut(&QueueId) -> std::io::Result<Option<QueueItem>>,
    verb: &str,
) -> Exit {
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
        Exit::NotFound
    } else {
        Exit::Success
    }
}
