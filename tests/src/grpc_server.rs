//! [`GrpcServer`]: a tonic server on loopback with a known capacity, for the
//! `grpc` plugin's tests (`proto/loadtest.proto`).
//!
//! * every call of `Items` (but `Login`) waits its turn at one [`Worker`] at R
//!   calls/s;
//! * `unavailable_fraction`: that share of calls answers UNAVAILABLE with
//!   `grpc-retry-pushback-ms`, spread evenly, not at random;
//! * `GetItem` needs `authorization: Bearer TOKEN` with a token `Login` gave;
//! * reflection v1 and v1alpha, v1alpha only, or none;
//! * TLS with a certificate signed by a CA made for the server (rcgen), whose
//!   PEM file [`GrpcServer::ca_file`] gives.
//!
//! The server counts every call of `Items` at its arrival, so a test can
//! prove that a refused run sent nothing.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic::{Request, Response, Status, Streaming};

use crate::fifo::Worker;

/// The generated server and messages.
pub mod pb {
    tonic::include_proto!("loadtest.v1");
}

use pb::items_server::{Items, ItemsServer};

/// The `.proto` the server implements.
pub fn proto_file() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/proto/loadtest.proto"))
}

/// Its FileDescriptorSet, as `protox -o` writes it.
pub fn protoset_file() -> &'static Path {
    Path::new(concat!(env!("OUT_DIR"), "/loadtest.protoset"))
}

const DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/loadtest.protoset"));

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reflection {
    /// v1 and v1alpha.
    Both,
    V1alphaOnly,
    Off,
}

#[derive(Clone, Debug)]
pub struct GrpcServerOptions {
    /// Calls per second the one FIFO serves.
    pub capacity: u32,
    /// Share of calls answered UNAVAILABLE (with a retry pushback).
    pub unavailable_fraction: f64,
    pub reflection: Reflection,
    pub tls: bool,
}

impl GrpcServerOptions {
    /// Plain HTTP/2, reflection on, every call OK at `capacity` calls/s.
    pub fn fifo(capacity: u32) -> Self {
        GrpcServerOptions {
            capacity,
            unavailable_fraction: 0.0,
            reflection: Reflection::Both,
            tls: false,
        }
    }
}

/// What the server has seen so far.
#[derive(Debug, Default)]
pub struct GrpcStats {
    /// Calls of `Items`, every method, counted on arrival.
    pub calls: AtomicU64,
    pub logins: AtomicU64,
    pub unauthenticated: AtomicU64,
    pub unavailable: AtomicU64,
    /// Messages received on client- and bidi-streaming calls.
    pub streamed_in: AtomicU64,
}

impl GrpcStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A running server; stopped on drop.
pub struct GrpcServer {
    addr: SocketAddr,
    stats: Arc<GrpcStats>,
    /// The CA's PEM (TLS only), kept on disk while the server runs.
    ca_file: Option<tempfile::NamedTempFile>,
    serve: JoinHandle<()>,
}

impl GrpcServer {
    /// Binds 127.0.0.1 on a free port and serves on the current runtime.
    pub async fn start(options: GrpcServerOptions) -> anyhow::Result<GrpcServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(GrpcStats::default());
        let service = ItemsService {
            worker: Arc::new(Worker::new(options.capacity)),
            unavailable_fraction: options.unavailable_fraction,
            tokens: Arc::new(Mutex::new(HashSet::new())),
            stats: Arc::clone(&stats),
        };
        let mut builder = Server::builder();
        let mut ca_file = None;
        if options.tls {
            let (identity, ca_pem) = certificates()?;
            let mut file = tempfile::NamedTempFile::new()?;
            std::io::Write::write_all(&mut file, ca_pem.as_bytes())?;
            ca_file = Some(file);
            builder = builder.tls_config(ServerTlsConfig::new().identity(identity))?;
        }
        let mut router = builder.add_service(ItemsServer::new(service));
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(DESCRIPTORS)
        };
        match options.reflection {
            Reflection::Both => {
                router = router
                    .add_service(reflection().build_v1()?)
                    .add_service(reflection().build_v1alpha()?);
            }
            Reflection::V1alphaOnly => router = router.add_service(reflection().build_v1alpha()?),
            Reflection::Off => {}
        }
        let incoming = TcpListenerStream::new(listener);
        let serve = tokio::spawn(async move {
            let _ = router.serve_with_incoming(incoming).await;
        });
        Ok(GrpcServer {
            addr,
            stats,
            ca_file,
            serve,
        })
    }

    /// `http://127.0.0.1:PORT` (or `https://`).
    pub fn url(&self) -> String {
        let scheme = if self.ca_file.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The PEM file of the CA that signed the server's certificate (TLS only).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_ref().map(|f| f.path())
    }

    pub fn stats(&self) -> &GrpcStats {
        &self.stats
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        self.serve.abort();
    }
}

