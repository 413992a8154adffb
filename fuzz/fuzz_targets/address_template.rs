//! Address templates: compiling any template and reading any address never panics, and a
//! rendered address reads back to its service and number.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate::address::AddressTemplate;
use umsgate_domain::Service;

fuzz_target!(|input: (&str, &str, u8)| {
    let (template, address, n) = input;
    if let Ok(t) = template.parse::<AddressTemplate>() {
        let _ = t.parse(address, "example.com");
        let digits: String = address.bytes().filter(u8::is_ascii_digit).map(char::from).take(15).collect();
        if !digits.is_empty() {
            let service = Service::ALL[usize::from(n) % 3];
            let number = format!("+{digits}");
            let rendered = t.render(&number, service, "example.com");
            if let Ok(p) = t.parse(&rendered, "example.com") {
                assert_eq!(p.service, service);
            }
        }
    }
    if let Ok(t) = "$(number)@$(addrtype).$(maildomain)".parse::<AddressTemplate>() {
        let _ = t.parse(address, "example.com");
    }
});
