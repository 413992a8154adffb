//! umsgate: a unified-messaging mail connector.
//!
//! Mail in, fax/SMS/voice out — and back. Read the tree in the direction the data flows:
//!
//! ```text
//! outbound   mail server ─► smtp_server ─► spool(smtp-in) ─► … ─► gateway
//! inbound    gateway ─► received/ ─► … ─► delivery (spool smtp-out/ for retries) ─► mail server
//! ```
//!
//! The spine both directions share: [`config`] (one validated snapshot), [`spool`] (durable
//! queue folders), [`logs`] (category files), [`address`] (address templates) and
//! [`clock`]. [`instance`] wires one `[[instance]]` from its configuration.
#![forbid(unsafe_code)]

pub mod address;
pub mod clock;
pub mod config;
pub mod demo;
pub mod directory;
pub mod gateway;
pub mod inbound;
pub mod instance;
pub mod logs;
pub mod outbound;
pub mod reports;
pub mod rounds;
pub mod spool;
pub mod store;