/// A CA made now, and the server's identity (for `127.0.0.1` and
/// `localhost`) signed by it; the CA's certificate as PEM.
fn certificates() -> anyhow::Result<(Identity, String)> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "loadgen test CA");
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key)?;
    let identity = Identity::from_pem(leaf_cert.pem(), leaf_key.serialize_pem());
    Ok((identity, ca_cert.pem()))
}

struct ItemsService {
    worker: Arc<Worker>,
    unavailable_fraction: f64,
    tokens: Arc<Mutex<HashSet<String>>>,
    stats: Arc<GrpcStats>,
}

type ReplyStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

impl ItemsService {
    /// Counts the call, waits its turn at the worker, then answers
    /// UNAVAILABLE for its share of calls.
    async fn serve_one(&self) -> Result<(), Status> {
        let n = self.stats.calls.fetch_add(1, Ordering::Relaxed);
        self.worker.serve().await;
        let share = |k: u64| (k as f64 * self.unavailable_fraction).floor();
        if share(n + 1) > share(n) {
            self.stats.unavailable.fetch_add(1, Ordering::Relaxed);
            let mut status = Status::unavailable("overloaded (injected)");
            status
                .metadata_mut()
                .insert("grpc-retry-pushback-ms", "100".parse().expect("ASCII"));
            return Err(status);
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl Items for ItemsService {
    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginReply>, Status> {
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let n = self.stats.logins.fetch_add(1, Ordering::Relaxed);
        let login = request.into_inner();
        if login.user.is_empty() || login.password.is_empty() {
            return Err(Status::invalid_argument("user and password are required"));
        }
        let token = format!("tok-{}-{n}", login.user);
        self.tokens.lock().unwrap().insert(token.clone());
        Ok(Response::new(pb::LoginReply { token }))
    }

    async fn get_item(
        &self,
        request: Request<pb::GetItemRequest>,
    ) -> Result<Response<pb::Item>, Status> {
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let known = token.is_some_and(|t| self.tokens.lock().unwrap().contains(&t));
        if !known {
            self.stats.calls.fetch_add(1, Ordering::Relaxed);
            self.stats.unauthenticated.fetch_add(1, Ordering::Relaxed);
            return Err(Status::unauthenticated("no valid token"));
        }
        self.serve_one().await?;
        let id = request.into_inner().id;
        Ok(Response::new(pb::Item {
            id,
            name: format!("item {id}"),
        }))
    }

    async fn ping(
        &self,
        request: Request<pb::PingRequest>,
    ) -> Result<Response<pb::PingReply>, Status> {
        self.serve_one().await?;
        Ok(Response::new(pb::PingReply {
            text: request.into_inner().text,
        }))
    }

    type ListItemsStream = ReplyStream<pb::Item>;

    async fn list_items(
        &self,
        request: Request<pb::ListItemsRequest>,
    ) -> Result<Response<Self::ListItemsStream>, Status> {
        self.serve_one().await?;
        let pb::ListItemsRequest { count, gap_ms } = request.into_inner();
        let gap = Duration::from_millis(gap_ms.max(0) as u64);
        let items = futures::stream::iter(0..count.max(0) as i64).then(move |id| async move {
            if id > 0 && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            Ok(pb::Item {
                id,
                name: format!("item {id}"),
            })
        });
        Ok(Response::new(Box::pin(items)))
    }

    async fn put_items(
        &self,
        request: Request<Streaming<pb::Item>>,
    ) -> Result<Response<pb::PutItemsReply>, Status> {
        let mut items = request.into_inner();
        let mut count = 0;
        while items.message().await?.is_some() {
            self.stats.streamed_in.fetch_add(1, Ordering::Relaxed);
            count += 1;
        }
        self.serve_one().await?;
        Ok(Response::new(pb::PutItemsReply { count }))
    }

    type ChatStream = ReplyStream<pb::PingReply>;

    async fn chat(
        &self,
        request: Request<Streaming<pb::PingRequest>>,
    ) -> Result<Response<Self::ChatStream>, Status> {
        self.serve_one().await?;
        let stats = Arc::clone(&self.stats);
        let replies = request.into_inner().map(move |ping| {
            stats.streamed_in.fetch_add(1, Ordering::Relaxed);
            ping.map(|p| pb::PingReply { text: p.text })
        });
        Ok(Response::new(Box::pin(replies)))
    }
}
