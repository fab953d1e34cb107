//! Distributed generation: one ramp driven by many `loadgen agent` processes,
//! coordinated over NATS request/reply (ractor stays inside each process).
//!
//! A distributed run is a local run whose pacer, collector and counter
//! scraper are stand-ins ([`proxy`]) that ask the agents and merge their
//! answers; the ramp, step machine, verdict, search and reports are shared.
//! See docs/distributed.md.
//!
//! # Layout
//! - [`protocol`]: subjects and message bodies (serde JSON), the histogram
//!   wire format and the exact merge. No I/O.
//! - [`agent`]: `Agent`, the actor of a `loadgen agent` process: announces,
//!   heartbeats, and answers requests from a local engine.
//! - [`allow`]: `--allow-target` entries and the check of a workload's targets.
//! - [`control`]: `Control`, typed request/reply to one agent or to all.
//! - [`join`]: waiting for the agents, refusing incompatible ones, clock offsets.
//! - [`fleet`]: `Fleet`, the members now; heartbeats, losses, `--min-agents`.
//! - [`seconds`]: the agents' per-second summaries merged, late agents
//!   marked (plain state, the clock an argument).
//! - [`feed`]: `Feed`, the coordinator's subscription to those summaries.
//! - `proxy`: `PacerProxy`, `CollectorProxy`, `CountersProxy`, `PendingProxy`.
//! - [`signing`]: the control key, signed messages and the agent's gate.
//! - [`sim`]: a fleet simulated in one process (the 1,000-agent bench).
//! - [`coordinator`]: a distributed run's start, engine and stop; the
//!   runtime's `Generator` and `Engine` for a fleet.
pub mod agent;
pub mod allow;
pub mod control;
pub mod coordinator;
pub mod feed;
pub mod fleet;
pub mod join;
pub mod protocol;
mod proxy;
pub mod seconds;
pub mod signing;
pub mod sim;

// The core's, the plugin host's and the runtime's modules, under the names
// the agent and the proxies use.
use loadgen_core::{config, disturbance};
use loadgen_plugin_host as plugin;
use loadgen_runtime::{collector, counters, pacer, pending, ramp, report, run, supervisor};
