//! Ops awaiting their answers: which series each still needs, and the loss
//! deadline that bounds how long it is remembered.
//!
//! Memory is bounded by `max_in_flight` (the plugin refuses ops beyond it)
//! and by the deadline: whatever is unanswered `loss_timeout` after its
//! intended time is reported Lost and forgotten. Sharded so the sender and
//! the two receivers rarely contend.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const SHARDS: usize = 16;

/// One op's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    pub intended: u64,
    pub sent: u64,
    pub need_e1: bool,
    pub need_e2: bool,
}

/// What an answer did to its op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answered {
    /// The series was awaited: the op as it was before this answer.
    First(Pending),
    /// Unknown op (expired, not ours) or the series was already answered
    /// (the second DM member's broadcast).
    Stale,
}

pub struct InFlight {
    shards: Vec<Mutex<HashMap<u64, Pending>>>,
    /// `(deadline, seq)` in insertion order; deadlines are near-monotonic
    /// because intended times are.
    deadlines: Mutex<VecDeque<(u64, u64)>>,
    len: AtomicUsize,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            deadlines: Mutex::default(),
            len: AtomicUsize::new(0),
        }
    }
}

impl InFlight {
    fn shard(&self, seq: u64) -> std::sync::MutexGuard<'_, HashMap<u64, Pending>> {
        self.shards[seq as usize % SHARDS]
            .lock()
            .expect("no panics while locked")
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub fn insert(&self, seq: u64, op: Pending, deadline: u64) {
        self.shard(seq).insert(seq, op);
        self.len.fetch_add(1, Ordering::Relaxed);
        self.deadlines
            .lock()
            .expect("no panics while locked")
            .push_back((deadline, seq));
    }

    /// Mark series E1 (`e1 = true`) or E2 answered.
    pub fn answer(&self, seq: u64, e1: bool) -> Answered {
        let mut shard = self.shard(seq);
        let Some(op) = shard.get_mut(&seq) else {
            return Answered::Stale;
        };
        let snapshot = *op;
        let need = if e1 { &mut op.need_e1 } else { &mut op.need_e2 };
        if !*need {
            return Answered::Stale;
        }
        *need = false;
        if !op.need_e1 && !op.need_e2 {
            shard.remove(&seq);
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        Answered::First(snapshot)
    }

    /// Forget an op (it failed outright); returns what it still needed.
    pub fn remove(&self, seq: u64) -> Option<Pending> {
        let removed = self.shard(seq).remove(&seq);
        if removed.is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Remove every op whose deadline is ≤ `now`; they are lost.
    pub fn expire(&self, now: u64) -> Vec<Pending> {
        let mut due = Vec::new();
        {
            let mut deadlines = self.deadlines.lock().expect("no panics while locked");
            while let Some(&(deadline, seq)) = deadlines.front() {
                if deadline > now {
                    break;
                }
                deadlines.pop_front();
                due.push(seq);
            }
        }
        due.into_iter().filter_map(|seq| self.remove(seq)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(intended: u64) -> Pending {
        Pending {
            intended,
            sent: intended,
            need_e1: true,
            need_e2: true,
        }
    }

    #[test]
    fn an_op_is_forgotten_once_both_series_answered() {
        let f = InFlight::default();
        f.insert(1, op(10), 100);
        assert!(matches!(f.answer(1, false), Answered::First(p) if p.intended == 10));
        assert_eq!(f.answer(1, false), Answered::Stale, "second DM broadcast");
        assert_eq!(f.len(), 1);
        assert!(matches!(f.answer(1, true), Answered::First(_)));
        assert_eq!(f.len(), 0);
        assert_eq!(f.answer(1, true), Answered::Stale);
        assert!(f.expire(1_000).is_empty(), "answered ops are not lost");
    }

    #[test]
    fn unanswered_ops_expire_at_their_deadline_with_what_they_lacked() {
        let f = InFlight::default();
        f.insert(1, op(10), 100);
        f.insert(2, op(20), 110);
        f.answer(1, true);
        assert!(f.expire(99).is_empty());
        let lost = f.expire(100);
        assert_eq!(
            lost,
            vec![Pending {
                intended: 10,
                sent: 10,
                need_e1: false,
                need_e2: true
            }]
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f.expire(200).len(), 1);
        assert_eq!(f.len(), 0);
    }
}
