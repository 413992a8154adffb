//! Inbound: received fax / SMS / voice → e-mail, and the delivery of every mail umsgate
//! writes (inbound messages, reports) to the mail server: at once, then from `smtp-out/`.

mod called;
pub mod compose;
pub mod delivery;
pub mod received;
mod texts;
pub mod worker;
