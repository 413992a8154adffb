//! One running instance: its folders, logs, spools, directory, gateway, listener and workers,
//! wired from its configuration.
//!
//! Contract: [`Instance::start`] either returns a running instance whose listener is bound,
//! or an error that says what could not be prepared (a folder, a log file, a certificate, the
//! directory file, a port); nothing is half-started. [`Instance::wait`] returns after
//! shutdown was signalled and the listener, the workers (outbound, inbound, print-unread) and
//! the gateway have stopped.
//!
//! Intake before processing: the SMTP listeners run on the caller's runtime; everything
//! else (the workers, delivery, the gateway) runs on [`Processing`], a runtime whose threads
//! have a lower CPU priority. A burst of mail is then accepted at the speed of the disk while
//! processing takes the CPU left over, and all of it once the burst is over.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Config, DirectoryKind, InstanceConfig};
use crate::delivery::Delivery;
use crate::directory::{Directory, FileDirectory, LdapDirectory};
use crate::gateway::Gateway;
use crate::inbound::worker::Inbound;
use crate::logs::InstanceLogs;
use crate::outbound::jobs::JobRecords;
use crate::outbound::mime;
use crate::outbound::smtp_server::{Listener, SessionContext};
use crate::outbound::worker::Outbound;
use crate::print::PrintUnread;
use crate::reports::Reports;
use crate::spool::Spool;
use crate::spool::layout::InstanceDirs;
use crate::store::Store;

/// Process-wide parts shared by every instance.
pub struct Shared {
    pub store: Store,
    pub reports: Arc<Reports>,
    pub processing: Arc<Processing>,
    /// The fax renderer and its converters.
    pub renderer: Arc<umsgate_render::Renderer>,
    /// Cover-page templates.
    pub covers: Arc<umsgate_render::cover::Covers>,
}

/// The runtime that processes mail (see the module documentation).
///
/// Its threads run at nice [`Processing::NICE`]: when intake and processing compete for a CPU,
/// intake gets it; when they do not compete, nice changes nothing. Processing is never shut
/// out for long: from 10 000 messages not yet processed, each new message waits a second
/// before it is taken (the spool's [`crate::spool::Backlog`]), which frees the CPU for
/// processing, and from 20 000 new mail takes the file path, so memory stays bounded.
pub struct Processing {
    handle: tokio::runtime::Handle,
    /// Only `None` while being dropped.
    rt: Option<tokio::runtime::Runtime>,
}

impl Processing {
    /// The nice value of processing threads (intake runs at the process's own, normally 0):
    /// the lowest, so that intake never waits for processing. Sustained overload is handled
    /// by the spool's backlog marks ([`crate::spool::Backlog`]), which slow intake down.
    pub const NICE: i32 = 19;

    pub fn start() -> std::io::Result<Processing> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .thread_name("umsgate-process")
            .on_thread_start(|| {
                // Raising one's own nice value needs no privilege; if it fails anyway,
                // processing simply competes with intake on equal terms.
                let own = rustix::process::getpriority_process(None).unwrap_or(0);
                let _ = rustix::process::setpriority_process(None, own.max(Self::NICE));
            })
            .enable_all()
            .build()?;
        Ok(Processing {
            handle: rt.handle().clone(),
            rt: Some(rt),
        })
    }

    fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(task)
    }
}

