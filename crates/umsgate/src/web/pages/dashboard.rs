//! `/`: every instance at a glance — whether it runs, where it listens, what waits in each
//! queue, jobs and deliveries of the last hour, and the last errors.
//!
//! Contract: the numbers of the last hour come from the end of `msgid.log` (at most
//! [`super::logs::TAIL_BYTES`]): `job …` lines are jobs handed to the engine, `out delivered
//! …` lines are deliveries to the mail server; the last errors are the last
//! [`LAST_ERRORS`] lines of `smtp.log` that say `error`, `fail` or `refused`. The queue
//! numbers are the queue index's ([`super::queues::counts`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::logs::{TAIL_BYTES, tail};
use crate::web::{Admin, Web};

/// Error lines shown per instance.
pub const LAST_ERRORS: usize = 5;

/// Jobs and deliveries in `msgid` lines written since `since`.
pub fn last_hour(lines: &[String], since: std::time::SystemTime) -> (usize, usize) {
    let mut jobs = 0;
    let mut deliveries = 0;
    for l in lines {
        let Some((at, rest)) = l.split_once(' ') else {
            continue;
        };
        if crate::clock::parse_rfc3339(at).is_none_or(|t| t < since) {
            continue;
        }
        if rest.starts_with("job ") {
            jobs += 1;
        } else if rest.starts_with("out delivered ") {
            deliveries += 1;
        }
    }
    (jobs, deliveries)
}

fn is_error(line: &str) -> bool {
    let l = line.to_lowercase();
    l.contains("error") || l.contains("fail") || l.contains("refused")
}

pub async fn dashboard(State(web): State<Arc<Web>>, Admin(ctx): Admin) -> Response {
    let running = web.running.read().map(|r| r.clone()).unwrap_or_default();
    let since = crate::clock::now()
        .checked_sub(Duration::from_secs(3600))
        .unwrap_or(std::time::UNIX_EPOCH);
    let mut instances = Vec::new();
    let config = web.current();
    for inst in &config.instances {
        let id = inst.id.get_ref();
        let log_dir = config.instance_log_dir(id);
        let (msgid, smtp) = {
            let (m, s) = (log_dir.join("msgid.log"), log_dir.join("smtp.log"));
            tokio::task::spawn_blocking(move || {
                (
                    tail(&m, TAIL_BYTES).unwrap_or_default(),
                    tail(&s, TAIL_BYTES).unwrap_or_default(),
                )
            })
            .await
            .unwrap_or_default()
        };
        let (jobs, deliveries) = last_hour(&msgid, since);
        let mut errors: Vec<String> = smtp.into_iter().filter(|l| is_error(l)).collect();
        let skip = errors.len().saturating_sub(LAST_ERRORS);
        errors.drain(..skip);
        let run = running.iter().find(|r| r.id == id.as_str());
        let state = match (inst.enabled, inst.hold, run.is_some()) {
            (false, _, _) => "disabled",
            (true, true, _) => "held",
            (true, false, true) => "running",
            (true, false, false) => "none",
        };
        let listen: Vec<String> = match run {
            Some(r) => r.listen.iter().map(ToString::to_string).collect(),
            None => inst
                .smtp_in
                .listen
                .get_ref()
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        let counts: Vec<_> = super::queues::counts(&web, inst)
            .await
            .into_iter()
            .map(|(t, n)| minijinja::context! { state => t.as_str(), count => n })
            .collect();
        instances.push(minijinja::context! {
            id => id.as_str(),
            name => inst.name.clone(),
            state,
            listen,
            jobs,
            deliveries,
            counts,
            errors,
        });
    }
    web.page(
        &ctx,
        StatusCode::OK,
        "dashboard.html",
        minijinja::context! { nav => "dashboard", instances },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn counts_the_last_hour_only() {
        let now = crate::clock::parse_rfc3339("2026-12-04T12:00:00Z").unwrap();
        let lines: Vec<String> = [
            "2026-12-04T10:59:00Z job id=1 message-id=- service=fax number=+49 sender=<a> billing=-",
            "2026-12-04T11:01:00Z job id=2 message-id=- service=fax number=+49 sender=<a> billing=-",
            "2026-12-04T11:30:00Z out delivered id=X message-id=<m> rcpts=1",
            "2026-12-04T11:31:00Z out id=Y message-id=<m> to=<a> kind=report job=2",
            "garbage",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(last_hour(&lines, now - Duration::from_secs(3600)), (1, 1));
    }
}
