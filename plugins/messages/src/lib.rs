//! `messages`: the chat send workload (PROTOCOL.md "Message send").
//!
//! frontdoor: publish a SendMessageRequest per op; **E1** = publish → the
//! gatekeeper's reply, **E2** = publish → the first RoomEvent carrying the
//! message id. canonical: JetStream-publish the MessageEvent; E2 only.
//! Backlog: the chat durables' `num_pending`, polled by the engine.
//!
//! # Layout
//! - `config`: options. `ids`: ids that carry the op's sequence number.
//! - `wire`: payloads. `shared`: building messages; ops awaiting answers in
//!   the SDK's `InFlight` table (the `max_in_flight` bound, the loss deadline).
//! - `link`: connecting, the testbed fixtures check, the preflight sends.
//! - `receive`: reply and broadcast receivers. `tally`: counters.

mod config;
mod ids;
mod link;
mod receive;
mod shared;
mod tally;
mod wire;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::Client;
use chat_fixtures::Fixtures;
use loadgen_plugin_api::export_plugin;
use loadgen_plugin_api::sdk::nats::ConnectionWatch;
use loadgen_plugin_api::sdk::*;

use config::{Config, Inject, MessagesOptions};
use shared::{Outgoing, Shared};
use tally::bump;

pub struct Messages {
    shared: Arc<Shared>,
    client: Client,
    jetstream: jetstream::Context,
}

impl Plugin for Messages {
    type Options = MessagesOptions;

    /// The NATS server(s) of `$NATS_URL`.
    fn targets(_: &MessagesOptions) -> Option<Vec<String>> {
        Some(loadgen_plugin_api::sdk::nats_targets())
    }

    fn info() -> Info {
        Info::new(
            "messages",
            env!("CARGO_PKG_VERSION"),
            "Chat message sends: E1 gatekeeper ack, E2 broadcast visibility, JetStream backlog.",
        )
        .series(&wire::SERIES)
        .error_reasons(&wire::REASONS)
        .counters(tally::Tally::declare())
        .counters(InFlight::<u64>::declare_counters())
        .default_steps("500,1k,2k,5k,10k")
        .durable("MESSAGES_CANONICAL_{site}", "message-worker")
        .durable("MESSAGES_CANONICAL_{site}", "broadcast-worker")
        .durable("MESSAGES_{site}", "message-gatekeeper")
    }

