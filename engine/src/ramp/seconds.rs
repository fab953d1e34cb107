//! The per-second series of a hold: at each progress tick (and at hold end)
//! the ramp reads what happened since the last one — ops accepted (pacer),
//! answers and failures (collector), every backlog (poller) — into one
//! [`SecondPoint`], kept for the step's report and passed on to the Reporter
//! (and from there to `--metrics-addr`).

use crate::collector::CollectorMsg;
use crate::pacer::PacerMsg;
use crate::pending::PendingMsg;
use crate::report::per_second::{second_point, SecondPoint, SeriesInterval};
use crate::supervisor::Children;

use super::{ask, Current};

/// A last part-second shorter than this is noise as a rate: it is left out
/// (its ops still count in the step's figures).
const MIN_INTERVAL_NS: u64 = 250_000_000;

/// Where the last interval ended: its time (ns) and the pacer's hold count then.
#[derive(Clone, Copy, Debug)]
pub(super) struct LastTick {
    pub(super) at_ns: u64,
    pub(super) accepted: u64,
}

/// One second's reading, for the report and the live metrics.
pub struct SecondUpdate {
    pub point: SecondPoint,
    /// The interval's histograms per series (live latency metrics).
    pub intervals: Vec<SeriesInterval>,
}

/// Read the interval since `cur.last_tick` ending `now_ns` and keep its point;
/// `None` if it is too short or a child did not answer (the point is skipped,
/// the step's own figures are unaffected).
pub(super) async fn take_second(
    children: &Children,
    cur: &mut Current,
    now_ns: u64,
) -> Option<SecondUpdate> {
    let last = cur.last_tick;
    if now_ns < last.at_ns + MIN_INTERVAL_NS {
        return None;
    }
    let counts = ask(&children.pacer, "pacer", PacerMsg::Report).await.ok()?;
    let intervals = ask(&children.collector, "collector", CollectorMsg::Interval)
        .await
        .ok()?;
    let backlog = ask(&children.pending, "backlog reading", PendingMsg::Read)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let hold_start = cur.times.hold_start;
    let secs = |ns: u64| ns.saturating_sub(hold_start) as f64 / 1e9;
    let point = second_point(
        secs(last.at_ns),
        secs(now_ns),
        counts.accepted.saturating_sub(last.accepted),
        &intervals,
        backlog,
    );
    cur.last_tick = LastTick {
        at_ns: now_ns,
        accepted: counts.accepted,
    };
    cur.seconds.push(point.clone());
    Some(SecondUpdate { point, intervals })
}
