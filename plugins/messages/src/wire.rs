//! The chat protocol's payloads (PROTOCOL.md), as this workload sends and reads them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use loadgen_plugin_api::sdk::{Reason, Series};

/// E1: publish → the gatekeeper's reply. E2: publish → the first broadcast.
pub const E1: Series = Series::new(0, "E1");
pub const E2: Series = Series::new(1, "E2");
pub const SERIES: [Series; 2] = [E1, E2];

pub const PUBLISH: Reason = Reason::new(0, "publish");
pub const MARSHAL: Reason = Reason::new(1, "marshal");
pub const GATEKEEPER: Reason = Reason::new(2, "gatekeeper");
pub const BAD_REPLY: Reason = Reason::new(3, "bad_reply");
pub const REASONS: [Reason; 4] = [PUBLISH, MARSHAL, GATEKEEPER, BAD_REPLY];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageRequest<'a> {
    pub id: &'a str,
    pub content: &'a str,
    pub request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_parent_message_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message<'a> {
    pub id: &'a str,
    pub room_id: &'a str,
    pub user_id: &'a str,
    pub user_account: &'a str,
    pub content: &'a str,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_parent_message_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEvent<'a> {
    pub event: &'static str,
    pub message: Message<'a>,
    pub site_id: &'a str,
    pub timestamp: i64,
}

/// What a gatekeeper reply says: the stored message, or `{"error": …}`.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Stored,
    Rejected(String),
    /// Not valid JSON.
    Malformed,
}

pub fn parse_reply(payload: &[u8]) -> Reply {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        error: Option<Cow<'a, str>>,
    }
    match serde_json::from_slice::<Probe>(payload) {
        Ok(Probe { error: Some(e) }) => Reply::Rejected(e.into_owned()),
        Ok(Probe { error: None }) => Reply::Stored,
        Err(_) => Reply::Malformed,
    }
}

/// The `lastMsgId` of a RoomEvent, or `None` if it is not valid JSON or lacks one.
pub fn broadcast_message_id(payload: &[u8]) -> Option<Cow<'_, str>> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe<'a> {
        #[serde(borrow)]
        last_msg_id: Cow<'a, str>,
    }
    serde_json::from_slice::<Probe>(payload)
        .ok()
        .map(|p| p.last_msg_id)
}

pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_classified() {
        let table: &[(&str, Reply)] = &[
            (r#"{"id":"m-1","roomId":"room-0001"}"#, Reply::Stored),
            (
                r#"{"error":"user user-1 is not subscribed to room room-0002"}"#,
                Reply::Rejected("user user-1 is not subscribed to room room-0002".into()),
            ),
            (r#"{"messages": [ malformed"#, Reply::Malformed),
            ("", Reply::Malformed),
        ];
        for (payload, want) in table {
            assert_eq!(&parse_reply(payload.as_bytes()), want, "{payload}");
        }
    }

    #[test]
    fn broadcasts_yield_their_message_id() {
        let event = br#"{"type":"message","roomId":"room-0001","lastMsgId":"m-00000001-000000000003","lastMsgAt":1,"siteId":"s","userCount":2,"message":{}}"#;
        assert_eq!(
            broadcast_message_id(event).as_deref(),
            Some("m-00000001-000000000003")
        );
        assert_eq!(broadcast_message_id(b"{not json"), None);
        assert_eq!(broadcast_message_id(b"{}"), None);
    }

    #[test]
    fn send_request_uses_the_protocol_field_names() {
        let body = serde_json::to_string(&SendMessageRequest {
            id: "m-1",
            content: "hi",
            request_id: "r",
            thread_parent_message_id: None,
        })
        .unwrap();
        assert_eq!(body, r#"{"id":"m-1","content":"hi","requestId":"r"}"#);
    }
}
