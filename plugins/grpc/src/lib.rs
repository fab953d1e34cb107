//! `grpc`: drive any gRPC service and find its capacity.
//!
//! The schema comes from `.proto` files (compiled at start by protox), a
//! protoset, or the server's reflection service; the request is JSON checked
//! against the method's input message and encoded once. Each op is one call
//! (unary, server-, client- or bidi-streaming) over `connections` tonic
//! channels, round-robin. Latency counts from the op's intended time; every
//! non-OK status is a failure named after its code.
//!
//! # Layout
//! - `config.rs`: options, checked once (bad input is one line, exit 2).
//! - `transport.rs`: the channels, connected at start; rustls of our own.
//! - `schema.rs`: descriptors from .proto files or a protoset; the method.
//! - `reflection.rs`: descriptors from the server (v1, else v1alpha).
//! - `request.rs`: JSON to the request message, misspelt fields named.
//! - `codec.rs`: messages as wire bytes.
//! - `status.rs`: failure reasons (status names) and retry pushback.
//! - `exchange.rs`: one call, ended in the SDK's in-flight table.

mod codec;
mod config;
mod exchange;
mod reflection;
mod request;
mod schema;
mod status;
mod transport;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use loadgen_plugin_api::export_plugin;
use loadgen_plugin_api::sdk::*;
use prost_reflect::DescriptorPool;
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{AsciiMetadataValue, BinaryMetadataValue, MetadataKey, MetadataMap};
use tonic::transport::Channel;

use config::{GrpcConfig, GrpcOptions, SchemaSource};
use exchange::{Exchange, Shape, Tally};
use status::{Failure, FailureCounts};

/// Unary and client-streaming calls: the reply.
pub const GRPC: Series = Series::new(0, "grpc");
/// Server- and bidi-streaming calls: the first message of the reply stream.
pub const FIRST: Series = Series::new(1, "first_message");
/// Server- and bidi-streaming calls: the end of the reply stream (OK status).
pub const LAST: Series = Series::new(2, "last_message");

pub struct GrpcPlugin {
    exchange: Arc<Exchange>,
    /// The in-flight table's keys (and the channel pick): ops of two steps
    /// overlap in the drain, so the step-local op index would not do.
    next_key: AtomicU64,
}

impl Plugin for GrpcPlugin {
    type Options = GrpcOptions;

    fn info() -> Info {
        Info::new(
            "grpc",
            env!("CARGO_PKG_VERSION"),
            "Any gRPC service (schema from .proto, protoset or reflection): one call per op, latency from the intended send time.",
        )
        .series(&[GRPC, FIRST, LAST])
        .error_reasons(&Failure::reasons())
        .counters(Tally::declare())
        .counters(FailureCounts::declare())
        .counters(InFlight::<u64>::declare_counters())
        .default_steps("100,200,500,1k,2k,5k,10k")
    }

    async fn start(ctx: Context<GrpcOptions>) -> Result<Self, String> {
        let config: GrpcConfig = config::parse(&ctx.options)?;
        let metadata = metadata_map(&config.metadata)?;
        // Files first: a schema that does not compile is refused offline.
        let local = match &config.schema {
            SchemaSource::Protos { files, includes } => Some(schema::compile(files, includes)?),
            SchemaSource::Protoset(path) => Some(schema::read_protoset(path)?),
            SchemaSource::Reflection => None,
        };
        let channels = transport::connect(&config).await?;
        let pool: DescriptorPool = match local {
            Some(pool) => pool,
            None => {
                reflection::fetch(channels[0].clone(), &config.call, &config.shown_url()).await?
            }
        };
        let method = schema::find_method(&pool, &config.call)?;
        let message = request::encode(&method.input(), &config.data)
            .map_err(|e| format!("option 'data': {e}"))?;
        let path = PathAndQuery::try_from(config.call.path())
            .map_err(|e| format!("option 'call': {e}"))?;
        let mut limits = Limits::new(config.max_in_flight);
        if let Some(timeout) = config.timeout {
            limits = limits.request_timeout(timeout);
        }
        Ok(GrpcPlugin {
            exchange: Arc::new(Exchange {
                clients: channels.into_iter().map(Grpc::<Channel>::new).collect(),
                path,
                shape: Shape::of(&method),
                message,
                metadata,
                timeout: config.timeout,
                stream_count: config.stream_count,
                stream_interval: config.stream_interval,
                table: ctx.in_flight(limits),
                tally: Tally::default(),
                failures: FailureCounts::default(),
            }),
            next_key: AtomicU64::new(0),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        let mut started = Vec::with_capacity(batch.count as usize);
        let series = self.exchange.shape.series();
        for op in batch.ops() {
            let key = self.next_key.fetch_add(1, Ordering::Relaxed);
            let sent = op.sent_at(clock::now());
            if self
                .exchange
                .table
                .start_awaiting(key, sent, series)
                .is_ok()
            {
                ack.accepted += 1;
                started.push((key, sent));
            } else {
                ack.saturated += 1;
            }
        }
        // One task per batch, not per op: `fire` runs on the pacer's thread,
        // where each spawn goes through the runtime's inject queue.
        let exchange = Arc::clone(&self.exchange);
        match started.as_slice() {
            [] => {}
            &[(key, sent)] => {
                tokio::spawn(async move { exchange.run(key, sent).await });
            }
            _ => {
                tokio::spawn(async move {
                    let mut ops: FuturesUnordered<_> = started
                        .into_iter()
                        .map(|(key, sent)| exchange.run(key, sent))
                        .collect();
                    while ops.next().await.is_some() {}
                });
            }
        }
        ack
    }

    fn counters(&self) -> Vec<Counter> {
        let mut counters = self.exchange.tally.counters();
        counters.extend(self.exchange.failures.counters());
        counters.extend(self.exchange.table.counters());
        counters
    }

    fn series_in_use(&self) -> Vec<Series> {
        self.exchange.shape.series().to_vec()
    }
}

/// The request metadata; `-bin` keys carry their value as bytes. Values
/// are never shown (they are often credentials).
fn metadata_map(pairs: &[(String, String)]) -> Result<MetadataMap, String> {
    let mut map = MetadataMap::new();
    for (key, value) in pairs {
        let bad = || {
            format!("option 'metadata': the value of '{key}' is not valid metadata (visible ASCII)")
        };
        if key.ends_with("-bin") {
            let key = MetadataKey::from_bytes(key.as_bytes()).map_err(|_| bad())?;
            map.append_bin(key, BinaryMetadataValue::from_bytes(value.as_bytes()));
        } else {
            let key = MetadataKey::from_bytes(key.as_bytes()).map_err(|_| bad())?;
            let value = AsciiMetadataValue::try_from(value.as_str()).map_err(|_| bad())?;
            map.append(key, value);
        }
    }
    Ok(map)
}

export_plugin!(GrpcPlugin);
