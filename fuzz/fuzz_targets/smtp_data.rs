//! The DATA receiver: any bytes, split anywhere, never panic; an accepted message has only
//! CRLF line ends and the end marker is found exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate::outbound::smtp_server::data::Receiver;

fuzz_target!(|input: (u16, &[u8])| {
    let (cut, data) = input;
    let cut = usize::from(cut).min(data.len());
    let mut r = Receiver::new(64 * 1024, 2048);
    let (used, done) = r.feed(&data[..cut]);
    let done = done || {
        assert_eq!(used, cut);
        r.feed(&data[cut..]).1
    };
    if !done {
        return;
    }
    if let Ok(msg) = r.finish() {
        for (i, &b) in msg.iter().enumerate() {
            if b == b'\n' {
                assert!(i > 0 && msg[i - 1] == b'\r');
            }
        }
    }
});
