//! The configuration loader: any text gives a config or errors naming file and key, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate::config::Config;

fuzz_target!(|text: &str| {
    if let Err(errors) = Config::parse(text, std::path::Path::new("/nonexistent/umsgate.toml")) {
        assert!(!errors.0.is_empty());
        assert!(errors.to_string().starts_with("/nonexistent/umsgate.toml"));
    }
});
