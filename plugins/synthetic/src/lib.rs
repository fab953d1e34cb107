//! `synthetic`: an in-process server with exact, configurable capacity — the
//! engine's ground truth for pacing and verdict tests (no network needed).
//!
//! # Layout
//! - [`config`]: the options, declared once, and their validation.
//! - [`mix`]: `-o mix=…`, request kinds of different cost on the one queue,
//!   each its own series (declared at start, with its own SLO if given).
//! - [`server`]: the FIFO server model; pure arithmetic on the ns times it is given.
//! - [`completions`]: holds each sample until its `done` time, then delivers it.
//!
//! Counters count an op when it is fired (its outcome is decided then), so a
//! step's `errors`/`attempted` cover the same ops even if some answer in the drain.

pub mod completions;
pub mod config;
pub mod mix;
pub mod server;

use std::sync::{Arc, Mutex};

use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::{counter_set, export_plugin};

use completions::Completions;
use config::{Config, SyntheticOptions};
use server::{Server, REASON_SYNTHETIC, SERIES_OP};

counter_set! {
    /// Read from the model's running totals when the engine asks.
    pub struct Tally {
        /// Ops admitted (each produces one sample).
        attempted,
        /// Admitted ops answered with error 'synthetic'.
        errors,
        /// Admitted ops answered after the loss deadline (recorded Lost).
        lost,
        /// Ops refused because max_in_flight ops were in the system.
        saturated,
    }
}

pub struct Synthetic {
    /// The series declared at start: the mix's kinds, or none (then `op`).
    series: Vec<SeriesSpec>,
    /// `fire` queues its samples before releasing this lock, so samples enter
    /// the completion queue in the server's (non-decreasing `done`) order.
    server: Mutex<Server>,
    completions: Arc<Completions>,
}

impl Plugin for Synthetic {
    type Options = SyntheticOptions;

    /// In-process: it sends nowhere.
    fn targets(_: &SyntheticOptions) -> Option<Vec<String>> {
        Some(Vec::new())
    }

    fn info() -> Info {
        let about = "A FIFO server with exact capacity, base latency, errors and stalls.";
        Info::new("synthetic", env!("CARGO_PKG_VERSION"), about)
            .series(&[SERIES_OP])
            .error_reasons(&[REASON_SYNTHETIC])
            .counters(Tally::declare())
            .default_steps("1k,2k,5k,10k,20k")
    }

    async fn start(ctx: Context<SyntheticOptions>) -> Result<Self, String> {
        let config = Config::from_options(&ctx.options, ctx.loss_timeout)?;
        let completions = Arc::new(Completions::default());
        let series = config.mix.series();
        let recorder = ctx.recorder;
        tokio::spawn(Arc::clone(&completions).run(move |s| recorder.record(s)));
        Ok(Synthetic {
            series,
            server: Mutex::new(Server::new(config, ctx.seed, clock::now().0)),
            completions,
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let mut server = self.server.lock().unwrap();
        let now = clock::now().0;
        let samples: Vec<Sample> = batch
            .ops()
            .filter_map(|op| server.arrive(op.intended.0, now))
            .collect();
        let accepted = samples.len() as u32;
        self.completions.push(samples);
        FireAck {
            accepted,
            saturated: batch.count - accepted,
        }
    }

    fn counters(&self) -> Vec<Counter> {
        let c = self.server.lock().unwrap().counts();
        let tally = Tally::default();
        for (counter, value) in [
            (&tally.attempted, c.attempted),
            (&tally.errors, c.errors),
            (&tally.lost, c.lost),
            (&tally.saturated, c.saturated),
        ] {
            counter.store(value, std::sync::atomic::Ordering::Relaxed);
        }
        tally.counters()
    }

    fn series_specs(&self) -> Vec<SeriesSpec> {
        if self.series.is_empty() {
            return vec![SeriesSpec::from(SERIES_OP)];
        }
        self.series.clone()
    }

    fn backlog(&self) -> Vec<Gauge> {
        let queue = self.server.lock().unwrap().in_system(clock::now().0);
        vec![Gauge::new("queue", queue as i64)]
    }
}

export_plugin!(Synthetic);
