//! SMTP towards the mail server: umsgate's own client, pooled, with PIPELINING.
//!
//! Contract:
//! - [`SmtpTarget::new`] builds the endpoint once from `[instance.mail]` (server, port,
//!   `tls.mode` none / starttls (required) / tls (implicit), `tls.ca` added to the public
//!   roots, `tls.accept_invalid`, AUTH with `auth.user` and the secret); a bad `tls.ca` is a
//!   configuration error here, not a delivery failure later.
//! - [`SmtpTarget::send`] delivers one message in one transaction for all its recipients and
//!   returns one outcome per recipient, in order: `Ok(server's final reply)` or a
//!   [`DeliveryError`] (a 5xx reply is permanent, anything else temporary — a 5xx greeting
//!   and a refused AUTH included: the mail waits for the next retry). Each recipient
//!   gets its own RCPT reply, so a refused one never holds back the others and nobody
//!   receives the message twice.
//! - Connections are reused: at most [`POOL_SIZE`] at once, an idle one closed after
//!   [`POOL_IDLE`]. A pooled connection the server has closed meanwhile is noticed on the
//!   first command and the transaction is started once more on a fresh connection — only
//!   when nothing of it had been answered, so that cannot send a message twice.
//!
//! Implementation summary: [`conn::Conn`] speaks the protocol (see its contract); this
//! module holds the idle connections and a semaphore for the limit.

mod conn;
mod error;
#[cfg(test)]
mod fake;
pub mod reply;
mod tls;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::error::DeliveryError;
use conn::{Conn, Endpoint, Failure, Limits, Security};
pub use error::{ClientError, ClientErrorKind};
use umsgate_config::{MailConfig, MailTlsMode};

/// Time allowed to connect, and for each reply to a command.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to write a message and get the reply after it (Postfix's
/// `smtp_data_done_timeout`).
pub(crate) const DATA_TIMEOUT: Duration = Duration::from_secs(600);
/// Connections at most (one per message delivered in parallel; Postfix allows 20 per
/// destination by default).
pub const POOL_SIZE: u32 = 16;
/// An idle pooled connection is closed after this long.
pub const POOL_IDLE: Duration = Duration::from_secs(60);

/// The mail server, ready to send.
pub struct SmtpTarget {
    endpoint: Endpoint,
    /// `host:port`, for logs.
    server: String,
    idle: Mutex<Vec<(Conn, Instant)>>,
    slots: Semaphore,
}