    async fn start(ctx: Context<MessagesOptions>) -> Result<Self, String> {
        let config = Config::from_options(&ctx.options, std::env::var("SITE_ID").ok())?;
        let fixtures = Fixtures::build(config.preset, ctx.seed, &config.site);
        let tally = Arc::new(tally::Tally::default());
        let watch = ConnectionWatch::new(ctx.recorder.clone());
        let client = link::connect(Arc::clone(&tally), watch).await?;
        link::check_testbed(&client, &fixtures).await?;
        let nonce = run_nonce();
        if config.inject == Inject::Frontdoor {
            link::preflight(&client, &fixtures, nonce, &config.site).await?;
        }
        let shared = Arc::new(Shared {
            inflight: ctx.in_flight(Limits::new(config.max_in_flight)),
            config,
            fixtures,
            tally,
            nonce,
            seed: ctx.seed,
            seq: Default::default(),
            last_in_room: Default::default(),
        });
        subscribe(&client, &shared).await?;
        Ok(Messages {
            jetstream: jetstream::new(client.clone()),
            shared,
            client,
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let s = &self.shared;
        let now = clock::now();
        let frontdoor = s.config.inject == Inject::Frontdoor;
        let awaits: &[Series] = if frontdoor {
            &[wire::E1, wire::E2]
        } else {
            &[wire::E2]
        };
        let mut outgoing = Vec::with_capacity(batch.count as usize);
        let mut ack = FireAck::default();
        for op in batch.ops() {
            let seq = s.seq.fetch_add(1, Ordering::Relaxed);
            if s.inflight
                .start_awaiting(seq, op.sent_at(now), awaits)
                .is_err()
            {
                ack.saturated += 1;
                continue;
            }
            ack.accepted += 1;
            match s.build(seq) {
                Ok(out) => outgoing.push(out),
                Err(_) => {
                    bump(&s.tally.marshal);
                    s.inflight.complete(&seq, Answer::Error(wire::MARSHAL), now);
                }
            }
        }
        if frontdoor {
            tokio::spawn(publish_core(self.client.clone(), Arc::clone(s), outgoing));
        } else {
            tokio::spawn(publish_jetstream(
                self.jetstream.clone(),
                Arc::clone(s),
                outgoing,
            ));
        }
        ack
    }

    fn counters(&self) -> Vec<Counter> {
        let mut counters = self.shared.tally.counters();
        counters.extend(self.shared.inflight.counters());
        counters
    }

    fn pending_targets(&self) -> Vec<PendingTarget> {
        let site = &self.shared.config.site;
        let canonical = format!("MESSAGES_CANONICAL_{site}");
        let mut targets = vec![
            PendingTarget::new(&canonical, "message-worker"),
            PendingTarget::new(&canonical, "broadcast-worker"),
        ];
        if self.shared.config.inject == Inject::Frontdoor {
            targets.push(PendingTarget::new(
                &format!("MESSAGES_{site}"),
                "message-gatekeeper",
            ));
        }
        targets
    }

    fn series_in_use(&self) -> Vec<Series> {
        match self.shared.config.inject {
            Inject::Frontdoor => vec![wire::E1, wire::E2],
            Inject::Canonical => vec![wire::E2],
        }
    }

    async fn shutdown(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.client.drain()).await;
    }
}

/// Subscribe the receivers and flush, so no early answer is missed.
async fn subscribe(client: &Client, s: &Arc<Shared>) -> Result<(), String> {
    let sub = |subject: &'static str| async move {
        client
            .subscribe(subject)
            .await
            .map_err(|e| format!("cannot subscribe to {subject}: {e}"))
    };
    if s.config.inject == Inject::Frontdoor {
        tokio::spawn(receive::replies(
            sub("chat.user.*.response.*").await?,
            Arc::clone(s),
        ));
    }
    let rooms = sub("chat.room.*.event").await?;
    let users = sub("chat.user.*.event.room").await?;
    tokio::spawn(receive::broadcasts(rooms, users, Arc::clone(s)));
    client
        .flush()
        .await
        .map_err(|e| format!("cannot flush subscriptions: {e}"))
}

async fn publish_core(client: Client, s: Arc<Shared>, outgoing: Vec<Outgoing>) {
    for out in outgoing {
        match client.publish(out.subject, out.payload).await {
            Ok(()) => bump(&s.tally.published),
            Err(_) => publish_failed(&s, out.seq),
        }
    }
}

/// Each publish waits for its stream ack in its own task, so many acks are
/// in flight at once (the ack round trip would otherwise cap the rate).
async fn publish_jetstream(js: jetstream::Context, s: Arc<Shared>, outgoing: Vec<Outgoing>) {
    for out in outgoing {
        match js.publish(out.subject, out.payload).await {
            Ok(ack) => {
                let s = Arc::clone(&s);
                tokio::spawn(async move {
                    match ack.await {
                        Ok(_) => bump(&s.tally.published),
                        Err(_) => publish_failed(&s, out.seq),
                    }
                });
            }
            Err(_) => publish_failed(&s, out.seq),
        }
    }
}

fn publish_failed(s: &Shared, seq: u64) {
    bump(&s.tally.publish);
    s.inflight
        .complete(&seq, Answer::Error(wire::PUBLISH), clock::now());
}

/// Distinct per process and start time.
fn run_nonce() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    chat_fixtures::hash(&[t, std::process::id() as u64]) as u32
}

export_plugin!(Messages);
