//! The renderer itself: a job's parts → pages, then one document with an optional cover
//! page in front.
//!
//! Contract: [`Renderer::render`] renders every part of a message once (the expensive step,
//! shared by all fax recipients of the message) and returns a [`Body`] with its real page
//! count, or the first part that could not be rendered. [`Body::to_pdf`] and
//! [`Body::to_tiff`] then put a recipient's cover page in front (cheap). Parts are rendered
//! in order: body, then attachments; a forwarded mail arrives already flattened by the
//! caller into a text part (its headers and body) followed by its own attachments.
//! CPU-bound work (PDF parsing, image decoding, merging) runs on tokio's blocking pool.
//!
//! Decisions: an HTML-only body goes through Chromium when it is configured and reachable;
//! when Chromium is not installed, or fails on the page, its text (which the caller
//! extracts) is laid out instead — a body is never refused for its markup. Office files
//! need the LibreOffice converter: without one they are refused as unsupported; with one
//! that is down, the job is retried ([`RenderError::is_temporary`]).

use crate::browser::HtmlConverter;
use crate::layout::{self, Geometry, Page};
use crate::office::{OfficeConverter, OfficeFormat};
use crate::tiff::TiffCoding;
use crate::{Limits, RenderError, RenderErrorKind, image, merge, text_pdf};

/// One thing to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The display name (an attachment's file name, cleaned), never used as a path.
    pub name: Option<String>,
    /// `type/subtype`, lowercase.
    pub content_type: String,
    pub content: Content,
}

/// What a part holds, by how it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Plain text, laid out in a fixed-width font.
    Text(String),
    /// An HTML document, and its text for when it cannot be rendered as HTML.
    Html { html: String, text: String },
    /// PNG, JPEG, GIF, BMP or WebP.
    Image(Vec<u8>),
    /// A PDF, passed through.
    Pdf(Vec<u8>),
    /// A fax TIFF, its CCITT data passed through.
    Tiff(Vec<u8>),
    /// An Office or OpenDocument file.
    Office { data: Vec<u8>, format: OfficeFormat },
}

/// A part's pages.
#[derive(Debug, Clone)]
enum Pages {
    /// Laid-out text: drawn as PDF or rasterised straight to TIFF.
    Text(Vec<Page>),
    /// A PDF and its page count.
    Pdf { data: Vec<u8>, pages: u32 },
}

impl Pages {
    fn count(&self) -> u32 {
        match self {
            Pages::Text(p) => u32::try_from(p.len()).unwrap_or(u32::MAX),
            Pages::Pdf { pages, .. } => *pages,
        }
    }
}

/// A message's parts, rendered: what every fax recipient of the message gets after the cover.
#[derive(Debug, Clone)]
pub struct Body {
    parts: Vec<Pages>,
    pages: u32,
}

impl Body {
    /// Pages of the body and attachments (without a cover page).
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// The fax as one PDF, `cover` (a one-page PDF) in front.
    pub async fn to_pdf(&self, cover: Option<Vec<u8>>) -> Result<Vec<u8>, RenderError> {
        let body = self.clone();
        blocking(move || body.pdf_now(cover)).await?
    }

    fn pdf_now(&self, cover: Option<Vec<u8>>) -> Result<Vec<u8>, RenderError> {
        let mut documents: Vec<Vec<u8>> = Vec::with_capacity(self.parts.len() + 1);
        documents.extend(cover);
        for part in &self.parts {
            documents.push(match part {
                Pages::Text(pages) => text_pdf::write(pages).map_err(|e| internal(&e.0))?,
                Pages::Pdf { data, .. } => data.clone(),
            });
        }
        if documents.len() == 1 {
            return documents.pop().ok_or_else(|| internal("no document"));
        }
        let refs: Vec<&[u8]> = documents.iter().map(Vec::as_slice).collect();
        merge::merge(&refs).map_err(|e| internal(&format!("part {}: {}", e.index + 1, e.error)))
    }

    /// The fax as one TIFF class F: text pages rasterised directly, everything else through
    /// Ghostscript.
    pub async fn to_tiff(
        &self,
        cover: Option<Vec<u8>>,
        coding: TiffCoding,
        renderer: &Renderer,
    ) -> Result<Vec<u8>, RenderError> {
        let mut tiffs: Vec<Vec<u8>> = Vec::with_capacity(self.parts.len() + 1);
        if let Some(cover) = cover {
            tiffs.push(renderer.pdf_to_tiff(&cover, coding).await?);
        }
        for part in &self.parts {
            tiffs.push(match part {
                Pages::Text(pages) => {
                    let pages = pages.clone();
                    blocking(move || crate::tiff::text_to_tiff(&pages, coding))
                        .await?
                        .map_err(|e| internal(&e.to_string()))?
                }
                Pages::Pdf { data, .. } => renderer.pdf_to_tiff(data, coding).await?,
            });
        }
        blocking(move || {
            let refs: Vec<&[u8]> = tiffs.iter().map(Vec::as_slice).collect();
            crate::tiff::join(&refs).map_err(|e| internal(&e.to_string()))
        })
        .await?
    }
}

