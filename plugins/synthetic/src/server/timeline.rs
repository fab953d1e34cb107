//! [`Timeline`]: exact service-time arithmetic for a server of capacity C ops/s.
//!
//! Times are kept in *ticks* of 1/C ns, so one service time (1e9/C ns) is exactly
//! [`SERVICE_TICKS`] ticks and no rounding error accumulates: at C=3000 the
//! 3000th op of a burst ends exactly 1 s after the first one started. Times are
//! rounded (up) to whole ns only when they leave the model.
//!
//! A `u128` holds any CLOCK_MONOTONIC ns value times any `u64` capacity.

/// One op's service time, in ticks of 1/C ns: 1e9/C ns = 1e9 ticks.
pub const SERVICE_TICKS: u128 = 1_000_000_000;

/// When the server works: always, except during its periodic stalls.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// Ticks per ns (numerically the capacity in ops/s).
    per_ns: u128,
    /// Workload start in ticks: stalls are measured from it.
    origin: u128,
    stalls: Option<Stalls>,
}

/// Stall `k` (k ≥ 1) occupies `[origin + k·period, origin + k·period + pause)`.
/// There is no stall at k = 0: "every 10s" means the first stall comes after
/// 10 s of service, not at the start of the run.
#[derive(Clone, Debug)]
struct Stalls {
    period: u128,
    pause: u128,
}

impl Timeline {
    /// `stall_every_ns`/`stall_for_ns` of 0 mean no stalls; otherwise
    /// `stall_for_ns < stall_every_ns` (the options are validated before).
    pub fn new(capacity: u64, origin_ns: u64, stall_every_ns: u64, stall_for_ns: u64) -> Timeline {
        assert!(capacity > 0, "capacity must be > 0");
        let per_ns = capacity as u128;
        let stalls = (stall_every_ns > 0 && stall_for_ns > 0).then(|| {
            assert!(
                stall_for_ns < stall_every_ns,
                "a stall must be shorter than its period"
            );
            Stalls {
                period: stall_every_ns as u128 * per_ns,
                pause: stall_for_ns as u128 * per_ns,
            }
        });
        Timeline {
            per_ns,
            origin: origin_ns as u128 * per_ns,
            stalls,
        }
    }

    /// Whole seconds from the workload's start to `ticks` (0 before it).
    pub fn second(&self, ticks: u128) -> u64 {
        (ticks.saturating_sub(self.origin) / (self.per_ns * 1_000_000_000)) as u64
    }

    pub fn ticks(&self, ns: u64) -> u128 {
        ns as u128 * self.per_ns
    }

    /// The first whole ns at or after `ticks`, so a time leaving the model is
    /// never earlier than the exact one.
    pub fn ns_ceil(&self, ticks: u128) -> u64 {
        ticks.div_ceil(self.per_ns) as u64
    }

    /// When `work` ticks of service that may begin at `start` are done. Service
    /// pauses during a stall and resumes after it (a stall preempts the op in
    /// service rather than waiting for it).
    pub fn finish(&self, start: u128, work: u128) -> u128 {
        let Some(s) = &self.stalls else {
            return start + work;
        };
        // Before the origin k = 0, which has no stall: the arithmetic holds.
        let rel = start.saturating_sub(self.origin);
        let (k, phase) = (rel / s.period, rel % s.period);
        let begin = if k >= 1 && phase < s.pause {
            start + (s.pause - phase)
        } else {
            start
        };
        let next_stall = self.origin + (k + 1) * s.period;
        let room = next_stall - begin;
        if work <= room {
            return begin + work;
        }
        // Skip whole serving windows in one step (a slow server crossing many
        // stalls must not loop per stall), leaving 0 < left <= window.
        let window = s.period - s.pause;
        let mut left = work - room;
        let skipped = (left - 1) / window;
        left -= skipped * window;
        next_stall + skipped * s.period + s.pause + left
    }
}
