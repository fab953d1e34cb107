//! [`Workload`]: a running plugin workload behind a safe Rust API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RSlice, RStr};
use loadgen_core::pacer::PacerCounts;
use loadgen_plugin_api::abi::HostConfig;
use loadgen_plugin_api::abi::{
    Batch, Counter, FireAck, Fired, Gauge, MonoNanos, PendingTarget, Sample, SampleSink,
    SampleSink_TO, WorkloadBox,
};

use super::loader::{LoadError, LoadedPlugin};
use super::series::declared_series;
use super::DeclaredSeries;
use super::PluginDescription;

/// A workload instance. `Send + Sync`: the pacer fires into it while the
/// pollers read its counters and gauges.
pub struct Workload {
    inner: WorkloadBox,
    pub description: PluginDescription,
    /// The series it declared once started: the run's series.
    pub series: Vec<DeclaredSeries>,
    /// Whether it takes batches ahead of their time (asked once).
    fires_ahead: bool,
    /// What became of the batches handed ahead.
    tally: Arc<AheadTally>,
}

/// The hold ops of the batches handed ahead, as the plugin reports them
/// fired ([`Fired`]): the pacer's tallies for ops it did not fire itself.
#[derive(Debug)]
pub struct AheadTally {
    /// Ops numbered from here on are the step's hold ops (`u64::MAX`: none).
    hold_first: AtomicU64,
    accepted: AtomicU64,
    saturated: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
}

impl Default for AheadTally {
    /// No step yet: nothing counts until [`AheadTally::restart`].
    fn default() -> AheadTally {
        AheadTally {
            hold_first: AtomicU64::new(u64::MAX),
            accepted: AtomicU64::new(0),
            saturated: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }
}

impl AheadTally {
    /// A new step: nothing counted, hold ops from `hold_first` on.
    pub fn restart(&self, hold_first: u64) {
        for count in [&self.accepted, &self.saturated, &self.skipped, &self.failed] {
            count.store(0, Ordering::Relaxed);
        }
        self.hold_first.store(hold_first, Ordering::Relaxed);
    }

    fn add(&self, fired: Fired) {
        if fired.first_op < self.hold_first.load(Ordering::Relaxed) {
            return;
        }
        // A failed fire's ops were attempted (and fail): accepted, as when
        // the pacer's own `fire` call fails.
        let accepted = fired.accepted as u64 + fired.failed as u64;
        self.accepted.fetch_add(accepted, Ordering::Relaxed);
        self.saturated
            .fetch_add(fired.saturated as u64, Ordering::Relaxed);
        self.skipped
            .fetch_add(fired.skipped as u64, Ordering::Relaxed);
        self.failed
            .fetch_add(fired.failed as u64, Ordering::Relaxed);
    }

