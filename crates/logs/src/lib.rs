//! Logging: structured `tracing` events to stdout, plus the per-instance category files of
//! DESIGN.md §1 in `<log_dir>/<instance-id>/`.
//!
//! Two audiences, two channels. Operators' tooling reads the structured stream (stdout, so
//! journald or a container runtime captures it; `UMSGATE_LOG` sets the filter, `--log-json`
//! switches to JSON). Mail administrators read the category files, which are line-oriented,
//! size-rotated and never contain secrets or message bodies:
//! - `smtp.log`: SMTP sessions with the mail server, both directions, and their failures;
//! - `ldap.log`: every directory search and its result;
//! - `msgid.log`: the Message-ID of every message in and out;
//! - `print.log`: print-unread — rule matches, read receipts, print submissions and the
//!   printer's answers.
#![forbid(unsafe_code)]

mod category;

pub use category::{CategoryLog, InstanceLogs};

use tracing_subscriber::EnvFilter;

/// Installs the process-wide `tracing` subscriber. Safe to call once per process; later
/// calls are ignored (tests start several instances in one process).
pub fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_env("UMSGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
