//! `grpc`: drive any gRPC service and find its capacity.
//!
//! The schema comes from `.proto` files (compiled at start by protox), a
//! protoset, or the server's reflection service; the request is JSON checked
//! against the method's input message and encoded once (or rendered per op
//! with the SDK's templates), or a scenario's weighted steps. Each op is one call
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
//! - `call.rs`: one call compiled (method, request, metadata), rendered per op.
//! - `scenario.rs`: `-o scenario=FILE`, the SDK's scenario with gRPC steps.
//! - `exchange.rs`: one call, ended in the SDK's in-flight table; setup steps.

mod call;
mod codec;
mod config;
mod exchange;
mod reflection;
mod request;
mod scenario;
mod schema;
mod shape;
mod status;
mod transport;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use loadgen_plugin_api::export_plugin;
use loadgen_plugin_api::sdk::traffic::{OpContext, ScenarioFile, Scope, Template, Vars};
use loadgen_plugin_api::sdk::*;
use prost_reflect::DescriptorPool;
use tonic::client::Grpc;
use tonic::transport::Channel;

use call::{CallSpec, GrpcCall};
use config::{GrpcConfig, GrpcOptions, SchemaSource};
use exchange::{Exchange, Plan, Tally};
use scenario::GrpcStep;
use status::{Failure, FailureCounts};

/// Unary and client-streaming calls: the reply.
pub const GRPC: Series = Series::new(0, "grpc");
/// Server- and bidi-streaming calls: the first message of the reply stream.
pub const FIRST: Series = Series::new(1, "first_message");
/// Server- and bidi-streaming calls: the end of the reply stream (OK status).
pub const LAST: Series = Series::new(2, "last_message");

