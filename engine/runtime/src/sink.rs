//! [`HostSink`]: the host's `SampleSink`, called on the plugin's threads.
//!
//! The host's tokio runtime is not current on those threads, so the sink only
//! does a non-blocking send to the Collector, through a [`CollectorHandle`]
//! the Supervisor updates on restart: samples reach the restarted actor.

use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::std_types::{RSlice, RStr};
use loadgen_plugin_api::abi::{MonoNanos, Sample, SampleSink};

use crate::collector::CollectorHandle;
use crate::disturbance::Disturbance;

pub struct HostSink {
    collector: CollectorHandle,
}

impl HostSink {
    pub fn new(collector: CollectorHandle) -> HostSink {
        HostSink { collector }
    }
}

impl SampleSink for HostSink {
    fn record(&self, samples: RSlice<'_, Sample>) {
        // A panic here would cross the FFI boundary and abort the process.
        let _ = catch_unwind(AssertUnwindSafe(|| self.collector.send(samples.to_vec())));
    }

    fn disturbed(&self, at: MonoNanos, reason: RStr<'_>) {
        tracing::warn!("plugin reports a disturbance: {reason}");
        let _ = catch_unwind(AssertUnwindSafe(|| {
            self.collector.disturbed(Disturbance {
                at_ns: at.0,
                reason: reason.to_string(),
            })
        }));
    }
}
