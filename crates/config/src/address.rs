//! Address templates: `$(number)@$(addrtype).$(maildomain)`, both ways.
//!
//! Outbound, the mail server relays `+4930123456@fax.example.com` to umsgate; the template is
//! read *in reverse* to find the service and the number (DESIGN.md §1). Inbound, the same
//! template builds the `From:` of a received fax, so that Reply goes back through umsgate.
//!
//! Contract: a template is compiled once, when the configuration loads. It must contain `@`,
//! may use only `$(number)`, `$(addrtype)` and `$(maildomain)`, and two variables may not touch
//! (the split between them would be a guess). Matching is case-insensitive outside the number,
//! the number may hold only digits and `+ ( ) - / .` and spaces, and at least one digit.

use std::fmt;
use std::str::FromStr;

use umsgate_domain::Service;

/// Longest address considered at all (RFC 5321 path limit).
const MAX_ADDRESS_LEN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    Number,
    AddrType,
    MailDomain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Var(Var),
}

/// A compiled address template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressTemplate {
    source: String,
    segments: Vec<Segment>,
}

/// What an address said, read through a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAddress {
    pub service: Service,
    /// The number as written, formatting characters included (normalised later, §4).
    pub number: String,
}

/// Why an address does not fit the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressMismatch {
    /// Longer than 256 octets.
    TooLong,
    /// The literal parts or the domain do not match.
    Shape,
    /// The service part is not fax, sms or voice.
    UnknownService(String),
    /// The number part holds something other than digits and formatting characters.
    BadNumber(String),
}

impl fmt::Display for AddressMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressMismatch::TooLong => f.write_str("address too long"),
            AddressMismatch::Shape => f.write_str("address does not match the address template"),
            AddressMismatch::UnknownService(s) => {
                write!(f, "unknown service `{s}`; use fax, sms or voice")
            }
            AddressMismatch::BadNumber(n) => write!(f, "`{n}` is not a phone number"),
        }
    }
}

impl AddressTemplate {
    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Reads `address` through the template, for the instance's mail `domain`.
    pub fn parse(&self, address: &str, domain: &str) -> Result<ParsedAddress, AddressMismatch> {
        if address.len() > MAX_ADDRESS_LEN {
            return Err(AddressMismatch::TooLong);
        }
        let mut captures = Captures::default();
        if !match_segments(&self.segments, address, domain, &mut captures) {
            return Err(captures.best_error.unwrap_or(AddressMismatch::Shape));
        }
        let (Some(service), Some(number)) = (captures.service, captures.number) else {
            return Err(AddressMismatch::Shape);
        };
        Ok(ParsedAddress { service, number })
    }

    /// Builds an address from the template. The caller passes a number already normalised
    /// (digits and `+` only), so the result needs no escaping.
    pub fn render(&self, number: &str, service: Service, domain: &str) -> String {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.as_str(),
                Segment::Var(Var::Number) => number,
                Segment::Var(Var::AddrType) => service.as_str(),
                Segment::Var(Var::MailDomain) => domain,
            })
            .collect()
    }
}

#[derive(Default)]
struct Captures {
    service: Option<Service>,
    number: Option<String>,
    best_error: Option<AddressMismatch>,
}

fn is_number(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b"+()-/. ".contains(&b))
}

/// Backtracking match; templates have at most a handful of segments and addresses at most
/// 256 octets, so the search is bounded.
fn match_segments(segs: &[Segment], rest: &str, domain: &str, caps: &mut Captures) -> bool {
    let Some((first, tail)) = segs.split_first() else {
        return rest.is_empty();
    };
    match first {
        Segment::Literal(lit) => {
            let n = lit.len();
            rest.get(..n)
                .is_some_and(|head| head.eq_ignore_ascii_case(lit))
                && rest
                    .get(n..)
                    .is_some_and(|r| match_segments(tail, r, domain, caps))
        }
        Segment::Var(var) => {
            for end in (1..=rest.len()).rev() {
                let (Some(value), Some(r)) = (rest.get(..end), rest.get(end..)) else {
                    continue;
                };
                let ok = match var {
                    Var::MailDomain => value.eq_ignore_ascii_case(domain),
                    Var::AddrType => match value.parse::<Service>() {
                        Ok(s) => {
                            caps.service = Some(s);
                            true
                        }
                        Err(_) => {
                            if match_segments(tail, r, domain, &mut Captures::default()) {
                                caps.best_error =
                                    Some(AddressMismatch::UnknownService(value.to_owned()));
                            }
                            false
                        }
                    },
                    Var::Number => {
                        if is_number(value) {
                            caps.number = Some(value.to_owned());
                            true
                        } else {
                            if match_segments(tail, r, domain, &mut Captures::default()) {
                                caps.best_error =
                                    Some(AddressMismatch::BadNumber(value.to_owned()));
                            }
                            false
                        }
                    }
                };
                if ok && match_segments(tail, r, domain, caps) {
                    return true;
                }
            }
            false
        }
    }
}

