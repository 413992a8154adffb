//! TLS towards the mail server: which certificates are trusted.
//!
//! Contract: [`client_config`] trusts the public web PKI roots (webpki-roots) plus every
//! certificate in `tls.ca`, and checks the server's name against `server`. With
//! `tls.accept_invalid = true` any certificate and any name are accepted — the handshake
//! signatures are still verified, so the connection is encrypted, only not authenticated.
//! An unreadable or empty `tls.ca` is a configuration error.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use umsgate_config::MailConfig;

use super::error::{ClientError, ClientErrorKind};

/// The rustls client configuration for `[instance.mail] tls`.
pub(crate) fn client_config(mail: &MailConfig) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::config(format_args!("TLS setup for {}", mail.server), e))?;
    let config = if mail.tls.accept_invalid {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(ca) = &mail.tls.ca {
            let certs = CertificateDer::pem_file_iter(ca).map_err(|e| {
                ClientError::config(format_args!("cannot read tls.ca {}", ca.display()), e)
            })?;
            let mut added = 0;
            for c in certs {
                let c =
                    c.map_err(|e| ClientError::config(format_args!("tls.ca {}", ca.display()), e))?;
                roots
                    .add(c)
                    .map_err(|e| ClientError::config(format_args!("tls.ca {}", ca.display()), e))?;
                added += 1;
            }
            if added == 0 {
                return Err(ClientError::new(
                    ClientErrorKind::Config,
                    format!(
                        "tls.ca {} is not a PEM certificate file (no certificate in it)",
                        ca.display()
                    ),
                ));
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The name the certificate must carry: `server` as a DNS name or an IP address.
pub(crate) fn server_name(server: &str) -> Result<ServerName<'static>, ClientError> {
    ServerName::try_from(server.to_owned()).map_err(|e| {
        ClientError::config(
            format_args!("{server} cannot be checked against a certificate"),
            e,
        )
    })
}

/// `tls.accept_invalid`: any certificate, any name; signatures still checked.
#[derive(Debug)]
struct AcceptAny(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
