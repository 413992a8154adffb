//! A segment of the intake log as umsgate reads it at start (after a crash, or from a
//! damaged disk): any bytes give whole records plus a count of bytes dropped, never a panic,
//! and never more than was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate::spool::intake::{Record, decode};

fuzz_target!(|data: &[u8]| {
    let (records, torn) = decode(data);
    assert!(torn <= data.len());
    let mut body = 0usize;
    for r in &records {
        if let Record::Message { sidecar, eml, .. } = r {
            body += sidecar.len() + eml.len();
        }
    }
    assert!(body <= data.len() - torn);
});
