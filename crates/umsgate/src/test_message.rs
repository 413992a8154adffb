//! A test message: a fax, SMS or voice message written into an instance's `received/` as an
//! engine would hand it over, so that it takes the real inbound path (directory lookup,
//! mail, delivery). `umsgate send-test` and the console's "Send test message" page both call
//! [`send`].
//!
//! Contract: the content is checked as an engine's would be before anything is written: a
//! fax is a TIFF or PDF document with at least one page ([`umsgate_fax::page_count`]), at most
//! [`MAX_FILE`] bytes; a voice message is a WAV file (`RIFF…WAVE`); an SMS text is at most
//! [`MAX_TEXT`] bytes and not empty. Without a file a fax is a built-in one-page G3 fax and a
//! voice message a built-in 8 kHz recording; without a text an SMS says [`TEST_TEXT`]. The
//! instance must exist, and its engine must carry the service ([`crate::routes::carried`]):
//! a HylaFAX instance takes no SMS, a Kannel instance no fax. Every refusal is a
//! [`TestMessageError`] that says what is wrong; what is written is whole or absent
//! ([`received::write`]). The name a file had (an upload's) is never used: the message's file
//! is `fax.tif`, `fax.pdf` or `voice.wav`.
//!
//! Implementation summary: builds a [`ReceivedMessage`] stamped with [`clock::now`]; the
//! voice length comes from [`Wav::estimated_duration`].

use std::fmt;
use std::time::Duration;

use umsgate_domain::Service;

use crate::clock;
use crate::config::Config;
use crate::config::units::InstanceId;
use crate::gateway::received::{self, ReceivedMessage};
use crate::inbound::voice::Wav;
use crate::spool::layout::InstanceDirs;

/// A one-page G3 fax, for a fax test message without a file.
pub const TEST_FAX: &[u8] = include_bytes!("../../../testdata/samples/fax_1p_g3_1d.tif");

/// An 8 kHz µ-law recording of a few seconds, for a voice test message without a file.
pub const TEST_VOICE: &[u8] = include_bytes!("../../../testdata/samples/voice_message_8k_ulaw.wav");

/// The SMS text when none is given.
pub const TEST_TEXT: &str = "umsgate test message";

/// Largest file a test message carries (as an engine's received fax or recording).
pub const MAX_FILE: usize = 20 * 1024 * 1024;

/// Longest SMS text (what `received/` accepts from an engine).
pub const MAX_TEXT: usize = 64 * 1024;

/// Longest calling or called number.
const MAX_NUMBER: usize = 64;

/// What to send.
#[derive(Debug, Clone)]
pub struct TestMessage {
    pub instance: InstanceId,
    pub service: Service,
    pub calling: String,
    pub called: String,
    /// The SMS text (`None`: [`TEST_TEXT`]).
    pub text: Option<String>,
    /// The fax document or the WAV file (`None`: the built-in one).
    pub file: Option<Vec<u8>>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The id of `received/<id>/`, which the logs name as the received message's id.
    pub id: String,
    pub instance: InstanceId,
    pub service: Service,
    pub pages: Option<u32>,
    pub folder: std::path::PathBuf,
}

/// Why a test message was not written.
#[derive(Debug)]
pub enum TestMessageError {
    /// No `[[instance]]` with this id.
    UnknownInstance(InstanceId),
    /// The instance's engine does not carry the service.
    NotCarried {
        instance: InstanceId,
        service: Service,
        engine: &'static str,
    },
    /// A calling or called number that is empty, too long or has other than dialling
    /// characters.
    BadNumber { which: &'static str },
    /// The fax file is no TIFF or PDF document with pages.
    NotAFax(umsgate_fax::Error),
    /// The voice file is no WAV file.
    NotAWav,
    /// The file is larger than [`MAX_FILE`].
    FileTooLarge { len: usize },
    /// The SMS text is empty or longer than [`MAX_TEXT`].
    BadText,
    /// The message could not be written (the machine's fault).
    Write(std::io::Error),
}

impl TestMessageError {
    /// Whether the input is at fault (else the machine).
    pub fn is_input(&self) -> bool {
        !matches!(self, TestMessageError::Write(_))
    }
}

impl fmt::Display for TestMessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestMessageError::UnknownInstance(i) => write!(f, "no instance `{i}`"),
            TestMessageError::NotCarried {
                instance,
                service,
                engine,
            } => write!(
                f,
                "instance `{instance}` runs the {engine} engine, which does not carry {service}: send it to the instance whose engine does"
            ),
            TestMessageError::BadNumber { which } => write!(
                f,
                "the {which} number must be 1 to {MAX_NUMBER} characters of digits, spaces and + ( ) - / ."
            ),
            TestMessageError::NotAFax(_) => {
                f.write_str("the file is not a fax document (a TIFF or PDF with pages)")
            }
            TestMessageError::NotAWav => {
                f.write_str("the file is not a WAV file (RIFF/WAVE), which a voice message needs")
            }
            TestMessageError::FileTooLarge { len } => write!(
                f,
                "the file has {len} bytes, more than the {MAX_FILE} a test message may carry"
            ),
            TestMessageError::BadText => write!(
                f,
                "the SMS text must not be empty nor longer than {MAX_TEXT} bytes"
            ),
            TestMessageError::Write(_) => f.write_str("the message could not be written"),
        }
    }
}

