//! `http`: drive any HTTP/1.1 or HTTP/2 service and find its capacity.
//!
//! Each op is one request built from a [`RequestTemplate`] made once at start,
//! sent on the plugin's own runtime over HTTP/1.1 keep-alive connections of
//! our own (at most `connections`, one request each at a time) or HTTP/2
//! (hyper-util's client, multiplexed). Latency counts from the op's intended
//! time; an op waiting for a free HTTP/1.1 connection is waiting in the
//! client and that wait is part of its latency and of its service time.
//!
//! # Layout
//! - `config.rs`: options, checked once (bad input is one line, exit 2).
//! - `status.rs`: `expect_status` and the failure reasons.
//! - `client.rs`: the transport (HTTP/1.1 pool or HTTP/2 clients), rustls
//!   (`insecure=true`), the request at start.
//! - `pool.rs`: the HTTP/1.1 connections: a permit each, idle ones reused.
//! - `template.rs`: the request built once.
//! - `exchange.rs`: one op: wait for a connection, send, read the body, judge,
//!   end it in the SDK's in-flight table (saturation, `timeout`, loss deadline).

mod client;
mod config;
mod exchange;
mod pool;
mod status;
mod template;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::{counter_set, export_plugin};

use client::Transport;
use config::{HttpConfig, HttpOptions};
use exchange::Exchange;
use status::Failure;
use template::RequestTemplate;

/// The only series.
const HTTP: Series = Series::new(0, "http");

counter_set! {
    /// What the plugin saw: requests, and failed ops by reason (each op fails
    /// once, on the `http` series). Timeouts and losses are the table's counters.
    pub struct Tally {
        /// Requests handed to a connection.
        requests,
        /// Could not connect (refused, reset, TLS handshake failed).
        connect,
        /// Answers with a 4xx status not in expect_status.
        status_4xx,
        /// Answers with a 5xx status not in expect_status.
        status_5xx,
        /// Unexpected statuses outside 4xx/5xx (1xx, 3xx, an unlisted 2xx).
        status_other,
        /// Response bodies that could not be read.
        body,
        /// Other protocol errors mid-request.
        request,
        /// 429 or 503 answers carrying Retry-After: the server asked to back off.
        retry_after,
    }
}

impl Tally {
    fn failure(&self, failure: Failure) -> &AtomicU64 {
        match failure {
            Failure::Connect => &self.connect,
            Failure::Status4xx => &self.status_4xx,
            Failure::Status5xx => &self.status_5xx,
            Failure::StatusOther => &self.status_other,
            Failure::Body => &self.body,
            Failure::Request => &self.request,
        }
    }
}

pub struct Http {
    exchange: Arc<Exchange>,
    /// The in-flight table's keys: ops of two steps overlap in the drain, so
    /// the step-local op index would not do.
    next_key: AtomicU64,
}

impl Plugin for Http {
    type Options = HttpOptions;

    fn info() -> Info {
        Info::new(
            "http",
            env!("CARGO_PKG_VERSION"),
            "Any HTTP/1.1 or HTTP/2 service: one request per op, latency from the intended send time.",
        )
        .series(&[HTTP])
        .error_reasons(&Failure::reasons())
        .counters(Tally::declare())
        .counters(InFlight::<u64>::declare_counters())
        .default_steps("100,200,500,1k,2k,5k,10k")
    }

    async fn start(ctx: Context<HttpOptions>) -> Result<Self, String> {
        let config: HttpConfig = config::parse(&ctx.options)?;
        let transport: Transport = client::build(&config)?;
        let template = RequestTemplate::new(&config);
        client::preflight(&transport, template.request(), &config).await?;
        let mut limits = Limits::new(config.max_in_flight);
        if let Some(timeout) = config.timeout {
            limits = limits.request_timeout(timeout);
        }
        Ok(Http {
            exchange: Arc::new(Exchange {
                transport,
                template,
                expect: config.expect.clone(),
                table: ctx.in_flight(limits),
                tally: Tally::default(),
            }),
            next_key: AtomicU64::new(0),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        let mut started = Vec::with_capacity(batch.count as usize);
        for op in batch.ops() {
            let key = self.next_key.fetch_add(1, Ordering::Relaxed);
            let sent = op.sent_at(clock::now());
            if self.exchange.table.start_counted(&mut ack, key, sent, HTTP) {
                started.push((key, sent));
            }
        }
        // One task per batch, not per op: `fire` runs on the pacer's thread,
        // where each spawn goes through the runtime's inject queue and may
        // wake a worker; a batch's ops then run side by side in that task.
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
        counters.extend(self.exchange.table.counters());
        counters
    }
}

export_plugin!(Http);
