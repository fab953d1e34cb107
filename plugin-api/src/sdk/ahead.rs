//! Batches handed ahead ([`Workload::fire_ahead`](crate::abi::Workload::fire_ahead)),
//! fired at their times on the plugin's own runtime.
//!
//! The host's pacer hands each batch tens of milliseconds early; a queue
//! keeps them in order and a `timerfd`, registered with the runtime's own
//! epoll, wakes a worker when the front batch is due. So an op costs one
//! wake-up — the worker's, which then runs the op on the same thread —
//! where firing from the host's pacer thread cost two (the pacer's, then a
//! worker woken to run the spawned op). tokio's own timers are
//! millisecond-grained; a timerfd is exact to the kernel's hrtimers.
//!
//! What to fire when is plain arithmetic ([`AheadQueue`]); [`Dispatcher`]
//! only sleeps and calls the plugin.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::abi::{Batch, FireAck, Fired, AHEAD_LATE_LIMIT_NS};

/// A batch comes due when its last op does.
fn due_at(batch: &Batch) -> u64 {
    batch.intended(batch.count.saturating_sub(1)).0
}

/// The batches handed ahead and not yet fired, in the order they come due.
#[derive(Debug, Default)]
pub(crate) struct AheadQueue {
    batches: VecDeque<Batch>,
}

/// One batch's turn: ops to skip (too late), then the ops to fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Turn {
    pub first_op: u64,
    pub skipped: u32,
    /// The batch's remaining ops; `None` when all were skipped.
    pub fire: Option<Batch>,
}

impl AheadQueue {
    /// Queue `batch`; true when it is now the front (the timer must be
    /// armed for it).
    pub(crate) fn push(&mut self, batch: Batch) -> bool {
        if batch.count == 0 {
            return false;
        }
        self.batches.push_back(batch);
        self.batches.len() == 1
    }

    /// When the front batch comes due, if any.
    pub(crate) fn next_due(&self) -> Option<u64> {
        self.batches.front().map(due_at)
    }

    /// Take every batch due at `now`, each with its ops older than the late
    /// limit skipped.
    pub(crate) fn take_due(&mut self, now: u64) -> Vec<Turn> {
        let mut turns = Vec::new();
        while let Some(batch) = self.batches.front().copied() {
            if due_at(&batch) > now {
                break;
            }
            self.batches.pop_front();
            turns.push(Self::turn(batch, now));
        }
        turns
    }

    fn turn(batch: Batch, now: u64) -> Turn {
        let oldest_kept = now.saturating_sub(AHEAD_LATE_LIMIT_NS);
        let first = batch.first_intended.0;
        let skipped = if first >= oldest_kept {
            0
        } else {
            let late_ns = oldest_kept - first;
            let interval = batch.interval_ns.max(1);
            // Ops 0..=i with intended < oldest_kept: i·interval < late_ns.
            (late_ns.div_ceil(interval)).min(batch.count as u64) as u32
        };
        let fire = (skipped < batch.count).then(|| Batch {
            first_op: batch.first_op + skipped as u64,
            first_intended: batch.intended(skipped),
            interval_ns: batch.interval_ns,
            count: batch.count - skipped,
        });
        Turn {
            first_op: batch.first_op,
            skipped,
            fire,
        }
    }

    /// Drop every queued batch; how many ops they held.
    pub(crate) fn clear(&mut self) -> u64 {
        let ops = self.batches.iter().map(|b| b.count as u64).sum();
        self.batches.clear();
        ops
    }
}

/// A `CLOCK_MONOTONIC` timerfd, armed to absolute deadlines.
struct TimerFd(OwnedFd);

impl TimerFd {
    fn new() -> io::Result<TimerFd> {
        // SAFETY: timerfd_create takes plain flags and returns a new fd or -1.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        Ok(TimerFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Expire at `deadline_ns` (an absolute time; one already past expires at once).
    fn arm(&self, deadline_ns: u64) {
        // A zero it_value would disarm the timer instead.
        let deadline_ns = deadline_ns.max(1);
        let spec = libc::itimerspec {
            it_interval: crate::clock::timespec(0),
            it_value: crate::clock::timespec(deadline_ns),
        };
        // SAFETY: valid fd and itimerspec; the old value may be null. Failure
        // (never seen: EINVAL for a bad fd) would only leave the timer as it was.
        unsafe {
            libc::timerfd_settime(
                self.0.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            );
        }
    }

    /// Consume the expiry so the fd stops reading ready.
    fn clear(&self) {
        let mut expirations = 0u64;
        // SAFETY: reads at most 8 bytes into a u64; EAGAIN (not expired) is fine.
        unsafe {
            libc::read(
                self.0.as_raw_fd(),
                (&mut expirations as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            );
        }
    }
}

impl AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_raw_fd()
    }
}

