//! SMTP, both ends: the [`server`] the mail server relays outbound mail to, and the
//! [`client`] that delivers inbound mail and reports to the mail server.
//!
//! Contract: the server answers `250` only once the spool has the message durably
//! ([`umsgate_spool::Spool::store`]) and refuses what it cannot take with a reply code, an
//! enhanced status and a text; the client reports per recipient whether a failure is
//! temporary or permanent ([`DeliveryError`]). Neither knows what the mail means: turning it
//! into jobs, or jobs into mail, is the application's.
#![forbid(unsafe_code)]

pub mod client;
mod error;
pub mod line_ends;
pub mod server;

pub use error::DeliveryError;
