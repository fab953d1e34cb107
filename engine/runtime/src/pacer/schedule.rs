//! The pacing arithmetic of one step: intended times, when to wake, what a
//! wake-up releases. Plain functions of the clock (passed in as `now`).

use std::time::Duration;

use loadgen_plugin_api::abi::{Batch, MonoNanos};

pub use loadgen_core::pacer::{
    slo_window, StepTimes, MAX_SLO_WINDOW, MIN_WINDOW, SLO_WINDOW_SHARE,
};

const NS_PER_SEC: u128 = loadgen_core::pacer::NS_PER_SEC as u128;
/// A late wake-up releases at most this much schedule at once; older ops are
/// emit underrun (the load box could not keep up, and releasing them in one
/// burst would hit the service with a load it was never asked to take).
pub const BURST: Duration = Duration::from_millis(8);
/// A workload that fires ahead ([`Schedule::release_ahead`]) is handed the
/// ops due within this much of now, each time the next op not yet handed is
/// less than [`AHEAD_MIN`] away: the pacer wakes about every 25 ms, whatever the rate.
pub const AHEAD_MAX: Duration = Duration::from_millis(50);
pub const AHEAD_MIN: Duration = Duration::from_millis(25);
/// Above this rate the window grows in proportion to the rate (1 ms at 4M ops/s),
/// so wake-ups become rarer as ops become more numerous: the pacer's CPU per op
/// falls, and the p99 added stays a fraction of a millisecond.
pub const WINDOW_RATE: u64 = 200_000;

/// One agent's share of a step in a distributed run: of the step's ops
/// `0, 1, 2, …`, this one sends those with `k ≡ index (mod of)`. Interleaved
/// (rather than a rate split) so the union of the slices is exactly the
/// target schedule, and each agent's ops stay evenly spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Slice {
    pub index: u64,
    pub of: u64,
}

impl Slice {
    /// The whole schedule (a local run).
    pub const WHOLE: Slice = Slice { index: 0, of: 1 };

    /// The step's op number of this slice's `j`-th op.
    pub fn global(&self, j: u64) -> u64 {
        self.index + j * self.of
    }

    /// How many of this slice's ops are among the step's first `k` ops.
    pub fn ops_among(&self, k: u64) -> u64 {
        k.saturating_sub(self.index).div_ceil(self.of)
    }

    /// Which agent of `of` sends the step's op `k`.
    pub fn owner(k: u64, of: u64) -> u64 {
        k % of
    }
}

/// What one wake-up should do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Release {
    /// Batches to fire; none straddles `hold_start`, so each is wholly warmup or hold.
    pub batches: Vec<Batch>,
    /// Ops skipped because they were too late, and how many of them were hold ops.
    pub underrun: u64,
    pub underrun_in_hold: u64,
}

/// The shortest gap between two wake-ups at `rps`: [`MIN_WINDOW`] up to
/// [`WINDOW_RATE`], then `MIN_WINDOW · rps / WINDOW_RATE`.
pub fn batch_window(rps: u64) -> Duration {
    let scaled = MIN_WINDOW.as_nanos() * rps as u128 / WINDOW_RATE as u128;
    Duration::from_nanos(scaled.max(MIN_WINDOW.as_nanos()) as u64)
}

/// The pacing arithmetic for one step.
#[derive(Clone, Debug)]
pub struct Schedule {
    times: StepTimes,
    /// Which ops of the step are ours; op numbers below count our ops only.
    slice: Slice,
    /// The next op not yet released or skipped.
    next: u64,
    /// First op due in the hold.
    hold_first: u64,
    /// First op not due at all (at or after `stop`).
    end: u64,
    /// Most ops one wake-up may release.
    burst: u64,
    /// Shortest gap between wake-ups, ns.
    window: u64,
}

impl Schedule {
    pub fn new(times: StepTimes) -> Schedule {
        Schedule::sliced(times, Slice::WHOLE)
    }

    /// The ops of `slice` only (a distributed run's agent).
    pub fn sliced(times: StepTimes, slice: Slice) -> Schedule {
        assert!(times.rps > 0, "rate must be > 0");
        assert!(
            slice.of > 0 && slice.index < slice.of,
            "bad slice {slice:?}"
        );
        let mut s = Schedule {
            times,
            slice,
            next: 0,
            hold_first: 0,
            end: 0,
            burst: 0,
            window: batch_window((times.rps / slice.of).max(1)).as_nanos() as u64,
        };
        s.hold_first = s.ops_before(times.hold_start);
        s.end = s.ops_before(times.stop);
        let per_burst = times.rps as u128 * BURST.as_nanos();
        s.burst = per_burst.div_ceil(NS_PER_SEC * slice.of as u128).max(1) as u64;
        s
    }

