//! `raw_publish`: the bare async-nats baseline for `bench/messages.sh`.
//!
//! Publishes COUNT messages of SIZE bytes as fast as one connection's
//! `publish().await` loop goes (then `flush()`, so nothing is still queued
//! in the client when the clock stops), while one subscriber on a second
//! connection counts them. Prints one line of `key=value` figures:
//! `published_per_sec` (publish loop + flush), `received_per_sec` (first
//! publish → last message received), and how many arrived.
//!
//! Usage: `NATS_URL=nats://127.0.0.1:4222 raw_publish [COUNT [SIZE]]`
//! (defaults 1000000 and 200).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;

const SUBJECT: &str = "bench.raw_publish";
/// The subscriber gives up once nothing has arrived for this long.
const IDLE: Duration = Duration::from_secs(3);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args
        .next()
        .map_or(Ok(1_000_000), |a| a.parse())
        .context("COUNT must be a number")?;
    let size: usize = args
        .next()
        .map_or(Ok(200), |a| a.parse())
        .context("SIZE must be a number")?;
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());

    let subscriber = async_nats::ConnectOptions::new()
        .name("raw_publish-sub")
        // Room for the whole run: a full buffer drops silently on the client.
        .subscription_capacity(count as usize + 1)
        .connect(url.as_str())
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let mut messages = subscriber.subscribe(SUBJECT).await?;
    subscriber.flush().await?;
    let publisher = async_nats::connect(url.as_str()).await?;

    let counting = tokio::spawn(async move {
        let mut received = 0u64;
        let mut last = None;
        while received < count {
            match tokio::time::timeout(IDLE, messages.next()).await {
                Ok(Some(_)) => {
                    received += 1;
                    last = Some(Instant::now());
                }
                _ => break,
            }
        }
        (received, last)
    });

    let payload = bytes::Bytes::from(vec![b'x'; size]);
    let start = Instant::now();
    for _ in 0..count {
        publisher.publish(SUBJECT, payload.clone()).await?;
    }
    publisher.flush().await?;
    let published = start.elapsed();
    let (received, last) = counting.await?;
    let received_for = last.map_or(Duration::ZERO, |t| t.duration_since(start));

    let per_sec = |n: u64, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    println!(
        "count={count} size={size} published_per_sec={:.0} received={received} received_per_sec={:.0}",
        per_sec(count, published),
        per_sec(received, received_for)
    );
    Ok(())
}
