//! message-gatekeeper: validates a client send, publishes the MessageEvent
//! to the canonical stream and waits for its JetStream ack, then answers on
//! `chat.user.{account}.response.{requestId}` with the stored message or
//! `{"error": …}`.

use std::sync::Arc;

use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, Context};
use async_nats::{Client, Subject};
use bytes::Bytes;

use crate::knobs::Service;
use crate::metrics::{Fault, Outcome};
use crate::runner::Handler;
use crate::shared::Shared;
use crate::subjects;
use crate::wire::{self, Message, SendMessageRequest};

/// Largest accepted content (the largest preset body is 2000 bytes).
pub const MAX_CONTENT_BYTES: usize = 4096;

pub struct Gatekeeper {
    shared: Arc<Shared>,
    js: Context,
    client: Client,
    /// Pre-built, so each publish clones a refcount, not a string.
    canonical_created: Subject,
}

impl Gatekeeper {
    pub fn new(shared: Arc<Shared>, js: Context, client: Client) -> Self {
        let canonical_created = Subject::from(shared.subjects.canonical_created.as_str());
        Gatekeeper {
            shared,
            js,
            client,
            canonical_created,
        }
    }

    async fn reply(&self, account: &str, request_id: &str, payload: Bytes) {
        let faults = &self.shared.faults;
        let payload = if faults.roll(faults.drop_rate) {
            self.shared.metrics.fault(Service::Gatekeeper, Fault::Drop);
            return;
        } else if faults.roll(faults.malformed_rate) {
            self.shared
                .metrics
                .fault(Service::Gatekeeper, Fault::Malformed);
            Bytes::from_static(wire::MALFORMED)
        } else {
            payload
        };
        if let Err(e) = self
            .client
            .publish(subjects::response(account, request_id), payload)
            .await
        {
            tracing::debug!("gatekeeper reply failed: {e}");
        }
    }

    async fn reject(&self, account: &str, request_id: &str, reason: &str) -> Outcome {
        tracing::debug!(account, request_id, "rejected: {reason}");
        self.reply(account, request_id, wire::error_reply(reason))
            .await;
        Outcome::Rejected
    }

    async fn accept(&self, account: &str, room: &str, raw: &[u8]) -> Outcome {
        let req: SendMessageRequest = match serde_json::from_slice(raw) {
            Ok(req) => req,
            Err(e) => {
                return match wire::scan_request_id(raw) {
                    Some(rid) => {
                        self.reject(account, rid, &format!("malformed request: {e}"))
                            .await
                    }
                    None => {
                        tracing::debug!(account, "unanswerable send (no requestId): {e}");
                        Outcome::Rejected
                    }
                };
            }
        };
        let Some(request_id) = req
            .request_id
            .as_deref()
            .filter(|r| wire::is_subject_token(r))
        else {
            tracing::debug!(account, "unanswerable send: missing or unusable requestId");
            return Outcome::Rejected;
        };
        if let Err(reason) = validate(&self.shared, account, room, request_id, &req) {
            return self.reject(account, request_id, &reason).await;
        }
        let faults = &self.shared.faults;
        if faults.roll(faults.error_rate) {
            self.shared.metrics.fault(Service::Gatekeeper, Fault::Error);
            return self.reject(account, request_id, "injected error").await;
        }
        let (id, content) = (
            req.id.as_deref().unwrap_or_default(),
            req.content.as_deref().unwrap_or_default(),
        );
        let created_at = wire::now_ms();
        let message = Message {
            id,
            room_id: room,
            user_id: account,
            user_account: account,
            content,
            created_at,
            thread_parent_message_id: req.thread_parent_message_id.as_deref(),
        };
        let stored = Bytes::from(serde_json::to_vec(&message).expect("message serialises"));
        let event = message_event(&stored, &self.shared.site_json, created_at);
        let publish = PublishMessage::build().payload(event).message_id(id);
        let acked = match self
            .js
            .send_publish(self.canonical_created.clone(), publish)
            .await
        {
            Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match acked {
            Ok(()) => {
                self.reply(account, request_id, stored).await;
                Outcome::Processed
            }
            Err(e) => {
                tracing::warn!("canonical publish failed: {e}");
                self.reply(
                    account,
                    request_id,
                    wire::error_reply(&format!("internal: canonical publish failed: {e}")),
                )
                .await;
                Outcome::Failed
            }
        }
    }
}

impl Handler for Gatekeeper {
    const SERVICE: Service = Service::Gatekeeper;

