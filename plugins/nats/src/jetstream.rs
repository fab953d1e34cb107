//! `mode=jetstream`: JetStream publish; the ack ends the op. At most
//! `ack_in_flight` acks are awaited at once: an op waits its turn in the
//! client (and that wait is part of its latency from the intended time).

use std::sync::Arc;

use async_nats::jetstream::{self, Context};
use loadgen_plugin_api::sdk::{bump, clock, MonoNanos};
use tokio::sync::Semaphore;

use crate::shared::{Failure, Shared};

pub struct JetStream {
    context: Context,
    acks: Semaphore,
}

impl JetStream {
    pub fn new(shared: &Shared, ack_in_flight: usize) -> JetStream {
        // The context's own bound stays above ours, so it never waits first.
        let context = jetstream::ContextBuilder::new()
            .max_ack_inflight(ack_in_flight + 1)
            .build(shared.client.clone());
        JetStream {
            context,
            acks: Semaphore::new(ack_in_flight),
        }
    }

    /// One publish from send to its one sample.
    pub async fn run(self: Arc<Self>, shared: Arc<Shared>, intended: MonoNanos) {
        let Ok(_permit) = self.acks.acquire().await else {
            return shared.lost(intended, clock::now());
        };
        let sent = clock::now();
        let left = shared.time_left(intended, sent);
        bump(&shared.tally.sent);
        let ack = async {
            let pending = self
                .context
                .publish_with_headers(
                    shared.subject.clone(),
                    shared.headers.clone(),
                    shared.payload.clone(),
                )
                .await
                .map_err(|_| Failure::Publish)?;
            pending.await.map_err(|_| Failure::Ack)
        };
        match tokio::time::timeout(left, ack).await {
            Ok(Ok(_)) => shared.ok(intended, sent),
            Ok(Err(failure)) => shared.failed(failure, intended, sent),
            Err(_) => shared.lost(intended, sent),
        }
    }

    /// Before any load: a stream stores `subject`, and each gated durable exists.
    pub async fn preflight(
        &self,
        subject: &str,
        durables: &[(String, String)],
    ) -> Result<(), String> {
        self.context
            .stream_by_subject(subject)
            .await
            .map_err(|e| format!("no JetStream stream stores '{subject}': {e}"))?;
        for (stream, name) in durables {
            let found = match self.context.get_stream(stream).await {
                Ok(s) => s
                    .consumer_info(name)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            found.map_err(|e| format!("option 'durable': {stream}/{name} not found: {e}"))?;
        }
        Ok(())
    }
}
