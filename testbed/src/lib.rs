//! chat-testbed: the reference chat backend of PROTOCOL.md on a real
//! `nats-server -js`, with knobs that give load tests ground truth.
//!
//! # Layout
//!
//! * `server.rs` — [`serve`]`(config, shutdown)`: connects, creates streams
//!   and durables, starts the services, stops them on the caller's signal.
//! * `config.rs` — [`Config`], the command line (clap), also built by tests.
//! * `knobs.rs` — per-service rate/delay/concurrency, `--stall`, fault rolls.
//! * `throttle.rs` — token bucket and stall windows gating each intake loop.
//! * `runner.rs` — the pull-consumer intake loop shared by the JetStream
//!   services, and the bounded handler pool.
//! * `gatekeeper.rs` — message-gatekeeper (validate, publish canonical, reply).
//! * `worker.rs` — message-worker (persist into the store).
//! * `broadcast.rs` — broadcast-worker (RoomEvents to rooms or DM members).
//! * `history.rs` — history-service (request/reply), `pages.rs` — its
//!   replies, merging seeded history and stored messages.
//! * `store.rs` — the in-memory history store; `replay.rs` — rebuilding it
//!   from the canonical stream at start.
//! * `setup.rs` — idempotent streams and durables.
//! * `info.rs` — the `testbed.info` responder.
//! * `metrics.rs` — Prometheus counters and their HTTP responder.
//! * `subjects.rs`, `wire.rs` — subjects and payloads of PROTOCOL.md.
//! * `shared.rs` — the read-mostly state every service holds.
//!
//! Fixtures come from `chat-fixtures`, the crate the plugins use too.

mod broadcast;
mod config;
mod gatekeeper;
mod history;
mod info;
mod knobs;
mod metrics;
mod pages;
mod replay;
mod runner;
mod server;
mod setup;
mod shared;
mod shutdown;
mod store;
mod subjects;
mod throttle;
mod wire;
mod worker;

pub use broadcast::NEW_MESSAGE;
pub use config::Config;
pub use gatekeeper::MAX_CONTENT_BYTES;
pub use history::QUEUE_GROUP as HISTORY_QUEUE_GROUP;
pub use info::Info;
pub use knobs::{Knobs, Service, Stall};
pub use server::serve;
pub use setup::{BROADCAST_DURABLE, GATEKEEPER_DURABLE, WORKER_DURABLE};
pub use subjects::INFO as INFO_SUBJECT;
