//! The plugin's counters (PROTOCOL.md): attempted = `requests`; failed =
//! timeouts + error replies + bad replies (+ no responders and client-side
//! request failures, which are failures too).

pub use loadgen_plugin_api::sdk::bump;

loadgen_plugin_api::counter_set! {
    pub struct Tally {
        /// Requests sent (every accepted op sends one).
        requests: Attempted,
        /// No reply within `request_timeout` of the send.
        timeouts: Failed,
        /// The reply was `{"error": …}`.
        error_reply: Failed,
        /// The reply was not valid JSON, or not a page.
        bad_reply: Failed,
        /// Nobody listens on the endpoint's subject.
        no_responders: Failed,
        /// The client could not send the request (disconnected, closed).
        request_failed: Failed,
        /// Ops refused because `max_in_flight` requests were awaiting replies.
        saturated: Info,
        /// No reply by the engine's loss deadline (reported as Lost, not failed).
        lost: Info,
        /// Messages the NATS client dropped because a subscription (the shared
        /// reply inbox) fell behind; their requests end as timeouts or losses.
        slow_consumer: Info,
    }
}
