//! The receivers: gatekeeper replies (E1) and room broadcasts (E2). Ops
//! unanswered by their deadline are recorded Lost by the SDK's in-flight table.

use std::sync::Arc;

use async_nats::Subscriber;
use futures::StreamExt;
use loadgen_plugin_api::sdk::{clock, Answer};

use crate::ids;
use crate::shared::Shared;
use crate::tally::bump;
use crate::wire::{self, Reply, BAD_REPLY, E1, E2, GATEKEEPER};

/// `chat.user.*.response.*`: the gatekeeper's answer to each send.
pub async fn replies(mut sub: Subscriber, s: Arc<Shared>) {
    while let Some(msg) = sub.next().await {
        let done = clock::now();
        let request_id = msg.subject.as_str().rsplit('.').next().unwrap_or_default();
        let Some(seq) = ids::parse_request_id(s.nonce, request_id) else {
            continue;
        };
        match wire::parse_reply(&msg.payload) {
            Reply::Stored => {
                s.inflight.complete_series(&seq, E1, done);
            }
            // A rejected message is never broadcast: the op fails now.
            Reply::Rejected(_) => {
                if s.inflight.complete(&seq, Answer::Error(GATEKEEPER), done) {
                    bump(&s.tally.gatekeeper);
                }
            }
            // The op failed (one failure per op): a broadcast that may still
            // come is ignored rather than counted as a second outcome.
            Reply::Malformed => {
                if s.inflight.awaits(&seq, E1)
                    && s.inflight.complete(&seq, Answer::Error(BAD_REPLY), done)
                {
                    bump(&s.tally.bad_reply);
                }
            }
        }
    }
}

/// `chat.room.*.event` and `chat.user.*.event.room`: the first broadcast
/// carrying an op's message id is its E2 (a DM's second one is ignored).
pub async fn broadcasts(rooms: Subscriber, users: Subscriber, s: Arc<Shared>) {
    let mut both = futures::stream::select(rooms, users);
    while let Some(msg) = both.next().await {
        let done = clock::now();
        let Some(id) = wire::broadcast_message_id(&msg.payload) else {
            bump(&s.tally.bad_broadcast);
            continue;
        };
        let Some(seq) = ids::parse_message_id(s.nonce, &id) else {
            continue;
        };
        s.inflight.complete_series(&seq, E2, done);
    }
}
