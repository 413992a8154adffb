//! Page counting for the outbound policy (`max_pages`): PDF through lopdf, TIFF through the
//! crate's own reader.
//!
//! Contract: [`pdf_pages`] never panics on hostile input as far as this crate can ensure: the
//! input size is checked first, and a panic inside the PDF parser is caught and reported as an
//! [`ErrorKind::Pdf`] error (defence in depth; it needs the default `panic = "unwind"`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::{Error, ErrorKind, Limits};

/// True when a PDF header (`%PDF-`) appears in the first 1024 bytes, as PDF readers accept.
pub(crate) fn is_pdf(data: &[u8]) -> bool {
    let head = &data[..data.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

pub(crate) fn pdf_pages(data: &[u8], limits: &Limits) -> Result<u32, Error> {
    if data.len() > limits.max_input_bytes {
        return Err(Error::limit(
            "input size",
            data.len() as u64,
            limits.max_input_bytes as u64,
        ));
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        lopdf::Document::load_mem(data).map(|d| d.get_pages().len())
    }));
    let pages = match parsed {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return Err(Error::with_source(ErrorKind::Pdf, "", Box::new(e))),
        Err(_) => return Err(Error::new(ErrorKind::Pdf, "the pdf parser failed")),
    };
    if pages == 0 {
        return Err(Error::new(ErrorKind::Pdf, "no pages"));
    }
    let pages = u32::try_from(pages).unwrap_or(u32::MAX);
    if pages > limits.max_pages {
        return Err(Error::limit("pages", pages.into(), limits.max_pages.into()));
    }
    Ok(pages)
}
