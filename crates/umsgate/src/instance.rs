//! One running instance: its folders, logs, spool and listener, wired from its configuration.
//!
//! Contract: [`Instance::start`] either returns a running instance whose listener is bound,
//! or an error that says what could not be prepared (a folder, a log file, a certificate,
//! a port); nothing is half-started. [`Instance::wait`] returns after shutdown was signalled
//! and every session has ended or the grace period has passed.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Config, InstanceConfig};
use crate::logs::InstanceLogs;
use crate::outbound::smtp_server::{Listener, SessionContext};
use crate::spool::Spool;
use crate::spool::layout::InstanceDirs;

/// A started instance.
pub struct Instance {
    pub id: String,
    pub dirs: InstanceDirs,
    pub listen: Vec<SocketAddr>,
    pub logs: Arc<InstanceLogs>,
    listener: JoinHandle<()>,
}

/// Why an instance could not start.
#[derive(Debug)]
pub struct StartError {
    pub instance: String,
    pub what: String,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "instance `{}`: {}", self.instance, self.what)
    }
}

impl std::error::Error for StartError {}

impl Instance {
    pub async fn start(
        config: &Config,
        inst: &InstanceConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Instance, StartError> {
        let id = inst.id.get_ref().to_string();
        let err = |what: String| StartError {
            instance: id.clone(),
            what,
        };
        let dirs = InstanceDirs::new(&config.instance_state_dir(inst.id.get_ref()));
        dirs.create()
            .map_err(|e| err(format!("cannot create {}: {e}", dirs.root.display())))?;
        let log_dir = config.instance_log_dir(inst.id.get_ref());
        let logs = Arc::new(
            InstanceLogs::open(&log_dir, config.service.log_rotate)
                .map_err(|e| err(format!("cannot open logs in {}: {e}", log_dir.display())))?,
        );
        let (spool, recovery) = Spool::open(&dirs.smtp_in)
            .map_err(|e| err(format!("cannot open {}: {e}", dirs.smtp_in.display())))?;
        tracing::info!(
            event = "spool.recovered",
            instance = %id,
            queued = recovery.queued,
            tmp_removed = recovery.tmp_removed,
            orphans_removed = recovery.orphans_removed,
            corrupt = recovery.corrupt.len()
        );
        let ctx = SessionContext::new(inst, spool, Arc::clone(&logs), shutdown).map_err(err)?;
        let listener = Listener::bind(Arc::new(ctx))
            .await
            .map_err(|e| err(e.to_string()))?;
        let listen = listener.local_addrs();
        for a in &listen {
            tracing::info!(event = "smtp.listening", instance = %id, addr = %a);
        }
        let listener = tokio::spawn(listener.run());
        Ok(Instance {
            id,
            dirs,
            listen,
            logs,
            listener,
        })
    }

    /// Waits until the listener has shut down.
    pub async fn wait(self) {
        let _ = self.listener.await;
    }
}

/// Starts every enabled instance; on any failure, the ones already started are stopped.
pub async fn start_all(
    config: &Config,
    shutdown: watch::Receiver<bool>,
) -> Result<Vec<Instance>, StartError> {
    let mut started = Vec::new();
    for inst in config.enabled_instances() {
        started.push(Instance::start(config, inst, shutdown.clone()).await?);
    }
    Ok(started)
}

/// SIGTERM and SIGINT, caught from the moment [`Termination::install`] returns — before the
/// instances start, so a stop request during start-up is a clean stop, not a kill.
pub struct Termination {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Termination {
    /// Must run inside the runtime.
    pub fn install() -> Termination {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
                (Ok(t), Ok(i)) => Some((t, i)),
                _ => None,
            };
            Termination { signals }
        }
        #[cfg(not(unix))]
        Termination {}
    }

    /// Resolves when a stop was requested.
    pub async fn wait(&mut self) {
        #[cfg(unix)]
        if let Some((term, int)) = self.signals.as_mut() {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
