//! broadcast-worker: turns each `created` MessageEvent into a RoomEvent on
//! `chat.room.{room}.event` (group rooms), or on
//! `chat.user.{account}.event.room` for each member of a DM room.

use std::sync::Arc;

use async_nats::{jetstream, Client};
use bytes::Bytes;
use chat_fixtures::RoomKind;

use crate::knobs::Service;
use crate::metrics::{Fault, Outcome};
use crate::runner::Handler;
use crate::shared::Shared;
use crate::subjects;
use crate::wire::{self, MessageEvent, MessageKey, RoomEvent};

/// The RoomEvent `type` of a new message.
pub const NEW_MESSAGE: &str = "new_message";

pub struct Broadcast {
    shared: Arc<Shared>,
    client: Client,
}

impl Broadcast {
    pub fn new(shared: Arc<Shared>, client: Client) -> Self {
        Broadcast { shared, client }
    }

    async fn fan_out(&self, payload: &[u8]) -> Result<Outcome, String> {
        let event: MessageEvent =
            serde_json::from_slice(payload).map_err(|e| format!("not a MessageEvent: {e}"))?;
        if event.event != "created" {
            return Err(format!("event `{}` is not `created`", event.event));
        }
        let key: MessageKey =
            serde_json::from_str(event.message.get()).map_err(|e| format!("bad message: {e}"))?;
        // Rooms outside the preset (canonical injection can name any) are
        // treated as group rooms of unknown size.
        let room = self.shared.fixtures.room_by_id(&key.room_id);
        let (kind, members) = room.map_or((RoomKind::Group, &[][..]), |r| (r.kind, &r.members[..]));
        let room_event = RoomEvent {
            kind: NEW_MESSAGE,
            room_id: &key.room_id,
            last_msg_id: &key.id,
            last_msg_at: key.created_at.unwrap_or_else(wire::now_ms),
            site_id: &self.shared.config.site_id,
            user_count: members.len(),
            message: event.message,
        };
        let bytes = Bytes::from(serde_json::to_vec(&room_event).expect("RoomEvent serialises"));
        let faults = &self.shared.faults;
        if faults.roll(faults.drop_rate) {
            self.shared.metrics.fault(Service::Broadcast, Fault::Drop);
            return Ok(Outcome::Processed);
        }
        let published = match kind {
            RoomKind::Group => {
                self.client
                    .publish(subjects::room_event(&key.room_id), bytes)
                    .await
            }
            RoomKind::Dm => {
                let mut result = Ok(());
                for &member in members {
                    let subject = subjects::user_room_event(self.shared.fixtures.account(member));
                    result = result.and(self.client.publish(subject, bytes.clone()).await);
                }
                result
            }
        };
        Ok(published.map_or(Outcome::Failed, |()| Outcome::Processed))
    }
}

impl Handler for Broadcast {
    const SERVICE: Service = Service::Broadcast;

    async fn handle(&self, msg: &jetstream::Message) -> Outcome {
        self.fan_out(&msg.payload).await.unwrap_or_else(|reason| {
            tracing::debug!(subject = %msg.subject, "broadcast skipped: {reason}");
            Outcome::Rejected
        })
    }
}
