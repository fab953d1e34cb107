//! The pacer's plain data: a step's times, its hold-window tallies, and the
//! batch window a run's SLOs allow. The pacer actor and its schedule are in
//! the runtime crate.

use std::time::Duration;

/// Nanoseconds in a second: every time here is a count of `CLOCK_MONOTONIC` ns.
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// Shortest time between two wake-ups at rates up to the pacer's `WINDOW_RATE`: below
/// 20k ops/s every op gets its own wake-up, above it ops are released in
/// batches at most this late, so the wake-ups stay at 20k/s.
pub const MIN_WINDOW: Duration = Duration::from_micros(50);

/// The times of one step, all in `CLOCK_MONOTONIC` ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepTimes {
    pub rps: u64,
    /// When op 0 is due (warmup begins).
    pub start: u64,
    /// Ops due from here on are measured.
    pub hold_start: u64,
    /// No op is due at or after this (hold end).
    pub stop: u64,
}

/// The pacer's hold-window tallies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PacerCounts {
    /// Hold ops the plugin started (including those whose `fire` call failed).
    pub accepted: u64,
    pub saturated: u64,
    pub emit_underrun: u64,
    /// Hold ops whose `fire` call returned an error (they count as failed).
    pub fire_errors: u64,
}

impl PacerCounts {
    /// The tallies of several pacers (a distributed run's agents) as one.
    pub fn add(&mut self, other: &PacerCounts) {
        self.accepted += other.accepted;
        self.saturated += other.saturated;
        self.emit_underrun += other.emit_underrun;
        self.fire_errors += other.fire_errors;
    }
}

/// The longest batch window an SLO may ask for, and the share of the tightest
/// latency SLO it may take: ops released up to 1/1000 of the SLO late cost the
/// measurement nothing it could notice, and every wake-up saved is ≈10 µs of
/// CPU on a VM (a wake-up is the pacer's, then the plugin runtime's).
pub const MAX_SLO_WINDOW: Duration = Duration::from_millis(1);
pub const SLO_WINDOW_SHARE: u32 = 1_000;

/// The batch window a run's latency SLOs allow: the tightest of them / 1000,
/// within [`MIN_WINDOW`]..=[`MAX_SLO_WINDOW`] (default SLOs p95 100 ms, p99
/// 250 ms: 100 µs).
pub fn slo_window(slo_p95: Duration, slo_p99: Duration) -> Duration {
    (slo_p95.min(slo_p99) / SLO_WINDOW_SHARE).clamp(MIN_WINDOW, MAX_SLO_WINDOW)
}
