//! Handing a planned job to the engine.
//!
//! Contract: [`Outbound::hand_over`] reserves the job's per-day slot (atomically, in the
//! store), writes the job record durably, then submits the job to the engine, in that order,
//! so that a delivery report always finds its record and a limit can never be passed by
//! concurrent workers. A used-up limit and an engine that refuses the job for good are
//! [`HandedOver::Refused`]; anything that may clear (store, record, engine busy) is a
//! [`WorkError`], after the slot and the record were given back. A job whose record exists was
//! reserved and recorded by an earlier hand-over of the same message (one taken again after a
//! crash): only its submission is repeated, which the engine takes once per job id — so the
//! job is neither sent nor counted twice. Each job submitted is a line of `msgid.log`
//! (`job id=… message-id=… service=… number=… sender=<…> billing=…`, the billing code quoted,
//! `-` when the user has none).

use std::sync::Arc;

use umsgate_config::FaxFormat;
use umsgate_domain::Service;
use umsgate_render::tiff::TiffCoding;

use super::error::WorkError;
use super::plan::Planned;
use super::refusal::Refusal;
use super::worker::{Outbound, refusal_of};
use crate::gateway::Job;
use crate::reports::ReportKind;

/// What became of a planned job.
#[derive(Debug)]
pub(super) enum HandedOver {
    Submitted,
    /// Not sent; the sender is told with a report of this kind.
    Refused(ReportKind),
}

impl Outbound {
    pub(super) async fn hand_over(&self, planned: &Planned) -> Result<HandedOver, WorkError> {
        let (job, record) = (&planned.job, &planned.record);
        let user = &record.user;
        if self.jobs.contains(&job.job_id) {
            // Recorded, so reserved, by an earlier hand-over of this message (taken again
            // after a removal that did not become durable): only the submission is repeated,
            // which the engine takes once.
            return self.submit(planned, false).await;
        }
        let granted = self
            .store
            .reserve(&self.instance, user, job.service, planned.per_day)
            .await
            .map_err(WorkError::Store)?;
        if !granted {
            return Ok(HandedOver::Refused(ReportKind::Refused(
                Refusal::DailyLimit {
                    service: job.service,
                    limit: planned.per_day.unwrap_or(0),
                },
            )));
        }
        let written = {
            let (jobs, record) = (self.jobs.clone(), record.clone());
            tokio::task::spawn_blocking(move || jobs.write(&record))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
        };
        if let Err(e) = written {
            self.give_back(user, job.service, None).await;
            return Err(WorkError::JobRecord(e));
        }
        self.submit(planned, true).await
    }

