//! [`Shared`]: what every op of every mode needs, built once at start; the
//! failure reasons and counters.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, HeaderMap, Subject};
use bytes::Bytes;
use loadgen_plugin_api::counter_set;
use loadgen_plugin_api::sdk::{bump, clock, MonoNanos, Outcome, Recorder, Sample};

/// The only series.
pub const SERIES: u16 = 0;

/// Why an op failed; the index is `Sample::reason`, the name a counter too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The service answered with a `Nats-Service-Error-Code` header.
    ServiceError,
    /// Nobody listens on the subject.
    NoResponders,
    /// Any other request error (client/io).
    Request,
    /// The publish itself failed.
    Publish,
    /// JetStream answered the publish with an error (or the ack was lost).
    Ack,
}

impl Failure {
    pub const ALL: [Failure; 5] = [
        Failure::ServiceError,
        Failure::NoResponders,
        Failure::Request,
        Failure::Publish,
        Failure::Ack,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Failure::ServiceError => "service_error",
            Failure::NoResponders => "no_responders",
            Failure::Request => "request",
            Failure::Publish => "publish",
            Failure::Ack => "ack",
        }
    }

    fn index(self) -> u16 {
        Failure::ALL.iter().position(|f| *f == self).unwrap_or(0) as u16
    }
}

counter_set! {
    /// What the plugin saw. Failures are also counted by reason.
    pub struct Tally {
        /// Requests or publishes sent.
        sent: Info,
        /// Publish mode: messages seen coming back (including unmatched ones).
        received: Info,
        /// Publish mode: messages back without a known op id (late, or not ours).
        unmatched: Info,
        service_error: Info,
        no_responders: Info,
        request: Info,
        publish: Info,
        ack: Info,
    }
}

impl Tally {
    fn failure(&self, failure: Failure) -> &AtomicU64 {
        match failure {
            Failure::ServiceError => &self.service_error,
            Failure::NoResponders => &self.no_responders,
            Failure::Request => &self.request,
            Failure::Publish => &self.publish,
            Failure::Ack => &self.ack,
        }
    }
}

pub struct Shared {
    pub client: Client,
    pub subject: Subject,
    pub payload: Bytes,
    pub headers: HeaderMap,
    /// An op unanswered this long after its intended time is Lost.
    pub loss_timeout: Duration,
    pub recorder: Recorder,
    pub tally: Tally,
    /// Messages the client dropped because the reply subscription fell
    /// behind (counted by the connection's event callback, made before this).
    pub slow_consumer: Arc<AtomicU64>,
}

impl Shared {
    /// How long an op sent now may still wait for its answer.
    pub fn time_left(&self, intended: MonoNanos, now: MonoNanos) -> Duration {
        let deadline = intended.add_ns(self.loss_timeout.as_nanos() as u64);
        Duration::from_nanos(deadline.0.saturating_sub(now.0))
    }

    pub fn ok(&self, intended: MonoNanos, sent: MonoNanos) {
        self.recorder
            .record(Sample::ok(SERIES, intended, sent, clock::now()));
    }

    pub fn failed(&self, failure: Failure, intended: MonoNanos, sent: MonoNanos) {
        bump(self.tally.failure(failure));
        self.recorder.record(Sample::failed(
            SERIES,
            Outcome::Error,
            failure.index(),
            intended,
            sent,
            clock::now(),
        ));
    }

    pub fn lost(&self, intended: MonoNanos, sent: MonoNanos) {
        self.recorder.record(Sample::failed(
            SERIES,
            Outcome::Lost,
            0,
            intended,
            sent,
            clock::now(),
        ));
    }
}