impl std::error::Error for TestMessageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TestMessageError::NotAFax(e) => Some(e),
            TestMessageError::Write(e) => Some(e),
            _ => None,
        }
    }
}

/// The content of a message, checked.
struct Content {
    files: Vec<(String, Vec<u8>)>,
    pages: Option<u32>,
    text: Option<String>,
    duration: Option<Duration>,
}

fn number_ok(n: &str) -> bool {
    !n.trim().is_empty()
        && n.len() <= MAX_NUMBER
        && n.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-' | '/' | '.'))
}

fn content(msg: &TestMessage) -> Result<Content, TestMessageError> {
    if let Some(f) = &msg.file
        && f.len() > MAX_FILE
    {
        return Err(TestMessageError::FileTooLarge { len: f.len() });
    }
    match msg.service {
        Service::Fax => {
            let doc = msg.file.clone().unwrap_or_else(|| TEST_FAX.to_vec());
            let pages = umsgate_fax::page_count(&doc).map_err(TestMessageError::NotAFax)?;
            let name = match umsgate_fax::detect(&doc) {
                Some(umsgate_fax::DocumentKind::Pdf) => "fax.pdf",
                _ => "fax.tif",
            };
            Ok(Content {
                files: vec![(name.to_owned(), doc)],
                pages: Some(pages),
                text: None,
                duration: None,
            })
        }
        Service::Sms => {
            let text = msg.text.as_deref().unwrap_or(TEST_TEXT);
            if text.trim().is_empty() || text.len() > MAX_TEXT {
                return Err(TestMessageError::BadText);
            }
            Ok(Content {
                files: Vec::new(),
                pages: None,
                text: Some(text.to_owned()),
                duration: None,
            })
        }
        Service::Voice => {
            let wav = msg.file.clone().unwrap_or_else(|| TEST_VOICE.to_vec());
            let duration = Wav::sniff(&wav)
                .ok_or(TestMessageError::NotAWav)?
                .estimated_duration();
            Ok(Content {
                files: vec![("voice.wav".to_owned(), wav)],
                pages: None,
                text: None,
                duration: Some(duration),
            })
        }
    }
}

/// Checks `msg` and writes it into its instance's `received/` (see the module contract).
/// Blocking: file writes and fsyncs.
pub fn send(config: &Config, msg: &TestMessage) -> Result<Sent, TestMessageError> {
    let Some(inst) = config
        .instances
        .iter()
        .find(|i| *i.id.get_ref() == msg.instance)
    else {
        return Err(TestMessageError::UnknownInstance(msg.instance.clone()));
    };
    if !crate::routes::carried(inst.gateway.kind).contains(&msg.service) {
        return Err(TestMessageError::NotCarried {
            instance: msg.instance.clone(),
            service: msg.service,
            engine: engine_name(inst.gateway.kind),
        });
    }
    if !number_ok(&msg.calling) {
        return Err(TestMessageError::BadNumber { which: "calling" });
    }
    if !number_ok(&msg.called) {
        return Err(TestMessageError::BadNumber { which: "called" });
    }
    let content = content(msg)?;
    let received = ReceivedMessage {
        service: msg.service,
        calling: msg.calling.trim().to_owned(),
        called: msg.called.trim().to_owned(),
        received_at: clock::rfc3339(clock::now()),
        pages: content.pages,
        csid: (msg.service == Service::Fax).then(|| msg.calling.trim().to_owned()),
        files: content.files.iter().map(|(n, _)| n.clone()).collect(),
        text: content.text,
        duration_s: content.duration.map(|d| d.as_secs()),
    };
    let dirs = InstanceDirs::new(&config.instance_state_dir(&msg.instance));
    dirs.create().map_err(TestMessageError::Write)?;
    let id = received::write(&dirs.received, &received, &content.files)
        .map_err(TestMessageError::Write)?;
    Ok(Sent {
        id,
        instance: msg.instance.clone(),
        service: msg.service,
        pages: content.pages,
        folder: dirs.received,
    })
}

