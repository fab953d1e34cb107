//! `nats`: find the capacity of any NATS service.
//!
//! - `mode=request` (default): core request/reply to `subject`; a reply with a
//!   `Nats-Service-Error-Code` header is a `service_error`, nobody listening a
//!   `no_responders` failure.
//! - `mode=publish`: publish to `subject` with an op id header and see each
//!   message come back on `reply_subject`; unseen by the deadline = Lost
//!   (slow-consumer drops included, and counted).
//! - `mode=jetstream`: JetStream publish, latency = ack; `durable=STREAM/NAME`
//!   consumers are gated as backlog by the engine.
//!
//! Connects with `$NATS_URL` / `$NATS_CREDS_FILE` like every loadgen component.
//!
//! # Layout
//! - `config.rs`: options, checked once (bad input is one line, exit 2).
//! - `shared.rs`: what every op needs, reasons and counters.
//! - `request.rs`, `publish.rs`, `jetstream.rs`: one per mode; every op ends in
//!   the SDK's in-flight table (saturation, loss deadline, one sample per op).

mod config;
mod jetstream;
mod publish;
mod request;
mod shared;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_nats::{Client, ConnectOptions, Event, Subject};
use loadgen_plugin_api::export_plugin;
use loadgen_plugin_api::sdk::nats::ConnectionWatch;
use loadgen_plugin_api::sdk::*;

use config::{Mode, NatsConfig, NatsOptions};
use jetstream::JetStream;
use shared::{Failure, Shared, Tally, NATS};

/// Room for replies in the client's buffer before it drops (slow consumer).
const SUBSCRIPTION_CAPACITY: usize = 65_536;

pub struct Nats {
    shared: Arc<Shared>,
    /// `Some` in jetstream mode.
    jetstream: Option<Arc<JetStream>>,
    mode: Mode,
    durables: Vec<PendingTarget>,
    /// The in-flight table's keys (ops of two steps overlap in the drain, so
    /// the step-local op index would not do).
    next_key: AtomicU64,
}

impl Plugin for Nats {
    type Options = NatsOptions;

    /// The NATS server(s) of `$NATS_URL`.
    fn targets(_: &NatsOptions) -> Option<Vec<String>> {
        Some(loadgen_plugin_api::sdk::nats_targets())
    }

    fn info() -> Info {
        Info::new(
            "nats",
            env!("CARGO_PKG_VERSION"),
            "Any NATS service: request/reply, publish and see it come back, or JetStream publish with ack.",
        )
        .series(&[NATS])
        .error_reasons(&Failure::reasons())
        .counters(Tally::declare())
        .counters([CounterDecl::new(
            "slow_consumer",
            "replies the client dropped because the subscription fell behind (their ops are Lost)",
        )])
        .counters(InFlight::<u64>::declare_counters())
        .default_steps("1k,2k,5k,10k,20k,50k")
    }

    async fn start(ctx: Context<NatsOptions>) -> Result<Self, String> {
        let config: NatsConfig = config::parse(&ctx.options)?;
        let slow_consumer = Arc::new(AtomicU64::new(0));
        let watch = ConnectionWatch::new(ctx.recorder.clone());
        let client = connect(Arc::clone(&slow_consumer), watch).await?;
        let shared = Arc::new(Shared {
            client: client.clone(),
            subject: Subject::from(config.subject.as_str()),
            payload: config.payload.clone(),
            headers: config.headers.clone(),
            table: ctx.in_flight(Limits::new(config.max_in_flight)),
            tally: Tally::default(),
            slow_consumer,
        });
        let mut jetstream = None;
        match config.mode {
            Mode::Request => request::preflight(&shared).await?,
            Mode::Publish => {
                let replies = subscribe(&client, &config).await?;
                tokio::spawn(publish::receive(replies, Arc::clone(&shared)));
            }
            Mode::JetStream => {
                let js = JetStream::new(&shared, config.ack_in_flight);
                js.preflight(&config.subject, &config.durables).await?;
                jetstream = Some(Arc::new(js));
            }
        }
        let durables = config
            .durables
            .iter()
            .map(|(stream, name)| PendingTarget::new(stream, name))
            .collect();
        Ok(Nats {
            shared,
            jetstream,
            mode: config.mode,
            durables,
            next_key: AtomicU64::new(0),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let next_key = || self.next_key.fetch_add(1, Ordering::Relaxed);
        if self.mode == Mode::Publish {
            return publish::fire(&self.shared, next_key, batch);
        }
        let mut ack = FireAck::default();
        for op in batch.ops() {
            let key = next_key();
            let sent = op.sent_at(clock::now());
            if !self.shared.table.start_counted(&mut ack, key, sent, NATS) {
                continue;
            }
            let shared = Arc::clone(&self.shared);
            match &self.jetstream {
                Some(js) => {
                    tokio::spawn(Arc::clone(js).run(shared, key, sent));
                }
                None => {
                    tokio::spawn(async move { request::run(&shared, key, sent).await });
                }
            }
        }
        ack
    }

    fn counters(&self) -> Vec<Counter> {
        let shared = &self.shared;
        let mut counters = shared.tally.counters();
        counters.push(Counter::new(
            "slow_consumer",
            shared.slow_consumer.load(Ordering::Relaxed),
        ));
        counters.extend(shared.table.counters());
        counters
    }

    fn pending_targets(&self) -> Vec<PendingTarget> {
        self.durables.clone()
    }

    async fn shutdown(&self) {
        let _ = self.shared.client.flush().await;
    }
}

/// Connect; slow-consumer drops are counted, and a lost connection is
/// reported to the host (`watch`).
async fn connect(slow_consumer: Arc<AtomicU64>, watch: ConnectionWatch) -> Result<Client, String> {
    loadgen_plugin_api::sdk::nats::connect("loadgen-nats", move |options: ConnectOptions| {
        options
            .subscription_capacity(SUBSCRIPTION_CAPACITY)
            .event_callback(move |event| {
                watch.on_event(&event);
                let slow_consumer = Arc::clone(&slow_consumer);
                async move {
                    if let Event::SlowConsumer(_) = event {
                        slow_consumer.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
    })
    .await
}

/// Publish mode: the reply subscription, flushed so it is in place before the first publish.
async fn subscribe(client: &Client, config: &NatsConfig) -> Result<async_nats::Subscriber, String> {
    let subject = config.reply_subject.clone();
    let subscribed = match &config.queue {
        Some(queue) => client.queue_subscribe(subject.clone(), queue.clone()).await,
        None => client.subscribe(subject.clone()).await,
    };
    let replies = subscribed.map_err(|e| format!("cannot subscribe to '{subject}': {e}"))?;
    client
        .flush()
        .await
        .map_err(|e| format!("cannot subscribe to '{subject}': {e}"))?;
    Ok(replies)
}

export_plugin!(Nats);
