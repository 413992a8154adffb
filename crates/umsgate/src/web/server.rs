//! The web server's listeners: plain HTTP or HTTPS on every `web.listen` address, HTTP/1.1.
//!
//! Contract: [`WebServer::bind`] binds every address before it returns (an address that
//! cannot be bound is an error, nothing listens then). Each connection gets the peer address
//! as [`PeerAddr`] in every request. With TLS, a handshake has [`HANDSHAKE_TIMEOUT`]; a
//! request's header must arrive within [`HEADER_TIMEOUT`]; at most [`MAX_CONNECTIONS`]
//! connections are served at once (more wait in the kernel's backlog). When the shutdown
//! signal comes, no new connection is accepted, idle connections are closed, requests in
//! progress finish (for at most [`DRAIN_TIMEOUT`]), and [`WebServer::wait`] returns.
//!
//! Implementation summary: axum's own `serve` has no TLS; this is its loop with a
//! `tokio-rustls` acceptor in front and hyper's `graceful_shutdown` per connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use super::{PeerAddr, WebError};

pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
pub const MAX_CONNECTIONS: usize = 512;
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running web server.
#[derive(Debug)]
pub struct WebServer {
    pub addrs: Vec<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl WebServer {
    /// Binds `addrs` and serves `router` on them until `shutdown` turns true.
    pub async fn bind(
        addrs: &[SocketAddr],
        tls: Option<Arc<rustls::ServerConfig>>,
        router: axum::Router,
        shutdown: watch::Receiver<bool>,
    ) -> Result<WebServer, WebError> {
        let mut listeners = Vec::new();
        for addr in addrs {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|source| WebError::Bind {
                    addr: *addr,
                    source,
                })?;
            listeners.push(l);
        }
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut bound = Vec::new();
        let mut tasks = Vec::new();
        for l in listeners {
            let local = l.local_addr().map_err(|source| WebError::Bind {
                addr: addrs
                    .first()
                    .copied()
                    .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0))),
                source,
            })?;
            tracing::info!(event = "web.listening", addr = %local, tls = acceptor.is_some());
            bound.push(local);
            tasks.push(tokio::spawn(accept_loop(
                l,
                acceptor.clone(),
                router.clone(),
                Arc::clone(&limit),
                shutdown.clone(),
            )));
        }
        Ok(WebServer {
            addrs: bound,
            tasks,
        })
    }

    /// Returns once every listener and connection has stopped.
    pub async fn wait(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    limit: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&limit).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped(&mut shutdown) => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // Out of descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(event = "web.accept_failed", error = %e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let acceptor = acceptor.clone();
        let stop = shutdown.clone();
        conns.spawn(async move {
            let _permit = permit;
            match acceptor {
                None => serve_conn(stream, peer, router, stop).await,
                Some(a) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, a.accept(stream)).await {
                    Ok(Ok(tls)) => serve_conn(tls, peer, router, stop).await,
                    Ok(Err(e)) => {
                        tracing::debug!(event = "web.tls_failed", client = %peer, error = %e)
                    }
                    Err(_) => tracing::debug!(event = "web.tls_timeout", client = %peer),
                },
            }
        });
        // Reap finished connections so the set does not grow.
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(event = "web.drain_timeout", left = conns.len());
        conns.abort_all();
    }
}

/// Resolves when the shutdown signal is (or already was) given, or its sender is gone.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

async fn serve_conn<S>(
    stream: S,
    peer: SocketAddr,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(PeerAddr(peer));
        router.clone().oneshot(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(event = "web.connection", client = %peer, error = %e);
            }
        }
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::config::TlsFiles;

    fn router() -> axum::Router {
        axum::Router::new().route(
            "/",
            axum::routing::get(
                |axum::Extension(PeerAddr(peer)): axum::Extension<PeerAddr>| async move {
                    format!("hello {}", peer.ip())
                },
            ),
        )
    }

    /// Reads one HTTP/1.1 answer (headers and a `content-length` body).
    async fn answer<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> String {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            s.read_exact(&mut byte).await.unwrap();
            buf.push(byte[0]);
            if buf.ends_with(b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8(buf).unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).await.unwrap();
        head + &String::from_utf8(body).unwrap()
    }

    #[tokio::test]
    async fn https_with_the_configured_certificate_and_a_graceful_stop() {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let dir = crate::web::testing::temp_dir("tls");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["console.test".to_owned()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let files = TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();

        let (tx, rx) = watch::channel(false);
        let server = WebServer::bind(
            &["127.0.0.1:0".parse().unwrap()],
            Some(files.server_config().unwrap()),
            router(),
            rx,
        )
        .await
        .unwrap();
        let addr = server.addrs[0];

        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("console.test").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        tls.write_all(b"GET / HTTP/1.1\r\nhost: console.test\r\n\r\n")
            .await
            .unwrap();
        let a = answer(&mut tls).await;
        assert!(a.starts_with("HTTP/1.1 200"), "{a}");
        assert!(a.ends_with("hello 127.0.0.1"), "{a}");

        // Plain HTTP on the TLS port is no request.
        let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
        plain
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        let _ = plain.read_to_end(&mut got).await;
        assert!(!String::from_utf8_lossy(&got).contains("hello"));

        // The kept-alive connection is idle: the stop closes it and the server ends.
        tx.send(true).unwrap();
        tokio::time::timeout(DRAIN_TIMEOUT, server.wait())
            .await
            .expect("the server did not stop");
        let mut rest = Vec::new();
        let n = tls.read_to_end(&mut rest).await.unwrap_or(0);
        assert_eq!(n, 0, "the idle connection was closed");
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "still listening"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn an_address_in_use_is_an_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let (_tx, rx) = watch::channel(false);
        let e = WebServer::bind(&[addr], None, router(), rx)
            .await
            .unwrap_err();
        assert!(
            matches!(e, WebError::Bind { addr: a, .. } if a == addr),
            "{e}"
        );
    }
}
