//! The FFI-stable interface between loadgen and a workload plugin.
//!
//! Everything here is `#[repr(C)]` and derives `StableAbi`, so `abi_stable`
//! compares the layouts of host and plugin when a library is loaded and refuses
//! a mismatch with an error instead of undefined behaviour.
//!
//! # Extending the interface
//! - [`PluginMod`] and the `#[sabi_trait]`s are prefix types: new fields/methods
//!   may only be *appended* after the one marked `#[sabi(last_prefix_field)]`,
//!   and the host must treat them as optional (an older plugin lacks them).
//!   Never move that attribute; never reorder, rename or remove anything.
//! - [`SampleSink`] is implemented by the host: a method appended to it must have
//!   a default body, or an old host that lacks it aborts the process when a new
//!   plugin calls it.
//! - Plain structs and enums here can never change; add a new type instead.

// abi_stable 0.11's `#[sabi_trait]` expands to impls inside a const block.
#![allow(non_local_definitions)]

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, RErr, ROption, RResult, RSlice, RStr, RString, RVec},
    StableAbi,
};

/// A point in time in raw `CLOCK_MONOTONIC` nanoseconds (see [`crate::clock`]).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonoNanos(pub u64);

impl MonoNanos {
    /// Nanoseconds from `earlier` to `self`, or 0 if `earlier` is later.
    pub fn since(self, earlier: MonoNanos) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    pub fn add_ns(self, ns: u64) -> MonoNanos {
        MonoNanos(self.0 + ns)
    }
}

/// How one op ended, for one latency series.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Answered correctly; the latency counts toward the series' percentiles.
    Ok = 0,
    /// Answered with an error; `Sample::reason` indexes `PluginInfo::error_reasons`.
    Error = 1,
    /// The plugin gave up waiting (its own request timeout).
    Timeout = 2,
    /// Still unanswered when the loss deadline (the engine's drain) passed.
    Lost = 3,
}

/// One measured op on one latency series.
///
/// Latency is `done - intended` (coordinated-omission corrected: a late send
/// still counts from when it should have gone); service time is `done - sent`.
///
/// The engine counts ops from samples, by intended time: record one `Ok`
/// sample per series an answered op produces, and **one** `Error`, `Timeout`
/// or `Lost` sample for an op that failed or was lost (on the series where it
/// failed), never one per series.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Index into `PluginInfo::series`.
    pub series: u16,
    pub outcome: Outcome,
    /// For `Outcome::Error`: index into `PluginInfo::error_reasons`; else 0.
    pub reason: u16,
    pub intended: MonoNanos,
    pub sent: MonoNanos,
    pub done: MonoNanos,
}

/// A run of `count` ops the pacer releases at once. Op `i` (0-based) is op
/// number `first_op + i` of the step and was due at `first_intended + i·interval_ns`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    pub first_op: u64,
    pub first_intended: MonoNanos,
    pub interval_ns: u64,
    pub count: u32,
}

/// One op of a [`Batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The op's number within its step; unique and increasing.
    pub index: u64,
    /// When the op was due (the schedule, not the wake-up that released it).
    pub intended: MonoNanos,
}

impl Batch {
    pub fn intended(&self, i: u32) -> MonoNanos {
        self.first_intended.add_ns(i as u64 * self.interval_ns)
    }

    pub fn ops(&self) -> impl Iterator<Item = Op> + '_ {
        (0..self.count).map(|i| Op {
            index: self.first_op + i as u64,
            intended: self.intended(i),
        })
    }
}

/// What `fire` did with a batch: `accepted + saturated == batch.count`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FireAck {
    /// Ops started (each will produce its samples).
    pub accepted: u32,
    /// Ops refused because the plugin's in-flight bound was full.
    pub saturated: u32,
}

impl FireAck {
    pub fn all_accepted(count: u32) -> FireAck {
        FireAck {
            accepted: count,
            saturated: 0,
        }
    }
}

/// What a plugin did with one batch handed to [`Workload::fire_ahead`], told
/// to the host through [`SampleSink::fired`] once the batch's time came:
/// `skipped + accepted + saturated + failed` is the batch's `count`. Ops of
/// one report all belong to one batch the host handed, so to one phase.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fired {
    /// The batch's `first_op`.
    pub first_op: u64,
    /// Ops started (each will produce its samples).
    pub accepted: u32,
    /// Ops refused because the plugin's in-flight bound was full.
    pub saturated: u32,
    /// Ops not fired because their time was more than [`AHEAD_LATE_LIMIT_NS`]
    /// past when the plugin's runtime got to them (the load box could not
    /// keep schedule: the pacer's *emit underrun*).
    pub skipped: u32,
    /// Ops whose `fire` failed (panicked): attempted, and failed.
    pub failed: u32,
}

/// An op handed ahead is skipped (not fired) when the plugin's runtime gets
/// to it more than this after its intended time: releasing a backlog of late
/// ops in one burst would hit the service with a load it was never asked to
/// take. The host's pacer applies the same bound to the ops it fires itself.
pub const AHEAD_LATE_LIMIT_NS: u64 = 8_000_000;

