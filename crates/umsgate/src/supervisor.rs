//! The running instances of `umsgate run`, and their reload on SIGHUP.
//!
//! Contract: [`Supervisor::start`] starts every enabled instance, each with a shutdown signal
//! of its own. [`Supervisor::reload`] re-reads the configuration file: when it is invalid,
//! its errors are logged and everything keeps running on the configuration already loaded;
//! when it is valid, an instance whose `[[instance]]` table changed (or `[site]`, which every
//! instance reads) is stopped gracefully — its listener closes, its sessions finish their
//! transaction and get `421`, its workers stop between messages — and started again on the
//! new table; a new or newly enabled instance is started; a removed or disabled one is
//! stopped; an unchanged one is not touched, so its listener and open sessions carry on.
//! `[service]` (folders, store, renderer, listeners of the process) is read at start only: a
//! change there is logged as needing a restart and not applied. An instance that fails to
//! start on reload is logged and tried again by the next reload. [`Supervisor::stop`]
//! stops every instance and waits for them. After the start and after every reload that
//! was applied, the configuration and the running instances are handed to the console
//! ([`Supervisor::subscribe`]), so that it shows and logs users in to what runs now; a
//! [`ReloadRequest`] (from the console) is answered with what the reload did.
//!
//! Implementation summary: "changed" compares the instance's table as TOML values (comments,
//! layout and the position in the file do not count); what a `*_file` secret or the users
//! file contains is not compared, so a changed secret file is picked up by a restart, or by
//! a reload after any change to the instance's table. The configuration the instances run on
//! is kept whole, with the `[service]` section of the start, so that `queue`-style views
//! (the metrics' queue depths) see the instances that run.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::{Config, ConfigErrors};
use crate::instance::{Instance, Shared, StartError};

/// One running instance and what it was started from.
struct Running {
    instance: Instance,
    stop: watch::Sender<bool>,
    table: Option<toml::Value>,
}

/// A request to re-read the configuration file, as SIGHUP does (the console's Instances
/// page sends it after an edit); the outcome goes back on `reply`.
#[derive(Debug)]
pub struct ReloadRequest {
    pub reply: tokio::sync::oneshot::Sender<Result<Reloaded, ReloadError>>,
}

/// Every running instance of the process.
pub struct Supervisor {
    shared: Shared,
    config: Arc<Config>,
    /// What the console sees; sent after the start and after every reload.
    snapshot: watch::Sender<crate::web::Snapshot>,
    /// The file's `[site]` and `[service]` as last loaded.
    site: Option<toml::Value>,
    service: Option<toml::Value>,
    running: BTreeMap<String, Running>,
}

/// What a reload did, for the log and the tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reloaded {
    pub started: Vec<String>,
    pub restarted: Vec<String>,
    pub stopped: Vec<String>,
    pub unchanged: Vec<String>,
    pub failed: Vec<String>,
    /// `[service]` keys changed in the file but not applied (need a restart).
    pub service_changed: bool,
}

/// Why a reload was refused.
#[derive(Debug)]
pub enum ReloadError {
    /// The file is not a valid configuration; nothing changed.
    Invalid(ConfigErrors),
}

impl std::fmt::Display for ReloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadError::Invalid(_) => write!(f, "the configuration is invalid; nothing changed"),
        }
    }
}

impl std::error::Error for ReloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReloadError::Invalid(e) => Some(e),
        }
    }
}

/// The raw tables of the file: `[service]`, `[site]`, and each `[[instance]]` by id.
struct Tables {
    service: Option<toml::Value>,
    site: Option<toml::Value>,
    instances: BTreeMap<String, toml::Value>,
}

