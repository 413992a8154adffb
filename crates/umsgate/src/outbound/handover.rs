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
//! job is neither sent nor counted twice.
//!
//! Just before submission a fax's document is finished: the recipient's cover page is drawn
//! (a template that fails sends the fax without one, logged) and put in front of the pages
//! rendered for the message, in the engine's format (`gateway.fax_format`). A converter that
//! is down is a [`WorkError`]; a document that cannot be made is refused like an engine's
//! refusal. Each job submitted is a line of `msgid.log`
//! (`job id=… message-id=… service=… number=… sender=<…> billing=…`, the billing code quoted,
//! `-` when the user has none).

use std::sync::Arc;

use umsgate_config::FaxFormat;
use umsgate_domain::Service;
use umsgate_render::RenderError;
use umsgate_render::cover::RenderedCover;
use umsgate_render::tiff::TiffCoding;

use super::error::WorkError;
use super::jobs::JobRecordError;
use super::plan::{Planned, PlannedFax};
use super::refusal::Refusal;
use super::worker::{Outbound, refusal_of};
use crate::gateway::Job;
use crate::reports::ReportKind;
use crate::store::Reservation;

/// Why a job's document could not be finished.
enum Unfinished {
    /// Not sent; the sender is told with a report of this kind.
    Refused(ReportKind),
    /// Tried again later (a converter is down).
    Later(WorkError),
}

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
        let shared = self.jobs.is_shared();
        let reservation = if shared {
            let json = serde_json::to_string(record).map_err(|source| {
                WorkError::JobRecord(JobRecordError::Unreadable {
                    job_id: job.job_id.clone(),
                    source,
                })
            })?;
            self.store
                .reserve_job(
                    &self.instance,
                    user,
                    job.service,
                    planned.per_day,
                    &job.job_id,
                    &json,
                )
                .await
                .map_err(WorkError::Store)?
        } else if self
            .jobs
            .contains(&job.job_id)
            .await
            .map_err(WorkError::JobRecord)?
        {
            Reservation::Recorded
        } else if self
            .store
            .reserve(&self.instance, user, job.service, planned.per_day)
            .await
            .map_err(WorkError::Store)?
        {
            Reservation::Granted
        } else {
            Reservation::Refused
        };
        match reservation {
            // Recorded, so reserved, by an earlier hand-over of this message (taken again
            // after a removal that did not become durable): only the submission is repeated,
            // which the engine takes once.
            Reservation::Recorded => return self.submit(planned, false).await,
            Reservation::Refused => {
                return Ok(HandedOver::Refused(ReportKind::Refused(
                    Refusal::DailyLimit {
                        service: job.service,
                        limit: planned.per_day.unwrap_or(0),
                    },
                )));
            }
            Reservation::Granted => {}
        }
        // The shared store wrote the record with the reservation.
        if !shared && let Err(e) = self.jobs.write(record).await {
            self.give_back(user, job.service, None).await;
            return Err(WorkError::JobRecord(e));
        }
        self.submit(planned, true).await
    }

    /// The job as the engine gets it: a fax with its one rendered document (cover page in
    /// front, in the engine's format) and its real page count.
    async fn finished_job(&self, planned: &Planned) -> Result<Job, Unfinished> {
        let mut job = planned.job.clone();
        let Some(fax) = &planned.fax else {
            return Ok(job);
        };
        let cover = self.cover_page(&job.job_id, fax).await;
        job.cover = cover.as_ref().map(|c| c.used.clone());
        let (name, data, pages) =
            self.fax_document(fax, cover.map(|c| c.pdf))
                .await
                .map_err(|e| {
                    if e.is_temporary() {
                        Unfinished::Later(WorkError::Render(e))
                    } else {
                        Unfinished::Refused(ReportKind::Refused(refusal_of(e)))
                    }
                })?;
        job.pages = Some(pages);
        job.attachments = vec![name.to_owned()];
        job.files = vec![(name.to_owned(), data)];
        Ok(job)
    }

    /// The cover page of a fax, if it has one. A template that cannot be drawn must not stop
    /// the fax: it goes without a cover, and the reason is logged.
    async fn cover_page(&self, job_id: &str, fax: &PlannedFax) -> Option<RenderedCover> {
        let (asked, fields) = fax.cover.clone()?;
        let covers = Arc::clone(&self.covers);
        let name = asked.clone();
        let drawn = tokio::task::spawn_blocking(move || covers.render(name.as_deref(), &fields))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        match drawn {
            Ok(cover) => {
                if cover.fell_back {
                    tracing::warn!(event = "outbound.cover_unknown", instance = %self.instance, job_id, asked = ?asked, used = %cover.used, "no cover of that name: the default cover is used");
                }
                Some(cover)
            }
            Err(error) => {
                tracing::error!(event = "outbound.cover_failed", instance = %self.instance, job_id, error, "sent without a cover page");
                None
            }
        }
    }

    /// The fax document in the engine's format: its file name, bytes and pages.
    async fn fax_document(
        &self,
        fax: &PlannedFax,
        cover: Option<Vec<u8>>,
    ) -> Result<(&'static str, Vec<u8>, u32), RenderError> {
        let coding = match self.config.gateway.fax_format {
            FaxFormat::Pdf => None,
            FaxFormat::Tiff => Some(TiffCoding::G4),
            FaxFormat::TiffG3 => Some(TiffCoding::G3),
        };
        let name = if coding.is_some() {
            "fax.tif"
        } else {
            "fax.pdf"
        };
        match (fax.body_on_cover, cover) {
            // The message is on the cover: the cover is the fax.
            (true, Some(cover)) => {
                let data = match coding {
                    None => cover,
                    Some(c) => self.renderer.pdf_to_tiff(&cover, c).await?,
                };
                Ok((name, data, 1))
            }
            (_, cover) => {
                let pages = fax.body.pages().saturating_add(u32::from(cover.is_some()));
                let data = match coding {
                    None => fax.body.to_pdf(cover).await?,
                    Some(c) => fax.body.to_tiff(cover, c, &self.renderer).await?,
                };
                Ok((name, data, pages))
            }
        }
    }

    /// Submits a recorded job. When the engine refuses it for good, its slot and record go;
    /// when it cannot take it now, they go only if this hand-over made them (`reserved`) —
    /// otherwise the next attempt finds the record and only submits again.
    async fn submit(&self, planned: &Planned, reserved: bool) -> Result<HandedOver, WorkError> {
        let record = &planned.record;
        let user = &record.user;
        let job = match self.finished_job(planned).await {
            Ok(job) => job,
            Err(unfinished) => {
                let refused = matches!(unfinished, Unfinished::Refused(_));
                if reserved || refused {
                    self.give_back(user, planned.job.service, Some(&planned.job.job_id))
                        .await;
                }
                return match unfinished {
                    Unfinished::Refused(kind) => Ok(HandedOver::Refused(kind)),
                    Unfinished::Later(e) => Err(e),
                };
            }
        };
        let job = &job;
        match self.gateway.submit(job).await {
            Ok(()) => {
                crate::metrics::job(
                    &self.instance,
                    job.service,
                    crate::metrics::JobOutcome::Submitted,
                );
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
            && let Err(e) = self.jobs.remove(job_id).await
        {
            tracing::warn!(event = "outbound.job_record_remove_failed", instance = %self.instance, job_id, error = %e);
        }
    }
}
