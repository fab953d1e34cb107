//! `mode=publish`: publish each op with its id in a header; the op ends when
//! a message with that id arrives on `reply_subject`, or is Lost at the
//! deadline. Messages the client drops because the subscription fell behind
//! (slow consumer) are never seen, so their ops are Lost too: never a silent pass.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{HeaderValue, Subscriber};
use futures::StreamExt;
use loadgen_plugin_api::sdk::{bump, clock, Batch, FireAck};

use crate::correlate::{Correlation, Waiting};
use crate::shared::{Failure, Shared};

/// The header carrying the op id.
pub const OP_ID: &str = "Loadgen-Op-Id";
/// How often ops past their deadline are declared Lost.
const SWEEP: Duration = Duration::from_millis(10);

pub struct Publisher {
    shared: Arc<Shared>,
    correlation: Arc<Mutex<Correlation>>,
}

impl Publisher {
    /// Starts the receiver and the loss sweep on the current runtime.
    pub fn start(shared: Arc<Shared>, replies: Subscriber, max_in_flight: usize) -> Publisher {
        let correlation = Arc::new(Mutex::new(Correlation::new(max_in_flight)));
        tokio::spawn(receive(
            replies,
            Arc::clone(&shared),
            Arc::clone(&correlation),
        ));
        tokio::spawn(sweep(Arc::clone(&shared), Arc::clone(&correlation)));
        Publisher {
            shared,
            correlation,
        }
    }

    pub fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        let mut ids = Vec::with_capacity(batch.count as usize);
        {
            let now = clock::now();
            let mut correlation = self.correlation.lock().unwrap();
            for op in batch.ops() {
                let waiting = Waiting {
                    intended: op.intended,
                    sent: now,
                };
                match correlation.start(waiting) {
                    Some(id) => ids.push((id, op.intended, now)),
                    None => ack.saturated += 1,
                }
            }
        }
        ack.accepted = ids.len() as u32;
        let shared = Arc::clone(&self.shared);
        let correlation = Arc::clone(&self.correlation);
        tokio::spawn(async move {
            for (id, intended, sent) in ids {
                let mut headers = shared.headers.clone();
                headers.insert(OP_ID, HeaderValue::from(id));
                bump(&shared.tally.sent);
                let published = shared
                    .client
                    .publish_with_headers(shared.subject.clone(), headers, shared.payload.clone())
                    .await;
                if published.is_err() && correlation.lock().unwrap().complete(id).is_some() {
                    shared.failed(Failure::Publish, intended, sent);
                }
            }
        });
        ack
    }
}

async fn receive(
    mut replies: Subscriber,
    shared: Arc<Shared>,
    correlation: Arc<Mutex<Correlation>>,
) {
    while let Some(message) = replies.next().await {
        bump(&shared.tally.received);
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get(OP_ID))
            .and_then(|v| u64::from_str(v.as_str()).ok());
        let waiting = id.and_then(|id| correlation.lock().unwrap().complete(id));
        match waiting {
            Some(op) => shared.ok(op.intended, op.sent),
            None => bump(&shared.tally.unmatched),
        }
    }
}

async fn sweep(shared: Arc<Shared>, correlation: Arc<Mutex<Correlation>>) {
    let after_ns = shared.loss_timeout.as_nanos() as u64;
    let mut tick = tokio::time::interval(SWEEP);
    loop {
        tick.tick().await;
        let lost = correlation.lock().unwrap().expire(clock::now(), after_ns);
        for op in lost {
            shared.lost(op.intended, op.sent);
        }
    }
}
