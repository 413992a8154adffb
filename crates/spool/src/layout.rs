//! The folders of one instance under `state_dir/<instance-id>/` (DESIGN.md §7), by name, and
//! the queue states administrators see (`queue list --state`).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// Every folder of one instance.
#[derive(Debug, Clone)]
pub struct InstanceDirs {
    pub root: PathBuf,
    /// Accepted mail from the mail server, not yet processed.
    pub smtp_in: PathBuf,
    /// Archived deleted mail (unknown sender, refused).
    pub smtp_in_error: PathBuf,
    /// Received faxes/SMS/voice not yet turned into mail.
    pub received: PathBuf,
    /// Mail waiting for delivery to the mail server.
    pub smtp_out: PathBuf,
    /// Mail whose retries are exhausted.
    pub badmail: PathBuf,
    pub journal: PathBuf,
    pub gateway: PathBuf,
}

impl InstanceDirs {
    pub fn new(root: &Path) -> InstanceDirs {
        InstanceDirs {
            root: root.to_owned(),
            smtp_in: root.join("smtp-in"),
            smtp_in_error: root.join("smtp-in").join(super::ARCHIVE_DIR),
            received: root.join("received"),
            smtp_out: root.join("smtp-out"),
            badmail: root.join("smtp-out").join("badmail"),
            journal: root.join("journal"),
            gateway: root.join("gateway"),
        }
    }

    /// Creates every folder.
    pub fn create(&self) -> std::io::Result<()> {
        for d in [
            &self.smtp_in,
            &self.smtp_in_error,
            &self.received,
            &self.smtp_out,
            &self.badmail,
            &self.journal,
            &self.gateway,
        ] {
            std::fs::create_dir_all(d)?;
        }
        Ok(())
    }

    /// The folder that holds messages of `state` (deferred mail shares `smtp-out/`).
    pub fn folder(&self, state: QueueState) -> &Path {
        match state {
            QueueState::Incoming => &self.smtp_in,
            QueueState::Outgoing | QueueState::Deferred => &self.smtp_out,
            QueueState::Badmail => &self.badmail,
            QueueState::Error => &self.smtp_in_error,
        }
    }
}

/// Where a message waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum QueueState {
    /// `smtp-in/`: accepted from the mail server, to be processed.
    Incoming,
    /// `smtp-out/`, not yet tried.
    Outgoing,
    /// `smtp-out/`, tried and waiting for the next interval.
    Deferred,
    /// `smtp-out/badmail/`.
    Badmail,
    /// `smtp-in/error/`.
    Error,
}

impl QueueState {
    pub const ALL: [QueueState; 5] = [
        QueueState::Incoming,
        QueueState::Outgoing,
        QueueState::Deferred,
        QueueState::Badmail,
        QueueState::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueState::Incoming => "incoming",
            QueueState::Outgoing => "outgoing",
            QueueState::Deferred => "deferred",
            QueueState::Badmail => "badmail",
            QueueState::Error => "error",
        }
    }
}
