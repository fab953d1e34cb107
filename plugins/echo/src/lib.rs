//! `echo`: answers every op the moment it is fired.
//!
//! The smallest possible workload: it measures the engine's own overhead (pacer,
//! sink, collector) and is the second library in the two-plugins-in-one-process
//! loader test.

use loadgen_plugin_api::export_plugin;
use loadgen_plugin_api::sdk::*;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Echo {
    recorder: Recorder,
    fired: AtomicU64,
}

impl Plugin for Echo {
    const WORKER_THREADS: usize = 1;

    fn info() -> Info {
        Info::new(
            "echo",
            env!("CARGO_PKG_VERSION"),
            "Answers every op at once: measures the engine's own overhead.",
        )
        .series(&["echo"])
        .default_steps("1k,10k,100k")
    }

    async fn start(ctx: Context) -> Result<Self, String> {
        Ok(Echo {
            recorder: ctx.recorder,
            fired: AtomicU64::new(0),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let now = clock::now();
        for op in batch.ops() {
            self.recorder.record(Sample::ok(0, op.intended, now, now));
        }
        self.fired.fetch_add(batch.count as u64, Ordering::Relaxed);
        FireAck::all_accepted(batch.count)
    }

    fn counters(&self) -> Vec<Counter> {
        vec![Counter::new(
            "fired",
            CounterKind::Attempted,
            self.fired.load(Ordering::Relaxed),
        )]
    }
}

export_plugin!(Echo);
