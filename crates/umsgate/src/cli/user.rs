//! `umsgate user show|set`: a user's effective UMS settings, edited in the directory.
//!
//! Contract and implementation summary: those of [`umsgate::directory::admin`], which owns
//! this command's arguments ([`UserCommand`]) and exit codes since it opens the directory
//! the way a running instance does; this file only passes the command on.

use std::process::ExitCode;

use umsgate::config::Config;
use umsgate::directory::admin::{self, UserCommand};

pub(crate) fn user(config: &Config, cmd: &UserCommand) -> ExitCode {
    admin::main(config, cmd)
}
