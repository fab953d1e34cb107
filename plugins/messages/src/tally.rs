//! The plugin's counters (PROTOCOL.md): attempted = published + publish +
//! marshal; failed = publish + marshal + gatekeeper + bad_reply.

pub use loadgen_plugin_api::sdk::bump;

loadgen_plugin_api::counter_set! {
    pub struct Tally {
        published: Attempted,
        /// Client publish failed.
        publish: AttemptedAndFailed,
        marshal: AttemptedAndFailed,
        /// The gatekeeper replied `{"error": …}`.
        gatekeeper: Failed,
        /// A reply that is not valid JSON.
        bad_reply: Failed,
        saturated: Info,
        lost: Info,
        /// A broadcast that is not valid JSON (its op will be lost).
        bad_broadcast: Info,
        /// Messages the NATS client dropped because a subscription fell behind.
        slow_consumer: Info,
    }
}
