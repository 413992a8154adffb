//! SMTP towards the mail server, through lettre's pooled async transport.
//!
//! Implementation summary: one `AsyncSmtpTransport` per instance, built once from
//! `[instance.mail]` (server, port, `tls.mode` none / starttls (required) / tls (implicit),
//! `tls.ca` added to the roots, `tls.accept_invalid`, AUTH with `auth.user` and the secret,
//! one timeout for connecting and for every command). Connections are pooled and reused
//! across messages.
//!
//! Per-recipient status: lettre sends one transaction and stops at the first refused `RCPT`,
//! without saying which recipient it was. So a message goes out in one transaction for all its
//! recipients; when the server refuses it with a reply code (not a broken connection) and
//! there were several recipients, each recipient is then sent in a transaction of its own, so
//! that every recipient gets its own outcome. A refusal ends the transaction before `DATA`
//! completes, so nothing was delivered by the first try and nobody gets the message twice.
//!
//! XXX: lettre 0.11 does not implement PIPELINING (RFC 2920); every command waits for its reply.
//! Per-message cost is dominated by the pooled connection's reuse, which lettre does provide.

use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::{AsyncSmtpTransport, PoolConfig};
use lettre::{AsyncTransport, Tokio1Executor};

use super::error::{DeliveryError, one_line};
use crate::config::{MailConfig, MailTlsMode};

/// Time allowed to connect, and for each reply (including the one after the message data).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Pooled connections at most (one per message delivered in parallel; Postfix allows 20 per
/// destination by default).
pub const POOL_SIZE: u32 = 16;
/// An idle pooled connection is closed after this long.
pub const POOL_IDLE: Duration = Duration::from_secs(60);

/// The mail server, ready to send.
pub(crate) struct SmtpTarget {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `host:port`, for logs.
    server: String,
}

impl std::fmt::Debug for SmtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTarget")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl SmtpTarget {
    /// Builds the transport; fails on a bad `tls.ca` or TLS setup (a configuration error).
    /// Must run inside the tokio runtime (the pool starts its housekeeping task).
    pub(crate) fn new(mail: &MailConfig) -> Result<SmtpTarget, String> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err("the SMTP client must be set up inside the tokio runtime".into());
        }
        let tls = tls(mail)?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(mail.server.clone())
                .port(mail.port)
                .tls(tls)
                .timeout(Some(COMMAND_TIMEOUT))
                .pool_config(
                    PoolConfig::new()
                        .min_idle(0)
                        .max_size(POOL_SIZE)
                        .idle_timeout(POOL_IDLE),
                );
        if !mail.auth.user.is_empty() {
            let secret = mail
                .auth
                .secret
                .as_ref()
                .map(|s| s.expose().to_owned())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(mail.auth.user.clone(), secret));
        }
        Ok(SmtpTarget {
            transport: builder.build(),
            server: format!("{}:{}", mail.server, mail.port),
        })
    }

    pub(crate) fn server(&self) -> &str {
        &self.server
    }

    /// Connects (or takes a pooled connection), EHLO, STARTTLS and AUTH as configured, NOOP.
    pub(crate) async fn check(&self) -> Result<(), String> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("{}: the server did not answer NOOP", self.server)),
            Err(e) => Err(format!(
                "{}: {}",
                self.server,
                DeliveryError::from_smtp(&e).reason()
            )),
        }
    }

    /// Sends `eml` from `from` (empty = the null sender) to each of `rcpts`; one outcome per
    /// recipient, in order: `Ok(server reply)` or why not.
    pub(crate) async fn send(
        &self,
        from: &str,
        rcpts: &[String],
        eml: &[u8],
    ) -> Vec<Result<String, DeliveryError>> {
        let sender = if from.is_empty() {
            None
        } else {
            match from.parse::<Address>() {
                Ok(a) => Some(a),
                Err(e) => {
                    let err = DeliveryError::permanent(format!("invalid sender <{from}>: {e}"));
                    return rcpts.iter().map(|_| Err(err.clone())).collect();
                }
            }
        };
        let mut out: Vec<Result<String, DeliveryError>> = Vec::with_capacity(rcpts.len());
        let mut valid = Vec::new();
        for (i, r) in rcpts.iter().enumerate() {
            match r.parse::<Address>() {
                Ok(a) => {
                    valid.push((i, a));
                    out.push(Err(DeliveryError::temporary("not attempted")));
                }
                Err(e) => out.push(Err(DeliveryError::permanent(format!(
                    "invalid recipient <{r}>: {e}"
                )))),
            }
        }
        if valid.is_empty() {
            return out;
        }
        let all: Vec<Address> = valid.iter().map(|(_, a)| a.clone()).collect();
        match self.transaction(sender.clone(), all, eml).await {
            Ok(reply) => {
                for (i, _) in &valid {
                    out[*i] = Ok(reply.clone());
                }
            }
            Err(Failed { replied: true, .. }) if valid.len() > 1 => {
                // Refused with a reply: find out which recipient it was, one at a time.
                for (i, a) in valid {
                    out[i] = self
                        .transaction(sender.clone(), vec![a], eml)
                        .await
                        .map_err(|f| f.error);
                }
            }
            Err(f) => {
                for (i, _) in &valid {
                    out[*i] = Err(f.error.clone());
                }
            }
        }
        out
    }

    async fn transaction(
        &self,
        from: Option<Address>,
        to: Vec<Address>,
        eml: &[u8],
    ) -> Result<String, Failed> {
        let envelope = Envelope::new(from, to).map_err(|e| Failed {
            error: DeliveryError::permanent(format!("no usable envelope: {e}")),
            replied: false,
        })?;
        match self.transport.send_raw(&envelope, eml).await {
            Ok(response) => Ok(reply_text(&response)),
            Err(e) => Err(Failed {
                error: DeliveryError::from_smtp(&e),
                replied: e.status().is_some(),
            }),
        }
    }
}

/// A failed transaction, and whether the server answered with a reply code (as opposed to a
/// connection that could not be made or broke).
struct Failed {
    error: DeliveryError,
    replied: bool,
}

/// `250 2.0.0 Ok: queued as 4F…`.
fn reply_text(r: &Response) -> String {
    let lines: Vec<&str> = r.message().collect();
    one_line(&format!("{} {}", r.code(), lines.join(" ")))
}

fn tls(mail: &MailConfig) -> Result<Tls, String> {
    if mail.tls.mode == MailTlsMode::None {
        return Ok(Tls::None);
    }
    let mut params = TlsParameters::builder(mail.server.clone());
    if let Some(ca) = &mail.tls.ca {
        let pem =
            std::fs::read(ca).map_err(|e| format!("cannot read tls.ca {}: {e}", ca.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("tls.ca {} is not a PEM certificate: {e}", ca.display()))?;
        params = params.add_root_certificate(cert);
    }
    if mail.tls.accept_invalid {
        params = params
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true);
    }
    let params = params
        .build_rustls()
        .map_err(|e| format!("TLS setup for {}: {e}", mail.server))?;
    Ok(match mail.tls.mode {
        MailTlsMode::Tls => Tls::Wrapper(params),
        MailTlsMode::Starttls | MailTlsMode::None => Tls::Required(params),
    })
}
