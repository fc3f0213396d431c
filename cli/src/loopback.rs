//! Serving an HTTP service (a board, a witness) on 127.0.0.1 from a background thread, for the
//! demo and the benchmarks, which play every party in one process.

use std::net::SocketAddr;

use anyhow::Result;

/// Binds a random loopback port and serves the router `make` builds (inside the service's own
/// runtime, so it may spawn tasks) until the process ends; returns the address.
pub fn serve(make: impl FnOnce() -> axum::Router + Send + 'static) -> Result<SocketAddr> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        rt.block_on(async move {
            let limits = urna_serve::limits::Limits::unlimited();
            let _ =
                urna_serve::listen::serve(listener, make(), &limits, std::future::pending()).await;
        })
    });
    Ok(addr)
}
