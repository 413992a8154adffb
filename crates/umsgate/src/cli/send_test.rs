//! `umsgate send-test`: injects a received fax, SMS or voice message into an instance's
//! `received/` folder; the running instance delivers it as it would a real one.
//!
//! Contract: the message is checked and written by [`test_message::send`] (the console's
//! "Send test message" page calls the same function): content that an engine would not
//! hand over (a fax that is no document with pages, a voice file that is no WAV), an unknown
//! instance or a service its engine does not carry is [`Exit::Config`] with the reason; a
//! file that cannot be read, or a `received/` that cannot be written, is [`Exit::Runtime`].
//!
//! Implementation summary: reads `--file` (at most [`test_message::MAX_FILE`] bytes) and
//! hands everything to the library.

use std::io::Read;
use std::path::PathBuf;

use umsgate::config::Config;
use umsgate::config::units::InstanceId;
use umsgate::test_message::{self, TestMessage};
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
    /// Fax TIFF/PDF or voice WAV (default: a built-in one-page fax or recording)
    #[arg(long)]
    file: Option<PathBuf>,
}

pub(crate) fn send_test(config: &Config, args: &SendTestArgs) -> Exit {
    let file = match args.file.as_deref().map(read).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot read the file: {e}");
            return Exit::Runtime;
        }
    };
    let msg = TestMessage {
        instance: args.instance.clone(),
        service: args.service,
        calling: args.calling.clone(),
        called: args.called.clone(),
        text: args.text.clone(),
        file,
    };
    match test_message::send(config, &msg) {
        Ok(sent) => {
            println!(
                "received {}: {} from {} to {} written to {}",
                sent.id,
                sent.service,
                msg.calling,
                msg.called,
                sent.folder.display()
            );
            Exit::Success
        }
        Err(e) if e.is_input() => {
            eprintln!("{e}");
            Exit::Config
        }
        Err(e) => {
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            eprintln!("{e}{cause}");
            Exit::Runtime
        }
    }
}

/// The file, read up to one byte beyond the limit (so that a larger one is refused as such).
fn read(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    std::fs::File::open(path)?
        .take(test_message::MAX_FILE as u64 + 1)
        .read_to_end(&mut data)?;
    Ok(data)
}