impl std::fmt::Debug for SmtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTarget")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl SmtpTarget {
    /// Builds the endpoint; fails on a bad `tls.ca` or TLS setup (a configuration error).
    pub fn new(mail: &MailConfig, hello: &str) -> Result<SmtpTarget, ClientError> {
        let security = match mail.tls.mode {
            MailTlsMode::None => Security::None,
            MailTlsMode::Starttls => Security::StartTls(conn::connector(tls::client_config(mail)?)),
            MailTlsMode::Tls => Security::Implicit(conn::connector(tls::client_config(mail)?)),
        };
        let credentials = (!mail.auth.user.is_empty()).then(|| {
            let secret = mail.auth.secret.as_ref().map(|s| s.expose().to_owned());
            (mail.auth.user.clone(), secret.unwrap_or_default())
        });
        let endpoint = Endpoint {
            host: mail.server.clone(),
            port: mail.port,
            hello: hello.to_owned(),
            security,
            tls_name: tls::server_name(&mail.server)?,
            credentials,
            limits: Limits {
                command: COMMAND_TIMEOUT,
                data: DATA_TIMEOUT,
            },
        };
        Ok(SmtpTarget {
            server: format!("{}:{}", mail.server, mail.port),
            endpoint,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(POOL_SIZE as usize),
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// Connects, EHLO, STARTTLS and AUTH as configured, NOOP, QUIT.
    pub async fn check(&self) -> Result<(), ClientError> {
        let failed = |f: Failure| {
            let detail = format!("{}: {}", self.server, f.reason());
            match &f {
                Failure::Io(io) => match io.source() {
                    Some(e) => ClientError::with_source(ClientErrorKind::Unreachable, detail, e),
                    None => ClientError::new(ClientErrorKind::Timeout, detail),
                },
                Failure::Deferred(..) => ClientError::new(ClientErrorKind::Deferred, detail),
                Failure::Reply(r) if !r.is_permanent() => {
                    ClientError::new(ClientErrorKind::Deferred, detail)
                }
                Failure::Reply(_) | Failure::Refused(_) => {
                    ClientError::new(ClientErrorKind::Refused, detail)
                }
            }
        };
        let mut conn = Conn::open(&self.endpoint).await.map_err(failed)?;
        let r = conn.noop().await;
        conn.quit().await;
        r.map(|_| ()).map_err(failed)
    }

    /// Sends `eml` from `from` (empty = the null sender) to each of `rcpts`; see the module
    /// contract.
    pub async fn send(
        &self,
        from: &str,
        rcpts: &[String],
        eml: &[u8],
    ) -> Vec<Result<String, DeliveryError>> {
        if !from.is_empty() && !usable_address(from) {
            let err = DeliveryError::permanent(format!("invalid sender <{from}>"));
            return rcpts.iter().map(|_| Err(err.clone())).collect();
        }
        let mut out: Vec<Result<String, DeliveryError>> = Vec::with_capacity(rcpts.len());
        let mut valid = Vec::new();
        for (i, r) in rcpts.iter().enumerate() {
            if usable_address(r) {
                valid.push((i, r.clone()));
                out.push(Err(DeliveryError::temporary("not attempted")));
            } else {
                out.push(Err(DeliveryError::permanent(format!(
                    "invalid recipient <{r}>"
                ))));
            }
        }
        if valid.is_empty() {
            return out;
        }
        let Ok(_slot) = self.slots.acquire().await else {
            return out;
        };
        let addresses: Vec<String> = valid.iter().map(|(_, a)| a.clone()).collect();
        let outcomes = self.transaction(from, &addresses, eml).await;
        for ((i, _), outcome) in valid.into_iter().zip(outcomes) {
            out[i] = outcome
                .map(|r| r.one_line())
                .map_err(|f| failure_to_error(&f));
        }
        out
    }

    /// One transaction on a pooled connection, or on a fresh one when the pooled one turns
    /// out to be closed before anything was answered.
    async fn transaction(
        &self,
        from: &str,
        rcpts: &[String],
        eml: &[u8],
    ) -> Vec<conn::RcptOutcome> {
        if let Some(mut conn) = self.take_idle() {
            let outcomes = conn.transaction(from, rcpts, eml).await;
            if !conn.broke_unanswered() {
                self.give_back(conn);
                return outcomes;
            }
            // Stale: nothing was answered, so nothing can have been delivered; try afresh.
        }
        match Conn::open(&self.endpoint).await {
            Ok(mut conn) => {
                let outcomes = conn.transaction(from, rcpts, eml).await;
                self.give_back(conn);
                outcomes
            }
            Err(f) => rcpts.iter().map(|_| Err(f.for_each_recipient())).collect(),
        }
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        idle.retain(|(_, since)| now.duration_since(*since) < POOL_IDLE);
        idle.pop().map(|(c, _)| c)
    }

    fn give_back(&self, conn: Conn) {
        if conn.is_broken() {
            return;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < POOL_SIZE as usize {
            idle.push((conn, Instant::now()));
        }
    }
}

/// A 5xx reply to the mail → permanent; everything else (a refused greeting or AUTH
/// included) temporary.
fn failure_to_error(f: &Failure) -> DeliveryError {
    if f.is_permanent() {
        DeliveryError::permanent(f.reason())
    } else {
        DeliveryError::temporary(f.reason())
    }
}

/// An address that can go between `<` and `>` in MAIL/RCPT: `local@domain`, no spaces,
/// controls or angle brackets, at most 254 bytes.
fn usable_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    a.len() <= 254
        && !local.is_empty()
        && !domain.is_empty()
        && !a
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::fake::{FakeServer, Script};
    use super::*;

    fn target(port: u16, credentials: Option<(&str, &str)>) -> SmtpTarget {
        SmtpTarget {
            endpoint: Endpoint {
                host: "127.0.0.1".to_owned(),
                port,
                hello: "umsgate.test".to_owned(),
                security: Security::None,
                tls_name: tls::server_name("127.0.0.1").unwrap(),
                credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
                limits: Limits {
                    command: Duration::from_secs(30),
                    data: Duration::from_secs(30),
                },
            },
            server: format!("127.0.0.1:{port}"),
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(1),
        }
    }

    fn mail_config(mode: MailTlsMode, ca: Option<&str>, server: &str, port: u16) -> MailConfig {
        MailConfig {
            server: server.to_owned(),
            port,
            domain: "example.com".to_owned(),
            sender_template: "$(number)@$(addrtype).$(maildomain)".parse().unwrap(),
            reply_to_template: None,
            display_name: String::new(),
            report_display_name: String::new(),
            default_recipient: "postmaster@example.com".to_owned(),
            report_sender: "ums@example.com".to_owned(),
            store: Default::default(),
            retry: Default::default(),
            ldap_error: Default::default(),
            auth: Default::default(),
            tls: umsgate_config::MailTls {
                mode,
                ca: ca.map(Into::into),
                accept_invalid: false,
            },
            maildir: None,
        }
    }

    #[test]
    fn a_bad_tls_setup_is_a_configuration_error() {
        use std::error::Error as _;
        let missing = "/nonexistent/umsgate-mail-ca.pem";
        let e = SmtpTarget::new(
            &mail_config(MailTlsMode::Starttls, Some(missing), "mail.example.com", 25),
            "umsgate.test",
        )
        .unwrap_err();
        assert!(e.is_config() && !e.is_temporary(), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("cannot read tls.ca {missing}: ")),
            "{e}"
        );
        assert!(e.source().is_some());
        let e = SmtpTarget::new(
            &mail_config(MailTlsMode::None, None, "no such host!", 25),
            "umsgate.test",
        )
        .unwrap_err();
        assert!(e.is_config(), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("no such host! cannot be checked against a certificate: "),
            "{e}"
        );
        assert!(e.source().is_some());
    }

    #[tokio::test]
    async fn a_mail_server_that_does_not_answer_is_temporary() {
        // a port that was just free: nothing listens there
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t = SmtpTarget::new(
            &mail_config(MailTlsMode::None, None, "127.0.0.1", port),
            "umsgate.test",
        )
        .unwrap();
        let e = t.check().await.unwrap_err();
        assert!(e.is_temporary() && !e.is_config(), "{e:?}");
        assert_eq!(e.kind(), ClientErrorKind::Unreachable);
        assert!(!e.is_timeout());
        let io = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<std::sync::Arc<std::io::Error>>())
            .map(|e| e.kind());
        assert_eq!(io, Some(std::io::ErrorKind::ConnectionRefused), "{e:?}");
        assert!(
            e.to_string().starts_with(&format!("127.0.0.1:{port}: ")),
            "{e}"
        );
    }

    fn rcpts() -> Vec<String> {
        vec!["jane@example.com".to_owned(), "joe@example.com".to_owned()]
    }

    /// A mail whose body holds `text` as it is — bare CRs and all, as if nothing before the
    /// client had cleaned it.
    fn raw_mail(text: &str) -> Vec<u8> {
        format!(
            "From: <+4930987654320@sms.example.com>\r\nTo: <jane@example.com>\r\n\
             Subject: SMS from +49 30 9876543 20\r\n\r\n{text}\r\n"
        )
        .into_bytes()
    }

    #[tokio::test]
    async fn a_body_with_bare_crs_reaches_the_server_as_one_message_with_crlf_lines() {
        let server = FakeServer::start(Script::default()).await;
        let hostile = "x\r.\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n\
                       Subject: forged\r\n\r\nforged\r\n.\r\nend\rlast";
        let out = target(server.port, None)
            .send("ums@example.com", &rcpts(), &raw_mail(hostile))
            .await;
        assert!(out.iter().all(Result::is_ok), "{out:?}");
        let commands = server.commands();
        let mails = commands.iter().filter(|c| c.starts_with("MAIL ")).count();
        let rcpts = commands.iter().filter(|c| c.starts_with("RCPT ")).count();
        assert_eq!((mails, rcpts), (1, 2), "{commands:?}");
        let messages = server.messages();
        assert_eq!(messages.len(), 1);
        let body = &messages[0];
        for (i, &b) in body.iter().enumerate() {
            match b {
                b'\r' => assert_eq!(body.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
                b'\n' => assert!(i > 0 && body[i - 1] == b'\r', "bare LF at {i}"),
                _ => {}
            }
        }
        let text = String::from_utf8_lossy(body);
        assert!(
            text.contains("\r\nMAIL FROM:<evil@example.net>\r\n"),
            "{text}"
        );
        assert!(!text.contains("\r\n.\r\n"), "{text}");
    }

    /// Every recipient of `script`'s session is deferred, for a reason that reads `reason`.
    async fn assert_all_deferred(script: Script, reason: &str) {
        let server = FakeServer::start(script).await;
        let out = target(server.port, None)
            .send("ums@example.com", &rcpts(), b"Subject: x\r\n\r\nbody\r\n")
            .await;
        assert_eq!(out.len(), 2);
        for r in out {
            let e = r.unwrap_err();
            assert!(e.is_temporary(), "{e}");
            assert!(e.reason().contains(reason), "{e}");
        }
    }

    #[tokio::test]
    async fn a_5xx_greeting_defers_every_recipient() {
        let script = Script {
            greeting: "554 5.3.2 fake.test busy, try later\r\n",
            ..Script::default()
        };
        assert_all_deferred(script, "greeting refused: 554 5.3.2").await;
    }

    /// A 5xx to EHLO says nothing about the mail either: deferred, not Badmail.
    #[tokio::test]
    async fn a_refused_ehlo_defers_every_recipient() {
        let script = Script {
            ehlo: "554 5.7.1 fake.test does not talk to you now\r\n",
            ..Script::default()
        };
        assert_all_deferred(script, "EHLO refused: 554 5.7.1").await;
    }

    #[tokio::test]
    async fn a_refused_auth_defers_every_recipient() {
        for reply in [
            "535 5.7.8 Authentication credentials invalid\r\n",
            "504 5.5.4 Unrecognized authentication type\r\n",
            "534 5.7.9 Authentication mechanism is too weak\r\n",
        ] {
            let server = FakeServer::start(Script {
                auth: reply,
                ..Script::default()
            })
            .await;
            let out = target(server.port, Some(("umsgate", "secret")))
                .send("ums@example.com", &rcpts(), b"Subject: x\r\n\r\nbody\r\n")
                .await;
            assert_eq!(out.len(), 2);
            for r in out {
                let e = r.unwrap_err();
                assert!(e.is_temporary(), "{reply:?}: {e}");
                assert!(e.reason().contains(&reply[..3]), "{e}");
                assert!(e.reason().contains("AUTH"), "{e}");
                assert!(!e.reason().contains("secret"), "{e}");
            }
            let commands = server.commands();
            assert!(
                !commands.iter().any(|c| c.starts_with("MAIL ")),
                "{commands:?}"
            );
        }
    }

    #[test]
    fn addresses_that_cannot_go_into_a_command_are_refused() {
        assert!(usable_address("jane@example.com"));
        assert!(!usable_address("\"odd local\"@example.com"));
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "a b@example.com",
            "jane@example.com>\r\nRCPT TO:<x@y",
            "jane@exa\0mple.com",
            "<jane@example.com>",
        ] {
            assert!(!usable_address(bad), "{bad:?}");
        }
        assert!(!usable_address(&format!("{}@example.com", "a".repeat(250))));
    }
}
