//! Job records: what umsgate must remember about a job handed to the gateway until its
//! delivery report has been mailed — `<state>/<instance>/jobs/<job-id>.json`.
//!
//! Contract: the record is written durably *before* the job is submitted, so a report that
//! arrives after a restart still finds who to tell, in which language. Job ids are
//! `<queue-id>-<recipient index>`: deterministic, so a resubmission after a crash carries the
//! same id and the gateway recognises it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use umsgate_domain::{Language, Service};

use crate::gateway::write_file_durably;

/// Everything the delivery report needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub service: Service,
    pub e164: String,
    /// The address the user wrote (`+4930123456@fax.example.com`).
    pub rcpt_address: String,
    /// Where reports go; `None` for the null sender.
    pub report_to: Option<String>,
    /// The directory entry whose limits were charged.
    pub user: String,
    pub language: Language,
    pub html: bool,
    /// The user chose "no delivery reports".
    pub report_delete: bool,
    pub subject: Option<String>,
    pub original_message_id: Option<String>,
    pub pages: Option<u32>,
    pub queued_at: String,
}

/// The folder of job records.
#[derive(Debug, Clone)]
pub struct JobRecords {
    dir: PathBuf,
}

impl JobRecords {
    pub fn open(dir: &Path) -> std::io::Result<JobRecords> {
        std::fs::create_dir_all(dir)?;
        Ok(JobRecords {
            dir: dir.to_owned(),
        })
    }

    pub fn write(&self, r: &JobRecord) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(r).map_err(std::io::Error::other)?;
        write_file_durably(&self.dir, &format!("{}.json", r.job_id), &bytes)
    }

    pub fn read(&self, job_id: &str) -> std::io::Result<JobRecord> {
        let bytes = std::fs::read(self.dir.join(format!("{job_id}.json")))?;
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)
    }

    pub fn remove(&self, job_id: &str) -> std::io::Result<()> {
        std::fs::remove_file(self.dir.join(format!("{job_id}.json")))
    }
}