impl FromStr for AddressTemplate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            match rest.find("$(") {
                Some(0) => {
                    let close = rest
                        .find(')')
                        .ok_or_else(|| format!("unclosed `$(` in template `{s}`"))?;
                    let var = match &rest[2..close] {
                        "number" => Var::Number,
                        "addrtype" => Var::AddrType,
                        "maildomain" => Var::MailDomain,
                        other => {
                            return Err(format!(
                                "unknown variable `$({other})` in template `{s}`; use $(number), $(addrtype) or $(maildomain)"
                            ));
                        }
                    };
                    if matches!(segments.last(), Some(Segment::Var(_))) {
                        return Err(format!(
                            "two variables touch in template `{s}`; put a literal between them"
                        ));
                    }
                    segments.push(Segment::Var(var));
                    rest = &rest[close + 1..];
                }
                Some(i) => {
                    segments.push(Segment::Literal(rest[..i].to_owned()));
                    rest = &rest[i..];
                }
                None => {
                    segments.push(Segment::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        if !s.contains('@') {
            return Err(format!("template `{s}` has no `@`"));
        }
        if s.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(format!(
                "template `{s}` contains spaces or control characters"
            ));
        }
        for needed in [Var::Number, Var::AddrType] {
            if !segments.contains(&Segment::Var(needed)) {
                return Err(format!("template `{s}` needs $(number) and $(addrtype)"));
            }
        }
        Ok(AddressTemplate {
            source: s.to_owned(),
            segments,
        })
    }
}

crate::units::deserialize_from_str!(AddressTemplate);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn default_template() -> AddressTemplate {
        "$(number)@$(addrtype).$(maildomain)".parse().unwrap()
    }

    #[test]
    fn reads_the_default_template_in_reverse() {
        let t = default_template();
        let table = [
            ("+4930123456@fax.example.com", Service::Fax, "+4930123456"),
            ("4930123456@FAX.Example.COM", Service::Fax, "4930123456"),
            (
                "+491511234567@sms.example.com",
                Service::Sms,
                "+491511234567",
            ),
            (
                "+49(30)123-456@voice.example.com",
                Service::Voice,
                "+49(30)123-456",
            ),
        ];
        for (addr, service, number) in table {
            assert_eq!(
                t.parse(addr, "example.com"),
                Ok(ParsedAddress {
                    service,
                    number: number.to_owned()
                }),
                "{addr}"
            );
        }
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let t = default_template();
        assert_eq!(
            t.parse("jane@example.com", "example.com"),
            Err(AddressMismatch::Shape)
        );
        assert_eq!(
            t.parse("+4930@telex.example.com", "example.com"),
            Err(AddressMismatch::UnknownService("telex".into()))
        );
        assert_eq!(
            t.parse("jane@fax.example.com", "example.com"),
            Err(AddressMismatch::BadNumber("jane".into()))
        );
        assert_eq!(
            t.parse("+4930@fax.example.org", "example.com"),
            Err(AddressMismatch::Shape)
        );
        assert_eq!(
            t.parse(&"1".repeat(300), "example.com"),
            Err(AddressMismatch::TooLong)
        );
    }

    #[test]
    fn other_shapes_and_bad_templates() {
        let t: AddressTemplate = "$(addrtype)=$(number)@$(maildomain)".parse().unwrap();
        assert_eq!(
            t.parse("sms=+4915112@example.com", "example.com")
                .map(|p| p.service),
            Ok(Service::Sms)
        );
        assert_eq!(
            t.render("+4930", Service::Fax, "example.com"),
            "fax=+4930@example.com"
        );
        assert!("$(number)$(addrtype)@x".parse::<AddressTemplate>().is_err());
        assert!("$(number)@$(kind).x".parse::<AddressTemplate>().is_err());
        assert!("$(number).$(addrtype)".parse::<AddressTemplate>().is_err());
        assert!("$(number@x".parse::<AddressTemplate>().is_err());
    }

    proptest! {
        #[test]
        fn render_then_parse_round_trips(digits in "[0-9]{3,15}", svc in 0usize..3) {
            let t = default_template();
            let service = Service::ALL[svc];
            let number = format!("+{digits}");
            let addr = t.render(&number, service, "example.com");
            prop_assert_eq!(t.parse(&addr, "example.com"), Ok(ParsedAddress { service, number }));
        }

        #[test]
        fn parse_never_panics(addr in "\\PC{0,80}") {
            let _ = default_template().parse(&addr, "example.com");
        }
    }
}