/// The queue and its timer, shared by the host's pacer thread (which
/// pushes) and the dispatcher task (which fires).
pub(crate) struct Ahead {
    queue: Mutex<AheadQueue>,
    timer: AsyncFd<TimerFd>,
}

impl Ahead {
    /// Needs the plugin's runtime entered (the timer registers with its reactor).
    pub(crate) fn new() -> io::Result<Arc<Ahead>> {
        let timer = TimerFd::new()?;
        // SAFETY: `TimerFd` owns its fd (an `OwnedFd`), so it stays open and
        // the same for as long as the `AsyncFd` holds it.
        let timer = unsafe { AsyncFd::register_with_interest(timer, Interest::READABLE) }?;
        Ok(Arc::new(Ahead {
            queue: Mutex::new(AheadQueue::default()),
            timer,
        }))
    }

    fn queue(&self) -> MutexGuard<'_, AheadQueue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue a batch (the host's pacer thread). Arms the timer only when
    /// the batch is the front one: otherwise the dispatcher re-arms it for
    /// the next front after each turn.
    pub(crate) fn push(&self, batch: Batch) {
        let mut queue = self.queue();
        if queue.push(batch) {
            self.timer.get_ref().arm(due_at(&batch));
        }
    }

    pub(crate) fn discard(&self) -> u64 {
        self.queue().clear()
    }

    /// Fire each batch when it comes due, for as long as the runtime runs:
    /// `fire` starts the ops, `told` tells the host what became of them.
    pub(crate) async fn dispatch(
        self: Arc<Self>,
        fire: impl Fn(Batch) -> Result<FireAck, String>,
        told: impl Fn(Fired),
    ) {
        let mut woken = Vec::new();
        loop {
            let Ok(mut ready) = self.timer.readable().await else {
                return;
            };
            self.timer.get_ref().clear();
            ready.clear_ready();
            let now = crate::clock::now();
            let turns = {
                let mut queue = self.queue();
                let turns = queue.take_due(now.0);
                if let Some(next) = queue.next_due() {
                    self.timer.get_ref().arm(next);
                }
                turns
            };
            for turn in turns {
                told(fire_turn(turn, &fire));
            }
            // Ops parked on quiet sockets read their answers now, after
            // this wake-up's sends went out on time.
            super::quiet::wake_parked(now, &mut woken);
        }
    }
}

