//! End-to-end test support: real `nats-server`, `chat-testbed` (and later
//! `loadgen`) processes on loopback, driven by a plain async-nats client.
//!
//! # Layout
//!
//! * `nats_server.rs` — [`NatsServer`]: `nats-server -js` on free ports with
//!   a private store; `restart()` keeps port and store; killed on drop.
//! * `testbed.rs` — [`Testbed`]: the `chat-testbed` binary from the target
//!   dir; ready when `testbed.info` answers; SIGTERM via `stop()`.
//! * `chat.rs` — [`ChatClient`]: PROTOCOL.md subjects and request helpers
//!   that flush subscriptions before publishing.
//! * `jetstream.rs` — durable `num_pending` and stream sizes.
//! * `http_server/` — [`HttpServer`]: a hyper HTTP/1.1 + HTTP/2 server of
//!   known capacity (FIFO at R/s or K permits × D), optional 503s, TLS
//!   (rcgen self-signed) and a "stops answering" switch.
//! * `grpc_server.rs` — [`GrpcServer`]: a tonic server of known capacity
//!   (FIFO at R calls/s) for `proto/loadtest.proto`: reflection, TLS with a
//!   CA of its own, injected UNAVAILABLE, a token-guarded `GetItem`.
//! * `nats_service.rs` — [`NatsService`]: a FIFO request responder at R/s
//!   and a forwarder that drops a share of what it forwards.
//! * `nginx.rs` — [`Nginx`]: Debian's nginx in the foreground on a free
//!   port with a generated config (the HTTP/1.1 client's conformance).
//! * `fifo.rs` — the FIFO capacity model both use.
//! * `scrape.rs` / `http.rs` — Prometheus counters over a minimal HTTP GET.
//! * `wait.rs` — [`wait_until`] / [`wait_for`] polling and [`bounded`]
//!   test deadlines, instead of fixed sleeps; [`exclusive`] runs timing
//!   tests one at a time.
//! * `loadgen.rs` — [`loadgen::Loadgen`]: the `loadgen` binary under a hard
//!   timeout; exit code, output and the `--json` report parsed back.
//! * `ports.rs` — free loopback ports; `process.rs` — child-process
//!   plumbing (log files, parent-death signal, stop by PID).
//!
//! Every test sends traffic to 127.0.0.1 only, and every process it starts
//! is stopped by PID when its handle drops, even on panic.

pub mod chat;
mod fifo;
mod grpc_server;
mod http;
mod http_server;
pub mod jetstream;
pub mod loadgen;
mod nats_server;
mod nats_service;
mod nginx;
pub mod ports;
mod process;
pub mod scrape;
mod shop_server;
mod testbed;
mod wait;

pub use chat::ChatClient;
pub use grpc_server::{
    pb as grpc_pb, proto_file as grpc_proto_file, protoset_file as grpc_protoset_file, GrpcServer,
    GrpcServerOptions, GrpcStats, Reflection,
};
pub use http::get as http_get;
pub use http_server::{Capacity, HttpServer, HttpServerOptions, Stats};
pub use jetstream::{num_pending, stream_messages, stream_with_idle_durable};
pub use nats_server::{NatsServer, NatsTls};
pub use nats_service::NatsService;
pub use nginx::Nginx;
pub use ports::free_port;
pub use scrape::{counter, scrape_counter};
pub use shop_server::{ShopOptions, ShopServer, ShopStats};
pub use testbed::{binary as testbed_binary, Testbed};
pub use wait::{bounded, exclusive, wait_for, wait_until};
