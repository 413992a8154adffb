//! Fuzz target: `print::mdn::parse` (read receipts and replies arriving at umsgate's own
//! address) must never panic, and what it finds stays within its bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate::print::mdn::{MAX_IDS, parse};

fuzz_target!(|data: &[u8]| {
    if let Some(receipt) = parse(data) {
        let ids = receipt.named_ids();
        assert!(ids.len() <= MAX_IDS);
        assert!(receipt.read_ids().len() <= ids.len());
    }
});
