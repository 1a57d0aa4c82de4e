//! The accept loop: what `axum::serve` does, plus hyper's header-read timeout, which axum
//! does not expose (a client sending its headers slowly would otherwise hold a connection
//! and its task forever), and a limit of open connections per client address.

use crate::per_address::PerAddress;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// How connections are served.
pub struct Options {
    pub header_read_timeout: Duration,
    /// Open connections per peer address.
    pub connections: std::sync::Arc<PerAddress>,
    /// Peers exempt from the per-address limit (the reverse proxy).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The answer to a connection past its address's limit.
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: application/json\r\nContent-Length: 56\r\nConnection: close\r\n\r\n\
{\"detail\":\"Too many open connections from this address\"}";

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish.
/// Each request carries `ConnectInfo<SocketAddr>` and goes through
/// [`crate::http::canonical_slashes`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let header_read_timeout = options.header_read_timeout;
    // Every connection task holds a receiver; `closed()` resolves when all are gone.
    let (open_tx, open_rx) = tokio::sync::watch::channel(());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let held = if options.trusted_proxies.contains(&peer.ip()) {
            None
        } else {
            match options.connections.try_hold(peer.ip()) {
                Some(held) => Some(held),
                None => {
                    tokio::spawn(refuse(stream));
                    continue;
                }
            }
        };
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |req: axum::http::Request<hyper::body::Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                crate::http::canonical_slashes(req)
            },
        );
        let service = TowerToHyperService::new(service);
        let mut stop = stop_rx.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(err) = result {
                            tracing::trace!(error = %err, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stop.wait_for(|s| *s), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop((open, held));
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_rx);
    open_tx.closed().await;
}

/// Answers 503 and closes, without reading the request.
async fn refuse(mut stream: TcpStream) {
    tracing::debug!("connection refused: too many from its address");
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        stream.write_all(TOO_MANY_CONNECTIONS),
    )
    .await;
}