    async fn handle(&self, msg: &jetstream::Message) -> Outcome {
        match self.shared.subjects.parse_send(msg.subject.as_str()) {
            Some((account, room)) => self.accept(account, room, &msg.payload).await,
            None => {
                tracing::debug!(subject = %msg.subject, "not a send subject");
                Outcome::Rejected
            }
        }
    }
}

/// The checks of PROTOCOL.md, in the order a client would fix them.
fn validate(
    shared: &Shared,
    account: &str,
    room: &str,
    request_id: &str,
    req: &SendMessageRequest,
) -> Result<(), String> {
    if !wire::is_uuid(request_id) {
        return Err(format!("requestId `{request_id}` is not a UUID"));
    }
    if req.id.as_deref().is_none_or(str::is_empty) {
        return Err("id is required".into());
    }
    let content = req.content.as_deref().unwrap_or_default();
    if content.is_empty() {
        return Err("content is empty".into());
    }
    if content.len() > MAX_CONTENT_BYTES {
        return Err(format!(
            "content is {} bytes, over the {MAX_CONTENT_BYTES}-byte limit",
            content.len()
        ));
    }
    if req.thread_parent_message_id.as_deref() == Some("") {
        return Err("threadParentMessageId is empty".into());
    }
    if !shared.fixtures.is_member(account, room) {
        return Err(format!("user {account} is not subscribed to room {room}"));
    }
    Ok(())
}

/// `{"event":"created","message":<stored>,"siteId":…,"timestamp":…}`,
/// spliced from bytes already serialised.
fn message_event(stored: &[u8], site_json: &[u8], timestamp: i64) -> Bytes {
    let mut out = Vec::with_capacity(stored.len() + site_json.len() + 64);
    out.extend_from_slice(b"{\"event\":\"created\",\"message\":");
    out.extend_from_slice(stored);
    out.extend_from_slice(b",\"siteId\":");
    out.extend_from_slice(site_json);
    out.extend_from_slice(format!(",\"timestamp\":{timestamp}}}").as_bytes());
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use clap::Parser;

    fn shared() -> Shared {
        Shared::new(Config::parse_from(["chat-testbed", "--preset", "small"]))
    }

    fn req<'a>(id: Option<&'a str>, content: Option<&'a str>) -> SendMessageRequest<'a> {
        SendMessageRequest {
            id: id.map(Into::into),
            content: content.map(Into::into),
            request_id: None,
            thread_parent_message_id: None,
        }
    }

    #[test]
    fn validation_reasons() {
        let s = shared();
        let room = s.fixtures.rooms()[0].clone();
        let member = s.fixtures.account(room.members[0]).to_string();
        let outsider = (0..10)
            .map(|u| s.fixtures.account(u).to_string())
            .find(|a| !s.fixtures.is_member(a, &room.id))
            .unwrap();
        let uuid = "123e4567-e89b-12d3-a456-426614174000";
        let ok = req(Some("m1"), Some("hi"));
        assert_eq!(validate(&s, &member, &room.id, uuid, &ok), Ok(()));
        assert!(validate(&s, &member, &room.id, "r1", &ok)
            .unwrap_err()
            .contains("not a UUID"));
        assert_eq!(
            validate(&s, &member, &room.id, uuid, &req(None, Some("x"))),
            Err("id is required".into())
        );
        assert_eq!(
            validate(&s, &member, &room.id, uuid, &req(Some("m"), Some(""))),
            Err("content is empty".into())
        );
        let long = "x".repeat(MAX_CONTENT_BYTES + 1);
        assert!(
            validate(&s, &member, &room.id, uuid, &req(Some("m"), Some(&long)))
                .unwrap_err()
                .contains("limit")
        );
        assert_eq!(
            validate(&s, &outsider, &room.id, uuid, &ok),
            Err(format!(
                "user {outsider} is not subscribed to room {}",
                room.id
            ))
        );
    }

    #[test]
    fn message_event_is_valid_json() {
        let stored = br#"{"id":"m1","roomId":"room-0001"}"#;
        let event = message_event(stored, br#""site-local""#, 5);
        let v: serde_json::Value = serde_json::from_slice(&event).unwrap();
        assert_eq!(v["event"], "created");
        assert_eq!(v["message"]["id"], "m1");
        assert_eq!(v["siteId"], "site-local");
        assert_eq!(v["timestamp"], 5);
    }
}