    /// The hold's tallies so far.
    pub fn counts(&self) -> PacerCounts {
        PacerCounts {
            accepted: self.accepted.load(Ordering::Relaxed),
            saturated: self.saturated.load(Ordering::Relaxed),
            emit_underrun: self.skipped.load(Ordering::Relaxed),
            fire_errors: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// The host's sink, with the batches the plugin reports fired counted on the way.
struct TallyingSink<S> {
    sink: S,
    tally: Arc<AheadTally>,
}

impl<S: SampleSink> SampleSink for TallyingSink<S> {
    fn record(&self, samples: RSlice<'_, Sample>) {
        self.sink.record(samples)
    }

    fn disturbed(&self, at: MonoNanos, reason: RStr<'_>) {
        self.sink.disturbed(at, reason)
    }

    fn fired(&self, fired: Fired) {
        self.tally.add(fired)
    }
}

impl Workload {
    /// Create the plugin's workload; its samples go to `sink`.
    pub fn start(
        plugin: &LoadedPlugin,
        config: &HostConfig,
        sink: impl SampleSink + 'static,
    ) -> Result<Arc<Workload>, LoadError> {
        let json = serde_json::to_string(config).expect("HostConfig serializes");
        let tally = Arc::new(AheadTally::default());
        let sink = TallyingSink {
            sink,
            tally: Arc::clone(&tally),
        };
        let sink = SampleSink_TO::from_value(sink, TD_Opaque);
        let inner = (plugin.module.new_workload())(json.into(), sink)
            .into_result()
            .map_err(|message| LoadError::Start {
                plugin: plugin.description.name.clone(),
                message: message.into_string(),
            })?;
        let start_error = |message: String| LoadError::Start {
            plugin: plugin.description.name.clone(),
            message,
        };
        let declared = string_err(inner.series_at_start().into_result()).map_err(start_error)?;
        let series = declared_series(&declared).map_err(start_error)?;
        Ok(Arc::new(Workload {
            fires_ahead: inner.fires_ahead(),
            inner,
            description: plugin.description.clone(),
            series,
            tally,
        }))
    }

    pub fn fire(&self, batch: Batch) -> Result<FireAck, String> {
        string_err(self.inner.fire(batch).into_result())
    }

    /// Whether [`Workload::fire_ahead`] is how to fire this workload.
    pub fn fires_ahead(&self) -> bool {
        self.fires_ahead
    }

    /// Hand a batch due now or later; the plugin fires it at its time and
    /// reports it into [`Workload::ahead_tally`].
    pub fn fire_ahead(&self, batch: Batch) -> Result<(), String> {
        string_err(self.inner.fire_ahead(batch).into_result())
    }

    /// Drop the batches handed ahead and not yet fired.
    pub fn discard_ahead(&self) -> Result<u64, String> {
        string_err(self.inner.discard_ahead().into_result())
    }

    /// The hold tallies of the batches handed ahead.
    pub fn ahead_tally(&self) -> &AheadTally {
        &self.tally
    }

    pub fn counters(&self) -> Result<Vec<Counter>, String> {
        string_err(self.inner.counters().into_result()).map(|v| v.into_vec())
    }

    pub fn pending_targets(&self) -> Result<Vec<PendingTarget>, String> {
        string_err(self.inner.pending_targets().into_result()).map(|v| v.into_vec())
    }

    pub fn backlog(&self) -> Result<Vec<Gauge>, String> {
        string_err(self.inner.backlog().into_result()).map(|v| v.into_vec())
    }

    /// The series the workload records now, as positions in [`Workload::series`]
    /// (the plugin answers ids; one it did not declare is left out).
    pub fn series_in_use(&self) -> Result<Vec<u16>, String> {
        let ids = string_err(self.inner.series_in_use().into_result())?;
        Ok(self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| ids.contains(&s.id))
            .map(|(position, _)| position as u16)
            .collect())
    }

    /// Blocks while the plugin stops its runtime: call from a blocking thread.
    pub fn shutdown(&self) -> Result<(), String> {
        string_err(self.inner.shutdown().into_result())
    }
}

fn string_err<T>(r: Result<T, abi_stable::std_types::RString>) -> Result<T, String> {
    r.map_err(|e| e.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(first_op: u64, accepted: u32, saturated: u32, skipped: u32, failed: u32) -> Fired {
        Fired {
            first_op,
            accepted,
            saturated,
            skipped,
            failed,
        }
    }

    #[test]
    fn the_tally_counts_hold_batches_only_and_restarts_per_step() {
        let tally = AheadTally::default();
        tally.add(fired(0, 4, 0, 0, 0));
        assert_eq!(tally.counts(), PacerCounts::default(), "before any step");
        tally.restart(100);
        tally.add(fired(90, 10, 0, 0, 0)); // warmup: not counted
        tally.add(fired(100, 7, 2, 1, 0));
        tally.add(fired(110, 0, 0, 0, 3)); // fire failed: attempted and failed
        assert_eq!(
            tally.counts(),
            PacerCounts {
                accepted: 10,
                saturated: 2,
                emit_underrun: 1,
                fire_errors: 3,
            }
        );
        tally.restart(u64::MAX);
        tally.add(fired(5, 1, 0, 0, 0));
        assert_eq!(
            tally.counts(),
            PacerCounts::default(),
            "no step: nothing counts"
        );
    }
}
