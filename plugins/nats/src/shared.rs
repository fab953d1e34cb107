//! [`Shared`]: what every op of every mode needs, built once at start; the
//! failure reasons and counters.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, HeaderMap, Subject};
use bytes::Bytes;
use loadgen_plugin_api::counter_set;
use loadgen_plugin_api::sdk::{bump, clock, Answer, InFlight, Reason, Sent, Series};

/// The only series.
pub const NATS: Series = Series::new(0, "nats");

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

    /// The error reason of `Info::error_reasons`, in the order of [`Failure::ALL`].
    pub const fn reason(self) -> Reason {
        match self {
            Failure::ServiceError => Reason::new(0, "service_error"),
            Failure::NoResponders => Reason::new(1, "no_responders"),
            Failure::Request => Reason::new(2, "request"),
            Failure::Publish => Reason::new(3, "publish"),
            Failure::Ack => Reason::new(4, "ack"),
        }
    }

    pub fn reasons() -> Vec<Reason> {
        Failure::ALL.iter().map(|f| f.reason()).collect()
    }
}

counter_set! {
    /// What the plugin saw; failed ops also by reason. Timeouts, losses and
    /// saturation are the in-flight table's counters.
    pub struct Tally {
        /// Requests or publishes sent.
        sent,
        /// Publish mode: messages seen coming back (including unmatched ones).
        received,
        /// Publish mode: messages back without an op waiting for them (late, or not ours).
        unmatched,
        /// Replies with a Nats-Service-Error-Code header.
        service_error,
        /// Requests nobody listened to.
        no_responders,
        /// Other request errors (client, connection).
        request,
        /// Publishes that failed.
        publish,
        /// JetStream publishes answered with an error.
        ack,
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
    /// Every op in flight, keyed by the plugin's own sequence: it ends each
    /// op once (answer, failure, or Lost at the deadline).
    pub table: Arc<InFlight<u64>>,
    pub tally: Tally,
    /// Messages the client dropped because the reply subscription fell
    /// behind (counted by the connection's event callback, made before this).
    pub slow_consumer: Arc<AtomicU64>,
}

impl Shared {
    /// How long op `sent` may still wait for its answer.
    pub fn budget(&self, sent: Sent) -> Duration {
        let (deadline, _) = self.table.deadline(sent);
        Duration::from_nanos(deadline.since(clock::now()))
    }

    /// Ends op `key` with its answer (`Err`: a failure, counted by reason).
    /// An op already ended at its deadline stays ended.
    pub fn end(&self, key: u64, result: Result<(), Failure>) -> bool {
        let answer = match result {
            Ok(()) => Answer::Ok,
            Err(failure) => Answer::Error(failure.reason()),
        };
        let ended = self.table.complete(&key, answer, clock::now());
        if let (true, Err(failure)) = (ended, result) {
            bump(self.tally.failure(failure));
        }
        ended
    }

    /// The op's deadline passed while it waited: it ends as Timeout or Lost.
    pub fn expire(&self, key: u64) {
        self.table.expire_key(&key, clock::now());
    }
}
