//! Reading JetStream state the way the engine's PendingPoller does: through
//! the JetStream API on the same connection.

use anyhow::Context as _;
use async_nats::{jetstream, Client};

/// `num_pending` of a durable: messages in the stream it has not been
/// delivered yet — the backlog signal.
pub async fn num_pending(client: &Client, stream: &str, durable: &str) -> anyhow::Result<u64> {
    let js = jetstream::new(client.clone());
    let stream_handle = js
        .get_stream(stream)
        .await
        .with_context(|| format!("stream {stream}"))?;
    let info = stream_handle
        .consumer_info(durable)
        .await
        .with_context(|| format!("consumer {durable} on {stream}"))?;
    Ok(info.num_pending)
}

/// How many messages a stream holds.
pub async fn stream_messages(client: &Client, stream: &str) -> anyhow::Result<u64> {
    let js = jetstream::new(client.clone());
    let mut handle = js
        .get_stream(stream)
        .await
        .with_context(|| format!("stream {stream}"))?;
    Ok(handle
        .info()
        .await
        .with_context(|| format!("info of {stream}"))?
        .state
        .messages)
}