impl Tables {
    /// Reads the tables of a file that already parsed as a configuration.
    fn of(path: &Path) -> Tables {
        let table = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .unwrap_or_default();
        let instances = match table.get("instance") {
            Some(toml::Value::Array(a)) => a
                .iter()
                .filter_map(|v| {
                    let id = v.get("id")?.as_str()?.to_owned();
                    Some((id, v.clone()))
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        Tables {
            service: table.get("service").cloned(),
            site: table.get("site").cloned(),
            instances,
        }
    }
}

impl Supervisor {
    /// Opens the shared parts and starts every enabled instance. On failure the instances
    /// already started are stopped before the error is returned.
    pub async fn start(config: &Config) -> Result<Supervisor, StartError> {
        let shared = Shared::open(config).await?;
        let tables = Tables::of(&config.path);
        let config_arc = Arc::new(config.clone());
        let (snapshot, _) = watch::channel(crate::web::Snapshot {
            config: Arc::clone(&config_arc),
            running: Vec::new(),
            wake_inbound: Vec::new(),
        });
        let mut sup = Supervisor {
            shared,
            snapshot,
            config: config_arc,
            site: tables.site,
            service: tables.service,
            running: BTreeMap::new(),
        };
        for inst in config.enabled_instances() {
            let id = inst.id.get_ref().to_string();
            let table = tables.instances.get(&id).cloned();
            if let Err(e) = sup.start_one(config, &id, table).await {
                sup.stop().await;
                return Err(e);
            }
        }
        sup.publish();
        Ok(sup)
    }

    /// What the console needs of the running instances now.
    pub fn snapshot(&self) -> crate::web::Snapshot {
        crate::web::Snapshot {
            config: Arc::clone(&self.config),
            running: self
                .instances()
                .map(|i| crate::web::Running {
                    id: i.id.clone(),
                    listen: i.listen.clone(),
                    directory: Arc::clone(&i.directory),
                })
                .collect(),
            wake_inbound: self
                .instances()
                .map(|i| (i.id.clone(), Arc::clone(&i.received)))
                .collect(),
        }
    }

    /// The console's view, renewed after every reload.
    pub fn subscribe(&self) -> watch::Receiver<crate::web::Snapshot> {
        self.snapshot.subscribe()
    }

    fn publish(&self) {
        self.snapshot.send_replace(self.snapshot());
    }

    async fn start_one(
        &mut self,
        config: &Config,
        id: &str,
        table: Option<toml::Value>,
    ) -> Result<(), StartError> {
        let Some(inst) = config
            .enabled_instances()
            .find(|i| i.id.get_ref().as_str() == id)
        else {
            return Ok(());
        };
        let (tx, rx) = watch::channel(false);
        let instance = Instance::start(config, inst, &self.shared, rx).await?;
        self.running.insert(
            id.to_owned(),
            Running {
                instance,
                stop: tx,
                table,
            },
        );
        Ok(())
    }

    /// The configuration the instances run on.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }

    /// The running instances.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.running.values().map(|r| &r.instance)
    }

    /// Re-reads the configuration file (see the module contract).
    pub async fn reload(&mut self) -> Result<Reloaded, ReloadError> {
        let path = self.config.path.clone();
        let mut new = Config::load(&path).map_err(ReloadError::Invalid)?;
        let tables = Tables::of(&path);
        let mut done = Reloaded {
            service_changed: tables.service != self.service,
            ..Reloaded::default()
        };
        // [service] is applied at start only.
        new.service = self.config.service.clone();
        let site_changed = tables.site != self.site;
        let enabled: Vec<String> = new
            .enabled_instances()
            .map(|i| i.id.get_ref().to_string())
            .collect();
        let ids: Vec<String> = self.running.keys().cloned().collect();
        for id in ids {
            let keep = enabled.contains(&id)
                && !site_changed
                && self.running.get(&id).map(|r| &r.table)
                    == Some(&tables.instances.get(&id).cloned());
            if keep {
                done.unchanged.push(id);
                continue;
            }
            if let Some(r) = self.running.remove(&id) {
                stop_one(r).await;
            }
            if enabled.contains(&id) {
                done.restarted.push(id);
            } else {
                done.stopped.push(id);
            }
        }
        for id in &enabled {
            if self.running.contains_key(id) {
                continue;
            }
            let table = tables.instances.get(id).cloned();
            match self.start_one(&new, id, table).await {
                Ok(()) => {
                    if !done.restarted.contains(id) {
                        done.started.push(id.clone());
                    }
                }
                Err(e) => {
                    tracing::error!(event = "reload.start_failed", instance = %id, error = %e, "the instance stays stopped until the next reload");
                    done.restarted.retain(|r| r != id);
                    done.failed.push(id.clone());
                }
            }
        }
        self.config = Arc::new(new);
        self.site = tables.site;
        self.publish();
        Ok(done)
    }

    /// Stops every instance and waits until they have stopped.
    pub async fn stop(&mut self) {
        let running = std::mem::take(&mut self.running);
        for r in running.values() {
            let _ = r.stop.send(true);
        }
        for (_, r) in running {
            crate::metrics::untrack_jobs(&r.instance.id);
            r.instance.wait().await;
        }
    }
}

async fn stop_one(r: Running) {
    crate::metrics::untrack_jobs(&r.instance.id);
    let _ = r.stop.send(true);
    r.instance.wait().await;
}