    /// The job as the engine gets it: a fax with its one rendered document (cover page in
    /// front, in the engine's format) and its real page count.
    async fn finished_job(&self, planned: &Planned) -> Result<Job, Result<ReportKind, WorkError>> {
        let mut job = planned.job.clone();
        let Some(fax) = &planned.fax else {
            return Ok(job);
        };
        let cover = match &fax.cover {
            None => None,
            Some((name, fields)) => {
                let asked = name.clone();
                let (covers, name, fields) =
                    (Arc::clone(&self.covers), name.clone(), fields.clone());
                let rendered =
                    tokio::task::spawn_blocking(move || covers.render(name.as_deref(), &fields))
                        .await;
                match rendered {
                    Ok(Ok(cover)) => {
                        if cover.fell_back {
                            tracing::warn!(event = "outbound.cover_unknown", instance = %self.instance, job_id = %job.job_id, asked = ?asked, used = %cover.used, "no cover of that name: the default cover is used");
                        }
                        job.cover = Some(cover.used.clone());
                        Some(cover.pdf)
                    }
                    Ok(Err(e)) => {
                        // A broken template must not stop faxes: sent without a cover, logged.
                        tracing::error!(event = "outbound.cover_failed", instance = %self.instance, job_id = %job.job_id, error = %e, "sent without a cover page");
                        job.cover = None;
                        None
                    }
                    Err(e) => {
                        tracing::error!(event = "outbound.cover_failed", instance = %self.instance, job_id = %job.job_id, error = %e, "sent without a cover page");
                        job.cover = None;
                        None
                    }
                }
            }
        };
        let with_cover = u32::from(cover.is_some());
        if fax.body_on_cover
            && let Some(cover) = cover
        {
            // The message is on the cover: the cover is the fax.
            let document = match self.config.gateway.fax_format {
                FaxFormat::Pdf => Ok(("fax.pdf", cover)),
                FaxFormat::Tiff => self
                    .renderer
                    .pdf_to_tiff(&cover, TiffCoding::G4)
                    .await
                    .map(|d| ("fax.tif", d)),
                FaxFormat::TiffG3 => self
                    .renderer
                    .pdf_to_tiff(&cover, TiffCoding::G3)
                    .await
                    .map(|d| ("fax.tif", d)),
            };
            return match document {
                Ok((name, data)) => {
                    job.pages = Some(1);
                    job.attachments = vec![name.to_owned()];
                    job.files = vec![(name.to_owned(), data)];
                    Ok(job)
                }
                Err(e) if e.is_temporary() => Err(Err(WorkError::Render(e))),
                Err(e) => Err(Ok(ReportKind::Refused(refusal_of(e)))),
            };
        }
        let document = match self.config.gateway.fax_format {
            FaxFormat::Pdf => fax.body.to_pdf(cover).await.map(|d| ("fax.pdf", d)),
            FaxFormat::Tiff => fax
                .body
                .to_tiff(cover, TiffCoding::G4, &self.renderer)
                .await
                .map(|d| ("fax.tif", d)),
            FaxFormat::TiffG3 => fax
                .body
                .to_tiff(cover, TiffCoding::G3, &self.renderer)
                .await
                .map(|d| ("fax.tif", d)),
        };
        let (name, data) = match document {
            Ok(d) => d,
            Err(e) if e.is_temporary() => return Err(Err(WorkError::Render(e))),
            Err(e) => return Err(Ok(ReportKind::Refused(refusal_of(e)))),
        };
        job.pages = Some(fax.body.pages().saturating_add(with_cover));
        job.attachments = vec![name.to_owned()];
        job.files = vec![(name.to_owned(), data)];
        Ok(job)
    }

    /// Submits a recorded job. When the engine refuses it for good, its slot and record go;
    /// when it cannot take it now, they go only if this hand-over made them (`reserved`) —
    /// otherwise the next attempt finds the record and only submits again.
    async fn submit(&self, planned: &Planned, reserved: bool) -> Result<HandedOver, WorkError> {
        let record = &planned.record;
        let user = &record.user;
        let job = match self.finished_job(planned).await {
            Ok(job) => job,
            Err(outcome) => {
                if reserved || outcome.is_ok() {
                    self.give_back(user, planned.job.service, Some(&planned.job.job_id))
                        .await;
                }
                return match outcome {
                    Ok(kind) => Ok(HandedOver::Refused(kind)),
                    Err(e) => Err(e),
                };
            }
        };
        let job = &job;
        match self.gateway.submit(job).await {
            Ok(()) => {
                tracing::info!(event = "outbound.submitted", instance = %self.instance, job_id = %job.job_id, service = %job.service, number = %job.e164, pages = ?job.pages, priority = %job.priority);
                // The billing code is the user's free text: quoted (and escaped), so that
                // it stays one field of one line.
                let billing = job
                    .billing
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), |b| format!("{b:?}"));
                self.logs.msgid.line(&format!(
                    "job id={} message-id={} service={} number={} sender=<{user}> billing={billing}",
                    job.job_id,
                    record.original_message_id.as_deref().unwrap_or("-"),
                    job.service,
                    job.e164
                ));
                Ok(HandedOver::Submitted)
            }
            Err(e) => {
                if reserved || !e.temporary {
                    self.give_back(user, job.service, Some(&job.job_id)).await;
                }
                if e.temporary {
                    Err(WorkError::Gateway(e))
                } else {
                    Ok(HandedOver::Refused(ReportKind::Failed { reason: e.detail }))
                }
            }
        }
    }

    /// Gives back the slot (and forgets the record) of a job that was not handed over. A
    /// failure here is logged: the count stays one too high for today, and a record without
    /// a job is never asked for.
    async fn give_back(&self, user: &str, service: Service, job_id: Option<&str>) {
        if let Err(e) = self.store.release(&self.instance, user, service).await {
            tracing::error!(event = "outbound.release_failed", instance = %self.instance, user, service = %service, error = %e, "a per-day slot stays counted");
        }
        if let Some(job_id) = job_id
            && let Err(e) = self.jobs.remove(job_id)
        {
            tracing::warn!(event = "outbound.job_record_remove_failed", instance = %self.instance, job_id, error = %e);
        }
    }
}
