//! Rebuilding the in-memory store at start. The store lives in the process,
//! the truth in JetStream: every canonical message up to the
//! `message-worker` durable's delivered sequence was persisted by an earlier
//! run, so it is read back from the stream before the worker resumes.
//! Messages delivered but not yet acked are read too, and their
//! redelivery is then a no-op (the store dedups by id) — so a restart
//! neither loses nor duplicates stored messages.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::Context;
use futures::StreamExt;

use crate::setup::WORKER_DURABLE;
use crate::shared::Shared;
use crate::worker;

/// A gap this long in the replay stream means the stream has nothing more.
const IDLE: Duration = Duration::from_secs(5);

/// Replays persisted messages into `shared.store`; returns how many were
/// stored.
pub async fn replay(js: &Context, shared: &Shared) -> anyhow::Result<usize> {
    let name = &shared.subjects.canonical_stream;
    let mut stream = js
        .get_stream(name)
        .await
        .with_context(|| format!("looking up {name}"))?;
    let delivered = stream
        .consumer_info(WORKER_DURABLE)
        .await
        .with_context(|| format!("reading {WORKER_DURABLE} state"))?
        .delivered
        .stream_sequence;
    let state = stream
        .info()
        .await
        .context("reading stream state")?
        .state
        .clone();
    if delivered == 0 || state.messages == 0 || state.first_sequence > delivered {
        return Ok(0);
    }
    let target = delivered.min(state.last_sequence);
    tracing::info!("replaying {name} up to sequence {target} into the history store");
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            filter_subject: shared.subjects.canonical_created.clone(),
            ..Default::default()
        })
        .await
        .context("creating replay consumer")?;
    let mut messages = consumer
        .messages()
        .await
        .context("reading replay consumer")?;
    let mut stored = 0;
    loop {
        let msg = match tokio::time::timeout(IDLE, messages.next()).await {
            Ok(Some(msg)) => msg.context("replay stream")?,
            Ok(None) | Err(_) => break,
        };
        let info = msg
            .info()
            .map_err(|e| anyhow::anyhow!("replay message info: {e}"))?;
        let (seq, pending) = (info.stream_sequence, info.pending);
        if seq > target {
            break;
        }
        if let Ok(true) = worker::persist(&shared.store, &msg.payload) {
            stored += 1;
        }
        if seq >= target || pending == 0 {
            break;
        }
    }
    Ok(stored)
}