/// The renderer, with its converters.
#[derive(Debug)]
pub struct Renderer {
    limits: Limits,
    geometry: Geometry,
    office: Option<OfficeConverter>,
    browser: Option<HtmlConverter>,
    work_dir: std::path::PathBuf,
}

impl Renderer {
    /// A renderer with no external converters: text, images, PDF and TIFF only.
    pub fn new(limits: Limits, work_dir: std::path::PathBuf) -> Renderer {
        Renderer {
            limits,
            geometry: Geometry::default(),
            office: None,
            browser: None,
            work_dir,
        }
    }

    /// Adds the LibreOffice converter for Office and OpenDocument files.
    pub fn with_office(mut self, office: OfficeConverter) -> Renderer {
        self.office = Some(office);
        self
    }

    /// Adds Chromium for HTML bodies.
    pub fn with_browser(mut self, browser: HtmlConverter) -> Renderer {
        self.browser = Some(browser);
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The LibreOffice converter, if configured (for `umsgate check`).
    pub fn office(&self) -> Option<&OfficeConverter> {
        self.office.as_ref()
    }

    /// Renders every part; the first that fails ends the rendering with its error.
    pub async fn render(&self, parts: &[Part]) -> Result<Body, RenderError> {
        let mut rendered = Vec::with_capacity(parts.len());
        let mut total = 0u32;
        for part in parts {
            let pages = self.part(part).await.map_err(|kind| RenderError {
                name: part.name.clone(),
                content_type: part.content_type.clone(),
                kind,
            })?;
            total = total.saturating_add(pages.count());
            if total > self.limits.max_pages {
                return Err(RenderError {
                    name: part.name.clone(),
                    content_type: part.content_type.clone(),
                    kind: RenderErrorKind::TooManyPages {
                        limit: self.limits.max_pages,
                    },
                });
            }
            rendered.push(pages);
        }
        Ok(Body {
            parts: rendered,
            pages: total,
        })
    }

    async fn part(&self, part: &Part) -> Result<Pages, RenderErrorKind> {
        match &part.content {
            Content::Text(text) => Ok(Pages::Text(layout::paginate(text, self.geometry))),
            Content::Html { html, text } => match &self.browser {
                Some(browser) => match browser.to_pdf(html).await {
                    Ok(pdf) => self.checked_pdf(pdf).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "HTML body rendered as text");
                        Ok(Pages::Text(layout::paginate(text, self.geometry)))
                    }
                },
                None => Ok(Pages::Text(layout::paginate(text, self.geometry))),
            },
            Content::Image(data) => {
                let data = data.clone();
                let limits = self.limits.clone();
                let pdf = blocking(move || image::to_pdf(&data, &limits))
                    .await
                    .map_err(|e| e.kind)??;
                Ok(Pages::Pdf {
                    data: pdf,
                    pages: 1,
                })
            }
            Content::Pdf(data) => self.checked_pdf(data.clone()).await,
            Content::Tiff(data) => {
                let data = data.clone();
                let pdf = blocking(move || {
                    umsgate_fax::tiff_to_pdf(&[&data], &umsgate_fax::Limits::default())
                })
                .await
                .map_err(|e| e.kind)?
                .map_err(|e| RenderErrorKind::Malformed(e.to_string()))?;
                self.checked_pdf(pdf).await
            }
            Content::Office { data, format } => match &self.office {
                Some(office) => {
                    let pdf = office
                        .to_pdf(data, *format)
                        .await
                        .map_err(RenderErrorKind::Convert)?;
                    self.checked_pdf(pdf).await
                }
                None => Err(RenderErrorKind::Unsupported),
            },
        }
    }

    /// A PDF whose pages are counted and within the limit.
    async fn checked_pdf(&self, data: Vec<u8>) -> Result<Pages, RenderErrorKind> {
        let limit = self.limits.max_pages;
        blocking(move || {
            let pages =
                merge::count(&data).map_err(|e| RenderErrorKind::Malformed(e.to_string()))?;
            if pages > limit {
                return Err(RenderErrorKind::TooManyPages { limit });
            }
            Ok(Pages::Pdf { data, pages })
        })
        .await
        .map_err(|e| e.kind)?
    }

    /// A PDF (a cover page) as TIFF class F.
    pub async fn pdf_to_tiff(
        &self,
        pdf: &[u8],
        coding: TiffCoding,
    ) -> Result<Vec<u8>, RenderError> {
        crate::tiff::pdf_to_tiff(pdf, coding, &self.limits, &self.work_dir)
            .await
            .map_err(|e| RenderError {
                name: None,
                content_type: "application/pdf".to_owned(),
                kind: RenderErrorKind::Convert(e),
            })
    }
}

fn internal(detail: &str) -> RenderError {
    RenderError {
        name: None,
        content_type: "application/pdf".to_owned(),
        kind: RenderErrorKind::Malformed(detail.to_owned()),
    }
}

/// Runs CPU-bound work on the blocking pool; a panic there (a library defect on hostile
/// input) becomes an error, not a crash.
async fn blocking<T, F>(f: F) -> Result<T, RenderError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RenderError {
            name: None,
            content_type: String::new(),
            kind: RenderErrorKind::Malformed(format!("renderer stopped: {e}")),
        })
}