fn fire_turn(turn: Turn, fire: &impl Fn(Batch) -> Result<FireAck, String>) -> Fired {
    let mut fired = Fired {
        first_op: turn.first_op,
        skipped: turn.skipped,
        ..Fired::default()
    };
    if let Some(batch) = turn.fire {
        match fire(batch) {
            Ok(ack) => {
                fired.accepted = ack.accepted;
                fired.saturated = ack.saturated;
            }
            Err(_) => fired.failed = batch.count,
        }
    }
    fired
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::MonoNanos;

    const MS: u64 = 1_000_000;

    fn batch(first_op: u64, first_ms: u64, interval_ms: u64, count: u32) -> Batch {
        Batch {
            first_op,
            first_intended: MonoNanos(first_ms * MS),
            interval_ns: interval_ms * MS,
            count,
        }
    }

    #[test]
    fn a_batch_comes_due_with_its_last_op() {
        let mut q = AheadQueue::default();
        assert!(q.push(batch(0, 100, 1, 3)), "the first batch is the front");
        assert!(!q.push(batch(3, 103, 1, 1)), "a second one waits behind it");
        assert_eq!(q.next_due(), Some(102 * MS));
        assert_eq!(
            q.take_due(101 * MS),
            vec![],
            "not yet: its last op is at 102"
        );
        let turns = q.take_due(102 * MS);
        assert_eq!(turns.len(), 1);
        assert_eq!(turns[0].fire, Some(batch(0, 100, 1, 3)));
        assert_eq!(q.next_due(), Some(103 * MS));
    }

    #[test]
    fn ops_past_the_late_limit_are_skipped_and_the_rest_fired() {
        // (name, batch, now ms, skipped, fired (first_op, count))
        let table: &[(&str, Batch, u64, u32, Option<(u64, u32)>)] = &[
            ("on time", batch(0, 100, 1, 4), 103, 0, Some((0, 4))),
            ("8 ms late: kept", batch(0, 100, 1, 1), 108, 0, Some((0, 1))),
            ("9 ms late: skipped", batch(0, 100, 1, 1), 109, 1, None),
            (
                "the oldest two of four past the limit",
                batch(10, 100, 1, 4),
                110,
                2,
                Some((12, 2)),
            ),
            (
                "all of them far too late",
                batch(0, 100, 1, 4),
                500,
                4,
                None,
            ),
        ];
        for (name, b, now_ms, skipped, fired) in table {
            let mut q = AheadQueue::default();
            q.push(*b);
            let turns = q.take_due(now_ms * MS);
            assert_eq!(turns.len(), 1, "{name}");
            assert_eq!(turns[0].first_op, b.first_op, "{name}");
            assert_eq!(turns[0].skipped, *skipped, "{name}");
            assert_eq!(
                turns[0].fire.map(|f| (f.first_op, f.count)),
                *fired,
                "{name}"
            );
            if let Some(f) = turns[0].fire {
                assert_eq!(f.first_intended, b.intended(*skipped), "{name}");
            }
        }
    }

    #[test]
    fn discarding_empties_the_queue_and_counts_the_ops() {
        let mut q = AheadQueue::default();
        q.push(batch(0, 100, 1, 3));
        q.push(batch(3, 103, 1, 2));
        assert_eq!(q.clear(), 5);
        assert_eq!(q.next_due(), None);
        assert!(
            q.push(batch(0, 200, 1, 1)),
            "after a discard the next push arms"
        );
    }

    #[test]
    fn a_failed_fire_counts_its_ops_failed() {
        let turn = Turn {
            first_op: 5,
            skipped: 1,
            fire: Some(batch(6, 100, 1, 2)),
        };
        let failed = fire_turn(turn, &|_| Err("panicked".into()));
        assert_eq!(
            failed,
            Fired {
                first_op: 5,
                skipped: 1,
                failed: 2,
                ..Fired::default()
            }
        );
        let saturated = fire_turn(turn, &|b| {
            Ok(FireAck {
                accepted: b.count - 1,
                saturated: 1,
            })
        });
        assert_eq!((saturated.accepted, saturated.saturated), (1, 1));
    }

    #[tokio::test]
    async fn the_dispatcher_fires_each_batch_at_its_time() {
        let ahead = Ahead::new().unwrap();
        let fired = Arc::new(Mutex::new(Vec::new()));
        let told = Arc::new(Mutex::new(Vec::new()));
        let (f, t) = (Arc::clone(&fired), Arc::clone(&told));
        let task = tokio::spawn(Arc::clone(&ahead).dispatch(
            move |b: Batch| {
                f.lock().unwrap().push((b, crate::clock::now().0));
                Ok(FireAck::all_accepted(b.count))
            },
            move |fired: Fired| t.lock().unwrap().push(fired),
        ));
        let start = crate::clock::now().0 + 20 * MS;
        let at = |ms: u64| MonoNanos(start + ms * MS);
        for (i, ms) in [0u64, 5, 10].into_iter().enumerate() {
            ahead.push(Batch {
                first_op: i as u64,
                first_intended: at(ms),
                interval_ns: 0,
                count: 1,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        task.abort();
        let fired = fired.lock().unwrap();
        assert_eq!(fired.len(), 3, "{fired:?}");
        for (batch, when) in fired.iter() {
            let lateness = when - batch.first_intended.0;
            assert!(
                *when >= batch.first_intended.0,
                "fired before its time: {batch:?}"
            );
            // Generous: a busy 2-core box; the point is "at its time, not
            // at the next millisecond tick or the end".
            assert!(lateness < 8 * MS, "{lateness} ns late: {batch:?}");
        }
        let told = told.lock().unwrap();
        let ops: Vec<_> = told.iter().map(|f| (f.first_op, f.accepted)).collect();
        assert_eq!(ops, vec![(0, 1), (1, 1), (2, 1)]);
    }
}
