//! Streams and durables, created idempotently: an existing stream or durable
//! is used as found (its stored messages and ack state are what make a
//! restart lose and duplicate nothing), a missing one is created.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::stream::{self, StorageType};
use async_nats::jetstream::Context;

use crate::subjects::Subjects;

pub const GATEKEEPER_DURABLE: &str = "message-gatekeeper";
pub const WORKER_DURABLE: &str = "message-worker";
pub const BROADCAST_DURABLE: &str = "broadcast-worker";

/// How long a delivered message may stay unacknowledged before redelivery.
/// Long enough for a rate-limited service to work through one pull batch.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Unacked deliveries per durable; above every concurrency + batch bound,
/// so the server never throttles delivery below what the knobs allow.
const MAX_ACK_PENDING: i64 = 20_000;
/// JetStream's default dedup window; the gatekeeper sets `Nats-Msg-Id` to
/// the message id so a redelivered send is not stored twice.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// A durable pull consumer by stream and name.
#[derive(Debug, Clone)]
pub struct Durable {
    pub stream: String,
    pub name: &'static str,
}

/// Creates `MESSAGES_{site}` and `MESSAGES_CANONICAL_{site}` if missing.
pub async fn ensure_streams(
    js: &Context,
    subjects: &Subjects,
    max_age: Duration,
) -> anyhow::Result<()> {
    let duplicate_window = if max_age.is_zero() {
        DUPLICATE_WINDOW
    } else {
        DUPLICATE_WINDOW.min(max_age)
    };
    for (name, subject) in [
        (&subjects.messages_stream, &subjects.send_filter),
        (&subjects.canonical_stream, &subjects.canonical_filter),
    ] {
        let config = stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            storage: StorageType::File,
            max_age,
            duplicate_window,
            ..Default::default()
        };
        js.get_or_create_stream(config)
            .await
            .with_context(|| format!("creating stream {name}"))?;
    }
    Ok(())
}

/// The durable pull consumer, created if missing.
pub async fn durable(js: &Context, durable: &Durable) -> anyhow::Result<PullConsumer> {
    let stream = js
        .get_stream(&durable.stream)
        .await
        .with_context(|| format!("looking up stream {}", durable.stream))?;
    let config = pull::Config {
        durable_name: Some(durable.name.to_string()),
        ack_policy: AckPolicy::Explicit,
        deliver_policy: DeliverPolicy::All,
        ack_wait: ACK_WAIT,
        max_ack_pending: MAX_ACK_PENDING,
        ..Default::default()
    };
    stream
        .get_or_create_consumer(durable.name, config)
        .await
        .with_context(|| format!("creating durable {} on {}", durable.name, durable.stream))
}
