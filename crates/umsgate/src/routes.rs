//! What the mail server must route to umsgate: the summary an administrator needs to set up
//! the mail server (Postfix transport maps, an Exchange send connector, a Domino foreign SMTP
//! domain), read from the configuration.
//!
//! Contract: for each enabled instance, [`routes`] names the listener(s) the mail server
//! relays to, one route per service the instance's engine carries (the domain of
//! `mail.sender_template` for that service, or — when the template puts the number into the
//! domain — the address pattern itself), the services it does not carry (mail for them would
//! be refused: they belong to another instance), the single addresses that must reach it too
//! (`report_sender`: read receipts and bounces of reports), and the mail server umsgate
//! delivers to. A domain claimed by two enabled instances is reported as a conflict, since a
//! mail server sends one domain to one next hop.
//!
//! Implementation summary: the address template is rendered with the placeholder `<number>`
//! for each service; the part after the last `@` is the domain unless the placeholder is in
//! it. Which services an engine carries is [`carried`]: the simulated and the spool engine
//! all three, HylaFAX fax, Kannel SMS.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;
use umsgate_domain::Service;

use crate::config::{Config, GatewayKind, InstanceConfig};

/// Stands for the number in the address patterns this module prints.
pub const NUMBER: &str = "<number>";

/// Stands for umsgate's host address in transport lines of a wildcard listener.
pub const HOST_ADDRESS: &str = "<umsgate-host-address>";

/// The services an engine kind carries (DESIGN.md §3: one gateway per instance).
pub fn carried(kind: GatewayKind) -> &'static [Service] {
    match kind {
        GatewayKind::Sim | GatewayKind::Spool => &Service::ALL,
        GatewayKind::Hylafax => &[Service::Fax],
        GatewayKind::Kannel => &[Service::Sms],
    }
}

/// One service's route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRoute {
    #[serde(serialize_with = "as_str")]
    pub service: Service,
    /// The domain the mail server sends to umsgate; `None` when the template puts the
    /// number into the domain (then route by [`ServiceRoute::pattern`]).
    pub domain: Option<String>,
    /// The address with [`NUMBER`] for the number, e.g. `<number>@fax.example.com`.
    pub pattern: String,
}

fn as_str<S: serde::Serializer>(s: &Service, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str())
}

/// What one instance needs from the mail server.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceRoutes {
    pub instance: String,
    pub name: String,
    /// Where the mail server relays to.
    pub listen: Vec<SocketAddr>,
    pub services: Vec<ServiceRoute>,
    /// Services the engine does not carry: not to be routed here.
    #[serde(serialize_with = "services_as_str")]
    pub not_carried: Vec<Service>,
    /// Single addresses that must reach this instance as well.
    pub addresses: Vec<String>,
    /// The mail server umsgate delivers received messages and reports to (`server:port`);
    /// it must accept mail from umsgate's host for every local recipient.
    pub delivers_to: String,
    /// Domains another enabled instance claims as well.
    pub conflicts: Vec<String>,
}

fn services_as_str<S: serde::Serializer>(v: &[Service], ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_seq(v.iter().map(|s| s.as_str()))
}

/// The routes of every enabled instance, in configuration order.
pub fn routes(config: &Config) -> Vec<InstanceRoutes> {
    let mut list: Vec<InstanceRoutes> = config.enabled_instances().map(instance_routes).collect();
    let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &list {
        for d in r.services.iter().filter_map(|s| s.domain.as_ref()) {
            let ids = owners.entry(d.clone()).or_default();
            if !ids.contains(&r.instance) {
                ids.push(r.instance.clone());
            }
        }
    }
    for r in &mut list {
        let mut conflicts: Vec<String> = r
            .services
            .iter()
            .filter_map(|s| s.domain.clone())
            .filter(|d| owners.get(d).is_some_and(|ids| ids.len() > 1))
            .collect();
        conflicts.dedup();
        r.conflicts = conflicts;
    }
    list
}