/// The engine's name as the configuration spells it.
pub fn engine_name(kind: crate::config::GatewayKind) -> &'static str {
    use crate::config::GatewayKind;
    match kind {
        GatewayKind::Sim => "sim",
        GatewayKind::Spool => "spool",
        GatewayKind::Hylafax => "hylafax",
        GatewayKind::Kannel => "kannel",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn config(gateway: &str) -> (std::path::PathBuf, Config) {
        // One folder per call: the tests run in parallel.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("umsgate-test-message-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(
            "[service]\nstate_dir = \"state\"\nlog_dir = \"log\"\n[[instance]]\nid = \"i1\"\n\
             [instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\n[instance.mail]\ndomain = \"example.com\"\n\
             default_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n\
             [instance.directory]\nkind = \"file\"\npath = \"users.toml\"\n{gateway}"
        );
        let path = dir.join("umsgate.toml");
        let config = Config::parse(&text, &path).unwrap();
        (dir, config)
    }

    fn msg(service: Service, file: Option<Vec<u8>>) -> TestMessage {
        TestMessage {
            instance: "i1".parse().unwrap(),
            service,
            calling: "+49 30 1234".into(),
            called: "+49 8142 4799123".into(),
            text: None,
            file,
        }
    }

    #[test]
    fn each_service_is_written_whole_with_its_checked_content() {
        let (dir, config) = config("");
        let fax = send(&config, &msg(Service::Fax, None)).unwrap();
        let m = ReceivedMessage::read(&fax.folder.join(&fax.id)).unwrap();
        assert_eq!(
            (m.pages, m.files.clone()),
            (Some(1), vec!["fax.tif".into()])
        );
        assert_eq!(m.csid.as_deref(), Some("+49 30 1234"));
        let sms = send(&config, &msg(Service::Sms, None)).unwrap();
        let m = ReceivedMessage::read(&sms.folder.join(&sms.id)).unwrap();
        assert_eq!(m.text.as_deref(), Some(TEST_TEXT));
        let voice = send(&config, &msg(Service::Voice, None)).unwrap();
        let m = ReceivedMessage::read(&voice.folder.join(&voice.id)).unwrap();
        assert_eq!(m.files, vec!["voice.wav".to_owned()]);
        assert!(m.duration_s.is_some_and(|d| d > 0), "{m:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_pdf_fax_keeps_its_kind_in_its_name() {
        let (dir, config) = config("");
        let pdf = umsgate_fax::tiff_to_pdf(&[TEST_FAX], &umsgate_fax::Limits::default()).unwrap();
        let sent = send(&config, &msg(Service::Fax, Some(pdf.clone()))).unwrap();
        let m = ReceivedMessage::read(&sent.folder.join(&sent.id)).unwrap();
        assert_eq!((m.pages, m.files), (Some(1), vec!["fax.pdf".to_owned()]));
        assert_eq!(
            std::fs::read(sent.folder.join(&sent.id).join("fax.pdf")).unwrap(),
            pdf
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_content_is_refused_before_anything_is_written() {
        let (dir, config) = config("");
        let cases = [
            msg(Service::Fax, Some(b"hello".to_vec())),
            msg(Service::Voice, Some(TEST_FAX.to_vec())),
            msg(Service::Fax, Some(vec![0; MAX_FILE + 1])),
            TestMessage {
                text: Some("  ".into()),
                ..msg(Service::Sms, None)
            },
            TestMessage {
                called: "<script>".into(),
                ..msg(Service::Sms, None)
            },
            TestMessage {
                instance: "nope".parse().unwrap(),
                ..msg(Service::Sms, None)
            },
        ];
        for m in &cases {
            let e = send(&config, m).unwrap_err();
            assert!(e.is_input(), "{e}");
        }
        let received = config
            .instance_state_dir(&"i1".parse().unwrap())
            .join("received");
        let left = std::fs::read_dir(&received).map_or(0, Iterator::count);
        assert_eq!(left, 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_service_the_engine_does_not_carry_is_refused() {
        let (dir, config) = config("[instance.gateway]\nkind = \"hylafax\"\n");
        let e = send(&config, &msg(Service::Sms, None)).unwrap_err();
        assert!(matches!(e, TestMessageError::NotCarried { .. }), "{e:?}");
        assert!(e.to_string().contains("hylafax"), "{e}");
        assert!(send(&config, &msg(Service::Fax, None)).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
