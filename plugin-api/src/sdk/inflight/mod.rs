//! [`InFlight`]: the ops a plugin started and is waiting on, keyed by the
//! plugin's own correlation key (a sequence number, a request id).
//!
//! The table owns the protocol's subtle rules, so every op ends **exactly
//! once**, whatever the order of answer, timeout and deadline:
//! - [`InFlight::start`] refuses an op past `max_in_flight` (count it as
//!   saturation in the `FireAck`): the generator stays open-loop.
//! - An op ends at the first of: its answer ([`InFlight::complete`]); its
//!   request timeout `sent + request_timeout` (a `Timeout` sample, a
//!   failure); its loss deadline `intended + loss_timeout` (a `Lost` sample).
//!   When both deadlines fall together the op is Lost. A Timeout or Lost
//!   sample's `done` is the deadline itself, not when the sweep noticed.
//! - Anything after the end (a late answer, a second answer) is ignored and
//!   `complete` returns `false`.
//! - An op may await several series (`E1` and `E2`): each gets its `Ok`
//!   sample as it arrives; an error, timeout or loss ends the op with **one**
//!   sample on the first series still awaited (the engine counts failed ops,
//!   not failed series).
//!
//! Expiry runs in [`InFlight::expire`] (pure: the clock is an argument);
//! [`Context::in_flight`](super::Context::in_flight) starts a task that calls it
//! every few milliseconds. Sharded so senders and receivers rarely contend.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};

// SipHash (std's default) was ≈2% of the http plugin's CPU at 20k req/s, for
// keys the plugin makes itself: foldhash is as well spread and much cheaper.
use foldhash::fast::RandomState;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::counter_set::CounterDecl;
use super::recorder::Recorder;
use super::sample::{Answer, Sent};
use super::series::Series;
use crate::abi::{Counter, FireAck, MonoNanos};
use crate::clock;

const SHARDS: usize = 16;
/// How often the sweeper looks for expired ops.
pub const SWEEP_EVERY: Duration = Duration::from_millis(5);

/// The bounds of an [`InFlight`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Ops open at once beyond which `start` refuses (saturation).
    pub max_in_flight: usize,
    /// How long an op may wait for its answer from when it was sent; `None`:
    /// only the loss deadline ends it.
    pub request_timeout: Option<Duration>,
}

impl Limits {
    pub fn new(max_in_flight: usize) -> Limits {
        Limits {
            max_in_flight,
            request_timeout: None,
        }
    }

    pub fn request_timeout(mut self, timeout: Duration) -> Limits {
        self.request_timeout = Some(timeout);
        self
    }
}

/// Why [`InFlight::start`] did not start an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// `max_in_flight` ops are open: count this one as saturated.
    Saturated,
    /// An op with this key is still open (a key must be unique while open).
    DuplicateKey,
}

/// What ended an op when its first deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Timeout,
    Lost,
}

struct Entry {
    sent: Sent,
    /// Bit `i` set: series `i` still awaits its answer.
    awaits: u64,
    deadline: u64,
    expiry: Expiry,
    generation: u64,
}

struct Shard<K> {
    open: HashMap<K, Entry, RandomState>,
    /// `(deadline, generation, key)` in start order. Deadlines are nearly
    /// monotonic (intended and sent times are), so expiry pops from the front;
    /// an entry whose op already ended (or whose key was reused: another
    /// generation) is skipped.
    deadlines: VecDeque<(u64, u64, K)>,
}

/// The table's own counts, reported through [`InFlight::counters`].
#[derive(Default)]
struct Counts {
    saturated: AtomicU64,
    timeouts: AtomicU64,
    lost: AtomicU64,
}

pub struct InFlight<K> {
    shards: Box<[Mutex<Shard<K>>]>,
    hasher: RandomState,
    open: AtomicUsize,
    generation: AtomicU64,
    max_in_flight: usize,
    request_timeout_ns: Option<u64>,
    loss_timeout_ns: u64,
    recorder: Recorder,
    counts: Counts,
}

