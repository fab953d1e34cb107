//! A backlog reading as plain data: the one vocabulary for the service's
//! queues (JetStream durables keyed `stream/durable`, plugin gauges).
//!
//! - [`Backlogs`]: every backlog's value at one reading, by name (a settle
//!   poll, a second of hold, a hold boundary).
//! - [`BacklogChange`]: one backlog from hold start to hold end, what the
//!   `--slo-pending-growth` gate judges.
//! - One backlog's readings through a hold, as the search keeps them, is
//!   `search::BacklogTrace`.
//!
//! The PendingPoller actor that takes the readings is in the runtime crate.

use serde::{Deserialize, Serialize};

mod reading;

pub use reading::Backlogs;

/// How one backlog (JetStream durable `stream/durable`, or plugin gauge)
/// moved over the hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacklogChange {
    pub name: String,
    /// For a durable: messages not yet delivered plus those delivered and not
    /// yet acknowledged (both are work the service has not done).
    pub start: i64,
    pub end: i64,
    /// For a durable: the delivered-but-unacknowledged part
    /// (`num_ack_pending`) of `start` and `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unacked: Option<(i64, i64)>,
}

impl BacklogChange {
    pub fn growth(&self) -> i64 {
        self.end - self.start
    }
}
