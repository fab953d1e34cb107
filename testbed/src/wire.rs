//! Payloads of PROTOCOL.md, with its exact JSON field names. Inbound types
//! borrow from the message (`Cow` only where JSON escapes force a copy).

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// Client → gatekeeper, on `chat.user.{account}.room.{room}.{site}.msg.send`.
/// Every field is optional here so that a missing one is a validation
/// error with a reply, not a parse failure without one.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageRequest<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub request_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub thread_parent_message_id: Option<Cow<'a, str>>,
}

/// The stored message: the gatekeeper's reply, the `message` of a
/// MessageEvent and of a RoomEvent, and a history row.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message<'a> {
    pub id: &'a str,
    pub room_id: &'a str,
    pub user_id: &'a str,
    pub user_account: &'a str,
    pub content: &'a str,
    /// Unix milliseconds.
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_parent_message_id: Option<&'a str>,
}

/// `{"event":"created","message":{…},"siteId":…,"timestamp":…}` on
/// `chat.msg.canonical.{site}.created`. `message` stays raw so the workers
/// store and forward it byte for byte.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEvent<'a> {
    #[serde(borrow)]
    pub event: Cow<'a, str>,
    #[serde(borrow)]
    pub message: &'a RawValue,
}

/// The fields of a canonical message the workers act on.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageKey<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub room_id: Cow<'a, str>,
    /// Unix ms, or an RFC 3339 string from other producers; missing means
    /// "now".
    #[serde(default, deserialize_with = "millis")]
    pub created_at: Option<i64>,
    #[serde(borrow, default)]
    pub thread_parent_message_id: Option<Cow<'a, str>>,
}

/// Broadcast-worker output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomEvent<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub room_id: &'a str,
    pub last_msg_id: &'a str,
    pub last_msg_at: i64,
    pub site_id: &'a str,
    pub user_count: usize,
    pub message: &'a RawValue,
}

/// `…msg.history` request body.
#[derive(Debug, Deserialize)]
pub struct HistoryRequest {
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// `…msg.thread` request body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRequest<'a> {
    #[serde(borrow)]
    pub thread_message_id: Option<Cow<'a, str>>,
    pub limit: Option<i64>,
}

/// `{"error": "<reason>"}`.
pub fn error_reply(reason: &str) -> Bytes {
    #[derive(Serialize)]
    struct ErrorReply<'a> {
        error: &'a str,
    }
    Bytes::from(
        serde_json::to_vec(&ErrorReply { error: reason }).expect("serialising a str cannot fail"),
    )
}

/// What `--malformed-rate` sends instead of a reply.
pub const MALFORMED: &[u8] = b"{\"messages\": [ malformed";

/// A request id must be a UUID (8-4-4-4-12 hex); it also becomes a subject
/// token, which this shape keeps safe.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether `s` can be one subject token (so an invalid request id can
/// still be answered on its response subject).
pub fn is_subject_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && !s.bytes().any(|c| {
            matches!(c, b'.' | b'*' | b'>') || c.is_ascii_whitespace() || c.is_ascii_control()
        })
}

/// Best effort for unparseable sends: finds `"requestId":"…"` in raw bytes
/// so the client still gets an error reply.
pub fn scan_request_id(raw: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(raw).ok()?;
    let at = text.find("\"requestId\"")? + "\"requestId\"".len();
    let rest = text[at..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let value = &rest[..rest.find('"')?];
    is_subject_token(value).then_some(value)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stamp {
        Ms(i64),
        Text(String),
    }
    match Option::<Stamp>::deserialize(d)? {
        None => Ok(None),
        Some(Stamp::Ms(ms)) => Ok(Some(ms)),
        Some(Stamp::Text(t)) => humantime::parse_rfc3339_weak(&t)
            .map_err(serde::de::Error::custom)
            .and_then(|t| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map(|d| Some(d.as_millis() as i64))
                    .map_err(serde::de::Error::custom)
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400z"));
    }

    #[test]
    fn request_id_is_found_in_broken_json() {
        let raw = br#"{"id": "m1", "requestId" : "abc-1", "content": "#;
        assert_eq!(scan_request_id(raw), Some("abc-1"));
        assert_eq!(scan_request_id(br#"{"requestId": "a.b"}"#), None);
        assert_eq!(scan_request_id(b"\xff\xfe"), None);
    }

    #[test]
    fn message_key_accepts_ms_or_rfc3339() {
        let k: MessageKey =
            serde_json::from_str(r#"{"id":"a","roomId":"r","createdAt":1700000000000}"#).unwrap();
        assert_eq!(k.created_at, Some(1_700_000_000_000));
        let k: MessageKey =
            serde_json::from_str(r#"{"id":"a","roomId":"r","createdAt":"2023-11-14T22:13:20Z"}"#)
                .unwrap();
        assert_eq!(k.created_at, Some(1_700_000_000_000));
        let k: MessageKey = serde_json::from_str(r#"{"id":"a","roomId":"r"}"#).unwrap();
        assert_eq!(k.created_at, None);
    }

    #[test]
    fn error_reply_escapes() {
        assert_eq!(&error_reply("bad \"x\"")[..], br#"{"error":"bad \"x\""}"#);
    }
}
