//! message-worker: persists every `created` MessageEvent of the canonical
//! stream into the history [`Store`]. Idempotent by message id, which is
//! what lets redelivery and restart replay (`replay.rs`) be harmless.

use std::sync::Arc;

use async_nats::jetstream;

use crate::knobs::Service;
use crate::metrics::Outcome;
use crate::runner::Handler;
use crate::shared::Shared;
use crate::store::{NewRow, Store};
use crate::wire::{self, MessageEvent, MessageKey};

/// Why a canonical message was not persisted.
#[derive(Debug, thiserror::Error)]
pub enum Unpersistable {
    #[error("not a MessageEvent: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("event `{0}` is not `created`")]
    NotCreated(String),
}

/// Stores one MessageEvent payload; `Ok(false)` when its id was already
/// stored.
pub fn persist(store: &Store, payload: &[u8]) -> Result<bool, Unpersistable> {
    let event: MessageEvent = serde_json::from_slice(payload)?;
    if event.event != "created" {
        return Err(Unpersistable::NotCreated(event.event.into_owned()));
    }
    let key: MessageKey = serde_json::from_str(event.message.get())?;
    Ok(store.insert(NewRow {
        id: &key.id,
        room: &key.room_id,
        thread_parent: key.thread_parent_message_id.as_deref(),
        created_at: key.created_at.unwrap_or_else(wire::now_ms),
        json: event.message.get().as_bytes(),
    }))
}

pub struct Worker {
    shared: Arc<Shared>,
}

impl Worker {
    pub fn new(shared: Arc<Shared>) -> Self {
        Worker { shared }
    }
}

impl Handler for Worker {
    const SERVICE: Service = Service::Worker;

    async fn handle(&self, msg: &jetstream::Message) -> Outcome {
        match persist(&self.shared.store, &msg.payload) {
            Ok(_) => Outcome::Processed,
            Err(e) => {
                tracing::debug!(subject = %msg.subject, "worker skipped: {e}");
                Outcome::Rejected
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persists_created_events_once() {
        let store = Store::default();
        let event = br#"{"event":"created","message":{"id":"m1","roomId":"room-0001","createdAt":5},"siteId":"s","timestamp":5}"#;
        assert!(persist(&store, event).unwrap());
        assert!(!persist(&store, event).unwrap());
        let page = store.page("room-0001", None, 10);
        assert_eq!(
            &page.rows[0].json[..],
            br#"{"id":"m1","roomId":"room-0001","createdAt":5}"#
        );
        assert!(matches!(
            persist(&store, b"{"),
            Err(Unpersistable::Malformed(_))
        ));
        let deleted = br#"{"event":"deleted","message":{"id":"m1","roomId":"r"}}"#;
        assert!(matches!(
            persist(&store, deleted),
            Err(Unpersistable::NotCreated(_))
        ));
    }
}
