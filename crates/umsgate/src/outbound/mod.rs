//! Outbound: e-mail → fax / SMS / voice job.
//!
//! The mail server relays to the [`smtp_server`]; accepted mail waits durably in `smtp-in/`
//! until it is read ([`mime`]), checked against the sender's rights and turned into gateway
//! jobs; a [`refusal`] ends in an error report to the sender.

pub mod jobs;
pub mod mime;
pub mod policy;
pub mod refusal;
pub mod smtp_server;
pub mod worker;
