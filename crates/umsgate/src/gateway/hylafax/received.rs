//! A fax HylaFAX received, handed over by its `FaxRcvdCmd` (`umsgate hylafax-received FILE
//! DEVID COMMID ERROR [CALLID…]`, `faxrcvd(8)`): the TIFF becomes a `received/<id>/` folder.
//!
//! Contract: [`hand_over`] reads the TIFF (at most [`MAX_FAX`] bytes), counts its pages (a
//! file that is no fax TIFF is refused), takes the caller's and the dialled number from the
//! CALLID arguments at the configured positions (`callid_calling`, `callid_called`; a missing
//! one is empty), the sender's CSID from the TIFF's `ImageDescription`, and writes the folder
//! durably through [`crate::gateway::received::write`]: `message.json`, `fax.tif`, and
//! `hylafax.json` (device, communication id, HylaFAX's error text, all CALLIDs: for the
//! administrator; not a document). Only then, with `remove_received`, the TIFF is removed
//! from `recvq/`. Any failure is an error and nothing is removed: HylaFAX keeps the fax.
//!
//! Implementation summary: `umsgate_fax` counts the pages but does not expose ASCII tags;
//! reading tag 270 of the first IFD (bounded: at most 4096 tags looked at, 256 bytes
//! returned) is done here rather than pulling a TIFF crate in for one string.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use umsgate_domain::Service;

use crate::clock;
use crate::config::HylafaxConfig;
use crate::gateway::received::{self, ReceivedMessage};

/// Largest received fax read.
pub const MAX_FAX: u64 = 64 << 20;

/// faxrcvd's arguments.
#[derive(Debug, Clone)]
pub struct FaxrcvdArgs {
    pub file: PathBuf,
    pub devid: String,
    pub commid: String,
    pub error: String,
    pub callids: Vec<String>,
}

/// Why a received fax was not handed over.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReceivedError {
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    TooLarge {
        path: PathBuf,
        len: u64,
    },
    NotAFax {
        path: PathBuf,
        source: umsgate_fax::Error,
    },
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for ReceivedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceivedError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            ReceivedError::TooLarge { path, len } => write!(
                f,
                "{} is {len} bytes, more than the {MAX_FAX} umsgate reads",
                path.display()
            ),
            ReceivedError::NotAFax { path, source } => {
                write!(f, "{} is not a fax TIFF: {source}", path.display())
            }
            ReceivedError::Write { dir, source } => {
                write!(f, "cannot write into {}: {source}", dir.display())
            }
        }
    }
}

impl std::error::Error for ReceivedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReceivedError::Read { source, .. } | ReceivedError::Write { source, .. } => {
                Some(source)
            }
            ReceivedError::NotAFax { source, .. } => Some(source),
            ReceivedError::TooLarge { .. } => None,
        }
    }
}

/// `hylafax.json` of a received folder.
#[derive(Debug, Serialize)]
struct Sidecar<'a> {
    devid: &'a str,
    commid: &'a str,
    error: &'a str,
    callid: &'a [String],
}

/// What was handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedOver {
    pub id: String,
    pub message: ReceivedMessage,
    /// Whether the TIFF was removed from `recvq/`.
    pub removed: bool,
}

