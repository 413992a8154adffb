//! What the listener counts for the Prometheus exporter (the application's `metrics` module
//! installs the recorder and serves `/metrics`; without a recorder these calls do nothing).
//!
//! Contract: every message the listener answers at its end of DATA with `250` counts once in
//! [`MAIL_ACCEPTED`] and its time from the end of DATA to the `250` in [`INTAKE_SECONDS`];
//! every reply that refuses mail (a recipient, a sender, the message, the connection) counts
//! once in [`MAIL_REFUSED`] under a reason from [`Outcome::refusal`] — a closed set of names,
//! never text from the client. Protocol slips that refuse no mail (an unknown command, a bad
//! sequence) are not counted. Labels: `instance` (the configured id) and `reason`.

use std::time::Duration;

use super::reply::Outcome;
use umsgate_config::units::InstanceId;

/// Counter: messages accepted (`250` after DATA), by instance.
pub const MAIL_ACCEPTED: &str = "umsgate_smtp_mail_accepted_total";
/// Counter: refusals of mail, by instance and reason.
pub const MAIL_REFUSED: &str = "umsgate_smtp_mail_refused_total";
/// Histogram: seconds from the end of DATA to the `250`, by instance.
pub const INTAKE_SECONDS: &str = "umsgate_smtp_intake_seconds";

/// Label: the instance id.
pub const LABEL_INSTANCE: &str = "instance";
/// Label: why mail was refused ([`Outcome::refusal`]).
pub const LABEL_REASON: &str = "reason";

pub(super) fn accepted(instance: &InstanceId, took: Duration) {
    metrics::counter!(MAIL_ACCEPTED, LABEL_INSTANCE => instance.to_string()).increment(1);
    metrics::histogram!(INTAKE_SECONDS, LABEL_INSTANCE => instance.to_string())
        .record(took.as_secs_f64());
}

/// Counts `o` when it refuses mail.
pub(super) fn answered(instance: &InstanceId, o: &Outcome) {
    if let Some(reason) = o.refusal() {
        metrics::counter!(MAIL_REFUSED, LABEL_INSTANCE => instance.to_string(), LABEL_REASON => reason)
            .increment(1);
    }
}
