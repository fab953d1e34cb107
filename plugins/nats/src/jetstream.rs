//! `mode=jetstream`: JetStream publish; the ack ends the op. At most
//! `ack_in_flight` acks are awaited at once: an op waits its turn in the
//! client (and that wait is part of its latency).

use std::sync::Arc;

use async_nats::jetstream::{self, Context};
use loadgen_plugin_api::sdk::{bump, Sent};
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

    /// Runs op `key` (started in the table) to its end.
    pub async fn run(self: Arc<Self>, shared: Arc<Shared>, key: u64, sent: Sent) {
        let ack = async {
            let _permit = self.acks.acquire().await.map_err(|_| Failure::Publish)?;
            bump(&shared.tally.sent);
            let pending = self
                .context
                .publish_with_headers(
                    shared.subject.clone(),
                    shared.headers.clone(),
                    shared.payload.clone(),
                )
                .await
                .map_err(|_| Failure::Publish)?;
            pending.await.map(|_| ()).map_err(|_| Failure::Ack)
        };
        match tokio::time::timeout(shared.budget(sent), ack).await {
            Ok(result) => {
                shared.end(key, result);
            }
            Err(_) => shared.expire(key),
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
