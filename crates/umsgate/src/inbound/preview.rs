//! The HTML part of an inbound mail and, for a fax, the previews of its first pages.
//!
//! Contract: [`FaxPreviews::make`] scales the first `reports.preview_pages` pages of a received
//! fax (its files in order) to about 100 dpi with grey levels (`umsgate_fax::previews`),
//! keeping at most [`PREVIEW_BYTES`] of images; the pages not shown are counted. It fails
//! when a file cannot be read or a page to show cannot be decoded, and then the caller
//! mails the fax without previews (the HTML says so): a preview never costs a fax. The
//! previews are made once per message and shared by the mails to all its addressees.
//!
//! [`html`] renders the HTML body of one mail with the recipient's language and returns the
//! inline parts it names: Content-ID `page<n>.<Message-ID>`, referred to as `cid:…`.

use umsgate_domain::Language;

use super::compose::Inline;
use super::texts;
use crate::reports::{InboundFacts, InboundTexts, PreviewRef, Previews, ReportError};

/// The most bytes of preview images in one mail: pages beyond it are counted, not shown (a
/// sparse fax page is about 14 KB, a dense or dithered one far more).
pub const PREVIEW_BYTES: usize = 1 << 20;

/// The preview images of a received fax, shared by the mails to all its addressees.
#[derive(Debug)]
pub struct FaxPreviews {
    /// The first pages (at most the number asked for, at most [`PREVIEW_BYTES`] together).
    pub pages: Vec<umsgate_fax::Preview>,
    /// Pages of the fax not shown.
    pub more_pages: u32,
}

impl FaxPreviews {
    /// The previews of the pages of `tiffs`, in order; an error if a file cannot be read or
    /// one of the pages shown cannot be decoded.
    pub fn make(tiffs: &[Vec<u8>], shown: u32) -> Result<FaxPreviews, umsgate_fax::Error> {
        let limits = umsgate_fax::Limits::default();
        let mut pages = Vec::new();
        let mut total = 0u32;
        let mut bytes = 0usize;
        let mut full = false;
        for tiff in tiffs {
            let want = if full {
                0
            } else {
                shown.saturating_sub(pages.len() as u32)
            };
            let p = umsgate_fax::previews(tiff, want, &limits)?;
            total = total.saturating_add(p.total_pages);
            for page in p.pages {
                if full || bytes.saturating_add(page.png.len()) > PREVIEW_BYTES {
                    full = true;
                    continue;
                }
                bytes += page.png.len();
                pages.push(page);
            }
        }
        let more_pages = total.saturating_sub(pages.len() as u32);
        Ok(FaxPreviews { pages, more_pages })
    }

    /// The inline parts of one mail: `page<n>.<message_id>` as Content-ID.
    pub fn inline(&self, message_id: &str) -> Vec<Inline> {
        self.pages
            .iter()
            .zip(1..)
            .map(|(p, n): (&umsgate_fax::Preview, u32)| Inline {
                content_id: format!("page{n}.{message_id}"),
                content_type: "image/png",
                data: p.png.clone(),
            })
            .collect()
    }
}

/// The HTML body of one mail and the inline images it shows (named after `message_id`);
/// `previews` only for a fax whose previews could be made.
pub fn html(
    texts: &InboundTexts,
    lang: Language,
    facts: &InboundFacts<'_>,
    previews: Option<&FaxPreviews>,
    message_id: &str,
) -> Result<(String, Vec<Inline>), ReportError> {
    let (inline, more_pages) = match previews {
        Some(p) => (p.inline(message_id), p.more_pages),
        None => (Vec::new(), 0),
    };
    let srcs: Vec<String> = inline
        .iter()
        .map(|i| format!("cid:{}", i.content_id))
        .collect();
    let refs: Vec<PreviewRef<'_>> = previews
        .map(|p| {
            p.pages
                .iter()
                .zip(&srcs)
                .zip(1..)
                .map(|((page, src), n)| PreviewRef {
                    src,
                    page: n,
                    width: page.width,
                    height: page.height,
                })
                .collect()
        })
        .unwrap_or_default();
    let html = texts::html(
        texts,
        lang,
        facts,
        &Previews {
            images: &refs,
            more_pages,
        },
    )?;
    Ok((html, inline))
}