/// Writes the fax of `args` into `received_dir` (see the module contract).
pub fn hand_over(
    received_dir: &Path,
    cfg: &HylafaxConfig,
    args: &FaxrcvdArgs,
) -> Result<HandedOver, ReceivedError> {
    let path = &args.file;
    let read = |source| ReceivedError::Read {
        path: path.clone(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read)?.len();
    if len > MAX_FAX {
        return Err(ReceivedError::TooLarge {
            path: path.clone(),
            len,
        });
    }
    let tif = std::fs::read(path).map_err(read)?;
    let pages = umsgate_fax::page_count(&tif).map_err(|source| ReceivedError::NotAFax {
        path: path.clone(),
        source,
    })?;
    let callid = |n: usize| {
        n.checked_sub(1)
            .and_then(|i| args.callids.get(i))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let csid = image_description(&tif)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let message = ReceivedMessage {
        service: Service::Fax,
        calling: callid(cfg.callid_calling),
        called: callid(cfg.callid_called),
        received_at: clock::rfc3339(clock::now()),
        pages: Some(pages),
        csid,
        files: vec!["fax.tif".to_owned()],
        text: None,
        duration_s: None,
    };
    let sidecar = serde_json::to_vec_pretty(&Sidecar {
        devid: &args.devid,
        commid: &args.commid,
        error: &args.error,
        callid: &args.callids,
    })
    .map_err(|e| ReceivedError::Write {
        dir: received_dir.to_owned(),
        source: std::io::Error::other(e),
    })?;
    let id = received::write(
        received_dir,
        &message,
        &[
            ("fax.tif".to_owned(), tif),
            ("hylafax.json".to_owned(), sidecar),
        ],
    )
    .map_err(|source| ReceivedError::Write {
        dir: received_dir.to_owned(),
        source,
    })?;
    let removed = cfg.remove_received && std::fs::remove_file(path).is_ok();
    Ok(HandedOver {
        id,
        message,
        removed,
    })
}

/// The first IFD's `ImageDescription` (tag 270) of a TIFF, at most 256 bytes of it.
pub fn image_description(tif: &[u8]) -> Option<String> {
    let le = match tif.get(..4)? {
        [b'I', b'I', 42, 0] => true,
        [b'M', b'M', 0, 42] => false,
        _ => return None,
    };
    let u16_at = |o: usize| -> Option<u16> {
        let b: [u8; 2] = tif.get(o..o.checked_add(2)?)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |o: usize| -> Option<u32> {
        let b: [u8; 4] = tif.get(o..o.checked_add(4)?)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?).min(4096);
    for i in 0..count {
        let e = ifd + 2 + i * 12;
        if u16_at(e)? != 270 || u16_at(e + 2)? != 2 {
            continue;
        }
        let n = usize::try_from(u32_at(e + 4)?).ok()?;
        let start = if n <= 4 {
            e + 8
        } else {
            usize::try_from(u32_at(e + 8)?).ok()?
        };
        let bytes = tif.get(start..start.checked_add(n.min(256))?)?;
        let text = bytes.split(|b| *b == 0).next().unwrap_or_default();
        return Some(String::from_utf8_lossy(text).into_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FAX: &[u8] = include_bytes!("../../../../../testdata/samples/fax_1p_g3_1d.tif");

    /// `tif` with an ImageDescription entry appended as a new first IFD copying the old one.
    fn with_description(text: &str) -> Vec<u8> {
        let mut t = FAX.to_vec();
        assert_eq!(&t[..4], b"II*\0");
        let old = u32::from_le_bytes(t[4..8].try_into().unwrap()) as usize;
        let n = u16::from_le_bytes(t[old..old + 2].try_into().unwrap()) as usize;
        let mut entries: Vec<[u8; 12]> = (0..n)
            .map(|i| t[old + 2 + i * 12..old + 14 + i * 12].try_into().unwrap())
            .collect();
        let next = t[old + 2 + n * 12..old + 6 + n * 12].to_vec();
        let text_at = t.len();
        t.extend_from_slice(text.as_bytes());
        t.push(0);
        if t.len() % 2 == 1 {
            t.push(0);
        }
        let mut e = [0u8; 12];
        e[..2].copy_from_slice(&270u16.to_le_bytes());
        e[2..4].copy_from_slice(&2u16.to_le_bytes());
        e[4..8].copy_from_slice(&((text.len() + 1) as u32).to_le_bytes());
        e[8..].copy_from_slice(&(text_at as u32).to_le_bytes());
        entries.push(e);
        entries.sort_by_key(|e| u16::from_le_bytes([e[0], e[1]]));
        let ifd = t.len();
        t.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for e in &entries {
            t.extend_from_slice(e);
        }
        t.extend_from_slice(&next);
        t[4..8].copy_from_slice(&(ifd as u32).to_le_bytes());
        t
    }

    #[test]
    fn description_is_read_bounded_and_never_panics() {
        assert_eq!(image_description(FAX), None);
        let t = with_description("+49 30 9999999");
        assert_eq!(image_description(&t).as_deref(), Some("+49 30 9999999"));
        assert_eq!(umsgate_fax::page_count(&t).unwrap(), 1);
        for cut in 0..t.len().min(400) {
            let _ = image_description(&t[..cut]);
        }
        assert_eq!(image_description(b"not a tiff"), None);
    }

    #[test]
    fn hand_over_writes_the_message_and_keeps_the_fax_on_failure() {
        let dir = std::env::temp_dir().join(format!("umsgate-hfx-recv-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let recv = dir.join("received");
        std::fs::create_dir_all(&recv).unwrap();
        let tif = dir.join("fax00001.tif");
        std::fs::write(&tif, with_description("+49 30 9999999")).unwrap();
        let cfg = HylafaxConfig {
            remove_received: true,
            ..HylafaxConfig::default()
        };
        let args = FaxrcvdArgs {
            file: tif.clone(),
            devid: "ttyFAKE".into(),
            commid: "00000042".into(),
            error: String::new(),
            callids: vec!["+4930111222".into(), String::new(), "+4981424799123".into()],
        };
        let h = hand_over(&recv, &cfg, &args).unwrap();
        assert!(h.removed && !tif.exists());
        let m = ReceivedMessage::read(&recv.join(&h.id)).unwrap();
        assert_eq!(m.calling, "+4930111222");
        assert_eq!(m.called, "+4981424799123");
        assert_eq!(m.csid.as_deref(), Some("+49 30 9999999"));
        assert_eq!(m.pages, Some(1));
        let side = std::fs::read_to_string(recv.join(&h.id).join("hylafax.json")).unwrap();
        assert!(side.contains("\"commid\": \"00000042\""), "{side}");
        // Not a fax: refused, the file stays.
        std::fs::write(&tif, b"hello").unwrap();
        let e = hand_over(&recv, &cfg, &args).unwrap_err();
        assert!(matches!(e, ReceivedError::NotAFax { .. }), "{e}");
        assert!(tif.exists());
        // Missing file.
        std::fs::remove_file(&tif).unwrap();
        assert!(matches!(
            hand_over(&recv, &cfg, &args),
            Err(ReceivedError::Read { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
