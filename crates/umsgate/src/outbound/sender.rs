//! Who sent a message: the directory entry whose rights apply, and where reports go.
//!
//! Contract: [`Outbound::resolve_sender`] asks the directory for the envelope sender (or, for
//! the null sender, the `From:` address). Not found, the instance's unknown-sender rule
//! decides: `send_as` charges a named user (reports still go to the sender), `delete` and
//! `notify` end the message. A directory that cannot be asked is a [`WorkError`]: the message
//! waits. A malformed settings attribute grants the instance defaults only, and is logged with
//! the user's identity.

use umsgate_domain::UserSettings;

use super::error::WorkError;
use super::policy::{self, UnknownSenderOutcome};
use super::worker::Outbound;
use crate::config::UnknownSenderAction;
use crate::directory::User;

/// The sender as the directory and the unknown-sender rule see him.
pub(super) enum SenderResolution {
    Known(Sender),
    /// Not in the directory, and not sent as anybody else.
    Unknown(UnknownSenderOutcome),
}

/// Who the jobs of a message are charged to, and where reports go.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The directory entry whose settings apply.
    pub user: User,
    pub settings: Option<UserSettings>,
    /// The address reports go to (the original sender, also with `send_as`).
    pub report_to: Option<String>,
}

impl Outbound {
    pub(super) async fn resolve_sender(
        &self,
        address: Option<&str>,
    ) -> Result<SenderResolution, WorkError> {
        let found = match address {
            Some(a) => {
                let started = std::time::Instant::now();
                let found = self.directory.by_sender(a).await;
                crate::metrics::lookup_time(
                    &self.instance,
                    crate::metrics::Lookup::Sender,
                    started.elapsed(),
                );
                found.map_err(WorkError::Directory)?
            }
            None => None,
        };
        let user = match found {
            Some(u) => u,
            None => {
                let us = &self.config.defaults.unknown_sender;
                let action = *us.action.get_ref();
                let send_as = match action {
                    UnknownSenderAction::SendAs => self
                        .directory
                        .by_sender(&us.send_as)
                        .await
                        .map_err(WorkError::Directory)?,
                    _ => None,
                };
                match (policy::unknown_sender(action, send_as.is_some()), send_as) {
                    (UnknownSenderOutcome::SendAs, Some(u)) => u,
                    (outcome, _) => {
                        if action == UnknownSenderAction::SendAs {
                            tracing::error!(event = "outbound.send_as_missing", instance = %self.instance, send_as = %us.send_as, "the send_as user is not in the directory; notifying instead");
                        }
                        return Ok(SenderResolution::Unknown(outcome));
                    }
                }
            }
        };
        let settings = match user.ums.as_deref() {
            None | Some("") => None,
            Some(attr) => match UserSettings::parse(attr) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(event = "outbound.bad_settings", instance = %self.instance, user = %user.id, error = %e, "malformed UMS attribute: instance defaults apply");
                    self.logs
                        .ldap
                        .line(&format!("bad_settings user={} error={e}", user.id));
                    None
                }
            },
        };
        Ok(SenderResolution::Known(Sender {
            user,
            settings,
            report_to: address.map(str::to_owned),
        }))
    }
}
