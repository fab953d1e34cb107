//! NATS services with known behaviour, for the `nats` plugin's tests:
//! [`NatsService::responder`] answers requests in FIFO order at R/s;
//! [`NatsService::forwarder`] republishes what it gets on one subject to
//! another (headers kept), dropping an evenly spread share of it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_nats::Client;
use futures::StreamExt;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::fifo::Fifo;
use crate::http_server::is_every_nth;
use crate::NatsServer;

/// A running service; its subscription ends when it is dropped.
pub struct NatsService {
    handled: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl NatsService {
    /// Answers each request on `subject` with its own payload, `per_second`
    /// at most, in arrival order.
    pub async fn responder(
        nats: &NatsServer,
        subject: &str,
        per_second: u32,
    ) -> anyhow::Result<NatsService> {
        let client = nats.client().await?;
        let mut sub = client.subscribe(subject.to_string()).await?;
        client.flush().await?;
        let handled = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&handled);
        let task = tokio::spawn(async move {
            let mut fifo = Fifo::new(per_second);
            while let Some(msg) = sub.next().await {
                let Some(reply) = msg.reply else { continue };
                let done = fifo.admit(Instant::now());
                let client = client.clone();
                let count = Arc::clone(&count);
                tokio::spawn(async move {
                    tokio::time::sleep_until(done).await;
                    let _ = client.publish(reply, msg.payload).await;
                    count.fetch_add(1, Ordering::Relaxed);
                });
            }
        });
        Ok(NatsService { handled, task })
    }

    /// Republishes every message of `from` to `to` with its headers, except
    /// a `drop_fraction` of them (every 20th for 0.05).
    pub async fn forwarder(
        nats: &NatsServer,
        from: &str,
        to: &str,
        drop_fraction: f64,
    ) -> anyhow::Result<NatsService> {
        let client: Client = nats.client().await?;
        let mut sub = client.subscribe(from.to_string()).await?;
        client.flush().await?;
        let handled = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&handled);
        let to = to.to_string();
        let task = tokio::spawn(async move {
            let mut n = 0;
            while let Some(msg) = sub.next().await {
                let dropped = is_every_nth(n, drop_fraction);
                n += 1;
                if dropped {
                    continue;
                }
                let headers = msg.headers.unwrap_or_default();
                let _ = client
                    .publish_with_headers(to.clone(), headers, msg.payload)
                    .await;
                count.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(NatsService { handled, task })
    }

    /// Messages answered or forwarded so far.
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }
}

impl Drop for NatsService {
    fn drop(&mut self) {
        self.task.abort();
    }
}
