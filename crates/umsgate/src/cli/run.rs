//! `umsgate run`: every enabled instance in the foreground until SIGTERM/SIGINT.
//!
//! Contract: answers [`Exit::Success`] after a graceful stop (no new connections, sessions
//! finished, spool kept), [`Exit::Runtime`] when an instance cannot start, [`Exit::Config`]
//! when no instance is enabled. A signal while the instances are starting stops at once.
//!
//! Implementation summary: one multi-threaded runtime; a `watch` channel tells every
//! instance (and the web console, when configured) to stop; the banner (the demo's
//! instructions) is printed once all listen.

use umsgate::config::Config;
use umsgate::instance;

use super::{Exit, runtime};

/// Runs `config` until a stop signal; prints `banner` once every instance is listening.
pub(crate) fn run(config: &Config, banner: Option<String>) -> Exit {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return e,
    };
    rt.block_on(async {
        let mut stop = instance::Termination::install();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let started = tokio::select! {
            s = instance::start_all(config, rx.clone()) => s,
            _ = stop.wait() => {
                let _ = tx.send(true);
                return Exit::Success;
            }
        };
        let instances = match started {
            Ok(i) => i,
            Err(e) => {
                eprintln!("umsgate: {e}");
                let _ = tx.send(true);
                return Exit::Runtime;
            }
        };
        if instances.is_empty() {
            eprintln!("umsgate: no enabled instance in {}", config.path.display());
            return Exit::Config;
        }
        let running = instances
            .iter()
            .map(|i| umsgate::web::Running {
                id: i.id.clone(),
                listen: i.listen.clone(),
                directory: std::sync::Arc::clone(&i.directory),
            })
            .collect();
        let web = match umsgate::web::start(config, running, rx.clone()).await {
            Ok(w) => w,
            Err(e) => {
                eprintln!("umsgate: {e}");
                let _ = tx.send(true);
                return Exit::Runtime;
            }
        };
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
        if let Some(w) = web {
            w.wait().await;
        }
        Exit::Success
    })
}
