//! The plugin's counters (PROTOCOL.md), beside the in-flight table's
//! `saturated`, `timeouts` and `lost`: failed ops = timeouts + error replies +
//! bad replies + no responders + client-side request failures.

pub use loadgen_plugin_api::sdk::bump;

loadgen_plugin_api::counter_set! {
    pub struct Tally {
        /// Requests sent (every accepted op sends one).
        requests,
        /// The reply was `{"error": …}`.
        error_reply,
        /// The reply was not valid JSON, or not a page.
        bad_reply,
        /// Nobody listens on the endpoint's subject.
        no_responders,
        /// The client could not send the request (disconnected, closed).
        request_failed,
        /// Messages the NATS client dropped because a subscription (the shared
        /// reply inbox) fell behind; their requests end as timeouts or losses.
        slow_consumer,
    }
}
