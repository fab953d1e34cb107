//! `echo`: answers every op the moment it is fired.
//!
//! The smallest possible workload: it measures the engine's own overhead (pacer,
//! sink, collector) and is the second library in the two-plugins-in-one-process
//! loader test.

use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::{counter_set, export_plugin};

const ECHO: Series = Series::new(0, "echo");

counter_set! {
    pub struct Tally {
        /// Ops fired (each answered at once).
        fired,
    }
}

pub struct Echo {
    recorder: Recorder,
    tally: Tally,
}

impl Plugin for Echo {
    type Options = ();
    /// Every op is answered inside `fire`: the pacer's wake-up is its only one.
    const ANSWERS_IN_FIRE: bool = true;

    /// In-process: it sends nowhere.
    fn targets(_: &()) -> Option<Vec<String>> {
        Some(Vec::new())
    }

    fn info() -> Info {
        Info::new(
            "echo",
            env!("CARGO_PKG_VERSION"),
            "Answers every op at once: measures the engine's own overhead.",
        )
        .series(&[ECHO])
        .counters(Tally::declare())
        .default_steps("1k,10k,100k")
    }

    async fn start(ctx: Context<()>) -> Result<Self, String> {
        Ok(Echo {
            recorder: ctx.recorder,
            tally: Tally::default(),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let now = clock::now();
        self.recorder
            .record_all(batch.ops().map(|op| op.sent_at(now).ok(ECHO, now)));
        self.tally
            .fired
            .fetch_add(u64::from(batch.count), std::sync::atomic::Ordering::Relaxed);
        FireAck::all_accepted(batch.count)
    }

    fn counters(&self) -> Vec<Counter> {
        self.tally.counters()
    }
}

export_plugin!(Echo);
