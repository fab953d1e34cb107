//! The receivers: gatekeeper replies (E1), room broadcasts (E2), and the
//! sweeper that reports ops unanswered by their deadline as Lost.

use std::sync::Arc;
use std::time::Duration;

use async_nats::Subscriber;
use futures::StreamExt;
use loadgen_plugin_api::sdk::{clock, MonoNanos, Outcome};

use crate::ids;
use crate::inflight::Answered;
use crate::shared::Shared;
use crate::tally::bump;
use crate::wire::{self, Reply, BAD_REPLY, E1, E2, GATEKEEPER};

const SWEEP_EVERY: Duration = Duration::from_millis(10);

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
                if let Answered::First(op) = s.inflight.answer(seq, true) {
                    s.ok(E1, &op, done);
                }
            }
            // A rejected message is never broadcast: fail both series now.
            Reply::Rejected(_) => {
                if let Some(op) = s.inflight.remove(seq) {
                    bump(&s.tally.gatekeeper);
                    s.fail(&op, Outcome::Error, GATEKEEPER, done);
                }
            }
            // The message may still have been stored and broadcast: keep waiting for E2.
            Reply::Malformed => {
                if let Answered::First(op) = s.inflight.answer(seq, true) {
                    bump(&s.tally.bad_reply);
                    s.fail(&op, Outcome::Error, BAD_REPLY, done);
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
        if let Answered::First(op) = s.inflight.answer(seq, false) {
            s.ok(E2, &op, done);
        }
    }
}

/// Report as Lost whatever is unanswered at its deadline.
pub async fn sweep_lost(s: Arc<Shared>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for op in s.inflight.expire(clock::now().0) {
            bump(&s.tally.lost);
            let deadline = MonoNanos(op.intended + s.loss_timeout_ns);
            s.fail(&op, Outcome::Lost, 0, deadline);
        }
    }
}
