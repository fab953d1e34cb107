//! [`HostSink`]: the host's `SampleSink`, called on the plugin's threads.
//!
//! The host's tokio runtime is not current on those threads, so the sink only
//! does a non-blocking `send_message` to the Collector. It finds the collector
//! by its registered name on every batch, so samples reach the restarted
//! actor after a supervisor restart.

use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::std_types::RSlice;
use loadgen_plugin_api::abi::{Sample, SampleSink};
use ractor::ActorRef;

use crate::collector::CollectorMsg;

pub struct HostSink {
    collector_name: String,
}

impl HostSink {
    pub fn new(collector_name: String) -> HostSink {
        HostSink { collector_name }
    }
}

impl SampleSink for HostSink {
    fn record(&self, samples: RSlice<'_, Sample>) {
        // A panic here would cross the FFI boundary and abort the process.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Some(cell) = ractor::registry::where_is(self.collector_name.clone()) {
                let collector: ActorRef<CollectorMsg> = cell.into();
                // A send fails only while the collector is restarting; that
                // step is INCONCLUSIVE anyway.
                let _ = collector.send_message(CollectorMsg::Samples(samples.to_vec()));
            }
        }));
    }
}
