//! [`Shared`]: what the sender and the receivers share.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chat_fixtures::{Fixtures, Rng};
use loadgen_plugin_api::sdk::InFlight;

use crate::config::{Config, Inject};
use crate::ids;
use crate::tally::Tally;
use crate::wire;

pub struct Shared {
    pub config: Config,
    pub fixtures: Fixtures,
    /// Ops awaiting E1 and/or E2, keyed by sequence number.
    pub inflight: Arc<InFlight<u64>>,
    /// Shared with the connection's event callback (slow-consumer drops).
    pub tally: Arc<Tally>,
    /// Makes this run's ids unique among everything the server stored.
    pub nonce: u32,
    pub seed: u64,
    /// Next op sequence number (the engine's op index restarts every step).
    pub seq: AtomicU64,
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
}