impl<K: Hash + Eq + Clone> InFlight<K> {
    /// A table recording into `recorder`; ops unanswered `loss_timeout` after
    /// their intended time are Lost.
    pub fn new(limits: Limits, loss_timeout: Duration, recorder: Recorder) -> InFlight<K> {
        InFlight {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        open: HashMap::default(),
                        deadlines: VecDeque::new(),
                    })
                })
                .collect(),
            hasher: RandomState::default(),
            open: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            max_in_flight: limits.max_in_flight,
            request_timeout_ns: limits.request_timeout.map(nanos),
            loss_timeout_ns: nanos(loss_timeout),
            recorder,
            counts: Counts::default(),
        }
    }

    fn shard(&self, key: &K) -> MutexGuard<'_, Shard<K>> {
        let i = self.hasher.hash_one(key) as usize % SHARDS;
        // A panic while locked can only come from a bug here; the data stays
        // consistent enough to go on.
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ops open now.
    pub fn len(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When an op sent as `sent` ends if nothing answers it, and how.
    pub fn deadline(&self, sent: Sent) -> (MonoNanos, Expiry) {
        let lost_at = sent.intended.0.saturating_add(self.loss_timeout_ns);
        match self.request_timeout_ns {
            Some(t) if sent.sent.0.saturating_add(t) < lost_at => {
                (MonoNanos(sent.sent.0 + t), Expiry::Timeout)
            }
            _ => (MonoNanos(lost_at), Expiry::Lost),
        }
    }

    /// Start an op awaiting one series.
    pub fn start(&self, key: K, sent: Sent, series: Series) -> Result<(), Refused> {
        self.start_awaiting(key, sent, &[series])
    }

    /// Start an op awaiting each of `series` (one or more, indices < 64).
    pub fn start_awaiting(&self, key: K, sent: Sent, series: &[Series]) -> Result<(), Refused> {
        assert!(
            !series.is_empty() && series.iter().all(|s| s.index() < 64),
            "an op awaits 1 to 64 series, each with an index < 64"
        );
        let claimed = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_in_flight).then_some(n + 1)
            });
        if claimed.is_err() {
            self.counts.saturated.fetch_add(1, Ordering::Relaxed);
            return Err(Refused::Saturated);
        }
        let awaits = series.iter().fold(0u64, |m, s| m | 1 << s.index());
        let (deadline, expiry) = self.deadline(sent);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        let mut shard = self.shard(&key);
        if shard.open.contains_key(&key) {
            drop(shard);
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(Refused::DuplicateKey);
        }
        shard
            .deadlines
            .push_back((deadline.0, generation, key.clone()));
        shard.open.insert(
            key,
            Entry {
                sent,
                awaits,
                deadline: deadline.0,
                expiry,
                generation,
            },
        );
        Ok(())
    }

    /// `start` for each op of a loop in `fire`, tallied into `ack`: `true`
    /// if the op started (send it), `false` if it was refused.
    pub fn start_counted(&self, ack: &mut FireAck, key: K, sent: Sent, series: Series) -> bool {
        let started = self.start(key, sent, series).is_ok();
        if started {
            ack.accepted += 1;
        } else {
            ack.saturated += 1;
        }
        started
    }

    /// The op's answer arrived at `done`: `Ok` records an `Ok` sample on every
    /// series it still awaited; an error or timeout records one sample on the
    /// first of them. Ends the op. `false`: the op had already ended (or was
    /// never started) and nothing was recorded.
    pub fn complete(&self, key: &K, answer: Answer, done: MonoNanos) -> bool {
        let Some(entry) = self.remove(key) else {
            return false;
        };
        match answer {
            Answer::Ok => self
                .recorder
                .record_all(each_series(entry.awaits).map(|s| entry.sent.ok(s, done))),
            failed => {
                if failed == Answer::Timeout {
                    self.counts.timeouts.fetch_add(1, Ordering::Relaxed);
                }
                self.recorder.record(
                    entry
                        .sent
                        .answered(first_series(entry.awaits), failed, done),
                )
            }
        }
        true
    }

    /// One series of a multi-series op answered at `done`: its `Ok` sample is
    /// recorded; the op ends when no series awaits. `false`: the op had ended,
    /// or this series was already answered (nothing recorded).
    pub fn complete_series(&self, key: &K, series: Series, done: MonoNanos) -> bool {
        let bit = 1u64 << series.index();
        let mut shard = self.shard(key);
        let Some(entry) = shard.open.get_mut(key) else {
            return false;
        };
        if entry.awaits & bit == 0 {
            return false;
        }
        entry.awaits &= !bit;
        let sent = entry.sent;
        if entry.awaits == 0 {
            shard.open.remove(key);
            self.open.fetch_sub(1, Ordering::AcqRel);
        }
        drop(shard);
        self.recorder.record(sent.ok(series, done));
        true
    }

    /// Whether `series` of op `key` still awaits its answer.
    pub fn awaits(&self, key: &K, series: Series) -> bool {
        self.shard(key)
            .open
            .get(key)
            .is_some_and(|e| e.awaits & (1 << series.index()) != 0)
    }

    /// End op `key` if its deadline has passed by `now` (recording Timeout or
    /// Lost); for plugins whose op task stops waiting at the deadline itself.
    pub fn expire_key(&self, key: &K, now: MonoNanos) -> Option<Expiry> {
        let mut shard = self.shard(key);
        let entry = shard.open.get(key)?;
        if entry.deadline > now.0 {
            return None;
        }
        let entry = shard.open.remove(key)?;
        drop(shard);
        self.open.fetch_sub(1, Ordering::AcqRel);
        self.record_expiry(&entry);
        Some(entry.expiry)
    }

    /// End every op whose deadline is ≤ `now`, recording each as Timeout or
    /// Lost at its deadline. Returns how many ended.
    pub fn expire(&self, now: MonoNanos) -> usize {
        let mut ended = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            while let Some((deadline, _, _)) = shard.deadlines.front() {
                if *deadline > now.0 {
                    break;
                }
                let (_, generation, key) = shard.deadlines.pop_front().expect("front exists");
                let current = shard
                    .open
                    .get(&key)
                    .is_some_and(|e| e.generation == generation);
                if current {
                    let entry = shard.open.remove(&key).expect("checked above");
                    self.open.fetch_sub(1, Ordering::AcqRel);
                    self.record_expiry(&entry);
                    ended += 1;
                }
            }
        }
        ended
    }

    fn record_expiry(&self, entry: &Entry) {
        let series = first_series(entry.awaits);
        let at = MonoNanos(entry.deadline);
        let sample = match entry.expiry {
            Expiry::Timeout => {
                self.counts.timeouts.fetch_add(1, Ordering::Relaxed);
                entry.sent.timeout(series, at)
            }
            Expiry::Lost => {
                self.counts.lost.fetch_add(1, Ordering::Relaxed);
                entry.sent.lost(series, at)
            }
        };
        self.recorder.record(sample);
    }

    fn remove(&self, key: &K) -> Option<Entry> {
        let removed = self.shard(key).open.remove(key);
        if removed.is_some() {
            self.open.fetch_sub(1, Ordering::AcqRel);
        }
        removed
    }

    /// `saturated`, `timeouts` and `lost`, for the plugin's `counters()`
    /// (declared by [`InFlight::declare_counters`]).
    pub fn counters(&self) -> Vec<Counter> {
        let c = &self.counts;
        vec![
            Counter::new("saturated", c.saturated.load(Ordering::Relaxed)),
            Counter::new("timeouts", c.timeouts.load(Ordering::Relaxed)),
            Counter::new("lost", c.lost.load(Ordering::Relaxed)),
        ]
    }

    /// What [`InFlight::counters`] reports, for `Info::counters`.
    pub fn declare_counters() -> Vec<CounterDecl> {
        vec![
            CounterDecl::new(
                "saturated",
                "ops refused because max_in_flight ops were open",
            ),
            CounterDecl::new(
                "timeouts",
                "ops that ended as Timeout: unanswered request_timeout after their send (failed)",
            ),
            CounterDecl::new(
                "lost",
                "ops unanswered at the loss deadline (the engine's loss rate)",
            ),
        ]
    }
}

impl<K: Hash + Eq + Clone + Send + 'static> InFlight<K> {
    /// Expire ops as their deadlines pass, every [`SWEEP_EVERY`], until the
    /// runtime stops.
    pub async fn sweep(self: Arc<Self>) {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.expire(clock::now());
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn each_series(mask: u64) -> impl Iterator<Item = Series> {
    (0..64u16)
        .filter(move |i| mask & (1 << i) != 0)
        .map(|i| Series::new(i, ""))
}

fn first_series(mask: u64) -> Series {
    Series::new(mask.trailing_zeros().min(63) as u16, "")
}

#[cfg(test)]
mod tests;