/// A monotonically increasing count the plugin keeps (published, errors by
/// reason…). Counters are **informational**: the engine shows their hold-window
/// deltas in the step report and `--slo-counter` gates may bound them, but they
/// never feed the step's attempted, failed or lost ops. Those come from the
/// pacer's count and from the samples, so a failure counted here and recorded
/// as an `Error` sample is counted once.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    pub name: RString,
    pub value: u64,
}

/// A counter as `plugins info` lists it, before any workload exists.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct CounterSpec {
    pub name: RString,
    pub help: RString,
}

/// A queue depth the plugin measures itself (an internal queue, another broker's lag).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct Gauge {
    pub name: RString,
    pub value: i64,
}

/// A JetStream durable whose `num_pending` the engine polls.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PendingTarget {
    pub stream: RString,
    pub durable: RString,
}

/// One `-o KEY=VALUE` option a plugin accepts.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct OptionSpec {
    pub name: RString,
    pub default: RString,
    pub help: RString,
}

/// What a plugin says about itself before any workload exists.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: RString,
    pub version: RString,
    pub description: RString,
    /// Latency series, in `Sample::series` order (e.g. `E1`, `E2`).
    pub series: RVec<RString>,
    /// Error reasons, in `Sample::reason` order.
    pub error_reasons: RVec<RString>,
    pub options: RVec<OptionSpec>,
    /// The ramp used when the user gives no `--steps` (e.g. `500,1k,2k,5k,10k`).
    pub default_steps: RString,
    /// JetStream durables the workload may watch (which ones depends on options).
    pub durables: RVec<PendingTarget>,
    /// The counters `Workload::counters` reports, with what each counts.
    pub counters: RVec<CounterSpec>,
}

/// A latency series a workload measures, as it declares it once started:
/// which series exist may depend on its options (a scenario file's requests
/// are series named after them), so `PluginInfo::series` alone cannot say.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct SeriesDecl {
    /// What this series' samples carry in `Sample::series`; unique.
    pub id: u16,
    /// Shown in every output (table, CSV column, JSON, chart, TRIP reason); unique.
    pub name: RString,
    /// The series' own p95 SLO in nanoseconds, if it has one (else the run's
    /// `--slo-p95`). The user's `--slo-series` overrides it.
    pub slo_p95_ns: ROption<u64>,
    /// The series' own p99 SLO in nanoseconds, as `slo_p95_ns`.
    pub slo_p99_ns: ROption<u64>,
}

/// A running workload (one per run), implemented by the plugin.
///
/// Every method returns at once except `shutdown`, which stops the plugin's
/// runtime; the host calls it from a blocking thread.
#[sabi_trait]
pub trait Workload: Send + Sync {
    /// Start the batch's ops without waiting for them. Samples arrive later
    /// through the [`SampleSink`] given to `new_workload`.
    fn fire(&self, batch: Batch) -> RResult<FireAck, RString>;

    fn counters(&self) -> RResult<RVec<Counter>, RString>;

    /// The JetStream durables this workload's traffic feeds.
    fn pending_targets(&self) -> RResult<RVec<PendingTarget>, RString>;

    /// Queue depths the plugin measures itself. They feed the pending-growth
    /// gate (end − start of the hold) and the settle wait between steps, like
    /// JetStream durables: a workload with a queue of its own should report it.
    fn backlog(&self) -> RResult<RVec<Gauge>, RString>;

    /// Indices of the series this workload produces with its options (e.g. no
    /// `E1` in canonical mode). Each must get samples whenever ops are attempted.
    fn series_in_use(&self) -> RResult<RVec<u16>, RString>;

    /// Stop the workload and its runtime; blocks until done.
    #[sabi(last_prefix_field)]
    fn shutdown(&self) -> RResult<(), RString>;

    /// The series this workload measures, asked once, right after
    /// `new_workload`: the run's series are these (ids, names, own SLOs),
    /// not `PluginInfo::series`. `series_in_use` answers their ids.
    ///
    /// Since plugin-api 0.4. Appended after the last prefix field with a
    /// default body, so the vtable field is optional: a plugin without it
    /// (none loads today: the host refuses an older plugin-api) answers an error.
    fn series_at_start(&self) -> RResult<RVec<SeriesDecl>, RString> {
        RErr("this plugin declares no series at start (built against plugin-api < 0.4)".into())
    }

    /// Whether this workload takes batches ahead of their time
    /// ([`Workload::fire_ahead`]). Asked once, when the workload starts.
    ///
    /// Since plugin-api 0.6, with a default body (an older plugin: `false`,
    /// and the host fires each batch at its time with [`Workload::fire`]).
    fn fires_ahead(&self) -> bool {
        false
    }

    /// Take a batch whose ops are due now or later, and fire each op at its
    /// intended time on the plugin's own runtime: the op costs one wake-up
    /// (the runtime's), not two (a host thread's, then the runtime's). A batch
    /// is fired when its **last** op is due; the host hands batches in order,
    /// grouped as its pacer would release them. What became of each batch is
    /// told later through [`SampleSink::fired`]. Returns at once.
    ///
    /// Since plugin-api 0.6; default: an error (the host asks
    /// [`Workload::fires_ahead`] first).
    fn fire_ahead(&self, batch: Batch) -> RResult<(), RString> {
        let _ = batch;
        RErr("this plugin does not take batches ahead (built against plugin-api < 0.6)".into())
    }

