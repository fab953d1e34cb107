//! loadgen's plain logic: what a run is configured with, how a step is judged,
//! how the next rate is chosen, and what a run reports. No async runtime, no
//! actors, no plugin ABI: every function here takes its inputs (the clock
//! included) as arguments, so it is tested with tables.
//!
//! - [`config`]: `RunConfig`, one run's settings (flags, `--config`, journal, JSON).
//! - [`verdict`]: `judge(&StepInputs, &Slo) -> Verdict`.
//! - [`gates`]: `--slo-counter` gates over plugin and scraped counters.
//! - [`disturbance`]: a plugin's "the environment was disturbed", as a step's
//!   INCONCLUSIVE reason.
//! - [`search`]: `Search`, the next rate from the last verdict: a fixed ladder
//!   or range finding + bisection (`--search adaptive`).
//! - [`steps`]: `StepList` (`500,1k,2k`).
//! - [`ramp`]: the step machine (`StepMachine::on(event, now) -> Vec<Command>`),
//!   what a step measured, the settle wait, and `Phase` (where a step is).
//! - [`report`]: the run's results (the model the renderers read), per-second
//!   points and the histogram codec.
//! - [`journal`]: the journal file a killed run resumes from; [`load`]: a
//!   report read back from its JSON or its journal.
//! - The measuring actors' data: [`collector`], [`counters`], [`pacer`] (with
//!   `NS_PER_SEC`: every time is `CLOCK_MONOTONIC` ns),
//!   [`backlog`] (a backlog reading: `Backlogs`, `BacklogChange`); and
//!   [`plugin`], what a plugin says about itself.
//! - [`redact`]: what of a setting may be shown (credentials as `***`), the
//!   rules every writer shares with the plugin SDK.

pub mod backlog;
pub mod collector;
pub mod config;
pub mod counters;
pub mod disturbance;
mod duration_text;
pub mod gates;
pub mod journal;
pub mod load;
pub mod pacer;
pub mod plugin;
pub use loadgen_redact as redact;
pub mod ramp;
pub mod report;
pub mod search;
pub mod steps;
pub mod verdict;
