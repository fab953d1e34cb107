//! The per-second series of a hold: at each progress tick (and at hold end)
//! the ramp reads what happened since the last one — ops accepted (pacer),
//! answers and failures (collector), every backlog (poller) — into one
//! [`SecondPoint`], kept for the step's report and passed on to the Reporter
//! (and from there to `--metrics-addr`).

use std::time::Duration;

use loadgen_core::pacer::NS_PER_SEC;
use ractor::rpc::CallResult;

use crate::collector::CollectorMsg;
use crate::pacer::PacerMsg;
use crate::pending::PendingMsg;
use crate::report::per_second::{second_point, SecondPoint, SecondUpdate};
use crate::supervisor::Children;

use super::ask;

/// A last part-second shorter than this is noise as a rate: it is left out
/// (its ops still count in the step's figures).
const MIN_INTERVAL_NS: u64 = 250_000_000;
/// How long a second's backlog reading may take.
const BACKLOG_READ_LIMIT: Duration = Duration::from_millis(300);

/// The step in progress's per-second series so far.
#[derive(Debug, Default)]
pub(super) struct Seconds {
    hold_start_ns: u64,
    stop_ns: u64,
    /// Where the last interval ended (ns) and the pacer's hold count then.
    last_ns: u64,
    last_accepted: u64,
    points: Vec<SecondPoint>,
}

impl Seconds {
    /// A new step's hold `[hold_start, stop)`.
    pub(super) fn new(hold_start_ns: u64, stop_ns: u64) -> Seconds {
        Seconds {
            hold_start_ns,
            stop_ns,
            last_ns: hold_start_ns,
            ..Seconds::default()
        }
    }

    /// The step's points, leaving none.
    pub(super) fn take_points(&mut self) -> Vec<SecondPoint> {
        std::mem::take(&mut self.points)
    }

    /// Read the interval since the last one, ending at `now_ns` (at most the
    /// hold's end), and keep its point; `None` if it is too short or a child
    /// did not answer (the point is skipped; the step's figures are unaffected).
    pub(super) async fn take(&mut self, children: &Children, now_ns: u64) -> Option<SecondUpdate> {
        let end = now_ns.min(self.stop_ns);
        if end < self.last_ns + MIN_INTERVAL_NS {
            return None;
        }
        let counts = ask(&children.pacer, "pacer", PacerMsg::Report).await.ok()?;
        let intervals = ask(&children.collector, "collector", CollectorMsg::Interval)
            .await
            .ok()?;
        // Bounded tighter than a boundary read: a slow backlog source (a NATS
        // outage) must not hold the ramp past the hold's end; the point then
        // goes without backlogs.
        let backlog = match children
            .pending
            .call(PendingMsg::Read, Some(BACKLOG_READ_LIMIT))
            .await
        {
            Ok(CallResult::Success(Ok(values))) => values,
            _ => Default::default(),
        };
        let secs = |ns: u64| ns.saturating_sub(self.hold_start_ns) as f64 / NS_PER_SEC as f64;
        let point = second_point(
            secs(self.last_ns),
            secs(end),
            counts.accepted.saturating_sub(self.last_accepted),
            &intervals,
            backlog,
        );
        self.last_ns = end;
        self.last_accepted = counts.accepted;
        self.points.push(point.clone());
        Some(SecondUpdate { point, intervals })
    }
}
