//! The per-instance checks of `umsgate check`, which the console's Instances page runs too:
//! does the instance reach its directory, its mail server, its engine and its printers?
//!
//! Contract: [`instance`] asks each peer of one instance once — the directory (the users
//! file opened, or an LDAP bind and search), the mail server (connect and greeting), the
//! gateway (a spool folder that exists, a HylaFAX login, Kannel's status or sendsms URL),
//! and each print-unread rule's printer over IPP (`Get-Printer-Attributes`: reachable and
//! accepting jobs) — and answers one [`Check`] per peer, in that order, each either
//! [`Outcome::Ok`] with what was seen or [`Outcome::Failed`] with what is wrong. No probe
//! takes longer than `limit`: one that does is [`Outcome::Failed`] with "no answer within
//! …". Nothing is changed on any peer.
//!
//! Implementation summary: the probes are the library's (`directory::ldap::check`,
//! `delivery::check_mail_server`, `gateway::hylafax::check_login`, `gateway::kannel::check`,
//! `print::ipp::Printer::status`), each under `tokio::time::timeout`.

use std::future::Future;
use std::time::Duration;

use crate::config::{Config, DirectoryKind, GatewayKind, InstanceConfig};
use crate::directory::{self, FileDirectory};
use crate::print::ipp::Printer;

/// The result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(String),
    Failed(String),
}

/// One peer's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `directory`, `mail server`, `gateway`, or ``printer of print-unread rule `…` ``.
    pub what: String,
    pub outcome: Outcome,
}

impl Check {
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

async fn limited<F>(limit: Duration, probe: F) -> Outcome
where
    F: Future<Output = Result<String, String>>,
{
    match tokio::time::timeout(limit, probe).await {
        Ok(Ok(s)) => Outcome::Ok(s),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(_) => Outcome::Failed(format!("no answer within {}s", limit.as_secs())),
    }
}

/// The printer's state, or why it cannot take a fax now.
pub async fn printer_state(uri: &str) -> Result<String, String> {
    let printer = Printer::new(uri).map_err(|e| e.to_string())?;
    let st = printer.status().await.map_err(|e| format!("{uri}: {e}"))?;
    if st.accepting {
        Ok(format!("{uri}: {}, accepting jobs", st.state))
    } else {
        Err(format!(
            "{uri}: {}, not accepting jobs ({})",
            st.state, st.reasons
        ))
    }
}

/// Every check of `inst` (see the module contract).
pub async fn instance(config: &Config, inst: &InstanceConfig, limit: Duration) -> Vec<Check> {
    let mut checks = Vec::new();
    let plan = match config.site.plan() {
        Ok(p) => p,
        Err(e) => {
            checks.push(Check {
                what: "site".to_owned(),
                outcome: Outcome::Failed(e.to_string()),
            });
            return checks;
        }
    };
    let dir = limited(limit, async {
        match inst.directory.kind {
            DirectoryKind::File => {
                let path = inst.directory.path.clone().unwrap_or_default();
                FileDirectory::open(&path, plan.clone())
                    .map(|_| format!("users file {}", path.display()))
                    .map_err(|e| e.to_string())
            }
            DirectoryKind::Ldap => directory::ldap::check(&inst.directory, &plan)
                .await
                .map_err(|e| e.to_string()),
        }
    })
    .await;
    checks.push(Check {
        what: "directory".to_owned(),
        outcome: dir,
    });
    let mail = limited(limit, async {
        crate::delivery::check_mail_server(&inst.mail)
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    checks.push(Check {
        what: "mail server".to_owned(),
        outcome: mail,
    });
    let gw = limited(limit, async {
        match (&inst.gateway.kind, &inst.gateway.dir) {
            (GatewayKind::Spool, Some(d)) if !d.is_dir() => {
                Err(format!("spool folder {} does not exist", d.display()))
            }
            (GatewayKind::Hylafax, _) => {
                let h = &inst.gateway.hylafax;
                crate::gateway::hylafax::check_login(h)
                    .await
                    .map(|()| {
                        format!(
                            "hylafax: logged in to hfaxd {}:{} as {}",
                            h.host, h.port, h.user
                        )
                    })
                    .map_err(|e| format!("hylafax: {}:{} as {}: {e}", h.host, h.port, h.user))
            }
            (GatewayKind::Kannel, _) => {
                let k = &inst.gateway.kannel;
                crate::gateway::kannel::check(k)
                    .await
                    .map(|seen| format!("kannel: {seen}"))
                    .map_err(|e| format!("kannel ({}): {e}", k.sendsms_url))
            }
            (kind, _) => Ok(format!("{kind:?}").to_lowercase()),
        }
    })
    .await;
    checks.push(Check {
        what: "gateway".to_owned(),
        outcome: gw,
    });
    for rule in inst.print_rules.rules() {
        let outcome = limited(limit, printer_state(rule.printer.as_str())).await;
        checks.push(Check {
            what: format!("printer of print-unread rule `{}`", rule.name),
            outcome,
        });
    }
    checks
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_does_not_answer_fails_at_the_limit() {
        let never = std::future::pending::<Result<String, String>>();
        let o = limited(Duration::from_secs(10), never).await;
        assert_eq!(o, Outcome::Failed("no answer within 10s".to_owned()));
        let o = limited(Duration::from_secs(10), async { Err("refused".to_owned()) }).await;
        assert_eq!(o, Outcome::Failed("refused".to_owned()));
    }

    #[tokio::test]
    async fn each_peer_gets_one_line_and_says_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("umsgate-diag-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A port nobody listens on: bind one and let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let text = format!(
            "[[instance]]\nid = \"i1\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\n\
             [instance.mail]\nserver = \"127.0.0.1\"\nport = {port}\ndomain = \"example.com\"\n\
             default_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n\
             [instance.directory]\nkind = \"file\"\npath = \"missing-users.toml\"\n"
        );
        let config = Config::parse(&text, &dir.join("umsgate.toml")).unwrap();
        let checks = instance(&config, &config.instances[0], Duration::from_secs(10)).await;
        let whats: Vec<&str> = checks.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(whats, ["directory", "mail server", "gateway"]);
        assert!(checks[0].failed(), "{checks:?}");
        assert!(checks[1].failed(), "{checks:?}");
        assert_eq!(checks[2].outcome, Outcome::Ok("sim".to_owned()));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
