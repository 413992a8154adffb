//! The subcommands of `umsgate` (DESIGN.md §2), one file each; `main.rs` parses the command
//! line and calls them.
//!
//! Contract: a subcommand writes its result to stdout and what went wrong to stderr, and
//! returns an [`Exit`], the process's exit code as the README documents it. The exit code
//! says whose fault a failure is: the configuration or the input (1), the command line (2,
//! from clap), the machine (3), or a queue id that names nothing (4).
//!
//! Implementation summary: the work itself (loading the configuration, listing the queues,
//! writing a received message, converting a fax) is the library's; these files only turn
//! arguments into calls and results into lines and an [`Exit`]. [`load`] finds and reads the
//! configuration for every command that needs one; [`runtime`] builds the tokio runtime for
//! those that talk to the network.

pub(crate) mod check;
pub(crate) mod demo;
pub(crate) mod fax;
pub(crate) mod hash_password;
pub(crate) mod hylafax_received;
pub(crate) mod info;
pub(crate) mod instance;
pub(crate) mod listen_check;
pub(crate) mod man;
pub(crate) mod queue;
pub(crate) mod render;
pub(crate) mod routes;
pub(crate) mod run;
pub(crate) mod send_test;
pub(crate) mod user;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use umsgate::config::Config;

/// How `umsgate` ends (README "Command line").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    Success = 0,
    /// The configuration is invalid, a check failed, or the input is not what the command
    /// reads (a fax that is no document, a voice file that is no WAV).
    Config = 1,
    /// The command line is wrong.
    Usage = 2,
    /// The machine failed: cannot listen, read, write or start the runtime.
    Runtime = 3,
    /// A queue entry that was asked for does not exist.
    NotFound = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// The configuration files tried, in order, when `--config` is not given.
const DEFAULT_CONFIGS: [&str; 2] = ["umsgate.toml", "/etc/umsgate/umsgate.toml"];

/// Loads `explicit`, else the first of [`DEFAULT_CONFIGS`] that exists (else the first, so
/// that the error names it). Prints the error and answers [`Exit::Config`] when it is invalid.
pub(crate) fn load(explicit: Option<&Path>) -> Result<Config, Exit> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => DEFAULT_CONFIGS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIGS[0])),
    };
    Config::load(&path).map_err(|e| {
        eprintln!("{e}");
        Exit::Config
    })
}

/// A multi-threaded tokio runtime, or [`Exit::Runtime`] with the reason printed.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("cannot start the runtime: {e}");
            Exit::Runtime
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let codes = [
            (Exit::Success, 0),
            (Exit::Config, 1),
            (Exit::Usage, 2),
            (Exit::Runtime, 3),
            (Exit::NotFound, 4),
        ];
        for (exit, code) in codes {
            assert_eq!(exit as u8, code, "{exit:?}");
        }
        let readme = include_str!("../../../../README.md");
        for text in [
            "**0** success",
            "**1** invalid configuration",
            "**2** wrong command",
            "**3** runtime failure",
            "**4** the queue entry",
        ] {
            assert!(readme.contains(text), "README lost `{text}`");
        }
    }
}
