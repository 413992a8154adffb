//! `umsgate demo`: writes a self-contained demo (unless its folder holds one) and runs it.
//!
//! Contract: an existing demo is used as it is, never overwritten; the address it listens
//! on is the one in its configuration, not `--listen` (nor `--web-listen`, the console's),
//! which only shape a new demo.
//!
//! Implementation summary: [`umsgate::demo`] writes the files; this loads them like any
//! configuration and hands over to [`run`](super::run::run) with the demo's instructions as
//! the banner.

use std::net::SocketAddr;
use std::path::Path;

use umsgate::demo;

use super::{Exit, load, run::run};

pub(crate) fn demo(dir: &Path, listen: SocketAddr, web: SocketAddr) -> Exit {
    match demo::write(dir, listen, web) {
        Ok(true) => println!("wrote a new demo into {}/", dir.display()),
        Ok(false) => println!("using the existing demo in {}/", dir.display()),
        Err(e) => {
            eprintln!("cannot write the demo into {}: {e}", dir.display());
            return Exit::Runtime;
        }
    }
    let config = match load(Some(&dir.join("umsgate.toml"))) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let listen = config
        .instances
        .first()
        .and_then(|i| i.smtp_in.listen.get_ref().first().copied())
        .unwrap_or(listen);
    let console = demo::console(dir, &config);
    run(&config, Some(demo::instructions(dir, listen, console)))
}
