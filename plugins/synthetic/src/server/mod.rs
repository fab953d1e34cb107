//! [`Server`]: the model itself — one FIFO server with exact capacity, plain
//! arithmetic on ns timestamps the caller passes in (no clock reads), so every
//! number it produces can be asserted exactly.
//!
//! An op arrives when fired, starts service at `max(server free, arrival)`,
//! holds the server for 1/C (longer if a stall interrupts it), and is done
//! `base_latency` after its service ends. Everything about an op — its done
//! time and its outcome — is decided when it arrives; the caller only has to
//! deliver the sample at `sample.done`.
//!
//! With a [`Mix`](crate::mix::Mix), each admitted op is dealt a request kind
//! (its series) and holds the server for that kind's cost in service times.

mod rng;
pub(crate) mod timeline;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use loadgen_plugin_api::sdk::{MonoNanos, Op, Reason, Sample, Series};

use crate::config::Config;
use rng::SplitMix64;
use timeline::{Timeline, SERVICE_TICKS};

/// The one latency series.
pub const SERIES_OP: Series = Series::new(0, "op");
/// The one error reason.
pub const REASON_SYNTHETIC: Reason = Reason::new(0, "synthetic");

/// Running totals since the workload started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Ops admitted (each produces one sample).
    pub attempted: u64,
    /// Admitted ops answered with an error.
    pub errors: u64,
    /// Admitted ops recorded as Lost (answered after the loss deadline).
    pub lost: u64,
    /// Ops refused because `max_in_flight` ops were in the system.
    pub saturated: u64,
}

pub struct Server {
    config: Config,
    timeline: Timeline,
    /// When the service of the last admitted op ends, in ticks: FIFO means the
    /// next arrival cannot start before it.
    free_at: u128,
    /// Done times (ns) of the ops in the system, oldest first. FIFO service plus
    /// a constant base latency keep it sorted, so ops leave from the front.
    /// An op counts until its real done time even if it was recorded Lost
    /// earlier: giving up on a reply does not take work off the server.
    in_system: VecDeque<u64>,
    /// Decides which ops fail; drawn once per admitted op.
    rng: SplitMix64,
    /// Decides each second's capacity (with `capacity_jitter`).
    jitter_seed: u64,
    counts: Counts,
    /// The mix's kinds in dealing order (empty: every op is [`SERIES_OP`]).
    dealing: Vec<u16>,
    /// Each kind's service time in ticks, by series id.
    kind_ticks: Vec<u128>,
}

impl Server {
    /// `origin_ns` is the workload's start, from which stalls are measured.
    pub fn new(config: Config, seed: u64, origin_ns: u64) -> Server {
        let timeline = Timeline::new(
            config.capacity,
            origin_ns,
            config.stall_every_ns,
            config.stall_for_ns,
        );
        let (dealing, kind_ticks) = (config.mix.dealing_order(), config.mix.service_ticks());
        Server {
            config,
            dealing,
            kind_ticks,
            timeline,
            free_at: 0,
            in_system: VecDeque::new(),
            rng: SplitMix64::new(seed),
            jitter_seed: seed ^ 0x6A09_E667_F3BC_C908,
            counts: Counts::default(),
        }
    }

    /// Ticks of service for an op starting at `start`: one service time at
    /// this second's capacity, `capacity × (1 + j)` with `j` drawn uniformly
    /// from ±`capacity_jitter` by the second's index and the seed alone.
    fn service_ticks(&self, start: u128, unit: u128) -> u128 {
        let jitter = self.config.capacity_jitter;
        if jitter == 0.0 {
            return unit;
        }
        let mut rng = SplitMix64::new(self.jitter_seed ^ self.timeline.second(start));
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let factor = 1.0 + jitter * (2.0 * u - 1.0);
        (unit as f64 / factor).round() as u128
    }

    /// The series of the next admitted op and its service time at full
    /// capacity: the mix's next kind in dealing order, or the one `op` series.
    fn next_kind(&self) -> (Series, u128) {
        if self.dealing.is_empty() {
            return (SERIES_OP, SERVICE_TICKS);
        }
        let slot = (self.counts.attempted % self.dealing.len() as u64) as usize;
        let kind = self.dealing[slot];
        (Series::new(kind, ""), self.kind_ticks[kind as usize])
    }

    /// An op due at `intended_ns` arrives at `now_ns`. Returns its sample, to be
    /// delivered at `sample.done`, or `None` when it is refused (saturation).
    ///
    /// Calls must come with non-decreasing `now_ns`; then the samples' `done`
    /// times are non-decreasing too as long as `intended_ns` is.
    pub fn arrive(&mut self, intended_ns: u64, now_ns: u64) -> Option<Sample> {
        let in_system = self.in_system(now_ns) as u64;
        if self.config.max_in_flight > 0 && in_system >= self.config.max_in_flight {
            self.counts.saturated += 1;
            return None;
        }
        let (series, unit) = self.next_kind();
        let start = self.free_at.max(self.timeline.ticks(now_ns));
        self.free_at = self.timeline.finish(start, self.service_ticks(start, unit));
        let done = self.timeline.ns_ceil(self.free_at) + self.config.base_latency_ns;
        self.in_system.push_back(done);
        self.counts.attempted += 1;
        // Drawn for every admitted op, lost or not, so which ops fail depends
        // only on the seed and the order of admission.
        let failed = self.rng.chance(self.config.error_rate);

        let intended = MonoNanos(intended_ns);
        let sent = Op { index: 0, intended }.sent_at(MonoNanos(now_ns));
        let loss = self.config.loss_timeout_ns;
        let sample = if loss > 0 && done.saturating_sub(intended_ns) > loss {
            self.counts.lost += 1;
            sent.lost(series, intended.add_ns(loss))
        } else if failed {
            self.counts.errors += 1;
            sent.error(series, REASON_SYNTHETIC, MonoNanos(done))
        } else {
            sent.ok(series, MonoNanos(done))
        };
        Some(sample)
    }

    /// Ops in the system (arrived, not yet done) at `now_ns`.
    pub fn in_system(&mut self, now_ns: u64) -> usize {
        while self.in_system.front().is_some_and(|&done| done <= now_ns) {
            self.in_system.pop_front();
        }
        self.in_system.len()
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }
}
