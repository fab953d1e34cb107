//! The intake loop shared by the three JetStream services: pace with the
//! service's [`Throttle`], pull in batches, run up to `concurrency`
//! handlers at once, ack each message after its handler, and on shutdown
//! stop pulling and wait for the handlers in flight.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, Context};
use futures::StreamExt;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::knobs::{Knobs, Service};
use crate::metrics::Outcome;
use crate::setup::{self, Durable};
use crate::shared::Shared;
use crate::shutdown::stopped;
use crate::throttle::Throttle;

/// One JetStream service's per-message work. The runner acks afterwards,
/// whatever the outcome: a message that cannot be handled now will not be
/// handled by a redelivery either.
pub trait Handler: Send + Sync + 'static {
    const SERVICE: Service;

    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
    ) -> impl Future<Output = Outcome> + Send + 'a;
}

/// Bounded concurrency: a semaphore whose permits travel into the spawned
/// handler, so "all permits back" means "nothing in flight".
pub struct Pool {
    sem: Arc<Semaphore>,
    size: u32,
}

impl Pool {
    pub fn new(size: usize) -> Self {
        Pool {
            sem: Arc::new(Semaphore::new(size)),
            size: size as u32,
        }
    }

    pub async fn permit(&self) -> OwnedSemaphorePermit {
        self.sem
            .clone()
            .acquire_owned()
            .await
            .expect("pool semaphore is never closed")
    }

    /// Waits until every handler has finished, at most `timeout`; false if
    /// some were still running.
    pub async fn drain(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.sem.acquire_many(self.size))
            .await
            .is_ok()
    }
}

/// Messages per pull request: enough to keep `concurrency` handlers busy,
/// but no more than ~100 ms of a rate-limited service's budget, so the
/// backlog stays visible as the durable's `num_pending` instead of hiding
/// in the client buffer.
pub fn batch_size(knobs: &Knobs) -> usize {
    let by_concurrency = (knobs.concurrency * 2).clamp(16, 1000);
    if knobs.rate == 0 {
        by_concurrency
    } else {
        by_concurrency.min((knobs.rate as usize / 10).max(4))
    }
}

/// Runs `handler` on `durable` until `shutdown` turns true.
pub async fn run<H: Handler>(
    handler: Arc<H>,
    js: Context,
    durable: Durable,
    knobs: Knobs,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = H::SERVICE;
    let pool = Pool::new(knobs.concurrency);
    let mut throttle = Throttle::new(knobs.rate, shared.config.stall, shared.origin);
    let batch = batch_size(&knobs);
    'pull: while !*shutdown.borrow() {
        let consumer = match setup::durable(&js, &durable).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(%service, "durable unavailable, retrying: {e:#}");
                sleep_or_stop(Duration::from_secs(1), &mut shutdown).await;
                continue;
            }
        };
        let pulled = consumer
            .stream()
            .max_messages_per_batch(batch)
            .expires(Duration::from_secs(30))
            .heartbeat(Duration::from_secs(5))
            .messages()
            .await;
        let mut messages = match pulled {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(%service, "pull failed, retrying: {e}");
                sleep_or_stop(Duration::from_secs(1), &mut shutdown).await;
                continue;
            }
        };
        loop {
            tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break 'pull,
                _ = throttle.ready() => {}
            }
            let permit = tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break 'pull,
                permit = pool.permit() => permit,
            };
            let next = tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break 'pull,
                next = messages.next() => next,
            };
            match next {
                Some(Ok(msg)) => {
                    let (handler, shared) = (handler.clone(), shared.clone());
                    tokio::spawn(async move {
                        if !knobs.delay.is_zero() {
                            tokio::time::sleep(knobs.delay).await;
                        }
                        let outcome = handler.handle(&msg).await;
                        shared.metrics.record(service, outcome);
                        if let Err(e) = msg.ack().await {
                            tracing::debug!(%service, "ack failed: {e}");
                        }
                        drop(permit);
                    });
                }
                Some(Err(e)) => tracing::debug!(%service, "pull stream: {e}"),
                None => {
                    tracing::warn!(%service, "pull stream ended, resubscribing");
                    continue 'pull;
                }
            }
        }
    }
    if !pool.drain(Duration::from_secs(3)).await {
        tracing::warn!(%service, "handlers still running at shutdown; their messages will be redelivered");
    }
}

async fn sleep_or_stop(pause: Duration, shutdown: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = tokio::time::sleep(pause) => {}
        _ = stopped(shutdown) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_follows_concurrency_and_rate() {
        let k = |rate, concurrency| Knobs {
            rate,
            delay: Duration::ZERO,
            concurrency,
        };
        assert_eq!(batch_size(&k(0, 256)), 512);
        assert_eq!(batch_size(&k(0, 1)), 16);
        assert_eq!(batch_size(&k(300, 64)), 30);
        assert_eq!(batch_size(&k(10, 64)), 4);
    }

    #[tokio::test]
    async fn pool_drain_waits_for_permits() {
        let pool = Pool::new(2);
        let permit = pool.permit().await;
        assert!(!pool.drain(Duration::from_millis(20)).await);
        drop(permit);
        assert!(pool.drain(Duration::from_millis(20)).await);
    }
}