impl Drop for Processing {
    fn drop(&mut self) {
        // May be dropped inside the main runtime: no blocking wait for its threads there.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Shared {
    pub async fn open(config: &Config) -> Result<Shared, StartError> {
        let err = |what: String| StartError {
            instance: "*".into(),
            what,
            source: None,
        };
        let store = Store::connect(&config.service)
            .await
            .map_err(|e| err(e.to_string()))?;
        tracing::info!(event = "store.open", store = %crate::config::store::redact(config.service.store.get_ref()), shared = store.is_shared());
        let reports = Reports::load(config.service.templates_dir.as_deref())
            .map_err(|e| err(e.to_string()))?;
        let covers = crate::rendering::covers(config).map_err(|e| err(e.to_string()))?;
        let processing = Processing::start()
            .map_err(|e| err(format!("cannot start the processing runtime: {e}")))?;
        Ok(Shared {
            store,
            reports: Arc::new(reports),
            processing: Arc::new(processing),
            renderer: Arc::new(crate::rendering::renderer(config)),
            covers: Arc::new(covers),
        })
    }
}

/// A started instance.
pub struct Instance {
    pub id: String,
    pub dirs: InstanceDirs,
    pub listen: Vec<SocketAddr>,
    pub logs: Arc<InstanceLogs>,
    /// The directory the instance's workers look users up in: the web portal writes through
    /// it, so that their cache forgets a changed user at once.
    pub directory: Arc<Directory>,
    /// Wakes the inbound worker (a received message was written in this process).
    pub received: Arc<tokio::sync::Notify>,
    tasks: Vec<JoinHandle<()>>,
    /// Kept alive as long as the instance's tasks run on it.
    _processing: Arc<Processing>,
}

/// Why an instance could not start.
#[derive(Debug)]
pub struct StartError {
    pub instance: String,
    pub what: String,
    /// The typed error behind `what`, where there is one (directory, gateway).
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "instance `{}`: {}", self.instance, self.what)
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl Instance {
    pub async fn start(
        config: &Config,
        inst: &InstanceConfig,
        shared: &Shared,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Instance, StartError> {
        let id = inst.id.get_ref().to_string();
        let err = |what: String| StartError {
            instance: id.clone(),
            what,
            source: None,
        };
        let caused = |e: Box<dyn std::error::Error + Send + Sync + 'static>| StartError {
            instance: id.clone(),
            what: e.to_string(),
            source: Some(e),
        };
        let dirs = InstanceDirs::new(&config.instance_state_dir(inst.id.get_ref()));
        dirs.create()
            .map_err(|e| err(format!("cannot create {}: {e}", dirs.root.display())))?;
        let log_dir = config.instance_log_dir(inst.id.get_ref());
        let logs = Arc::new(
            InstanceLogs::open_with(&log_dir, &config.service.logs, config.service.log_rotate)
                .map_err(|e| err(format!("cannot open logs in {}: {e}", log_dir.display())))?,
        );
        let plan = config.site.plan().map_err(|e| err(e.to_string()))?;
        let directory = match inst.directory.kind {
            DirectoryKind::File => {
                let path = inst.directory.path.clone().unwrap_or_default();
                Arc::new(Directory::File(
                    FileDirectory::open(&path, plan.clone()).map_err(|e| caused(e.into()))?,
                ))
            }
            DirectoryKind::Ldap => Arc::new(Directory::Ldap(Box::new(
                LdapDirectory::new(&inst.directory, plan.clone(), Some(Arc::clone(&logs)))
                    .map_err(|e| caused(e.into()))?,
            ))),
        };
        let shared_directory = Arc::clone(&directory);
        let gateway = Arc::new(
            Gateway::open(&inst.gateway, &plan, &dirs.gateway).map_err(|e| caused(e.into()))?,
        );
        // Held mail must be visible in smtp-in/ as files: no intake log then.
        let opened = if inst.hold {
            Spool::open(&dirs.smtp_in)
        } else {
            Spool::open_logged(&dirs.smtp_in, None)
        };
        let (smtp_in, recovery) =
            opened.map_err(|e| err(format!("cannot open {}: {e}", dirs.smtp_in.display())))?;
        tracing::info!(
            event = "spool.recovered",
            instance = %id,
            queued = recovery.queued,
            from_log = recovery.from_log,
            tmp_removed = recovery.tmp_removed,
            orphans_removed = recovery.orphans_removed,
            corrupt = recovery.corrupt.len()
        );
        let (smtp_out, _) = Spool::open(&dirs.smtp_out)
            .map_err(|e| err(format!("cannot open {}: {e}", dirs.smtp_out.display())))?;
        let jobs = if shared.store.is_shared() {
            JobRecords::shared(shared.store.clone(), inst.id.get_ref().as_str())
        } else {
            JobRecords::open(&dirs.root.join("jobs"))
                .map_err(|e| err(format!("cannot create jobs/: {e}")))?
        };
        crate::metrics::track_jobs(&id, jobs.clone());
        let ctx = SessionContext::new(inst, smtp_in.clone(), Arc::clone(&logs), shutdown.clone())
            .map_err(|e| err(e.to_string()))?;
        let hostname = ctx.hostname.clone();
        if shared.store.is_shared() {
            tokio::spawn(watch_store(
                shared.store.clone(),
                Arc::clone(&ctx.unavailable),
                id.clone(),
                shutdown.clone(),
            ));
        }
        let listener = Listener::bind(Arc::new(ctx))
            .await
            .map_err(|e| err(e.to_string()))?;
        let listen = listener.local_addrs();
        for a in &listen {
            tracing::info!(event = "smtp.listening", instance = %id, addr = %a);
        }
        let delivery = Arc::new(
            Delivery::new(
                inst.id.get_ref().clone(),
                &inst.mail,
                smtp_out,
                dirs.badmail.clone(),
                Arc::clone(&logs),
            )
            .map_err(|e| err(e.to_string()))?,
        );
        let print = PrintUnread::new(
            inst,
            plan.clone(),
            shared.store.clone(),
            Arc::clone(&logs),
            &dirs.root,
            Arc::clone(&delivery),
            hostname.clone(),
        );
        let outbound = Arc::new(Outbound {
            instance: id.clone(),
            config: inst.clone(),
            plan,
            dirs: dirs.clone(),
            smtp_in,
            mailer: Arc::clone(&delivery),
            directory: Arc::clone(&directory),
            gateway: Arc::clone(&gateway),
            store: shared.store.clone(),
            reports: Arc::clone(&shared.reports),
            logs: Arc::clone(&logs),
            jobs,
            hostname: hostname.clone(),
            limits: mime::Limits::default(),
            renderer: Arc::clone(&shared.renderer),
            covers: Arc::clone(&shared.covers),
            print: Some(Arc::clone(&print)),
        });
        let received = Arc::new(tokio::sync::Notify::new());
        let inbound = Arc::new(Inbound {
            instance: id.clone(),
            config: inst.clone(),
            plan: outbound.plan.clone(),
            dirs: dirs.clone(),
            mailer: Arc::clone(&delivery),
            directory,
            reports: Arc::clone(&shared.reports),
            store: shared.store.clone(),
            logs: Arc::clone(&logs),
            hostname,
            wake: Arc::clone(&received),
            done: std::sync::Mutex::new(Vec::new()),
            print: Some(Arc::clone(&print)),
        });
        let gw_shutdown = shutdown.clone();
        let (gw_received, gw_wake) = (dirs.received.clone(), Arc::clone(&received));
        let work = &shared.processing;
        let mut tasks = vec![
            tokio::spawn(listener.run()),
            work.spawn(inbound.run(shutdown.clone())),
            work.spawn(delivery.run(shutdown.clone())),
            work.spawn(Arc::clone(&outbound).run_reports(shutdown.clone())),
            work.spawn(async move { gateway.run(gw_shutdown, gw_received, gw_wake).await }),
        ];
        tasks.push(work.spawn(print.run(shutdown.clone())));
        if inst.hold {
            tracing::warn!(event = "outbound.hold", instance = %id, "hold = true: accepted mail stays in smtp-in/");
        } else {
            tasks.push(work.spawn(outbound.run(shutdown)));
        }
        Ok(Instance {
            id,
            dirs,
            listen,
            logs,
            directory: shared_directory,
            received,
            tasks,
            _processing: Arc::clone(work),
        })
    }

    /// Waits until every task of the instance has stopped.
    pub async fn wait(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts every enabled instance; on failure the ones started are stopped by the caller's
/// shutdown signal.
pub async fn start_all(
    config: &Config,
    shutdown: watch::Receiver<bool>,
) -> Result<Vec<Instance>, StartError> {
    let shared = Shared::open(config).await?;
    let mut started = Vec::new();
    for inst in config.enabled_instances() {
        started.push(Instance::start(config, inst, &shared, shutdown.clone()).await?);
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
            let signals = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
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

/// How often a shared store is asked whether it answers, and how long it may take.
const STORE_WATCH: Duration = Duration::from_secs(2);

/// Keeps `unavailable` (the SMTP listener's RCPT gate) in step with a shared store: set while
/// the database does not answer `SELECT 1` within [`STORE_WATCH`], so the mail server keeps
/// new mail (`451 4.3.0`) instead of it piling up here without per-day counts; cleared as
/// soon as it answers again. Mail accepted before stays in `smtp-in/` and is retried.
async fn watch_store(
    store: Store,
    unavailable: Arc<std::sync::atomic::AtomicBool>,
    instance: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    use std::sync::atomic::Ordering;
    loop {
        let down = !store.ping(STORE_WATCH).await;
        if unavailable.swap(down, Ordering::Relaxed) != down {
            if down {
                tracing::error!(event = "store.unavailable", instance = %instance, "the state store does not answer: RCPT is answered 451 4.3.0 until it does");
            } else {
                tracing::info!(event = "store.available", instance = %instance, "the state store answers again: taking mail");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(STORE_WATCH) => {}
            _ = shutdown.changed() => return,
        }
    }
}
