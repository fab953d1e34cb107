//! The plugin's counters (PROTOCOL.md): attempted = published + publish +
//! marshal; failed = publish + marshal + gatekeeper + bad_reply.

use std::sync::atomic::{AtomicU64, Ordering};

use loadgen_plugin_api::sdk::{Counter, CounterKind};

#[derive(Default)]
pub struct Tally {
    pub published: AtomicU64,
    /// Client publish failed.
    pub publish: AtomicU64,
    pub marshal: AtomicU64,
    /// The gatekeeper replied `{"error": …}`.
    pub gatekeeper: AtomicU64,
    /// A reply that is not valid JSON.
    pub bad_reply: AtomicU64,
    pub saturated: AtomicU64,
    pub lost: AtomicU64,
    /// A broadcast that is not valid JSON (its op will be lost).
    pub bad_broadcast: AtomicU64,
    /// Messages the NATS client dropped because a subscription fell behind.
    pub slow_consumer: AtomicU64,
}

pub fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Tally {
    pub fn counters(&self) -> Vec<Counter> {
        use CounterKind::*;
        let c = |name, kind, v: &AtomicU64| Counter::new(name, kind, v.load(Ordering::Relaxed));
        vec![
            c("published", Attempted, &self.published),
            c("publish", AttemptedAndFailed, &self.publish),
            c("marshal", AttemptedAndFailed, &self.marshal),
            c("gatekeeper", Failed, &self.gatekeeper),
            c("bad_reply", Failed, &self.bad_reply),
            c("saturated", Info, &self.saturated),
            c("lost", Info, &self.lost),
            c("bad_broadcast", Info, &self.bad_broadcast),
            c("slow_consumer", Info, &self.slow_consumer),
        ]
    }
}
