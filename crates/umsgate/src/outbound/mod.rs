//! Outbound: e-mail → fax / SMS / voice job.
//!
//! The mail server relays to the [`smtp_server`]; accepted mail waits durably in `smtp-in/`
//! until it is turned into gateway jobs.

pub mod smtp_server;
