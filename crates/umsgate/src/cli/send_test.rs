//! `umsgate send-test`: injects a received fax, SMS or voice message into an instance's
//! `received/` folder; the running instance delivers it as it would a real one.
//!
//! Contract: the message is checked as an engine's would be (a fax must be a document with
//! pages, a voice message a WAV file) and refused with [`Exit::Config`] otherwise; an
//! unknown instance is [`Exit::Config`]; a file that cannot be read, or a `received/` that
//! cannot be written, is [`Exit::Runtime`]. What is written is whole or absent
//! ([`received::write`]).
//!
//! Implementation summary: builds a [`ReceivedMessage`] stamped with [`clock::now`]; a fax
//! without `--file` is a built-in one-page G3 fax; the voice length comes from
//! [`Wav::estimated_duration`].

use std::path::{Path, PathBuf};

use umsgate::clock;
use umsgate::config::Config;
use umsgate::config::units::InstanceId;
use umsgate::gateway::received::{self, ReceivedMessage};
use umsgate::inbound::voice::Wav;
use umsgate::spool::layout::InstanceDirs;
use umsgate_domain::Service;

use super::Exit;

// No doc comment: clap would print it in place of the subcommand's own help text.
#[derive(clap::Args)]
pub(crate) struct SendTestArgs {
    #[arg(long)]
    instance: InstanceId,
    /// fax, sms or voice
    #[arg(long = "type")]
    service: Service,
    /// Caller number
    #[arg(long)]
    calling: String,
    /// Called number (looked up in the directory)
    #[arg(long)]
    called: String,
    /// SMS text (default: a test text)
    #[arg(long)]
    text: Option<String>,
    /// Fax TIFF or voice WAV (default: a built-in one-page test fax for fax)
    #[arg(long)]
    file: Option<PathBuf>,
}

/// A one-page G3 fax for `send-test` without `--file`.
const TEST_FAX: &[u8] = include_bytes!("../../../../testdata/samples/fax_1p_g3_1d.tif");

/// The SMS text without `--text`.
const TEST_TEXT: &str = "umsgate test message";

/// What the message carries besides its numbers.
struct Content {
    files: Vec<(String, Vec<u8>)>,
    pages: Option<u32>,
    text: Option<String>,
    duration: Option<std::time::Duration>,
}

pub(crate) fn send_test(config: &Config, args: &SendTestArgs) -> Exit {
    let SendTestArgs {
        instance,
        service,
        calling,
        called,
        ..
    } = args;
    if !config.instances.iter().any(|i| i.id.get_ref() == instance) {
        eprintln!("no instance `{instance}` in {}", config.path.display());
        return Exit::Config;
    }
    let content = match content(args) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let msg = ReceivedMessage {
        service: *service,
        calling: calling.clone(),
        called: called.clone(),
        received_at: clock::rfc3339(clock::now()),
        pages: content.pages,
        csid: (*service == Service::Fax).then(|| calling.clone()),
        files: content.files.iter().map(|(n, _)| n.clone()).collect(),
        text: content.text,
        duration_s: content.duration.map(|d| d.as_secs()),
    };
    let dirs = InstanceDirs::new(&config.instance_state_dir(instance));
    if let Err(e) = dirs.create() {
        eprintln!("cannot create {}: {e}", dirs.root.display());
        return Exit::Runtime;
    }
    match received::write(&dirs.received, &msg, &content.files) {
        Ok(id) => {
            println!(
                "received {id}: {service} from {calling} to {called} written to {}",
                dirs.received.display()
            );
            Exit::Success
        }
        Err(e) => {
            eprintln!("cannot write the message: {e}");
            Exit::Runtime
        }
    }
}

/// Reads and checks `--file` for the service, or takes the defaults.
fn content(args: &SendTestArgs) -> Result<Content, Exit> {
    let data = read(args.file.as_deref())?;
    match args.service {
        Service::Fax => {
            let tif = data.unwrap_or_else(|| TEST_FAX.to_vec());
            let pages = umsgate_fax::page_count(&tif).map_err(|e| {
                eprintln!("not a fax document: {e}");
                Exit::Config
            })?;
            Ok(Content {
                files: vec![("fax.tif".to_owned(), tif)],
                pages: Some(pages),
                text: None,
                duration: None,
            })
        }
        Service::Sms => Ok(Content {
            files: Vec::new(),
            pages: None,
            text: Some(args.text.as_deref().unwrap_or(TEST_TEXT).to_owned()),
            duration: None,
        }),
        Service::Voice => {
            let wav = data.and_then(|d| {
                let duration = Wav::sniff(&d)?.estimated_duration();
                Some((d, duration))
            });
            let Some((wav, duration)) = wav else {
                eprintln!("voice needs --file with a WAV file");
                return Err(Exit::Config);
            };
            Ok(Content {
                files: vec![("voice.wav".to_owned(), wav)],
                pages: None,
                text: None,
                duration: Some(duration),
            })
        }
    }
}

fn read(file: Option<&Path>) -> Result<Option<Vec<u8>>, Exit> {
    file.map(std::fs::read).transpose().map_err(|e| {
        eprintln!("cannot read the file: {e}");
        Exit::Runtime
    })
}
