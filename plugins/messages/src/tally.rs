//! The plugin's counters (PROTOCOL.md). With the in-flight table's
//! `saturated`, `timeouts` and `lost`, they explain a step's errors by cause.

pub use loadgen_plugin_api::sdk::bump;

loadgen_plugin_api::counter_set! {
    pub struct Tally {
        /// Messages published (core NATS) or acked by JetStream.
        published,
        /// Client publish failed (an error).
        publish,
        /// A message could not be encoded (an error).
        marshal,
        /// The gatekeeper replied `{"error": …}` (an error).
        gatekeeper,
        /// A reply that is not valid JSON (an error).
        bad_reply,
        /// A broadcast that is not valid JSON (its op will be lost).
        bad_broadcast,
        /// Messages the NATS client dropped because a subscription fell behind.
        slow_consumer,
    }
}
