//! What plugin authors write against.
//!
//! Implement [`Plugin`] (`info`, `start`, `fire`; the rest have defaults) and
//! call [`export_plugin!`](crate::export_plugin). Declare options with
//! [`options!`](crate::options), series and error reasons as [`Series`] and
//! [`Reason`] constants, counters with [`counter_set!`](crate::counter_set).
//! The glue here owns:
//! - the plugin's own tokio runtime (`-o worker_threads=N`, default `auto`);
//! - the batching [`Recorder`] that delivers samples to the host's sink, and
//!   disturbances ([`Recorder::disturbed`]: a lost connection makes the step
//!   INCONCLUSIVE and re-run, never a TRIP);
//! - `catch_unwind` around every exported call, so a panic comes back as an error
//!   instead of aborting the process;
//! - option parsing and validation against the declared options;
//! - the [`InFlight`] table: saturation, request timeout and loss deadline,
//!   each op ending exactly once.

// Consider semver implications carefully before changing what is exported here:
// plugins outside this repository build against these names.

mod ahead;
mod counter_set;
mod error_text;
mod export;
mod hosted;
mod inflight;
mod info;
#[cfg(feature = "nats")]
pub mod nats;
mod nats_env;
mod options;
pub mod quiet;
pub(crate) mod recorder;
mod requests;
mod sample;
mod series;
#[cfg(feature = "tls")]
pub mod tls;
pub mod traffic;

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

pub use crate::abi::{
    Batch, Counter, FireAck, Gauge, MonoNanos, Op, Outcome, PendingTarget, Sample,
};
pub use crate::clock;
pub use counter_set::{bump, CounterDecl};
pub use error_text::error_chain;
pub use inflight::{Expiry, InFlight, Limits, Refused, SWEEP_EVERY};
pub use info::Info;
pub use loadgen_redact::{redact_text, redact_url};
pub use nats_env::{nats_creds_file, nats_targets, nats_url};
pub use options::{
    Fraction, OptionDecl, OptionValue, OptionValues, Parsed, PluginOptions, Positive, Secret,
};
pub use recorder::{Recorder, LINGER};
pub use requests::{Requests, Service};
pub use sample::{Answer, Sent};
pub use series::{Reason, Series, SeriesSpec};

#[doc(hidden)]
pub use export::{describe, new_workload, secret_options, targets};
#[doc(hidden)]
pub use options::{join_doc as __join_doc, parse_choice as __parse_choice};

/// Used when the host sets no loss deadline (`loss_timeout_ms` 0).
pub const DEFAULT_LOSS_TIMEOUT: Duration = Duration::from_secs(10);

/// The option every plugin has: threads of its own tokio runtime.
pub const WORKER_THREADS_OPTION: &str = "worker_threads";

/// The option of every plugin that does not answer in `fire`: take batches
/// ahead (default) or be fired by the pacer's thread (to compare).
pub const FIRE_AHEAD_OPTION: &str = "fire_ahead";

/// Everything a workload gets when it starts.
pub struct Context<O> {
    /// The plugin's options: the user's `-o` values over the declared defaults.
    pub options: O,
    /// The run's seed (`--seed`): fixtures and choices derived from it repeat.
    pub seed: u64,
    /// An op unanswered this long after its intended time is Lost (the
    /// engine's drain window). Always > 0: [`DEFAULT_LOSS_TIMEOUT`] when the
    /// host sets none. An [`InFlight`] table applies it for you.
    pub loss_timeout: Duration,
    pub recorder: Recorder,
}

impl<O> Context<O> {
    /// An in-flight table on this run's recorder and loss deadline, with its
    /// sweeper running on the plugin's runtime.
    pub fn in_flight<K>(&self, limits: Limits) -> Arc<InFlight<K>>
    where
        K: Hash + Eq + Clone + Send + 'static,
    {
        let table = Arc::new(InFlight::new(
            limits,
            self.loss_timeout,
            self.recorder.clone(),
        ));
        tokio::spawn(Arc::clone(&table).sweep());
        table
    }
}

