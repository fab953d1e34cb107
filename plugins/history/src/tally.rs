//! The plugin's counters (PROTOCOL.md): attempted = `requests`; failed =
//! timeouts + error replies + bad replies (+ no responders and client-side
//! request failures, which are failures too).

use std::sync::atomic::{AtomicU64, Ordering};

use loadgen_plugin_api::sdk::{Counter, CounterKind};

#[derive(Debug, Default)]
pub struct Tally {
    /// Requests sent (every accepted op sends one).
    pub requests: AtomicU64,
    /// No reply within `request_timeout` of the send.
    pub timeouts: AtomicU64,
    /// The reply was `{"error": …}`.
    pub error_reply: AtomicU64,
    /// The reply was not valid JSON, or not a page.
    pub bad_reply: AtomicU64,
    /// Nobody listens on the endpoint's subject.
    pub no_responders: AtomicU64,
    /// The client could not send the request (disconnected, closed).
    pub request_failed: AtomicU64,
    /// Ops refused because `max_in_flight` requests were awaiting replies.
    pub saturated: AtomicU64,
    /// No reply by the engine's loss deadline (reported as Lost, not failed).
    pub lost: AtomicU64,
    /// Messages the NATS client dropped because a subscription (the shared
    /// reply inbox) fell behind; their requests end as timeouts or losses.
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
            c("requests", Attempted, &self.requests),
            c("timeouts", Failed, &self.timeouts),
            c("error_reply", Failed, &self.error_reply),
            c("bad_reply", Failed, &self.bad_reply),
            c("no_responders", Failed, &self.no_responders),
            c("request_failed", Failed, &self.request_failed),
            c("saturated", Info, &self.saturated),
            c("lost", Info, &self.lost),
            c("slow_consumer", Info, &self.slow_consumer),
        ]
    }
}
