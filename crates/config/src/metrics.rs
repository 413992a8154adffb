//! `[service] metrics.listen`: where umsgate serves its Prometheus metrics.
//!
//! Contract: absent means no metrics listener of its own (the metrics are still collected,
//! and served at `/metrics` of the web console when that runs). The address is a socket
//! address (`"127.0.0.1:9464"`); port 0 takes a free port (tests). Like every listen
//! address it is bound by `umsgate run` and tried by `umsgate check`.

use std::net::SocketAddr;

use serde::Deserialize;

/// `metrics = { listen = "127.0.0.1:9464" }` in `[service]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// The address of the HTTP listener that answers `GET /metrics`.
    pub listen: SocketAddr,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Config;

    const INSTANCE: &str = "\n[[instance]]\nid = \"a\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:10025\"]\n[instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n";

    fn parse(service: &str) -> Result<Config, crate::ConfigErrors> {
        Config::parse(
            &format!("{service}{INSTANCE}"),
            Path::new("/x/umsgate.toml"),
        )
    }

    #[test]
    fn metrics_listen_is_read_and_checked() {
        let c = parse("[service]\nmetrics.listen = \"127.0.0.1:9464\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let m = c.service.metrics.unwrap_or_else(|| panic!("metrics lost"));
        assert_eq!(m.listen.to_string(), "127.0.0.1:9464");

        let none = parse("[service]\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(none.service.metrics.is_none());

        let bad = parse("[service]\nmetrics.listen = \"localhost\"\n");
        let e = bad
            .err()
            .unwrap_or_else(|| panic!("a bad address was accepted"));
        let text = e.to_string();
        assert!(text.contains("/x/umsgate.toml:2"), "{text}");
        assert!(text.contains("service.metrics"), "{text}");

        let unknown = parse("[service]\nmetrics = { listen = \"127.0.0.1:1\", path = \"/m\" }\n");
        assert!(
            unknown.is_err(),
            "an unknown key inside metrics was accepted"
        );
    }
}