pub struct GrpcPlugin {
    exchange: Arc<Exchange>,
    /// The op numbers and in-flight keys (and the channel pick): ops of two
    /// steps overlap in the drain, so the step-local op index would not do.
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
        let o = &ctx.options;
        // The scenario first: its base_url may be the URL.
        let scenario_file = match o.scenario.trim() {
            "" => None,
            path => Some(ScenarioFile::<GrpcStep>::load(path, ctx.seed, &[])?),
        };
        let base_url = scenario_file.as_ref().and_then(|f| f.base_url.as_deref());
        let config: GrpcConfig = config::parse_with(o, base_url)?;
        // Files next: a schema that does not compile is refused offline.
        let local = match &config.schema {
            SchemaSource::Protos { files, includes } => Some(schema::compile(files, includes)?),
            SchemaSource::Protoset(path) => Some(schema::read_protoset(path)?),
            SchemaSource::Reflection => None,
        };
        // Templates too: a placeholder mistake needs no server.
        let single = match &config.call {
            Some(_) => Some(single_templates(&config)?),
            None => None,
        };
        let services = match (&scenario_file, &config.call) {
            (Some(file), _) => scenario::services(file)?,
            (None, Some(call)) => vec![call.service.clone()],
            (None, None) => Vec::new(),
        };
        let channels = transport::connect(&config).await?;
        let pool: DescriptorPool = match local {
            Some(pool) => pool,
            None => reflection::fetch(channels[0].clone(), &services, &config.shown_url()).await?,
        };
        let mut reauth = Vec::new();
        let plan = match scenario_file {
            Some(file) => {
                reauth = scenario::reauth_codes(&file)?;
                let traffic = Arc::new(scenario::compile(file, &pool)?);
                let vars = traffic.vars(0);
                for (i, step) in traffic.requests().iter().enumerate() {
                    let op = traffic.plan(0);
                    let op = loadgen_plugin_api::sdk::traffic::OpPlan { request: i, ..op };
                    step.call
                        .check_sample(&traffic.context(&op, &vars))
                        .map_err(|e| format!("scenario {}: {} {e}", traffic.shown(), step.label))?;
                }
                Plan::Scenario(traffic)
            }
            None => {
                let (data, metadata) = single.ok_or("option 'call' is required")?;
                Plan::Single(Box::new(single_call(
                    &config, data, metadata, &pool, ctx.seed,
                )?))
            }
        };
        let mut limits = Limits::new(config.max_in_flight);
        if let Some(timeout) = config.timeout {
            limits = limits.request_timeout(timeout);
        }
        let exchange = Arc::new(Exchange {
            clients: channels.into_iter().map(Grpc::<Channel>::new).collect(),
            plan,
            timeout: config.timeout,
            stream_count: config.stream_count,
            stream_interval: config.stream_interval,
            reauth,
            seed: ctx.seed,
            table: ctx.in_flight(limits),
            tally: Tally::default(),
            failures: FailureCounts::default(),
        });
        if let Plan::Scenario(traffic) = &exchange.plan {
            traffic.open_sessions(&*exchange).await?;
        }
        Ok(GrpcPlugin {
            exchange,
            next_key: AtomicU64::new(0),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        let mut started = Vec::with_capacity(batch.count as usize);
        for op in batch.ops() {
            let key = self.next_key.fetch_add(1, Ordering::Relaxed);
            let (series, plan) = self.exchange.start_of(key);
            let sent = op.sent_at(clock::now());
            if self
                .exchange
                .table
                .start_awaiting(key, sent, series)
                .is_ok()
            {
                ack.accepted += 1;
                started.push((key, sent, plan));
            } else {
                ack.saturated += 1;
            }
        }
        // One task per batch, not per op: `fire` runs on the pacer's thread,
        // where each spawn goes through the runtime's inject queue.
        let exchange = Arc::clone(&self.exchange);
        match started.as_slice() {
            [] => {}
            &[(key, sent, plan)] => {
                tokio::spawn(async move { exchange.run(key, sent, plan).await });
            }
            _ => {
                tokio::spawn(async move {
                    let mut ops: FuturesUnordered<_> = started
                        .into_iter()
                        .map(|(key, sent, plan)| exchange.run(key, sent, plan))
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
        match &self.exchange.plan {
            Plan::Single(call) => call.shape.series().to_vec(),
            Plan::Scenario(traffic) => traffic
                .series_specs()
                .iter()
                .map(SeriesSpec::handle)
                .collect(),
        }
    }

    /// A scenario: one series per request, named as its `name` (or its
    /// method), with its own SLO if it has one.
    fn series_specs(&self) -> Vec<SeriesSpec> {
        let Plan::Scenario(traffic) = &self.exchange.plan else {
            return self
                .series_in_use()
                .into_iter()
                .map(SeriesSpec::from)
                .collect();
        };
        traffic.series_specs()
    }
}

/// The templates of `-o data` and `-o metadata`, compiled with the SDK (no
/// data sources or session variables outside a scenario).
fn single_templates(config: &GrpcConfig) -> Result<(Template, Vec<(String, Template)>), String> {
    let scope = Scope {
        data: &[],
        vars: &[],
        captured_anywhere: &[],
    };
    let template = |field: &str, text: &str, salt: u64| {
        Template::compile(text, &scope, salt)
            .map_err(|e| format!("option '{field}': {} at {}", e.message, e.position()))
    };
    let data = template("data", &config.data, 1)?;
    let metadata = config
        .metadata
        .iter()
        .enumerate()
        .map(|(i, (key, value))| Ok((key.clone(), template("metadata", value, 0x100 + i as u64)?)))
        .collect::<Result<Vec<_>, String>>()?;
    Ok((data, metadata))
}

/// The one call of `-o call`/`data`/`metadata`, its request checked once.
fn single_call(
    config: &GrpcConfig,
    data: Template,
    metadata: Vec<(String, Template)>,
    pool: &DescriptorPool,
    seed: u64,
) -> Result<GrpcCall, String> {
    let call = config
        .call
        .as_ref()
        .ok_or("option 'call' is required, e.g. -o call=package.Service/Method")?;
    let call = GrpcCall::compile(
        pool,
        CallSpec {
            call,
            data,
            metadata,
            expect: Vec::new(),
        },
    )?;
    let vars = Vars(Vec::new());
    call.check_sample(&OpContext {
        seq: 0,
        session: 0,
        vars: &vars,
        data: &[],
        seed,
    })?;
    Ok(call)
}

export_plugin!(GrpcPlugin);
