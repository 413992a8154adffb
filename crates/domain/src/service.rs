//! The three services umsgate carries between e-mail and the engines.

use crate::closed_set::closed_set;

/// Fax, SMS or voice: the `$(addrtype)` of an address, the kind of a job or received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Fax,
    Sms,
    Voice,
}

closed_set!(
    Service,
    case_insensitive = true,
    [(Fax, "fax"), (Sms, "sms"), (Voice, "voice")]
);

impl Service {
    /// All services, in a fixed order.
    pub const ALL: [Service; 3] = [Service::Fax, Service::Sms, Service::Voice];
}

#[cfg(test)]
mod tests {
    use super::Service;

    #[test]
    fn parses_case_insensitively_and_prints_lowercase() {
        assert_eq!("FAX".parse::<Service>(), Ok(Service::Fax));
        assert_eq!("Sms".parse::<Service>(), Ok(Service::Sms));
        assert_eq!(Service::Voice.to_string(), "voice");
        assert!("telex".parse::<Service>().is_err());
    }
}
