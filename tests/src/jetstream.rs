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

/// Creates a memory stream on `subjects` and a pull durable on it that
/// nobody reads, so every stored message adds to its `num_pending`.
pub async fn stream_with_idle_durable(
    client: &Client,
    stream: &str,
    subjects: &str,
    durable: &str,
) -> anyhow::Result<()> {
    let js = jetstream::new(client.clone());
    let handle = js
        .create_stream(jetstream::stream::Config {
            name: stream.to_string(),
            subjects: vec![subjects.to_string()],
            storage: jetstream::stream::StorageType::Memory,
            ..Default::default()
        })
        .await
        .with_context(|| format!("creating stream {stream}"))?;
    handle
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some(durable.to_string()),
            ..Default::default()
        })
        .await
        .with_context(|| format!("creating durable {durable} on {stream}"))?;
    Ok(())
}
