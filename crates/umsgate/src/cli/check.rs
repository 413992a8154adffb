//! `umsgate check`: the configuration is valid, and every enabled instance reaches its peers.
//!
//! Contract: by the time this runs, [`load`](super::load) has validated the configuration
//! (an invalid one already ended in [`Exit::Config`] with file, line and key). Each peer of
//! each enabled instance — the directory, the mail server, the gateway's folder — is asked
//! once and gets one line, `ok` or `FAILED` with the reason, and so does each cover template
//! that cannot be used (with its file); any failure answers [`Exit::Config`]. Each
//! print-unread rule's printer is asked for its state over IPP (`Get-Printer-Attributes`):
//! one that cannot be reached or does not accept jobs fails. The renderer's converters
//! (LibreOffice, Chromium) must be installed unless switched off (`render.converter`,
//! `render.html` = "none"). A PostgreSQL state store is connected to and migrated as `run`
//! does it (its URL is shown with the password redacted), and a failure
//! names the likely cause (wrong password, server unreachable, no such database). A HylaFAX
//! gateway logs in to hfaxd (`USER`, `PASS`, `NOOP`).
//!
//! Every listen address (`smtp_in.listen` of each enabled instance, `metrics.listen`,
//! `web.listen`) is bound once and released: one that another program holds fails; one the
//! running service holds is reported as such (`listen_check`). A Kannel gateway reads
//! bearerbox's status page (`status_url`: at least one SMSC online) or, without one, asks
//! the sendsms URL for an answer.
//! With `--config-only` (the systemd unit's `ExecStartPre`) only
//! the configuration and the cover templates are checked: a peer that is down at boot must
//! not keep umsgate from starting, since it retries on its own.
//!
//! Implementation summary: the instances' probes are [`umsgate::diagnostics`]' (which the
//! console's Instances page runs too), each given at most a minute; the file directory is
//! opened as the instance would open it.

use std::time::Duration;

use umsgate::config::Config;
use umsgate::diagnostics::{self, Outcome};

use super::{Exit, runtime};

/// Longest wait for one peer's answer.
const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// A store failure with what the administrator should look at.
fn store_failure(e: &umsgate::store::StoreError) -> String {
    use std::error::Error as _;
    let full = e.to_string();
    let mut text = full
        .strip_prefix("state store: ")
        .unwrap_or(&full)
        .to_owned();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) {
            text = format!("{text}: {s}");
        }
        cause = c.source();
    }
    let hint = if text.contains("password authentication failed") {
        " (wrong user or password: check the URL and service.store_password_file)"
    } else if text.contains("Connection refused")
        || text.contains("no connection to")
        || text.contains("lookup address")
    {
        " (is the database server running and reachable from here?)"
    } else if text.contains("does not exist") {
        " (create the database and its owner first)"
    } else {
        ""
    };
    format!("{text}{hint}")
}

pub(crate) fn check(config: &Config, config_only: bool) -> Exit {
    println!(
        "{}: configuration is valid ({} instance(s))",
        config.path.display(),
        config.instances.len()
    );
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return e,
    };
    let mut failed = false;
    // The state store: a PostgreSQL store is connected to (and migrated) as `run` would; the
    // SQLite file is made by `run` itself.
    let store_name = umsgate::config::store::redact(config.service.store.get_ref());
    if store_name == "sqlite" {
        println!(
            "state store: ok: sqlite: {}",
            config.service.state_dir.join("umsgate.db").display()
        );
    } else {
        match rt.block_on(async {
            let store = umsgate::store::Store::connect(&config.service).await?;
            let described = store.describe().await;
            store.close().await;
            described
        }) {
            Ok(s) => println!("state store: ok: {store_name}: {s}"),
            Err(e) => {
                failed = true;
                println!("state store: FAILED: {store_name}: {}", store_failure(&e));
            }
        }
    }
    // Every listen address: free, or held by the running service itself.
    let service_pid = super::run::running_pid(config);
    for (what, addr) in super::listen_check::addresses(config) {
        match super::listen_check::try_bind(addr, service_pid) {
            Ok(s) => println!("{what}: ok: {s}"),
            Err(e) => {
                failed = true;
                println!("{what}: FAILED: {e}");
            }
        }
    }
    // Cover templates: each one that cannot be used gets its own line, with its file.
    match umsgate::rendering::covers(config) {
        Ok(covers) => {
            for problem in covers.problems() {
                failed = true;
                println!("cover pages: FAILED: {problem}");
            }
            let names: Vec<&str> = covers.names().collect();
            println!("cover pages: ok: {}", names.join(", "));
        }
        Err(e) => {
            failed = true;
            println!("cover pages: FAILED: {e}");
        }
    }
    if config_only {
        return if failed { Exit::Config } else { Exit::Success };
    }
    // The renderer's converters: installed where the configuration says they are (they are
    // started by the first document, not here).
    for (what, line) in umsgate::rendering::converters(config) {
        match line {
            Ok(s) => println!("{what}: ok: {s}"),
            Err(e) => {
                failed = true;
                println!("{what}: FAILED: {e}");
            }
        }
    }
    if let Err(e) = config.site.plan() {
        eprintln!("{e}");
        return Exit::Config;
    }
    for inst in config.enabled_instances() {
        let id = inst.id.get_ref();
        for check in rt.block_on(diagnostics::instance(config, inst, PROBE_LIMIT)) {
            match check.outcome {
                Outcome::Ok(s) => println!("instance {id}: {}: ok: {s}", check.what),
                Outcome::Failed(e) => {
                    failed = true;
                    println!("instance {id}: {}: FAILED: {e}", check.what);
                }
            }
        }
    }
    if failed { Exit::Config } else { Exit::Success }
}
