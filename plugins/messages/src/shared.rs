//! [`Shared`]: what the sender, the receivers and the loss sweeper share.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chat_fixtures::{Fixtures, Rng};
use loadgen_plugin_api::sdk::{MonoNanos, Outcome, Recorder, Sample};

use crate::config::{Config, Inject};
use crate::ids;
use crate::inflight::{InFlight, Pending};
use crate::tally::Tally;
use crate::wire::{self, E1, E2};

pub struct Shared {
    pub config: Config,
    pub fixtures: Fixtures,
    pub inflight: InFlight,
    /// Shared with the connection's event callback (slow-consumer drops).
    pub tally: Arc<Tally>,
    pub recorder: Recorder,
    /// Makes this run's ids unique among everything the server stored.
    pub nonce: u32,
    pub seed: u64,
    /// Next op sequence number (the engine's op index restarts every step).
    pub seq: AtomicU64,
    pub loss_timeout_ns: u64,
    /// Last message id sent per room: thread replies need a parent.
    pub last_in_room: Mutex<HashMap<u32, String>>,
}

/// One message ready to go.
pub struct Outgoing {
    pub seq: u64,
    pub subject: String,
    pub payload: Bytes,
}

impl Shared {
    /// Build message `seq`: sender, room, body and ids all derive from
    /// (seed, seq), so a run repeats exactly.
    pub fn build(&self, seq: u64) -> Result<Outgoing, serde_json::Error> {
        let f = &self.fixtures;
        let mut rng = Rng::new(chat_fixtures::hash(&[self.seed, seq]));
        let pick = f.pick_send(&mut rng);
        let account = f.account(pick.user);
        let room = f.room_id(pick.room);
        let content = f.content(&mut rng, pick);
        let message_id = ids::message_id(self.nonce, seq);
        let parent = self.thread_parent(&mut rng, pick.room, &message_id);
        let site = self.config.site.as_str();
        let (subject, payload) = match self.config.inject {
            Inject::Frontdoor => (
                format!("chat.user.{account}.room.{room}.{site}.msg.send"),
                serde_json::to_vec(&wire::SendMessageRequest {
                    id: &message_id,
                    content: &content,
                    request_id: &ids::request_id(self.nonce, seq),
                    thread_parent_message_id: parent.as_deref(),
                })?,
            ),
            Inject::Canonical => {
                let now = wire::now_unix_ms();
                (
                    format!("chat.msg.canonical.{site}.created"),
                    serde_json::to_vec(&wire::MessageEvent {
                        event: "created",
                        message: wire::Message {
                            id: &message_id,
                            room_id: room,
                            user_id: account,
                            user_account: account,
                            content: &content,
                            created_at: now,
                            thread_parent_message_id: parent.as_deref(),
                        },
                        site_id: site,
                        timestamp: now,
                    })?,
                )
            }
        };
        Ok(Outgoing {
            seq,
            subject,
            payload: payload.into(),
        })
    }

    /// At the preset's thread rate, reply to the room's last message.
    fn thread_parent(&self, rng: &mut Rng, room: u32, message_id: &str) -> Option<String> {
        if self.fixtures.spec().thread_rate <= 0.0 {
            return None;
        }
        let wants = self.fixtures.wants_thread_reply(rng);
        let mut last = self.last_in_room.lock().expect("no panics while locked");
        let parent = if wants {
            last.get(&room).cloned()
        } else {
            None
        };
        last.insert(room, message_id.to_string());
        parent
    }

    pub fn ok(&self, series: u16, op: &Pending, done: MonoNanos) {
        self.recorder.record(Sample::ok(
            series,
            MonoNanos(op.intended),
            MonoNanos(op.sent),
            done,
        ));
    }

    /// Record the op as failed (or lost) once, on the first series it was
    /// still waiting for: the engine counts failed ops, not failed series.
    pub fn fail(&self, op: &Pending, outcome: Outcome, reason: u16, done: MonoNanos) {
        let series = if op.need_e1 { E1 } else { E2 };
        self.recorder.record(Sample::failed(
            series,
            outcome,
            reason,
            MonoNanos(op.intended),
            MonoNanos(op.sent),
            done,
        ));
    }
}
