//! Tells the service manager (systemd, `Type=notify`) what state `umsgate run` is in.
//!
//! Contract: [`notify_ready`] is called once every instance's listeners are bound and accept
//! connections, so that `systemctl start` returns (and units ordered after umsgate start)
//! only when mail can be delivered to it; [`notify_reloading`] when a reload begins (it must
//! be followed by [`notify_ready`] when the new configuration is in force, or the old one was
//! kept); [`notify_stopping`] when a graceful stop begins. Without `NOTIFY_SOCKET` (run from
//! a shell, a container, a test) each is a no-op. A failed notification is logged as a
//! warning and never stops umsgate: mail matters more than the manager's view of it.
//!
//! Implementation summary: the `sd-notify` crate sends one datagram per call to the socket
//! named by `NOTIFY_SOCKET`; the variable stays set so that later notifications still reach
//! it (children such as the office converter do not speak the protocol). `RELOADING=1`
//! carries `MONOTONIC_USEC`, which `Type=notify-reload` requires and plain `notify` accepts.

use sd_notify::NotifyState;

/// `READY=1` with a one-line `STATUS=` (e.g. "2 instances listening").
pub fn notify_ready(status: &str) {
    send("ready", &[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `RELOADING=1` (with `MONOTONIC_USEC`): a reload of the configuration begins.
pub fn notify_reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send("reloading", &[NotifyState::Reloading, now]),
        Err(e) => {
            tracing::warn!(event = "service_manager.notify_failed", state = "reloading", error = %e);
            send("reloading", &[NotifyState::Reloading]);
        }
    }
}

/// `STOPPING=1`: a graceful stop begins (no new connections, sessions finish).
pub fn notify_stopping() {
    send("stopping", &[NotifyState::Stopping]);
}

fn send(what: &str, states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!(event = "service_manager.notify_failed", state = what, error = %e);
    }
}
