//! umsgate: a unified-messaging mail connector — the application.
//!
//! Mail in, fax/SMS/voice out — and back. Read the tree in the direction the data flows:
//!
//! ```text
//! outbound   mail server ─► smtp server ─► spool(smtp-in) ─► outbound ─► gateway
//! inbound    gateway ─► received/ ─► inbound ─► delivery (spool smtp-out/) ─► mail server
//!                                     reports ─┘
//! ```
//!
//! The spine both directions share is a crate each, so that it cannot depend on the
//! application or on itself in a circle: `umsgate-domain` (pure types, the clock, refusals),
//! `umsgate-config` (one validated snapshot, address templates, LDAP settings),
//! `umsgate-logs`, `umsgate-spool` (durable queue folders, journals, work rounds),
//! `umsgate-directory` (users file and LDAP) and `umsgate-smtp` (the listener and the client).
//! They are re-exported here under the names the application uses. This crate holds what
//! gives the mail a meaning: [`outbound`] (mail → jobs), [`inbound`] (received messages →
//! mail), [`delivery`] (mail to the mail server, with retries), [`gateway`] (the engines),
//! [`reports`], [`print`] (print-unread: read receipts and IPP), the state [`store`], and [`instance`], which wires one `[[instance]]` from
//! its configuration.
#![forbid(unsafe_code)]

pub use umsgate_config::{self as config, address};
pub use umsgate_directory as directory;
pub use umsgate_domain::clock;
pub use umsgate_logs as logs;
pub use umsgate_spool::{self as spool, rounds};

pub mod config_file;
pub mod delivery;
pub mod demo;
pub mod diagnostics;
pub mod gateway;
pub mod inbound;
pub mod instance;
pub mod message_journal;
pub mod metrics;
pub mod outbound;
pub mod print;
pub mod rendering;
pub mod reports;
pub mod routes;
pub mod service_manager;
pub mod store;
pub mod supervisor;
pub mod test_message;
pub mod web;
