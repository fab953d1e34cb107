//! [`HttpServer`]: an HTTP/1.1 + HTTP/2 (hyper) server on loopback with a
//! known capacity, for the `http` plugin's tests.
//!
//! * capacity: a [`Fifo`] at R requests/s, or K permits × D ms each;
//! * `status_503_fraction`: that share of answers is `503` with `Retry-After: 1`;
//! * `stop_answering_after`: from then on requests are read but never answered;
//! * `tls`: HTTPS with a self-signed certificate (rcgen), ALPN h2 and http/1.1.
//!
//! Both protocols are served on every connection (hyper-util's `auto`
//! builder: HTTP/2 by prior knowledge or ALPN), and the server counts which
//! one each request came over, so a test can prove the client used HTTP/2.

mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::fifo::Fifo;

/// How fast the server can answer.
#[derive(Clone, Copy, Debug)]
pub enum Capacity {
    /// One queue served at exactly this many requests per second.
    Fifo { per_second: u32 },
    /// `permits` requests at a time, each taking `service`.
    Permits { permits: usize, service: Duration },
}

#[derive(Clone, Debug)]
pub struct HttpServerOptions {
    pub capacity: Capacity,
    /// Share of answers that are `503 Service Unavailable` with `Retry-After`,
    /// spread evenly (every 20th for 0.05), not at random.
    pub status_503_fraction: f64,
    /// From this long after start, requests are never answered.
    pub stop_answering_after: Option<Duration>,
    pub tls: bool,
}

impl HttpServerOptions {
    /// A plain HTTP server answering `200` at `per_second` in FIFO order.
    pub fn fifo(per_second: u32) -> Self {
        HttpServerOptions {
            capacity: Capacity::Fifo { per_second },
            status_503_fraction: 0.0,
            stop_answering_after: None,
            tls: false,
        }
    }
}

/// What the server has seen so far.
#[derive(Debug, Default)]
pub struct Stats {
    /// The method and headers of the latest request.
    pub last_request: Mutex<Option<(hyper::Method, hyper::HeaderMap)>>,
    pub http1: AtomicU64,
    pub http2: AtomicU64,
    pub answered: AtomicU64,
    pub status_503: AtomicU64,
    pub unanswered: AtomicU64,
}

impl Stats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A running server; stopped (its accept loop and connections aborted) on drop.
pub struct HttpServer {
    addr: SocketAddr,
    tls: bool,
    /// The certificate's PEM (TLS only), kept on disk while the server runs.
    ca_file: Option<tempfile::NamedTempFile>,
    stats: Arc<Stats>,
    accept: JoinHandle<()>,
}

struct Shared {
    options: HttpServerOptions,
    started: Instant,
    fifo: Mutex<Fifo>,
    permits: Semaphore,
    stats: Arc<Stats>,
}

impl HttpServer {
    /// Binds 127.0.0.1 on a free port and serves on the current runtime.
    pub async fn start(options: HttpServerOptions) -> anyhow::Result<HttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (acceptor, ca_file) = if options.tls {
            let (acceptor, pem) = tls::acceptor()?;
            let mut file = tempfile::NamedTempFile::new()?;
            std::io::Write::write_all(&mut file, pem.as_bytes())?;
            (Some(acceptor), Some(file))
        } else {
            (None, None)
        };
        let stats = Arc::new(Stats::default());
        let (fifo_rate, permits) = match options.capacity {
            Capacity::Fifo { per_second } => (per_second, 1),
            Capacity::Permits { permits, .. } => (1, permits),
        };
        let shared = Arc::new(Shared {
            started: Instant::now(),
            fifo: Mutex::new(Fifo::new(fifo_rate)),
            permits: Semaphore::new(permits),
            stats: Arc::clone(&stats),
            options: options.clone(),
        });
        let accept = tokio::spawn(accept_loop(listener, acceptor, shared));
        Ok(HttpServer {
            addr,
            tls: options.tls,
            ca_file,
            stats,
            accept,
        })
    }

    /// `http://127.0.0.1:PORT/` (or `https://`).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }

    /// A PEM file that trusts the server's certificate (TLS only).
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_ref().map(|f| f.path())
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) {
    // Connections are tasks of this set: aborting the accept loop drops them all.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let acceptor = acceptor.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| handle(req, Arc::clone(&shared)));
            let builder = auto::Builder::new(TokioExecutor::new());
            match acceptor {
                Some(acceptor) => {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
        // Reap finished connections so the set stays small.
        while connections.try_join_next().is_some() {}
    }
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let stats = &shared.stats;
    *stats.last_request.lock().unwrap() = Some((req.method().clone(), req.headers().clone()));
    if req.version() == Version::HTTP_2 {
        stats.http2.fetch_add(1, Ordering::Relaxed);
    } else {
        stats.http1.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(after) = shared.options.stop_answering_after {
        if shared.started.elapsed() >= after {
            stats.unanswered.fetch_add(1, Ordering::Relaxed);
            std::future::pending::<()>().await;
        }
    }
    match shared.options.capacity {
        Capacity::Fifo { .. } => {
            let done = shared.fifo.lock().unwrap().admit(Instant::now());
            tokio::time::sleep_until(done).await;
        }
        Capacity::Permits { service, .. } => {
            let _permit = shared.permits.acquire().await;
            tokio::time::sleep(service).await;
        }
    }
    let n = stats.answered.fetch_add(1, Ordering::Relaxed);
    if is_every_nth(n, shared.options.status_503_fraction) {
        stats.status_503.fetch_add(1, Ordering::Relaxed);
        let mut res = Response::new(Full::new(Bytes::from_static(b"busy")));
        *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        res.headers_mut()
            .insert(hyper::header::RETRY_AFTER, "1".parse().unwrap());
        return Ok(res);
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// Whether answer `n` (0-based) is one of an evenly spread `fraction` of answers.
pub(crate) fn is_every_nth(n: u64, fraction: f64) -> bool {
    fraction > 0.0 && ((n + 1) as f64 * fraction).floor() > (n as f64 * fraction).floor()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fraction_is_spread_evenly() {
        let picked = |f: f64| (0..100).filter(|&n| is_every_nth(n, f)).count();
        assert_eq!(picked(0.0), 0);
        assert_eq!(picked(0.05), 5);
        assert_eq!(picked(1.0), 100);
        let every_20th: Vec<u64> = (0..60).filter(|&n| is_every_nth(n, 0.05)).collect();
        assert_eq!(every_20th, vec![19, 39, 59]);
    }
}
