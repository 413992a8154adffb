//! The HylaFAX client against a scripted in-process hfaxd: replies, reconnects, refusals.
#![allow(clippy::unwrap_used)]

use super::*;
