//! The history store message-worker persists to: in memory, sharded by
//! room, deduplicated by message id (JetStream delivers at least once, and a
//! restart replays; see `replay.rs`). Rows keep the message JSON exactly as
//! the gatekeeper produced it, so a history page copies bytes, never
//! re-serialises.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use bytes::Bytes;

const SHARDS: usize = 32;

/// One persisted message.
#[derive(Debug, Clone)]
pub struct Stored {
    pub created_at: i64,
    pub json: Bytes,
}

#[derive(Debug, Default)]
struct RoomLog {
    ids: HashSet<Box<str>>,
    /// Top-level messages, sorted by `created_at` (stable for equal times).
    top: Vec<Stored>,
    /// Thread replies by parent id, sorted by `created_at`.
    threads: HashMap<Box<str>, Vec<Stored>>,
}

/// Rows of one room older than a cursor, newest first, plus whether more
/// remain beyond them.
#[derive(Debug, Default)]
pub struct StoredPage {
    pub rows: Vec<Stored>,
    pub has_more: bool,
}

#[derive(Debug)]
pub struct Store {
    shards: Vec<Mutex<HashMap<Box<str>, RoomLog>>>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

/// What [`Store::insert`] is given: the keys and the message bytes.
#[derive(Debug, Clone, Copy)]
pub struct NewRow<'a> {
    pub id: &'a str,
    pub room: &'a str,
    pub thread_parent: Option<&'a str>,
    pub created_at: i64,
    pub json: &'a [u8],
}

impl Store {
    /// Stores a message; false (and nothing stored) if its id is already
    /// in its room.
    pub fn insert(&self, row: NewRow<'_>) -> bool {
        let mut shard = self.shard(row.room).lock().expect("store lock poisoned");
        let log = match shard.get_mut(row.room) {
            Some(log) => log,
            None => shard.entry(row.room.into()).or_default(),
        };
        if !log.ids.insert(row.id.into()) {
            return false;
        }
        let stored = Stored {
            created_at: row.created_at,
            json: Bytes::copy_from_slice(row.json),
        };
        let list = match row.thread_parent {
            Some(parent) => log.threads.entry(parent.into()).or_default(),
            None => &mut log.top,
        };
        let at = list.partition_point(|s| s.created_at <= row.created_at);
        list.insert(at, stored);
        true
    }

    /// Up to `limit` top-level rows of `room` with `created_at < before`
    /// (all when `None`), newest first.
    pub fn page(&self, room: &str, before: Option<i64>, limit: usize) -> StoredPage {
        let shard = self.shard(room).lock().expect("store lock poisoned");
        let Some(log) = shard.get(room) else {
            return StoredPage::default();
        };
        let end = before.map_or(log.top.len(), |b| {
            log.top.partition_point(|s| s.created_at < b)
        });
        let start = end.saturating_sub(limit);
        StoredPage {
            rows: log.top[start..end].iter().rev().cloned().collect(),
            has_more: start > 0,
        }
    }

    /// Up to `limit` replies to `parent` in `room`, oldest first.
    pub fn thread(&self, room: &str, parent: &str, limit: usize) -> StoredPage {
        let shard = self.shard(room).lock().expect("store lock poisoned");
        let Some(replies) = shard.get(room).and_then(|log| log.threads.get(parent)) else {
            return StoredPage::default();
        };
        let rows: Vec<Stored> = replies.iter().take(limit).cloned().collect();
        StoredPage {
            has_more: replies.len() > rows.len(),
            rows,
        }
    }

    /// Messages stored in total (top-level and replies).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .expect("store lock poisoned")
                    .values()
                    .map(|l| l.ids.len())
                    .sum::<usize>()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, room: &str) -> &Mutex<HashMap<Box<str>, RoomLog>> {
        &self.shards[(chat_fixtures::hash_str(room) % SHARDS as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(id: &'a str, at: i64, parent: Option<&'a str>) -> NewRow<'a> {
        NewRow {
            id,
            room: "room-0001",
            thread_parent: parent,
            created_at: at,
            json: id.as_bytes(),
        }
    }

    #[test]
    fn dedups_by_id_and_pages_newest_first() {
        let s = Store::default();
        for (id, at) in [("a", 10), ("c", 30), ("b", 20), ("d", 40)] {
            assert!(s.insert(row(id, at, None)));
        }
        assert!(!s.insert(row("b", 99, None)), "duplicate id");
        assert_eq!(s.len(), 4);
        let ids = |p: &StoredPage| p.rows.iter().map(|r| r.json.clone()).collect::<Vec<_>>();
        let p = s.page("room-0001", None, 2);
        assert_eq!(ids(&p), vec![Bytes::from("d"), Bytes::from("c")]);
        assert!(p.has_more);
        let p = s.page("room-0001", Some(30), 10);
        assert_eq!(ids(&p), vec![Bytes::from("b"), Bytes::from("a")]);
        assert!(!p.has_more);
        assert!(s.page("room-0002", None, 10).rows.is_empty());
    }

    #[test]
    fn replies_are_kept_apart_oldest_first() {
        let s = Store::default();
        s.insert(row("p", 1, None));
        s.insert(row("r2", 3, Some("p")));
        s.insert(row("r1", 2, Some("p")));
        assert_eq!(s.page("room-0001", None, 10).rows.len(), 1);
        let t = s.thread("room-0001", "p", 1);
        assert_eq!(t.rows[0].json, Bytes::from("r1"));
        assert!(t.has_more);
    }
}
