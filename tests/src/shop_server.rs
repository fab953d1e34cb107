//! [`ShopServer`]: a small API on loopback for realistic-traffic tests: a
//! login that issues tokens, endpoints of different cost on **one** FIFO
//! (like one CPU), `401` without a valid token, and a cache that makes a
//! recently seen item id cheap.
//!
//! - `POST /login` → `200 {"token": "…"}` (costs `login_cost`);
//! - `GET /items/{id}` → `200` (costs `item_cost`, `cached_cost` if `id` is
//!   among the last `cache_size` ids seen);
//! - `POST /orders` → `201` (costs `order_cost`);
//! - [`ShopServer::revoke_all`] invalidates every token issued so far.
//!
//! The capacity of a mix with shares fᵢ of costs cᵢ is 1 / Σ fᵢ·cᵢ.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::fifo::Worker;

#[derive(Clone, Debug)]
pub struct ShopOptions {
    pub login_cost: Duration,
    /// An item id not in the cache.
    pub item_cost: Duration,
    /// An item id among the last `cache_size` seen.
    pub cached_cost: Duration,
    pub order_cost: Duration,
    pub cache_size: usize,
    /// `false`: items and orders need no token (Vegeta files).
    pub require_token: bool,
}

impl Default for ShopOptions {
    /// Items 2.5 ms (400/s), cached items 0.5 ms (2000/s), orders 5 ms
    /// (200/s), logins 1 ms; the 64 latest ids cached; tokens required.
    fn default() -> Self {
        ShopOptions {
            login_cost: Duration::from_millis(1),
            item_cost: Duration::from_micros(2500),
            cached_cost: Duration::from_micros(500),
            order_cost: Duration::from_millis(5),
            cache_size: 64,
            require_token: true,
        }
    }
}

/// What the server has seen.
#[derive(Debug, Default)]
pub struct ShopStats {
    /// Every request, answered or not (a refused scenario sends none).
    pub requests: AtomicU64,
    pub logins: AtomicU64,
    pub items: AtomicU64,
    pub orders: AtomicU64,
    pub unauthorized: AtomicU64,
    /// Items and orders answered after the latest `revoke_all`.
    pub ok_after_revoke: AtomicU64,
    distinct: Mutex<HashSet<String>>,
}

impl ShopStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Distinct item ids requested so far.
    pub fn distinct_ids(&self) -> usize {
        self.distinct.lock().unwrap().len()
    }
}

struct Shared {
    options: ShopOptions,
    worker: Worker,
    cache: Mutex<VecDeque<String>>,
    tokens: Mutex<HashSet<String>>,
    next_token: AtomicU64,
    stats: Arc<ShopStats>,
}

/// A running server; stopped on drop.
pub struct ShopServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl ShopServer {
    /// Binds 127.0.0.1 on a free port and serves on the current runtime.
    pub async fn start(options: ShopOptions) -> anyhow::Result<ShopServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options,
            worker: Worker::new(1),
            cache: Mutex::new(VecDeque::new()),
            tokens: Mutex::new(HashSet::new()),
            next_token: AtomicU64::new(0),
            stats: Arc::new(ShopStats::default()),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(ShopServer {
            addr,
            shared,
            accept,
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash: a `base_url`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stats(&self) -> &ShopStats {
        &self.shared.stats
    }

    /// Every token issued so far answers 401 from now on.
    pub fn revoke_all(&self) {
        self.shared.tokens.lock().unwrap().clear();
        self.shared
            .stats
            .ok_after_revoke
            .store(0, Ordering::Relaxed);
    }
}

impl Drop for ShopServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |req| handle(req, Arc::clone(&shared)));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

fn answer(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let stats = &shared.stats;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    let o = &shared.options;
    let path = req.uri().path().to_string();
    let authorized = !o.require_token
        || req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| shared.tokens.lock().unwrap().contains(t));
    let (cost, status, body) = match (req.method(), path.as_str()) {
        (&Method::POST, "/login") => {
            stats.logins.fetch_add(1, Ordering::Relaxed);
            let token = format!("tok-{}", shared.next_token.fetch_add(1, Ordering::Relaxed));
            shared.tokens.lock().unwrap().insert(token.clone());
            (
                o.login_cost,
                StatusCode::OK,
                format!("{{\"token\": \"{token}\"}}"),
            )
        }
        (_, p) if (p.starts_with("/items/") || p == "/orders") && !authorized => {
            stats.unauthorized.fetch_add(1, Ordering::Relaxed);
            return Ok(answer(
                StatusCode::UNAUTHORIZED,
                "{\"error\": \"token\"}".into(),
            ));
        }
        (&Method::GET, p) if p.starts_with("/items/") => {
            stats.items.fetch_add(1, Ordering::Relaxed);
            let id = p["/items/".len()..].to_string();
            stats.distinct.lock().unwrap().insert(id.clone());
            let cached = {
                let mut cache = shared.cache.lock().unwrap();
                let hit = cache.contains(&id);
                if !hit {
                    cache.push_back(id.clone());
                    if cache.len() > o.cache_size {
                        cache.pop_front();
                    }
                }
                hit
            };
            let cost = if cached { o.cached_cost } else { o.item_cost };
            (cost, StatusCode::OK, format!("{{\"id\": \"{id}\"}}"))
        }
        (&Method::POST, "/orders") => {
            let n = stats.orders.fetch_add(1, Ordering::Relaxed);
            (
                o.order_cost,
                StatusCode::CREATED,
                format!("{{\"order\": {n}}}"),
            )
        }
        _ => return Ok(answer(StatusCode::NOT_FOUND, "{}".into())),
    };
    shared.worker.serve_costing(cost).await;
    if status != StatusCode::OK || path != "/login" {
        stats.ok_after_revoke.fetch_add(1, Ordering::Relaxed);
    }
    Ok(answer(status, body))
}
