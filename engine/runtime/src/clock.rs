//! [`Clock`]: where the ramp reads the time, so tests can run it on tokio's
//! paused clock while the real run reads `CLOCK_MONOTONIC` (the clock the
//! plugins stamp samples with).

use loadgen_core::pacer::NS_PER_SEC;

/// Nanoseconds on a monotonic clock.
pub trait Clock: Send + Sync {
    fn now_ns(&self) -> u64;
}

/// `CLOCK_MONOTONIC`, shared with the plugins.
pub struct Monotonic;

impl Clock for Monotonic {
    fn now_ns(&self) -> u64 {
        loadgen_plugin_api::clock::now().0
    }
}

/// tokio's clock (pausable in tests), as ns since `origin`, offset so it
/// never reads 0.
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    pub fn new() -> TokioClock {
        TokioClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> TokioClock {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now_ns(&self) -> u64 {
        NS_PER_SEC + self.origin.elapsed().as_nanos() as u64
    }
}
