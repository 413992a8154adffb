//! The `ums1;…` attribute: never panics; whatever parses writes back to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate_domain::UserSettings;

fuzz_target!(|s: &str| {
    if let Ok(settings) = UserSettings::parse(s) {
        let again = UserSettings::parse(&settings.to_attribute()).expect("a written attribute parses");
        assert_eq!(again, settings);
    }
});