    /// Wake-ups at least `window` apart (when it exceeds the rate's own
    /// [`batch_window`]): see [`slo_window`].
    pub fn min_window(mut self, window: Duration) -> Schedule {
        self.window = self.window.max(window.as_nanos() as u64);
        self
    }

    /// When our op `j` is due (the step's op `slice.global(j)`).
    pub fn intended(&self, j: u64) -> u64 {
        let k = self.slice.global(j);
        self.times.start + (k as u128 * NS_PER_SEC / self.times.rps as u128) as u64
    }

    /// How many of our ops are due strictly before `t`.
    fn ops_before(&self, t: u64) -> u64 {
        let elapsed = t.saturating_sub(self.times.start) as u128;
        let step_ops = (elapsed * self.times.rps as u128).div_ceil(NS_PER_SEC) as u64;
        self.slice.ops_among(step_ops)
    }

    /// Ops due in the hold window.
    pub fn hold_ops(&self) -> u64 {
        self.end - self.hold_first
    }

    pub fn finished(&self) -> bool {
        self.next >= self.end
    }

    /// When to wake next, given the last wake-up's deadline `last_wake` (0 before the
    /// first): when the next op is due, but no sooner than one batch window
    /// after the last wake-up. `None` once every op is released.
    pub fn next_wake(&self, last_wake: u64) -> Option<u64> {
        if self.finished() {
            return None;
        }
        Some(self.intended(self.next).max(last_wake + self.window))
    }

    /// What to release at `now`.
    pub fn release(&mut self, now: u64) -> Release {
        let due = self.ops_before(now + 1).min(self.end);
        let mut out = Release::default();
        if due <= self.next {
            return out;
        }
        self.skip_past_burst(due, &mut out);
        self.release_to(due, &mut out);
        out
    }

    /// For a workload that fires ahead: the batches the wake-ups with
    /// deadlines up to `until` would release, one per wake-up (split at
    /// hold start), for the plugin to fire at their times (each when its
    /// last op is due). `last_wake` is the last of those deadlines, advanced
    /// here. Ops already more than [`BURST`] late at `now` are underrun.
    pub fn release_ahead(&mut self, now: u64, until: u64, last_wake: &mut u64) -> Release {
        let mut out = Release::default();
        let due = self.ops_before(now + 1).min(self.end);
        if due > self.next {
            self.skip_past_burst(due, &mut out);
        }
        while let Some(deadline) = self.next_wake(*last_wake) {
            if deadline > until {
                break;
            }
            // One wake-up's worth: at most a window of ops, never past the burst.
            let due = self.ops_before(deadline + 1).min(self.end);
            self.release_to(due, &mut out);
            *last_wake = deadline;
        }
        out
    }

    /// When the pacer should next hand ops ahead: once the next wake-up not
    /// yet handed is [`AHEAD_MIN`] away.
    pub fn next_hand_ahead(&self, last_wake: u64) -> Option<u64> {
        self.next_wake(last_wake)
            .map(|deadline| deadline.saturating_sub(AHEAD_MIN.as_nanos() as u64))
    }

    /// Skip (as underrun) the ops older than a burst before op `due`.
    fn skip_past_burst(&mut self, due: u64, out: &mut Release) {
        let missed = due - self.next;
        if missed > self.burst {
            let skip_to = due - self.burst;
            out.underrun += skip_to - self.next;
            out.underrun_in_hold += skip_to - self.next.max(self.hold_first).min(skip_to);
            self.next = skip_to;
        }
    }

    /// Release the ops up to (not including) `due`, split at hold start.
    fn release_to(&mut self, due: u64, out: &mut Release) {
        if due <= self.next {
            return;
        }
        if self.next < self.hold_first && due > self.hold_first {
            self.push_batches(&mut out.batches, self.next, self.hold_first);
            self.push_batches(&mut out.batches, self.hold_first, due);
        } else {
            self.push_batches(&mut out.batches, self.next, due);
        }
        self.next = due;
    }

    /// The first of our ops due in the hold.
    pub fn hold_first(&self) -> u64 {
        self.hold_first
    }

    pub fn is_hold_batch(&self, batch: &Batch) -> bool {
        batch.first_op >= self.hold_first
    }

    /// Ops `from..to` as batches; a batch counts at most `u32::MAX` ops (the
    /// ABI's width), so a longer run is split, never truncated.
    fn push_batches(&self, out: &mut Vec<Batch>, from: u64, to: u64) {
        let mut first = from;
        while first < to {
            let count = u32::try_from(to - first).unwrap_or(u32::MAX);
            out.push(Batch {
                first_op: first,
                first_intended: MonoNanos(self.intended(first)),
                interval_ns: (NS_PER_SEC * self.slice.of as u128 / self.times.rps as u128) as u64,
                count,
            });
            first += count as u64;
        }
    }
}
