//! Serving a router over TCP as a public server must: HTTP/1.1 connections whose request
//! headers must arrive within [`Limits::header_timeout`] (which also closes idle kept-alive
//! connections), and at most [`Limits::max_connections_per_address`] connections open at once
//! from one address. `axum::serve` has neither (it sets no timer, so hyper's header timeout is
//! off), so slow clients could hold connections forever; this is its accept loop with both.
//! Body read timeouts and request limits are the router's (`server::app_with`).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::{Service, ServiceExt};

use crate::limits::Limits;

/// Open connections per address.
#[derive(Default)]
struct Open(Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in [`Open`], given back when dropped.
struct Slot {
    open: Arc<Open>,
    ip: IpAddr,
}

impl Open {
    fn take(open: &Arc<Open>, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut map = open.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            open: Arc::clone(open),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.open.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

const TOO_MANY_CONNECTIONS: &str = "{\"code\":\"rate-limited\",\"message\":\"too many connections from this address; retry in 1 s\",\"retry_after\":1}";

/// Answers a connection over the per-address limit with a 429 and closes it (best effort: the
/// request is not read).
async fn refuse(mut stream: TcpStream) {
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{TOO_MANY_CONNECTIONS}",
        TOO_MANY_CONNECTIONS.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in progress
/// finish (idle connections close at once) and returns. The router sees each request's peer
/// as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let open = Arc::new(Open::default());
    let (stop_tx, stop_rx) = watch::channel(());
    let mut make = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors, or a connection reset before it was accepted: go
                // on, after a pause so as not to spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = if limits.is_trusted_proxy(peer.ip()) {
            None
        } else {
            match Open::take(&open, peer.ip(), limits.max_connections_per_address) {
                Some(s) => Some(s),
                None => {
                    tokio::spawn(refuse(stream));
                    continue;
                }
            }
        };
        let service = match ServiceExt::<SocketAddr>::ready(&mut make).await {
            Ok(m) => m.call(peer).await,
            Err(e) => Err(e),
        }
        .unwrap_or_else(|e| match e {});
        let service = TowerToHyperService::new(
            service.map_request(|req: axum::http::Request<Incoming>| req.map(Body::new)),
        );
        let mut stop = stop_rx.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            let _ = stream.set_nodelay(true);
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(stop);
        });
    }
    drop(stop_rx);
    let _ = stop_tx.send(());
    // Every connection task holds a receiver until it ends.
    stop_tx.closed().await;
    Ok(())
}