fn instance_routes(inst: &InstanceConfig) -> InstanceRoutes {
    let carried = carried(inst.gateway.kind);
    let services = carried
        .iter()
        .map(|&service| {
            let pattern = inst
                .mail
                .sender_template
                .render(NUMBER, service, &inst.mail.domain);
            let domain = pattern
                .rsplit_once('@')
                .map(|(_, d)| d)
                .filter(|d| !d.contains(NUMBER))
                .map(str::to_ascii_lowercase);
            ServiceRoute {
                service,
                domain,
                pattern,
            }
        })
        .collect();
    InstanceRoutes {
        instance: inst.id.get_ref().to_string(),
        name: inst.name.clone(),
        listen: inst.smtp_in.listen.get_ref().clone(),
        services,
        not_carried: Service::ALL
            .into_iter()
            .filter(|s| !carried.contains(s))
            .collect(),
        addresses: vec![inst.mail.report_sender.clone()],
        delivers_to: format!("{}:{}", inst.mail.server, inst.mail.port),
        conflicts: Vec::new(),
    }
}

/// The summary as text: per instance what to route where, then the Postfix `transport_maps`
/// lines that do it.
pub fn render_text(routes: &[InstanceRoutes]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut transport = Vec::new();
    for r in routes {
        let title = if r.name.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.name)
        };
        let next_hops: Vec<String> = r.listen.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "instance {}{title}", r.instance);
        let _ = writeln!(out, "  relay to umsgate at: {}", next_hops.join(", "));
        for s in &r.services {
            match &s.domain {
                Some(d) => {
                    let _ = writeln!(
                        out,
                        "  {:<5} domain {d}  (addresses {})",
                        s.service.as_str(),
                        s.pattern
                    );
                }
                None => {
                    let _ = writeln!(out, "  {:<5} addresses {}", s.service.as_str(), s.pattern);
                }
            }
        }
        for a in &r.addresses {
            let _ = writeln!(
                out,
                "  also  address {a}  (read receipts, bounces of reports)"
            );
        }
        if !r.not_carried.is_empty() {
            let names: Vec<&str> = r.not_carried.iter().map(|s| s.as_str()).collect();
            let _ = writeln!(
                out,
                "  not here: {} (this engine does not carry them; route them to the instance whose engine does)",
                names.join(", ")
            );
        }
        for d in &r.conflicts {
            let _ = writeln!(
                out,
                "  CONFLICT: {d} is routed to another enabled instance as well; a mail server sends one domain to one next hop"
            );
        }
        let _ = writeln!(
            out,
            "  umsgate delivers to: {} (accept mail from umsgate's host for local recipients)",
            r.delivers_to
        );
        // A wildcard listener is reached at the host's own address, which only the
        // administrator knows: it stays a placeholder.
        let hop = r
            .listen
            .first()
            .map(|a| {
                if a.ip().is_unspecified() {
                    format!("smtp:[{HOST_ADDRESS}]:{}", a.port())
                } else {
                    format!("smtp:[{}]:{}", a.ip(), a.port())
                }
            })
            .unwrap_or_default();
        for s in r.services.iter().filter_map(|s| s.domain.as_ref()) {
            transport.push(format!("{s} {hop}"));
        }
        for a in &r.addresses {
            transport.push(format!("{a} {hop}"));
        }
    }
    if !transport.is_empty() {
        let _ = writeln!(out, "\nPostfix transport_maps (docs/deploy.md):");
        for t in transport {
            let _ = writeln!(out, "{t}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;

    fn instance(id: &str, listen: &str, gateway: &str, template: &str) -> String {
        format!(
            "[[instance]]\nid = \"{id}\"\nname = \"Instance {id}\"\n[instance.smtp_in]\nlisten = [\"{listen}\"]\n[instance.mail]\nserver = \"mail.example.com\"\nport = 25\ndomain = \"Example.com\"\n{template}default_recipient = \"postmaster@example.com\"\nreport_sender = \"ums-{id}@example.com\"\n[instance.gateway]\n{gateway}\n"
        )
    }

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/etc/umsgate/umsgate.toml")).unwrap()
    }

    #[test]
    fn one_domain_per_carried_service_and_the_report_sender() {
        let c = config(&instance("a", "127.0.0.1:10025", "kind = \"sim\"", ""));
        let r = routes(&c);
        assert_eq!(r.len(), 1);
        let domains: Vec<_> = r[0].services.iter().map(|s| s.domain.clone()).collect();
        assert_eq!(
            domains,
            [
                Some("fax.example.com".to_owned()),
                Some("sms.example.com".to_owned()),
                Some("voice.example.com".to_owned())
            ]
        );
        assert_eq!(r[0].services[0].pattern, "<number>@fax.Example.com");
        assert_eq!(r[0].addresses, ["ums-a@example.com"]);
        assert!(r[0].not_carried.is_empty());
        assert_eq!(r[0].delivers_to, "mail.example.com:25");
        let text = render_text(&r);
        assert!(
            text.contains("fax.example.com smtp:[127.0.0.1]:10025\n"),
            "{text}"
        );
        assert!(
            text.contains("ums-a@example.com smtp:[127.0.0.1]:10025\n"),
            "{text}"
        );
    }

    #[test]
    fn an_engine_for_one_service_routes_only_that_service() {
        // The engines are chosen here directly: their own settings are not what this is about.
        let mut c = config(&format!(
            "{}{}",
            instance("fax", "127.0.0.1:10025", "kind = \"sim\"", ""),
            instance("sms", "127.0.0.1:10026", "kind = \"sim\"", "")
        ));
        c.instances[0].gateway.kind = GatewayKind::Hylafax;
        c.instances[1].gateway.kind = GatewayKind::Kannel;
        let r = routes(&c);
        assert_eq!(r[0].services.len(), 1);
        assert_eq!(r[0].services[0].service, Service::Fax);
        assert_eq!(r[0].not_carried, [Service::Sms, Service::Voice]);
        assert_eq!(r[1].services[0].service, Service::Sms);
        assert_eq!(r[1].services[0].domain.as_deref(), Some("sms.example.com"));
        assert!(r.iter().all(|i| i.conflicts.is_empty()));
        let text = render_text(&r);
        assert!(
            text.contains("sms.example.com smtp:[127.0.0.1]:10026\n"),
            "{text}"
        );
        assert!(!text.contains("voice.example.com"), "{text}");
        // A wildcard listener: the mail server needs the host's address, not 0.0.0.0.
        c.instances[0].smtp_in.listen =
            toml::Spanned::new(0..0, vec!["0.0.0.0:25".parse().unwrap()]);
        let text = render_text(&routes(&c));
        assert!(
            text.contains("fax.example.com smtp:[<umsgate-host-address>]:25\n"),
            "{text}"
        );
    }

    #[test]
    fn a_number_in_the_domain_gives_a_pattern_and_a_shared_domain_a_conflict() {
        let c = config(&format!(
            "{}{}",
            instance(
                "a",
                "127.0.0.1:10025",
                "kind = \"sim\"",
                "sender_template = \"$(addrtype)@$(number).$(maildomain)\"\n"
            ),
            instance("b", "127.0.0.1:10026", "kind = \"sim\"", "")
        ));
        let mut c2 = c.clone();
        let r = routes(&c);
        assert_eq!(r[0].services[0].domain, None);
        assert_eq!(r[0].services[0].pattern, "fax@<number>.Example.com");
        assert!(r[1].conflicts.is_empty());

        c2.instances[0].mail.sender_template = c2.instances[1].mail.sender_template.clone();
        let r = routes(&c2);
        assert_eq!(
            r[0].conflicts,
            ["fax.example.com", "sms.example.com", "voice.example.com"]
        );
        assert!(render_text(&r).contains("CONFLICT: fax.example.com"));
    }
}
