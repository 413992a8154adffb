//! `umsgate info [--json]`: version, instances, their folders and queue counts.
//!
//! Contract: every configured instance is listed, enabled or not, with a count for every
//! queue state (zeros included, so that scripts find each key); the JSON form carries the
//! same facts as the text.
//!
//! Implementation summary: one [`admin::list`] over all instances, counted per instance and
//! state.

use std::collections::BTreeMap;
use std::path::PathBuf;

use umsgate::config::Config;
use umsgate::spool::admin;
use umsgate::spool::layout::{InstanceDirs, QueueState};

use super::Exit;

#[derive(serde::Serialize)]
struct InstanceInfo {
    id: String,
    name: String,
    enabled: bool,
    listen: Vec<String>,
    state_dir: PathBuf,
    log_dir: PathBuf,
    queues: BTreeMap<&'static str, usize>,
}

pub(crate) fn info(config: &Config, json: bool) -> Exit {
    let items = match admin::list(config, None, None) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cannot read the queues: {e}");
            return Exit::Runtime;
        }
    };
    let instances: Vec<InstanceInfo> = config
        .instances
        .iter()
        .map(|i| {
            let id = i.id.get_ref();
            let mut queues: BTreeMap<&'static str, usize> =
                QueueState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
            for item in items.iter().filter(|it| it.instance == id.as_str()) {
                *queues.entry(item.state.as_str()).or_default() += 1;
            }
            InstanceInfo {
                id: id.to_string(),
                name: i.name.clone(),
                enabled: i.enabled,
                listen: i
                    .smtp_in
                    .listen
                    .get_ref()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                state_dir: InstanceDirs::new(&config.instance_state_dir(id)).root,
                log_dir: config.instance_log_dir(id),
                queues,
            }
        })
        .collect();
    if json {
        let v = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "config": config.path,
            "instances": instances,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Exit::Success;
    }
    println!("umsgate {}", env!("CARGO_PKG_VERSION"));
    println!("config: {}", config.path.display());
    for i in instances {
        println!(
            "instance {} ({}){}: listen {}",
            i.id,
            i.name,
            if i.enabled { "" } else { " [disabled]" },
            i.listen.join(", ")
        );
        println!("  state: {}", i.state_dir.display());
        println!("  logs:  {}", i.log_dir.display());
        let q: Vec<String> = i.queues.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  queues: {}", q.join(" "));
    }
    Exit::Success
}
