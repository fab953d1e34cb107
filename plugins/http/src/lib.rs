//! `http`: drive any HTTP/1.1 or HTTP/2 service and find its capacity.
//!
//! Each op is one request built from a [`RequestTemplate`] made once at start,
//! sent over hyper-util's pooled client (keep-alive, at most `connections`
//! connections) on the plugin's own runtime. Latency counts from the op's
//! intended time; an op waiting for a free HTTP/1.1 connection is waiting in
//! the client and that wait is part of its latency (the service time starts
//! when the request is handed to a connection).
//!
//! # Layout
//! - `config.rs`: options, checked once (bad input is one line, exit 2).
//! - `status.rs`: `expect_status` and the failure reasons.
//! - `client.rs`: the pooled client, rustls (`insecure=true`), the request at start.
//! - `template.rs`: the request built once.
//! - `exchange.rs`: one op: wait for a connection, send, read the body, judge.

mod client;
mod config;
mod exchange;
mod status;
mod template;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::{counter_set, export_plugin};
use tokio::sync::Semaphore;

use client::HttpClient;
use config::HttpConfig;
use exchange::Exchange;
use status::Failure;
use template::RequestTemplate;

counter_set! {
    /// What the plugin saw; failures by reason (each op failed once, on the `http` series).
    pub struct Tally {
        /// Requests handed to a connection.
        requests: Info,
        /// Could not connect (refused, reset, TLS handshake failed).
        connect: Info,
        /// No answer within `timeout` (the op is a Timeout).
        timeout: Info,
        status_4xx: Info,
        status_5xx: Info,
        /// An unexpected status outside 4xx/5xx (1xx, 3xx, an unlisted 2xx).
        status_other: Info,
        /// The response body could not be read.
        body: Info,
        /// Another protocol error mid-request.
        request: Info,
        /// 429 or 503 answers carrying `Retry-After`: the server asked to back off.
        retry_after: Info,
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
    in_flight: Arc<AtomicUsize>,
    max_in_flight: usize,
    next_client: AtomicUsize,
}

impl Plugin for Http {
    fn info() -> Info {
        let reasons: Vec<&str> = Failure::ALL.iter().map(|f| f.name()).collect();
        config::declare(
            Info::new(
                "http",
                env!("CARGO_PKG_VERSION"),
                "Any HTTP/1.1 or HTTP/2 service: one request per op, latency from the intended send time.",
            )
            .series(&["http"])
            .error_reasons(&reasons)
            .default_steps("100,200,500,1k,2k,5k,10k"),
        )
    }

    async fn start(ctx: Context) -> Result<Self, String> {
        let config: HttpConfig = config::parse(&ctx.options)?;
        let clients: Vec<HttpClient> = client::build(&config)?;
        let template = RequestTemplate::new(&config);
        client::preflight(&clients[0], template.request(), &config).await?;
        // An op unanswered at the loss deadline is Lost; a shorter `timeout`
        // ends it earlier as a Timeout.
        let give_up = match config.timeout {
            Some(t) if t < ctx.loss_timeout => exchange::GiveUp::Timeout(t),
            _ => exchange::GiveUp::Lost(ctx.loss_timeout.max(Duration::from_millis(1))),
        };
        let connection_permits = (!config.http2).then(|| Semaphore::new(config.connections));
        Ok(Http {
            exchange: Arc::new(Exchange {
                clients,
                connection_permits,
                template,
                expect: config.expect.clone(),
                give_up,
                recorder: ctx.recorder,
                tally: Tally::default(),
            }),
            in_flight: Arc::default(),
            max_in_flight: config.max_in_flight,
            next_client: AtomicUsize::new(0),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        for op in batch.ops() {
            let taken = self
                .in_flight
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < self.max_in_flight).then_some(n + 1)
                })
                .is_ok();
            if !taken {
                ack.saturated += 1;
                continue;
            }
            ack.accepted += 1;
            let client = self.next_client.fetch_add(1, Ordering::Relaxed);
            let exchange = Arc::clone(&self.exchange);
            let in_flight = Arc::clone(&self.in_flight);
            tokio::spawn(async move {
                exchange.run(op.intended, client).await;
                in_flight.fetch_sub(1, Ordering::AcqRel);
            });
        }
        ack
    }

    fn counters(&self) -> Vec<Counter> {
        self.exchange.tally.counters()
    }
}

export_plugin!(Http);
