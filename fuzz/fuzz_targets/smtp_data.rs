//! The DATA receiver: any bytes, split anywhere, never panic; an accepted message has only
//! CRLF line ends and the end marker is found exactly once; and the whole-line fast path
//! reads exactly as byte-by-byte feeding (which never takes it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate::outbound::smtp_server::data::Receiver;

/// Feeds `data` one byte at a time: (bytes used, end reached, result).
fn bytewise(
    data: &[u8],
) -> (
    usize,
    bool,
    u64,
    Result<Vec<u8>, umsgate::outbound::smtp_server::data::DataFault>,
) {
    let mut r = Receiver::new(64 * 1024, 64);
    let mut used = 0;
    for b in data {
        let (u, d) = r.feed(std::slice::from_ref(b));
        used += u;
        if d {
            let total = r.total();
            return (used, true, total, r.finish());
        }
    }
    let total = r.total();
    (used, false, total, r.finish())
}

fuzz_target!(|input: (u16, &[u8])| {
    let (cut, data) = input;
    {
        let mut whole = Receiver::new(64 * 1024, 64);
        let (used, done) = whole.feed(data);
        let total = whole.total();
        assert_eq!((used, done, total, whole.finish()), bytewise(data));
    }
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
