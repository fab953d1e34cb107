//! Building history and thread replies: the seeded history preset and the
//! store merged by `createdAt`, written straight into the reply bytes.
//!
//! * history: top-level messages, newest first, `createdAt < before`,
//!   at most `limit`, plus `hasMore`.
//! * thread: replies to `threadMessageId`, oldest first (reading order),
//!   at most `limit`, plus `hasMore`.

use std::cmp::Ordering;

use bytes::Bytes;
use chat_fixtures::{HistoryMessage, MessageId};

use crate::shared::Shared;
use crate::store::Stored;
use crate::wire::Message;

/// Page size when the request names none.
pub const DEFAULT_LIMIT: i64 = 20;
/// Larger requests are served this many.
pub const MAX_LIMIT: i64 = 500;

/// Validates a requested limit.
pub fn limit(requested: Option<i64>) -> Result<usize, String> {
    match requested.unwrap_or(DEFAULT_LIMIT) {
        n if n < 1 => Err(format!("limit must be positive, got {n}")),
        n => Ok(n.min(MAX_LIMIT) as usize),
    }
}

/// A row from either source, as the merge sees it.
enum Row<'a> {
    Seeded(HistoryMessage<'a>),
    Stored(Stored),
}

impl Row<'_> {
    fn created_at(&self) -> i64 {
        match self {
            Row::Seeded(m) => m.created_at_ms,
            Row::Stored(s) => s.created_at,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Row::Stored(s) => out.extend_from_slice(&s.json),
            Row::Seeded(m) => {
                let (id, parent) = (m.id.to_string(), m.thread_parent.map(|p| p.to_string()));
                let message = Message {
                    id: &id,
                    room_id: m.room_id,
                    user_id: m.account,
                    user_account: m.account,
                    content: m.content,
                    created_at: m.created_at_ms,
                    thread_parent_message_id: parent.as_deref(),
                };
                serde_json::to_writer(out, &message).expect("writing to a Vec cannot fail");
            }
        }
    }
}

/// The `…msg.history` reply for `room`.
pub fn history(shared: &Shared, room: &str, before: Option<i64>, limit: usize) -> Bytes {
    let stored = shared.store.page(room, before, limit);
    let seeded = shared
        .history
        .room_by_id(room)
        .map(|r| shared.history.page(r, before, limit as u32))
        .unwrap_or_else(|| chat_fixtures::Page {
            messages: Vec::new(),
            has_more: false,
        });
    let older_beyond = stored.has_more || seeded.has_more;
    let rows = merge(
        seeded.messages.into_iter().map(Row::Seeded),
        stored.rows.into_iter().map(Row::Stored),
        |a, b| b.cmp(&a),
    );
    render(rows, limit, older_beyond)
}

/// The `…msg.thread` reply for `thread_id` in `room`.
pub fn thread(shared: &Shared, room: &str, thread_id: &str, limit: usize) -> Bytes {
    let seeded: Vec<HistoryMessage> = match (
        thread_id.parse::<MessageId>(),
        shared.history.room_by_id(room),
    ) {
        (Ok(parent), Some(r)) if parent.room == r => {
            shared.history.replies(parent).take(limit).collect()
        }
        _ => Vec::new(),
    };
    let stored = shared.store.thread(room, thread_id, limit);
    let more = stored.has_more;
    let rows = merge(
        seeded.into_iter().map(Row::Seeded),
        stored.rows.into_iter().map(Row::Stored),
        |a, b| a.cmp(&b),
    );
    render(rows, limit, more)
}

/// Merges two lists already sorted by `order` of `createdAt`.
fn merge<'a>(
    a: impl Iterator<Item = Row<'a>>,
    b: impl Iterator<Item = Row<'a>>,
    order: impl Fn(i64, i64) -> Ordering,
) -> Vec<Row<'a>> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let mut out = Vec::new();
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => order(x.created_at(), y.created_at()) != Ordering::Greater,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return out,
        };
        out.push(if take_a { a.next() } else { b.next() }.expect("peeked"));
    }
}

fn render(rows: Vec<Row<'_>>, limit: usize, more_beyond: bool) -> Bytes {
    let has_more = more_beyond || rows.len() > limit;
    let mut out = Vec::with_capacity(64 + rows.len().min(limit) * 320);
    out.extend_from_slice(b"{\"messages\":[");
    for (i, row) in rows.iter().take(limit).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        row.write(&mut out);
    }
    out.extend_from_slice(if has_more {
        b"],\"hasMore\":true}"
    } else {
        b"],\"hasMore\":false}"
    });
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::NewRow;
    use clap::Parser;
    use serde_json::Value;

    fn shared() -> Shared {
        Shared::new(Config::parse_from(["chat-testbed"]))
    }

    fn ids(reply: &Bytes) -> (Vec<String>, bool) {
        let v: Value = serde_json::from_slice(reply).unwrap();
        let ids = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();
        (ids, v["hasMore"].as_bool().unwrap())
    }

    #[test]
    fn live_messages_come_before_seeded_history() {
        let s = shared();
        let json = br#"{"id":"live-1","roomId":"room-0001","createdAt":1900000000000}"#;
        s.store.insert(NewRow {
            id: "live-1",
            room: "room-0001",
            thread_parent: None,
            created_at: 1_900_000_000_000,
            json,
        });
        let (got, more) = ids(&history(&s, "room-0001", None, 3));
        assert_eq!(got, vec!["live-1", "h-0001-000099", "h-0001-000098"]);
        assert!(more);
        let (got, _) = ids(&history(&s, "room-0001", Some(1_900_000_000_000), 1));
        assert_eq!(got, vec!["h-0001-000099"]);
    }

    #[test]
    fn last_page_says_no_more() {
        let s = shared();
        let first = s.history.message(0, 1).created_at_ms;
        let (got, more) = ids(&history(&s, "room-0000", Some(first), 20));
        assert_eq!(got, vec!["h-0000-000000"]);
        assert!(!more);
        let (got, more) = ids(&history(&s, "room-0099", None, 20));
        assert!(
            got.is_empty() && !more,
            "a room with neither history nor sends"
        );
    }

    #[test]
    fn thread_merges_seeded_and_live_replies() {
        let s = Shared::new(Config::parse_from([
            "chat-testbed",
            "--history-preset",
            "history-medium",
        ]));
        let parent = s.history.thread_parent(2, 0);
        let pid = parent.to_string();
        let json = br#"{"id":"live-r","roomId":"room-0002"}"#;
        s.store.insert(NewRow {
            id: "live-r",
            room: "room-0002",
            thread_parent: Some(&pid),
            created_at: i64::MAX,
            json,
        });
        let (got, more) = ids(&thread(&s, "room-0002", &pid, 10));
        assert_eq!(
            got,
            vec![
                format!("{pid}-r0"),
                format!("{pid}-r1"),
                format!("{pid}-r2"),
                "live-r".into()
            ]
        );
        assert!(!more);
        let (got, more) = ids(&thread(&s, "room-0002", &pid, 2));
        assert_eq!(got.len(), 2);
        assert!(more);
        assert!(
            ids(&thread(&s, "room-0003", &pid, 10)).0.is_empty(),
            "parent of another room"
        );
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None), Ok(20));
        assert_eq!(limit(Some(10_000)), Ok(500));
        assert!(limit(Some(0)).is_err());
    }
}
