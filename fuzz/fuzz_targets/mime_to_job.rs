//! Fuzz target: `outbound::mime::parse` and `build` for every service must never panic, and
//! must refuse (not hang or allocate without bound) on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate::outbound::mime::{Limits, build, parse};
use umsgate_domain::Service;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(content) = parse(data, &limits) {
        for service in Service::ALL {
            let _ = build(&content, service, &limits);
        }
    }
});
