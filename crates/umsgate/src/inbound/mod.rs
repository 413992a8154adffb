//! Inbound: received fax / SMS / voice → e-mail. The mail is handed to [`crate::delivery`],
//! which sends it to the mail server at once, then from `smtp-out/`.

mod called;
pub mod compose;
pub mod preview;
pub mod texts;
pub mod voice;
pub mod worker;
