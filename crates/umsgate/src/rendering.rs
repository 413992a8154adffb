//! The fax renderer as configured (`[service.render]`, `covers_dir`): one per process,
//! shared by the instances and by `umsgate render`.
//!
//! Contract: [`renderer`] never fails. A converter whose program is not installed is left
//! out with a warning at start — Office files are then refused as unsupported (the sender
//! is told which file), HTML bodies are laid out as text — instead of retrying mail forever
//! for a converter that will never come. A converter that is installed but down is retried
//! (the renderer says so with a temporary error). [`covers`] loads the cover templates; a
//! broken template is an error naming its file.

use std::path::{Path, PathBuf};

use umsgate_config::{Config, HtmlRendererKind, OfficeConverterKind};
use umsgate_render::browser::{BrowserConfig, HtmlConverter};
use umsgate_render::cover::{CoverError, Covers};
use umsgate_render::office::{OfficeConfig, OfficeConverter};
use umsgate_render::{Limits, Renderer};

/// The renderer of `config`, its work files under `state_dir/render/`.
pub fn renderer(config: &Config) -> Renderer {
    let r = &config.service.render;
    // The converters run in other folders: their work folder is named absolutely.
    let state = std::path::absolute(&config.service.state_dir)
        .unwrap_or_else(|_| config.service.state_dir.clone());
    let work = state.join("render");
    let limits = Limits {
        max_pages: r.max_pages,
        timeout: r.timeout,
        ..Limits::default()
    };
    let mut renderer = Renderer::new(limits, work.join("tmp"));
    if r.converter == OfficeConverterKind::Soffice {
        match find_program(&r.soffice) {
            Some(program) => {
                renderer = renderer.with_office(OfficeConverter::new(OfficeConfig {
                    timeout: r.timeout,
                    max_pages: r.max_pages,
                    ..OfficeConfig::new(program, work.join("office"))
                }));
            }
            None => {
                tracing::warn!(event = "render.converter_missing", program = %r.soffice.display(), "LibreOffice is not installed: Office and OpenDocument attachments are refused as unsupported");
            }
        }
    }
    if r.html == HtmlRendererKind::Chromium {
        match find_program(&r.chromium) {
            Some(program) => {
                renderer = renderer.with_browser(HtmlConverter::new(BrowserConfig {
                    timeout: r.timeout,
                    max_pages: r.max_pages,
                    ..BrowserConfig::new(program, work.join("browser"))
                }));
            }
            None => {
                tracing::warn!(event = "render.converter_missing", program = %r.chromium.display(), "Chromium is not installed: HTML-only mail is faxed as its text");
            }
        }
    }
    renderer
}

/// What `umsgate check` says of each converter the configuration asks for: its program, or
/// why it cannot run.
pub fn converters(config: &Config) -> Vec<(&'static str, Result<String, String>)> {
    let r = &config.service.render;
    let mut lines = Vec::new();
    if r.converter == OfficeConverterKind::Soffice {
        lines.push((
            "render: LibreOffice (Office files)",
            find_program(&r.soffice)
                .map(|p| p.display().to_string())
                .ok_or_else(|| {
                    format!(
                        "`{}` is not installed: Office attachments would be refused (install \
                     libreoffice-writer-nogui, -calc-nogui, -impress-nogui and python3-uno, or \
                     set render.converter = \"none\")",
                        r.soffice.display()
                    )
                }),
        ));
    }
    if r.html == HtmlRendererKind::Chromium {
        lines.push((
            "render: Chromium (HTML bodies)",
            find_program(&r.chromium)
                .map(|p| p.display().to_string())
                .ok_or_else(|| {
                    format!(
                        "`{}` is not installed: HTML-only mail would be faxed as its text (install \
                     chromium, or set render.html = \"none\")",
                        r.chromium.display()
                    )
                }),
        ));
    }
    lines
}

/// The cover templates of `config` (the shipped ones when `covers_dir` is not set). Each
/// template that cannot be used is logged with its file; the others are.
pub fn covers(config: &Config) -> Result<Covers, CoverError> {
    let covers = Covers::load(config.service.covers_dir.as_deref())?;
    for problem in covers.problems() {
        tracing::error!(event = "render.cover_unusable", error = %problem, "cover template left out");
    }
    Ok(covers)
}

/// `program` itself when it names a file, else the first match on `PATH`.
pub fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
