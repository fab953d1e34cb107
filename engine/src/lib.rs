//! The loadgen engine: finds the highest rate a service sustains under its SLO.
//!
//! # Layout
//! One actor per module, its messages beside it as an enum:
//! - [`ramp`]: `RampController`, executes the step lifecycle its pure
//!   `StepMachine` (`ramp::machine`) decides: warmup, hold, drain, verdict,
//!   cooldown, settle; the machine's search picks the rates.
//! - [`pacer`]: `Pacer`, the target rate as batches of ops with intended times;
//!   the arithmetic in the plain `Schedule`.
//! - [`collector`]: `Collector`, latency histograms per series from samples.
//! - [`pending`]: `PendingPoller`, backlog (durables, plugin gauges) over the hold.
//! - [`counters`]: `CounterScraper`, plugin counter deltas over the hold.
//! - [`reporter`]: `Reporter`, live progress and the final outputs.
//! - [`supervisor`]: `Supervisor`, restarts a failed measuring actor and
//!   announces it on an `OutputPort`.
//! - [`metrics`]: `Metrics`, the live Prometheus endpoint (`--metrics-addr`).
//! - [`distributed`]: `loadgen agent` (`Agent`) and a coordinator's `Fleet`
//!   and proxies standing in for the pacer, collector and counter scraper.
//!
//! Plain logic, no actors:
//! - [`config`]: `RunConfig`, one run's settings (flags, `--config`, journal, JSON).
//! - [`verdict`]: `judge(&StepInputs, &Slo) -> Verdict`.
//! - [`disturbance`]: a plugin's "the environment was disturbed", as a step's
//!   INCONCLUSIVE reason.
//! - [`search`]: `Search`, the next rate from the last verdict: a fixed ladder
//!   or range finding + bisection (`--search adaptive`).
//! - [`steps`]: `StepList` (`500,1k,2k`).
//! - [`report`]: the run's results and their console/CSV/JSON renderings.
//! - [`plugin`]: finding, loading and running plugin libraries.
//! - [`run`]: one whole run, wiring the above together.
//! - [`clock`]: the `Clock` the ramp reads (monotonic, or tokio's in tests).

pub mod clock;
pub mod collector;
pub mod config;
pub mod counters;
pub mod distributed;
pub mod disturbance;
pub mod gates;
mod http;
pub mod journal;
pub mod metrics;
pub mod pacer;
pub mod pending;
pub mod plugin;
pub mod ramp;
pub mod report;
pub mod reporter;
pub mod run;
pub mod search;
pub mod steps;
pub mod supervisor;
pub mod verdict;

pub use run::{run, RunError, RunSpec};
