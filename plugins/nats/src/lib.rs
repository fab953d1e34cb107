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
//! - `request.rs`, `publish.rs` (+ `correlate.rs`), `jetstream.rs`: one per mode.

mod config;
mod correlate;
mod jetstream;
mod publish;
mod request;
mod shared;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use async_nats::{Client, ConnectOptions, Event, Subject};
use loadgen_plugin_api::export_plugin;
use loadgen_plugin_api::sdk::*;

use config::{Mode, NatsConfig};
use jetstream::JetStream;
use publish::Publisher;
use shared::{Failure, Shared, Tally};

/// Room for replies in the client's buffer before it drops (slow consumer).
const SUBSCRIPTION_CAPACITY: usize = 65_536;

pub struct Nats {
    shared: Arc<Shared>,
    how: How,
    durables: Vec<PendingTarget>,
}

enum How {
    Request {
        in_flight: Arc<AtomicUsize>,
        max: usize,
    },
    Publish(Publisher),
    JetStream {
        js: Arc<JetStream>,
        in_flight: Arc<AtomicUsize>,
        max: usize,
    },
}

impl Plugin for Nats {
    fn info() -> Info {
        let reasons: Vec<&str> = Failure::ALL.iter().map(|f| f.name()).collect();
        config::declare(
            Info::new(
                "nats",
                env!("CARGO_PKG_VERSION"),
                "Any NATS service: request/reply, publish and see it come back, or JetStream publish with ack.",
            )
            .series(&["nats"])
            .error_reasons(&reasons)
            .default_steps("1k,2k,5k,10k,20k,50k"),
        )
    }

    async fn start(ctx: Context) -> Result<Self, String> {
        let config: NatsConfig = config::parse(&ctx.options)?;
        let slow_consumer = Arc::new(AtomicU64::new(0));
        let client = connect(Arc::clone(&slow_consumer)).await?;
        let shared = Arc::new(Shared {
            client: client.clone(),
            subject: Subject::from(config.subject.as_str()),
            payload: config.payload.clone(),
            headers: config.headers.clone(),
            loss_timeout: ctx.loss_timeout,
            recorder: ctx.recorder,
            tally: Tally::default(),
            slow_consumer,
        });
        let max = config.max_in_flight;
        let how = match config.mode {
            Mode::Request => {
                request::preflight(&shared).await?;
                How::Request {
                    in_flight: Arc::default(),
                    max,
                }
            }
            Mode::Publish => {
                let replies = subscribe(&client, &config).await?;
                How::Publish(Publisher::start(Arc::clone(&shared), replies, max))
            }
            Mode::JetStream => {
                let js = JetStream::new(&shared, config.ack_in_flight);
                js.preflight(&config.subject, &config.durables).await?;
                How::JetStream {
                    js: Arc::new(js),
                    in_flight: Arc::default(),
                    max,
                }
            }
        };
        let durables = config
            .durables
            .iter()
            .map(|(stream, name)| PendingTarget::new(stream, name))
            .collect();
        Ok(Nats {
            shared,
            how,
            durables,
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        match &self.how {
            How::Publish(publisher) => publisher.fire(batch),
            How::Request { in_flight, max } => spawn_each(batch, in_flight, *max, |intended| {
                let shared = Arc::clone(&self.shared);
                async move { request::run(&shared, intended).await }
            }),
            How::JetStream { js, in_flight, max } => {
                spawn_each(batch, in_flight, *max, |intended| {
                    Arc::clone(js).run(Arc::clone(&self.shared), intended)
                })
            }
        }
    }

    fn counters(&self) -> Vec<Counter> {
        let mut counters = self.shared.tally.counters();
        counters.push(Counter::new(
            "slow_consumer",
            CounterKind::Info,
            self.shared.slow_consumer.load(Ordering::Relaxed),
        ));
        counters
    }

    fn pending_targets(&self) -> Vec<PendingTarget> {
        self.durables.clone()
    }

    async fn shutdown(&self) {
        let _ = self.shared.client.flush().await;
    }
}

/// One task per op, at most `max` at once; the rest are refused (saturation).
fn spawn_each<F, Fut>(batch: Batch, in_flight: &Arc<AtomicUsize>, max: usize, op: F) -> FireAck
where
    F: Fn(MonoNanos) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut ack = FireAck::default();
    for o in batch.ops() {
        let taken = in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok();
        if !taken {
            ack.saturated += 1;
            continue;
        }
        ack.accepted += 1;
        let run = op(o.intended);
        let in_flight = Arc::clone(in_flight);
        tokio::spawn(async move {
            run.await;
            in_flight.fetch_sub(1, Ordering::AcqRel);
        });
    }
    ack
}

async fn connect(slow_consumer: Arc<AtomicU64>) -> Result<Client, String> {
    loadgen_plugin_api::sdk::nats::connect("loadgen-nats", move |options: ConnectOptions| {
        options
            .subscription_capacity(SUBSCRIPTION_CAPACITY)
            .event_callback(move |event| {
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
