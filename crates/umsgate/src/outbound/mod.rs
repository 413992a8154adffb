//! Outbound: e-mail → fax / SMS / voice job.
//!
//! The mail server relays to the [`smtp_server`]; accepted mail waits durably in `smtp-in/`
//! until the [`worker`] takes it: the message is read ([`mime`]), the [`sender`] resolved,
//! each recipient's job planned ([`plan`], with the [`policy`], no I/O) and handed to the
//! engine ([`handover`]); a job not sent ends in a report to the sender ([`tell`], with the
//! [`refusal`]'s reason). The [`collector`] mails the engine's delivery reports.

mod collector;
pub mod error;
mod handover;
pub mod jobs;
pub mod mime;
pub mod plan;
pub mod policy;
pub use umsgate_domain::refusal;
pub mod sender;
pub use umsgate_smtp::server as smtp_server;
mod tell;
pub mod worker;

#[cfg(test)]
mod tests;