/// A workload, written as ordinary Rust. Its methods run inside the plugin's
/// own tokio runtime (`tokio::spawn` works in all of them).
pub trait Plugin: Sized + Send + Sync + 'static {
    /// The `-o` options, declared with [`options!`](crate::options); `()` for none.
    type Options: PluginOptions;

    fn info() -> Info;

    /// Where a workload with these options sends its traffic (`host:port`
    /// of each service), answered from the options alone, before `start`:
    /// an agent run with `--allow-target` starts only a workload whose every
    /// target it allows. `None` (the default): cannot say, so such an agent
    /// refuses it; `Some(vec![])`: sends nowhere.
    fn targets(options: &Self::Options) -> Option<Vec<String>> {
        let _ = options;
        None
    }

    /// Connect, build fixtures, subscribe. An error here is a configuration
    /// error the user sees verbatim (e.g. "cannot reach NATS at …").
    fn start(ctx: Context<Self::Options>) -> impl Future<Output = Result<Self, String>> + Send;

    /// `true` for a workload whose `fire` answers its ops itself, at once (no
    /// task, no I/O: `echo`). The host's pacer thread then calls `fire` at
    /// each op's time, and that is the op's one wake-up. Otherwise (the
    /// default) the host hands batches ahead and the SDK calls `fire` on this
    /// plugin's runtime at each op's time, so the worker that wakes for the
    /// op also runs the task `fire` spawns: one wake-up, not two.
    const ANSWERS_IN_FIRE: bool = false;

    /// Start the batch's ops and return at once; never block or await here.
    /// Every accepted op must end in samples: one `Ok` per series it produces,
    /// or one `Error`/`Timeout`/`Lost` (an [`InFlight`] table does this).
    fn fire(&self, batch: Batch) -> FireAck;

    /// Monotonic counters for the step report (informational: the verdict
    /// counts ops from the pacer and the samples, never from counters).
    fn counters(&self) -> Vec<Counter> {
        Vec::new()
    }

    /// JetStream durables the engine should poll for `num_pending`.
    fn pending_targets(&self) -> Vec<PendingTarget> {
        Vec::new()
    }

    /// Queue depths the plugin measures itself. The engine gates their growth
    /// over the hold (`--slo-pending-growth`) and waits for them to settle
    /// between steps: without one, an overloaded service shows only in latency.
    fn backlog(&self) -> Vec<Gauge> {
        Vec::new()
    }

    /// The series this workload produces with its options; by default all.
    /// Each must get samples whenever ops are attempted.
    fn series_in_use(&self) -> Vec<Series> {
        Self::info().series
    }

    /// The series this workload measures, declared once it has started:
    /// what the run's table, CSV, JSON, chart and verdict show. Override it
    /// when the series come from the options (a scenario's requests, each
    /// its own series with its own SLO); by default [`Self::series_in_use`]
    /// without SLOs of their own. Asked once, right after [`Self::start`];
    /// ids must be unique, and so must names.
    fn series_specs(&self) -> Vec<SeriesSpec> {
        self.series_in_use()
            .into_iter()
            .map(SeriesSpec::from)
            .collect()
    }

    /// Stop cleanly (unsubscribe, close connections).
    fn shutdown(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

impl Counter {
    pub fn new(name: &str, value: u64) -> Counter {
        Counter {
            name: name.into(),
            value,
        }
    }
}

impl Gauge {
    pub fn new(name: &str, value: i64) -> Gauge {
        Gauge {
            name: name.into(),
            value,
        }
    }
}

impl PendingTarget {
    pub fn new(stream: &str, durable: &str) -> PendingTarget {
        PendingTarget {
            stream: stream.into(),
            durable: durable.into(),
        }
    }
}
