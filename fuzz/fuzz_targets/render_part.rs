//! The fax renderer on untrusted attachment bytes: the first byte picks how the rest is
//! rendered (text, image, PDF, TIFF; Office detection), as the outbound worker would hand
//! them over. Must end in pages or a `RenderError`, never a panic or a runaway allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate_render::office::OfficeFormat;
use umsgate_render::{Content, Limits, Part, Renderer};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let _ = OfficeFormat::detect(rest, "application/octet-stream", Some("x.docx"));
    let content = match kind % 4 {
        0 => Content::Text(String::from_utf8_lossy(rest).into_owned()),
        1 => Content::Image(rest.to_vec()),
        2 => Content::Pdf(rest.to_vec()),
        _ => Content::Tiff(rest.to_vec()),
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let limits = Limits {
        max_pages: 20,
        max_image_pixels: 4_000_000,
        max_image_side: 4000,
        ..Limits::default()
    };
    let renderer = Renderer::new(limits, std::env::temp_dir());
    let part = Part {
        name: None,
        content_type: "application/octet-stream".to_owned(),
        content,
    };
    rt.block_on(async {
        if let Ok(body) = renderer.render(std::slice::from_ref(&part)).await {
            let _ = body.to_pdf(None).await;
        }
    });
});
