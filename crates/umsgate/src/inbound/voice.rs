//! Voice recordings as engines deliver them, and as `send-test` injects them: WAV files.
//!
//! Contract: [`Wav::sniff`] accepts exactly the files that begin with a RIFF header of form
//! `WAVE` (`RIFF` at 0, `WAVE` at 8); nothing else about the file is checked, the mail
//! client plays it. [`Wav::estimated_duration`] is informational (it goes into the mail's
//! text), never used to cut or refuse a recording.
//!
//! Implementation summary: the length assumes what engines deliver, 8 kHz 16-bit mono
//! (16 000 bytes a second) after the canonical 44-byte header, in whole seconds rounded
//! down. Reading the `fmt ` chunk would be exact for other formats too.
// XXX the outbound direction checks the same two magic numbers on WAV attachments
// (`outbound::mime::extract::is_wav`); a second copy kept small rather than an import across
// directions.

use std::time::Duration;

/// Bytes before the samples in a canonical WAV file.
const HEADER_LEN: u64 = 44;
/// 8 kHz × 16 bit × 1 channel.
const BYTES_PER_SECOND: u64 = 16_000;

/// A file that starts as a WAV file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wav<'a> {
    bytes: &'a [u8],
}

impl<'a> Wav<'a> {
    /// `bytes` as a WAV file, or `None` when it does not start with `RIFF….WAVE`.
    pub fn sniff(bytes: &'a [u8]) -> Option<Wav<'a>> {
        (bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE")).then_some(Wav { bytes })
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The length of the recording in whole seconds, assuming 8 kHz 16-bit mono.
    pub fn estimated_duration(&self) -> Duration {
        let len = u64::try_from(self.bytes.len()).unwrap_or(u64::MAX);
        Duration::from_secs(len.saturating_sub(HEADER_LEN) / BYTES_PER_SECOND)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn wav(samples: usize) -> Vec<u8> {
        let mut b = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        b.resize(44 + samples, 0);
        b
    }

    #[test]
    fn only_riff_wave_is_a_wav() {
        assert!(Wav::sniff(&wav(0)).is_some());
        assert!(Wav::sniff(b"RIFF\0\0\0\0WAVE").is_some());
        for not in [
            &b""[..],
            b"RIFF",
            b"RIFF\0\0\0\0WAV",
            b"RIFX\0\0\0\0WAVE",
            b"RIFF\0\0\0\0AVI ",
            b"II*\0 a TIFF fax",
        ] {
            assert!(Wav::sniff(not).is_none(), "{not:?}");
        }
    }

    #[test]
    fn the_duration_counts_whole_seconds_of_8k_16bit_mono() {
        let secs = |samples| Wav::sniff(&wav(samples)).unwrap().estimated_duration();
        assert_eq!(secs(0), Duration::ZERO);
        assert_eq!(secs(15_999), Duration::ZERO);
        assert_eq!(secs(16_000), Duration::from_secs(1));
        assert_eq!(secs(16_000 * 90 + 1), Duration::from_secs(90));
        // A header alone, or less, is no recording at all.
        assert_eq!(
            Wav::sniff(b"RIFF\0\0\0\0WAVE")
                .unwrap()
                .estimated_duration(),
            Duration::ZERO
        );
    }

    #[test]
    fn the_sample_recording_is_a_wav_of_its_length() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/samples/voice_message_8k.wav"
        );
        let bytes = std::fs::read(path).unwrap();
        let w = Wav::sniff(&bytes).unwrap();
        assert_eq!(w.bytes().len(), bytes.len());
        assert_eq!(
            w.estimated_duration().as_secs(),
            (bytes.len() as u64 - 44) / 16_000
        );
    }
}
