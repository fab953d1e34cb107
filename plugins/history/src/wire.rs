//! The history endpoints' payloads (PROTOCOL.md "History read"), as this
//! workload sends and reads them.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::chains::PageEnd;

use loadgen_plugin_api::sdk::{Reason, Series};

/// The series, in the order of the `mix` keys.
pub const HISTORY: Series = Series::new(0, "history");
pub const THREAD: Series = Series::new(1, "thread");
pub const SERIES: [Series; 2] = [HISTORY, THREAD];

pub const ERROR_REPLY: Reason = Reason::new(0, "error_reply");
pub const BAD_REPLY: Reason = Reason::new(1, "bad_reply");
pub const NO_RESPONDERS: Reason = Reason::new(2, "no_responders");
pub const REQUEST: Reason = Reason::new(3, "request");
pub const REASONS: [Reason; 4] = [ERROR_REPLY, BAD_REPLY, NO_RESPONDERS, REQUEST];

/// `…msg.history`: `{"before": <unix ms>?, "limit": n}`.
#[derive(Serialize)]
pub struct HistoryRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    pub limit: u32,
}

/// `…msg.thread`: `{"threadMessageId": "...", "limit": n}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRequest<'a> {
    pub thread_message_id: &'a str,
    pub limit: u32,
}

/// What a reply says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `{"messages": [...], "hasMore": bool}`.
    Page(PageEnd),
    /// `{"error": "..."}`.
    Error,
    /// Not valid JSON, or JSON of another shape (no `messages` list).
    Malformed,
}

pub fn parse_reply(payload: &[u8]) -> Reply {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default)]
        error: Option<IgnoredAny>,
        #[serde(default)]
        messages: Option<Vec<Row>>,
        #[serde(default)]
        has_more: bool,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        #[serde(default)]
        created_at: Option<Stamp>,
    }
    /// Unix ms as the protocol says; any other value is kept out of the cursor.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stamp {
        Ms(i64),
        Other(IgnoredAny),
    }
    match serde_json::from_slice::<Probe>(payload) {
        Ok(Probe { error: Some(_), .. }) => Reply::Error,
        Ok(Probe {
            messages: Some(rows),
            has_more,
            ..
        }) => {
            let times = rows.iter().map(|r| match r.created_at {
                Some(Stamp::Ms(ms)) => Some(ms),
                _ => None,
            });
            // A row without a usable time leaves the chain without a cursor.
            let oldest = times
                .collect::<Option<Vec<i64>>>()
                .and_then(|t| t.into_iter().min());
            Reply::Page(PageEnd { oldest, has_more })
        }
        _ => Reply::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_use_the_protocol_field_names() {
        let open = serde_json::to_string(&HistoryRequest {
            before: None,
            limit: 20,
        })
        .unwrap();
        assert_eq!(open, r#"{"limit":20}"#);
        let back = serde_json::to_string(&HistoryRequest {
            before: Some(1_704_067_200_000),
            limit: 5,
        })
        .unwrap();
        assert_eq!(back, r#"{"before":1704067200000,"limit":5}"#);
        let thread = serde_json::to_string(&ThreadRequest {
            thread_message_id: "h-0001-000042",
            limit: 20,
        })
        .unwrap();
        assert_eq!(thread, r#"{"threadMessageId":"h-0001-000042","limit":20}"#);
    }

    #[test]
    fn replies_are_classified() {
        let page = |oldest, has_more| Reply::Page(PageEnd { oldest, has_more });
        let table: &[(&str, Reply)] = &[
            (
                r#"{"messages":[{"id":"b","createdAt":20},{"id":"a","createdAt":10}],"hasMore":true}"#,
                page(Some(10), true),
            ),
            (r#"{"messages":[],"hasMore":false}"#, page(None, false)),
            (
                r#"{"messages":[{"id":"r0","createdAt":5}]}"#,
                page(Some(5), false),
            ),
            (
                r#"{"messages":[{"id":"x"}],"hasMore":true}"#,
                page(None, true),
            ),
            (
                r#"{"messages":[{"createdAt":"2024-01-01T00:00:00Z"}],"hasMore":true}"#,
                page(None, true),
            ),
            (
                r#"{"error":"user user-1 is not a member of room room-0002"}"#,
                Reply::Error,
            ),
            (r#"{"error":{"code":500}}"#, Reply::Error),
            (r#"{"messages": [ malformed"#, Reply::Malformed),
            ("", Reply::Malformed),
            ("{}", Reply::Malformed),
            (r#"{"messages":"none"}"#, Reply::Malformed),
            (r#"{"messages":[1,2]}"#, Reply::Malformed),
            ("[]", Reply::Malformed),
            ("\u{0}\u{ff}", Reply::Malformed),
        ];
        for (payload, want) in table {
            assert_eq!(&parse_reply(payload.as_bytes()), want, "{payload}");
        }
    }
}
