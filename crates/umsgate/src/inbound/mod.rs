//! Inbound: received fax / SMS / voice → e-mail, and the delivery of every mail umsgate
//! writes (inbound messages, reports) from `smtp-out/` to the mail server.

pub mod compose;
pub mod delivery;
pub mod received;
mod texts;
pub mod worker;
