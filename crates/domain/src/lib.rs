//! Pure domain types of umsgate, shared by both directions.
//!
//! Nothing in this crate does I/O: it holds the closed sets (services, rights, priorities,
//! report languages, per-day limits) that configuration, policy and the directory agree on,
//! the site's number plan with E.164 numbers ([`SitePlan`], [`PhoneNumber`]), and the UMS user
//! settings attribute ([`UserSettings`]). Every type parses from and prints to the exact
//! spelling of DESIGN.md §3, §4 and §5, so that the configuration file, the directory
//! attribute and the logs use one vocabulary. It also holds why a job can be refused
//! ([`Refusal`], what policy decides and reports explain) and the [`clock`]: the one place
//! the system time is read, and its written forms.
#![forbid(unsafe_code)]

pub mod clock;
mod closed_set;
mod limits;
mod number;
pub mod refusal;
mod service;
mod settings;
pub mod text;

pub use closed_set::UnknownValue;
pub use limits::{InboundFax, Language, PerDay, Priority, Rights};
pub use number::{NumberClass, NumberError, PhoneNumber, SitePlan, SitePlanError, SitePlanFields};
pub use refusal::Refusal;
pub use service::Service;
pub use settings::{Key, Setting, SettingsError, UserSettings};
