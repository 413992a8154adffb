//! `umsgate render MAIL.eml -o OUT.pdf`: a mail rendered as the fax it would become (cover
//! page, body, attachments), with the configured converters and cover templates — for
//! administrators checking what a sender will get, and for tests.
//!
//! Contract: exit 0 with the document written (and its page count printed); [`Exit::Config`]
//! when the mail would be refused (the reason as the sender would read it) or a cover
//! template is broken; [`Exit::Runtime`] when a file cannot be read or written, or a
//! converter is down. The output is written only when everything rendered.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use umsgate::config::Config;
use umsgate::outbound::mime;
use umsgate_domain::Service;
use umsgate_render::RenderError;
use umsgate_render::cover::{CoverError, CoverFields};
use umsgate_render::tiff::TiffCoding;

use super::Exit;

/// What `render` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RenderFormat {
    Pdf,
    /// TIFF class F, G4.
    Tiff,
    /// TIFF class F, G3 (one-dimensional).
    TiffG3,
}

#[derive(Args)]
pub(crate) struct RenderArgs {
    /// The mail (.eml, LF or CRLF)
    mail: PathBuf,
    /// Where the fax goes
    #[arg(short, long)]
    output: PathBuf,
    /// Put this cover template in front (`default` = the default cover)
    #[arg(long)]
    cover: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "pdf")]
    format: RenderFormat,
}

pub(crate) fn render(config: &Config, args: &RenderArgs) -> Exit {
    let eml = match std::fs::read(&args.mail) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args.mail.display());
            return Exit::Runtime;
        }
    };
    let limits = mime::Limits::default();
    let parts = match mime::parse(&eml, &limits)
        .and_then(|c| mime::build(&c, Service::Fax, &limits).map(|p| (c, p)))
    {
        Ok((content, mime::Payload::Fax(fax))) => (content, fax.parts),
        Ok(_) => return Exit::Config,
        Err(refusal) => {
            eprintln!("refused: {refusal}");
            return Exit::Config;
        }
    };
    let (content, parts) = parts;
    let covers = match umsgate::rendering::covers(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cover templates: {e}");
            return Exit::Config;
        }
    };
    let renderer = umsgate::rendering::renderer(config);
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(exit) => return exit,
    };
    let result: Result<Result<(Vec<u8>, u32), CoverError>, RenderError> = rt.block_on(async {
        let body = renderer.render(&parts).await?;
        let cover = match &args.cover {
            None => None,
            Some(name) => {
                let fields = CoverFields {
                    recipient_number: String::new(),
                    sender_address: content.from.clone().unwrap_or_default(),
                    subject: content.subject.clone(),
                    date: umsgate::clock::display_minute(umsgate::clock::now()),
                    pages: body.pages().saturating_add(1),
                    ..CoverFields::default()
                };
                let name = (name != "default").then_some(name.as_str());
                match covers.render(name, &fields) {
                    Ok(c) => Some(c.pdf),
                    Err(e) => return Ok(Err(e)),
                }
            }
        };
        let pages = body.pages() + u32::from(cover.is_some());
        let data = match args.format {
            RenderFormat::Pdf => body.to_pdf(cover).await?,
            RenderFormat::Tiff => body.to_tiff(cover, TiffCoding::G4, &renderer).await?,
            RenderFormat::TiffG3 => body.to_tiff(cover, TiffCoding::G3, &renderer).await?,
        };
        Ok(Ok((data, pages)))
    });
    match result {
        Ok(Ok((data, pages))) => {
            if let Err(e) = std::fs::write(&args.output, data) {
                eprintln!("cannot write {}: {e}", args.output.display());
                return Exit::Runtime;
            }
            println!("{}: {pages} pages", args.output.display());
            Exit::Success
        }
        Ok(Err(e)) => {
            eprintln!("cover: {e}");
            Exit::Config
        }
        Err(e) if e.is_temporary() => {
            eprintln!("{e}");
            Exit::Runtime
        }
        Err(e) => {
            eprintln!("refused: {e}");
            Exit::Config
        }
    }
}
