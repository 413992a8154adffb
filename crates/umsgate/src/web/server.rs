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
