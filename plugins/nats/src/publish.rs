//! `mode=publish`: publish each op with its key in a header; the op ends when
//! a message with that key arrives on `reply_subject`, or is Lost at the
//! deadline (the in-flight table's sweeper). Messages the client drops
//! because the subscription fell behind (slow consumer) are never seen, so
//! their ops are Lost too: never a silent pass.

use std::str::FromStr;
use std::sync::Arc;

use async_nats::{HeaderValue, Subscriber};
use futures::StreamExt;
use loadgen_plugin_api::sdk::{bump, clock, Answer, Batch, FireAck};

use crate::shared::{Failure, Shared, NATS};

/// The header carrying the op's key.
pub const OP_ID: &str = "Loadgen-Op-Id";

/// Starts the batch's ops in the table and publishes them from one task.
pub fn fire(shared: &Arc<Shared>, next_key: impl Fn() -> u64, batch: Batch) -> FireAck {
    let mut ack = FireAck::default();
    let now = clock::now();
    let keys: Vec<u64> = batch
        .ops()
        .filter_map(|op| {
            let key = next_key();
            shared
                .table
                .start_counted(&mut ack, key, op.sent_at(now), NATS)
                .then_some(key)
        })
        .collect();
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        for key in keys {
            let mut headers = shared.headers.clone();
            headers.insert(OP_ID, HeaderValue::from(key));
            bump(&shared.tally.sent);
            let published = shared
                .client
                .publish_with_headers(shared.subject.clone(), headers, shared.payload.clone())
                .await;
            if published.is_err() {
                shared.end(key, Err(Failure::Publish));
            }
        }
    });
    ack
}

/// Ends each op whose message comes back.
pub async fn receive(mut replies: Subscriber, shared: Arc<Shared>) {
    while let Some(message) = replies.next().await {
        let done = clock::now();
        bump(&shared.tally.received);
        let key = message
            .headers
            .as_ref()
            .and_then(|h| h.get(OP_ID))
            .and_then(|v| u64::from_str(v.as_str()).ok());
        let ended = key.is_some_and(|key| shared.table.complete(&key, Answer::Ok, done));
        if !ended {
            bump(&shared.tally.unmatched);
        }
    }
}