    /// Drop every batch handed ahead and not yet fired (the step was halted,
    /// or a new one begins). Returns how many ops were dropped.
    ///
    /// Since plugin-api 0.6, with a default body (nothing is ever ahead).
    fn discard_ahead(&self) -> RResult<u64, RString> {
        abi_stable::std_types::ROk(0)
    }
}

/// Where a plugin delivers samples, implemented by the host. `Send + Sync`: it
/// is called from the plugin's threads, in batches.
#[sabi_trait]
pub trait SampleSink: Send + Sync {
    #[sabi(last_prefix_field)]
    fn record(&self, samples: RSlice<'_, Sample>);

    /// The measurement environment was disturbed at `at` — the client lost its
    /// connection, reconnected, … — for the reason given (`connection lost:
    /// …`). A step during which this happens (warmup to drain end) is
    /// INCONCLUSIVE with that reason and re-run: its figures say nothing
    /// about the service. Rare and cheap: call it once per event.
    ///
    /// Since plugin-api 0.3. Appended after the last prefix field, with a
    /// default body: a host without it (none can load a 0.3 plugin today, but
    /// the rule keeps future hosts safe) ignores the call instead of aborting.
    fn disturbed(&self, at: MonoNanos, reason: RStr<'_>) {
        let _ = (at, reason);
    }

    /// A batch handed to [`Workload::fire_ahead`] came due and was fired (or
    /// skipped, or refused): the host's tally of attempted ops. Once per batch.
    ///
    /// Since plugin-api 0.6, with a default body, as `disturbed`.
    fn fired(&self, fired: Fired) {
        let _ = fired;
    }
}

/// The host-implemented sink as it crosses the boundary.
pub type SinkBox = SampleSink_TO<'static, RBox<()>>;
/// The plugin-implemented workload as it crosses the boundary.
pub type WorkloadBox = Workload_TO<'static, RBox<()>>;

/// The root module every plugin library exports (via `export_plugin!`).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    pub describe: extern "C" fn() -> RResult<PluginInfo, RString>,

    /// `config_json` is a [`HostConfig`] as JSON.
    ///
    /// To extend the module, append fields *after* this one; the host must then
    /// read them as optional, because older plugins do not have them.
    #[sabi(last_prefix_field)]
    pub new_workload:
        extern "C" fn(config_json: RString, sink: SinkBox) -> RResult<WorkloadBox, RString>,

    /// The names of the options that are credentials (`sdk::Secret`): the
    /// host shows their values as `***`. A plugin built before this field
    /// has none to declare; the host still hides credential-shaped values.
    #[sabi(missing_field(option))]
    pub secret_options: extern "C" fn() -> RVec<RString>,

    /// Where a workload with this [`HostConfig`] (JSON) would send its
    /// traffic, asked before it starts: `host:port` of each service, e.g. the
    /// http plugin's URL, the nats plugin's server. `RNone`: the plugin
    /// cannot say (an agent with `--allow-target` then refuses it);
    /// an empty list: it sends nowhere (synthetic).
    ///
    /// Optional (appended after the last prefix field): a plugin built
    /// without it reads as `None` on the host, i.e. "cannot say".
    #[sabi(missing_field(option))]
    pub targets: extern "C" fn(config_json: RString) -> RResult<ROption<RVec<RString>>, RString>,
}

/// What the host passes to `new_workload`, as JSON (so it may grow without
/// an ABI change: a field unknown to an older plugin is ignored).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostConfig {
    /// `-o KEY=VALUE` as the user gave them (defaults are filled plugin-side).
    pub options: std::collections::BTreeMap<String, String>,
    pub seed: u64,
    /// Ops unanswered this long after their intended time are Lost (the
    /// engine's drain). 0 means "no deadline from the host"; the SDK then
    /// uses [`crate::sdk::DEFAULT_LOSS_TIMEOUT`].
    pub loss_timeout_ms: u64,
}

/// The plugin-api version this side was built with. The host refuses a plugin
/// whose `0.MINOR` is older than its own (abi_stable's version check); a newer
/// one loads only if every type it shares with the host still has the layout
/// the host expects.
pub const INTERFACE_VERSION: &str = env!("CARGO_PKG_VERSION");

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "loadgen_plugin";
    const NAME: &'static str = "loadgen_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ops_carry_scheduled_times() {
        let b = Batch {
            first_op: 10,
            first_intended: MonoNanos(1_000),
            interval_ns: 250,
            count: 3,
        };
        let ops: Vec<_> = b.ops().collect();
        assert_eq!(
            ops,
            vec![
                Op {
                    index: 10,
                    intended: MonoNanos(1_000)
                },
                Op {
                    index: 11,
                    intended: MonoNanos(1_250)
                },
                Op {
                    index: 12,
                    intended: MonoNanos(1_500)
                },
            ]
        );
    }
}
