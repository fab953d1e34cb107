//! What plugin authors write against.
//!
//! Implement [`Plugin`] (two required methods besides `info`: `start` and `fire`)
//! and call [`export_plugin!`](crate::export_plugin). The glue here owns:
//! - the plugin's own tokio runtime (the host never shares one across the boundary);
//! - the batching [`Recorder`] that delivers samples to the host's sink;
//! - `catch_unwind` around every exported call, so a panic comes back as an error
//!   instead of aborting the process;
//! - option parsing against the options the plugin declares in [`Info`].

mod counter_set;
mod export;
mod hosted;
mod info;
#[cfg(feature = "nats")]
pub mod nats;
mod nats_env;
mod options;
mod recorder;

use std::future::Future;
use std::time::Duration;

pub use crate::abi::{
    Batch, Counter, CounterKind, FireAck, Gauge, MonoNanos, Op, Outcome, PendingTarget, Sample,
};
pub use crate::clock;
pub use counter_set::bump;
pub use export::{describe, new_workload};
pub use hosted::HostConfig;
pub use info::{Info, OptionDecl};
pub use nats_env::{nats_creds_file, nats_url, redact_url};
pub use options::Options;
pub use recorder::Recorder;

/// Everything a workload gets when it starts.
pub struct Context {
    /// The user's `-o` options merged over the declared defaults.
    pub options: Options,
    /// The run's seed (`--seed`): fixtures and choices derived from it repeat.
    pub seed: u64,
    /// An op unanswered this long after its intended time must be recorded as
    /// [`Outcome::Lost`] (the engine's drain window).
    pub loss_timeout: Duration,
    pub recorder: Recorder,
}

/// A workload, written as ordinary Rust. Its methods run inside the plugin's
/// own tokio runtime (`tokio::spawn` works in all of them).
pub trait Plugin: Sized + Send + Sync + 'static {
    /// Worker threads of the plugin's runtime.
    const WORKER_THREADS: usize = 2;

    fn info() -> Info;

    /// Connect, build fixtures, subscribe. An error here is a configuration
    /// error the user sees verbatim (e.g. "cannot reach NATS at …").
    fn start(ctx: Context) -> impl Future<Output = Result<Self, String>> + Send;

    /// Start the batch's ops and return at once; never block or await here.
    fn fire(&self, batch: Batch) -> FireAck;

    /// Monotonic counters; their hold-window deltas feed the verdict.
    fn counters(&self) -> Vec<Counter> {
        Vec::new()
    }

    /// JetStream durables the engine should poll for `num_pending`.
    fn pending_targets(&self) -> Vec<PendingTarget> {
        Vec::new()
    }

    /// Queue depths the plugin measures itself.
    fn backlog(&self) -> Vec<Gauge> {
        Vec::new()
    }

    /// Indices (into `Info::series`) of the series this workload produces with
    /// its options; by default all of them.
    fn series_in_use(&self) -> Vec<u16> {
        (0..Self::info().series.len() as u16).collect()
    }

    /// Stop cleanly (unsubscribe, close connections).
    fn shutdown(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

impl Counter {
    pub fn new(name: &str, kind: CounterKind, value: u64) -> Counter {
        Counter {
            name: name.into(),
            kind,
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
