//! `umsgate run`: every enabled instance in the foreground until SIGTERM/SIGINT; SIGHUP
//! reloads the configuration.
//!
//! Contract: answers [`Exit::Success`] after a graceful stop (no new connections, sessions
//! finished, spool kept), [`Exit::Runtime`] when an instance or the metrics listener cannot
//! start, [`Exit::Config`] when no instance is enabled. A signal while the instances are
//! starting stops at once. SIGHUP re-reads the file: an invalid one is logged (every error,
//! with file, line and key) and changes nothing; a valid one restarts the instances whose
//! table changed and leaves the others alone (see [`umsgate::supervisor`]). While it runs,
//! `state_dir/umsgate.pid` holds the process id, so that `umsgate check` can tell its own
//! listeners from a stranger's.
//!
//! Implementation summary: one multi-threaded runtime; the [`Supervisor`] owns the
//! instances; the Prometheus recorder is installed first and `/metrics` served on
//! `metrics.listen` when configured; the web console (when configured) starts once the
//! instances listen and stops after them; the banner (the demo's instructions) is printed once
//! all listen, and the service manager is told `READY=1` then (`RELOADING=1` … `READY=1`
//! around a reload, `STOPPING=1` when the stop begins). The console follows every reload
//! ([`Supervisor::subscribe`]) and may ask for one ([`ReloadRequest`], answered with its
//! outcome), which is done exactly as a SIGHUP's.

use std::path::{Path, PathBuf};

use umsgate::config::Config;
use umsgate::instance::Termination;
use umsgate::supervisor::{ReloadError, ReloadRequest, Reloaded, Supervisor};
use umsgate::{metrics, service_manager};

use super::{Exit, runtime};

/// The pid file of a running service: `state_dir/umsgate.pid`.
pub(crate) fn pid_file(config: &Config) -> PathBuf {
    config.service.state_dir.join("umsgate.pid")
}

/// The process id in the pid file, when that process is alive and runs `umsgate run` (a
/// stale file whose id was reused by another program names nothing).
pub(crate) fn running_pid(config: &Config) -> Option<u32> {
    let text = std::fs::read_to_string(pid_file(config)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let cmdline = std::fs::read(Path::new("/proc").join(pid.to_string()).join("cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let umsgate = args.first().is_some_and(|a| a.ends_with(b"umsgate"));
    let runs = args.iter().any(|a| *a == b"run" || *a == b"demo");
    (umsgate && runs).then_some(pid)
}

/// Runs `config` until a stop signal; prints `banner` once every instance is listening.
pub(crate) fn run(config: &Config, banner: Option<String>) -> Exit {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return e,
    };
    rt.block_on(async {
        let mut stop = Termination::install();
        let mut hangup = Hangup::install();
        let exporter = match metrics::install() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("umsgate: {e}");
                return Exit::Runtime;
            }
        };
        let (service_tx, service_rx) = tokio::sync::watch::channel(false);
        if let Some(m) = &config.service.metrics {
            match metrics::bind(m.listen).await {
                Ok(l) => {
                    tokio::spawn(metrics::serve(
                        l,
                        std::sync::Arc::clone(&exporter),
                        service_rx.clone(),
                    ));
                }
                Err(e) => {
                    eprintln!("umsgate: {e}: {}", source_text(&e));
                    return Exit::Runtime;
                }
            }
        }
        let started = tokio::select! {
            s = Supervisor::start(config) => s,
            _ = stop.wait() => {
                let _ = service_tx.send(true);
                return Exit::Success;
            }
        };
        let mut supervisor = match started {
            Ok(s) => s,
            Err(e) => {
                eprintln!("umsgate: {e}");
                let _ = service_tx.send(true);
                return Exit::Runtime;
            }
        };
        if supervisor.instances().next().is_none() {
            eprintln!("umsgate: no enabled instance in {}", config.path.display());
            let _ = service_tx.send(true);
            return Exit::Config;
        }
        exporter.watch_config(supervisor.config());
        let pid_path = pid_file(config);
        if let Err(e) = std::fs::write(&pid_path, format!("{}\n", std::process::id())) {
            tracing::warn!(event = "run.pid_file_failed", path = %pid_path.display(), error = %e);
        }
        // The console asks for reloads through this channel (its Instances page).
        let (reload_tx, mut reload_rx) = tokio::sync::mpsc::channel::<ReloadRequest>(4);
        let web = match umsgate::web::start(
            config,
            supervisor.subscribe(),
            Some(reload_tx),
            service_rx.clone(),
        )
        .await
        {
            Ok(w) => w,
            Err(e) => {
                eprintln!("umsgate: {e}");
                supervisor.stop().await;
                let _ = service_tx.send(true);
                let _ = std::fs::remove_file(&pid_path);
                return Exit::Runtime;
            }
        };
        if let Some(b) = banner {
            println!("{b}");
        }
        service_manager::notify_ready(&listening(&supervisor));
        loop {
            tokio::select! {
                _ = stop.wait() => break,
                _ = hangup.wait() => {
                    service_manager::notify_reloading();
                    let _ = reload(&mut supervisor, &exporter).await;
                    service_manager::notify_ready(&listening(&supervisor));
                }
                Some(request) = reload_rx.recv() => {
                    service_manager::notify_reloading();
                    let done = reload(&mut supervisor, &exporter).await;
                    service_manager::notify_ready(&listening(&supervisor));
                    let _ = request.reply.send(done);
                }
            }
        }
        service_manager::notify_stopping();
        tracing::info!(
            event = "shutdown",
            "stopping: no new connections, finishing sessions"
        );
        supervisor.stop().await;
        let _ = service_tx.send(true);
        if let Some(w) = web {
            w.wait().await;
        }
        let _ = std::fs::remove_file(&pid_path);
        Exit::Success
    })
}

/// The status line systemd shows.
fn listening(supervisor: &Supervisor) -> String {
    match supervisor.instances().count() {
        1 => "1 instance listening".to_owned(),
        n => format!("{n} instances listening"),
    }
}

fn source_text(e: &dyn std::error::Error) -> String {
    e.source().map(ToString::to_string).unwrap_or_default()
}

async fn reload(
    supervisor: &mut Supervisor,
    exporter: &metrics::Exporter,
) -> Result<Reloaded, ReloadError> {
    tracing::info!(
        event = "reload.started",
        "SIGHUP: reading the configuration again"
    );
    let done = supervisor.reload().await;
    match &done {
        Ok(r) => {
            if r.service_changed {
                tracing::warn!(
                    event = "reload.service_not_applied",
                    "[service] changed: restart umsgate to apply it"
                );
            }
            tracing::info!(event = "reload.done", started = ?r.started, restarted = ?r.restarted, stopped = ?r.stopped, unchanged = ?r.unchanged, failed = ?r.failed);
            exporter.watch_config(supervisor.config());
        }
        Err(ReloadError::Invalid(errors)) => {
            for e in &errors.0 {
                tracing::error!(event = "reload.invalid", error = %e, "configuration refused; still running on the previous one");
            }
        }
    }
    done
}

/// SIGHUP, caught from [`Hangup::install`] on (before it, SIGHUP would end the process).
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn install() -> Hangup {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Hangup {
                signal: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        if let Some(s) = self.signal.as_mut() {
            s.recv().await;
            return;
        }
        std::future::pending::<()>().await;
    }
}
