//! [`Fake`]: an in-process history service for unit tests. It serves the
//! seeded fixtures the way chat-testbed does (membership check, newest-first
//! pages, `before` exclusive, thread replies) or misbehaves on request.

use std::sync::Mutex;

use bytes::Bytes;
use chat_fixtures::{HistoryFixtures, HistoryMessage, MessageId};
use serde_json::{json, Value};

use crate::ops::{SendError, Transport};

/// How the fake answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Serve,
    /// Never answers.
    Hang,
    Malformed,
    /// `{"error": "…"}` to everything.
    Error,
    NoResponders,
    /// The request cannot be sent.
    Fail,
}

pub struct Fake {
    pub history: HistoryFixtures,
    pub behaviour: Mutex<Behaviour>,
    /// Every request: subject and body.
    pub seen: Mutex<Vec<(String, Value)>>,
}

impl Fake {
    pub fn new(history: HistoryFixtures) -> Fake {
        Fake {
            history,
            behaviour: Mutex::new(Behaviour::Serve),
            seen: Mutex::default(),
        }
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn seen(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().clone()
    }

    fn serve(&self, subject: &str, body: &Value) -> Value {
        let t: Vec<&str> = subject.split('.').collect();
        let (account, room_id, endpoint) = (t[2], t[5], t[8]);
        if !self.history.is_member(account, room_id) {
            return json!({"error": format!("user {account} is not a member of room {room_id}")});
        }
        let room = self
            .history
            .room_by_id(room_id)
            .expect("a member's room is ours");
        let limit = body["limit"].as_u64().unwrap_or(20) as u32;
        let rows = |ms: Vec<HistoryMessage>| -> Vec<Value> {
            ms.iter()
                .map(|m| json!({"id": m.id.to_string(), "createdAt": m.created_at_ms}))
                .collect()
        };
        match endpoint {
            "history" => {
                let page = self.history.page(room, body["before"].as_i64(), limit);
                json!({"messages": rows(page.messages), "hasMore": page.has_more})
            }
            _ => {
                let parent: MessageId = body["threadMessageId"].as_str().unwrap().parse().unwrap();
                let replies = self.history.replies(parent).take(limit as usize).collect();
                json!({"messages": rows(replies), "hasMore": false})
            }
        }
    }
}

impl Transport for Fake {
    async fn request(&self, subject: String, payload: Bytes) -> Result<Bytes, SendError> {
        let body: Value = serde_json::from_slice(&payload).expect("the plugin sends JSON");
        self.seen
            .lock()
            .unwrap()
            .push((subject.clone(), body.clone()));
        let behaviour = *self.behaviour.lock().unwrap();
        let reply = match behaviour {
            Behaviour::Serve => self.serve(&subject, &body),
            Behaviour::Hang => return std::future::pending().await,
            Behaviour::Malformed => return Ok(Bytes::from_static(b"{\"messages\": [ malformed")),
            Behaviour::Error => json!({"error": "injected error"}),
            Behaviour::NoResponders => return Err(SendError::NoResponders),
            Behaviour::Fail => return Err(SendError::Failed),
        };
        Ok(Bytes::from(serde_json::to_vec(&reply).unwrap()))
    }
}
