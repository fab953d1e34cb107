//! The loadgen actor runtime: the actors that measure a run, and a local run.
//!
//! # Layout
//! One actor per module, its messages beside it as an enum:
//! - [`ramp`]: `RampController`, executes the step lifecycle its pure
//!   `StepMachine` (`loadgen_core::ramp::machine`) decides: warmup, hold,
//!   drain, verdict, cooldown, settle; the machine's search picks the rates.
//! - [`pacer`]: `Pacer`, the target rate as batches of ops with intended times;
//!   the arithmetic in the plain `Schedule`.
//! - [`collector`]: `Collector`, latency histograms per series from samples.
//! - [`pending`]: `PendingPoller`, reads the backlogs (durables, plugin gauges)
//!   as `loadgen_core::backlog::Backlogs`, and their change over the hold.
//! - [`counters`]: `CounterScraper`, plugin counter deltas over the hold.
//! - [`reporter`]: `Reporter`, live progress (and `LiveEvent`s for a live
//!   view) and the final outputs.
//! - [`supervisor`]: `Supervisor`, restarts a failed measuring actor and
//!   announces it on an `OutputPort`.
//! - [`metrics`]: `Metrics`, the live Prometheus endpoint (`--metrics-addr`).
//!
//! And:
//! - [`run`]: one whole run, wiring the above together; where the load comes
//!   from is a [`run::Generator`] (this process's workload, or a fleet of
//!   agents the distributed crate implements it for).
//! - [`sink`]: `HostSink`, the plugin's samples into the collector.
//! - [`clock`]: the `Clock` the ramp reads (monotonic, or tokio's in tests).

pub mod clock;
pub mod collector;
pub mod counters;
mod http;
pub mod metrics;
pub mod pacer;
pub mod pending;
pub mod ramp;
pub mod reporter;
pub mod run;
pub mod sink;
pub mod supervisor;

pub use run::{run, RunError, RunSpec};

// The core's modules, and the plugin host, under the names the actors use.
use loadgen_core::{config, disturbance, gates, journal, search, verdict};
use loadgen_plugin_host as plugin;

/// The report model and its renderers, as one module.
pub mod report {
    pub use loadgen_core::report::*;
    pub use loadgen_report::{console, csv, html, json, outputs};
}
