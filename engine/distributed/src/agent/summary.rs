//! An agent's per-second summaries of a hold, published unasked on
//! `<p>.summary.<name>`: at hold start, after each second and at hold end,
//! read from the local engine (pacer tallies, the collector's interval and
//! window counts, the plugin's gauges). A reading that fails is skipped:
//! the coordinator marks this agent late for that second, and the next
//! summary's cumulative figures make up for it.

use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use loadgen_plugin_api::clock;
use ractor::rpc::CallResult;
use ractor::{ActorRef, RpcReplyPort};

use super::{body, publish};
use crate::collector::CollectorMsg;
use crate::pending::PendingMsg;
use crate::protocol::{Summary, SummarySeries};
use crate::seconds::SECOND_NS;
use crate::signing::ControlKey;
use crate::supervisor::Children;

/// Bound on each local reading (well inside a second).
const READ_LIMIT: Duration = Duration::from_millis(300);

/// Where and as whom to publish.
pub(super) struct Publisher {
    pub client: Client,
    pub key: Option<Arc<ControlKey>>,
    pub subject: String,
    pub name: String,
}

/// The times (agent clock) of a hold's summaries: its start, each whole
/// second, its end. Pure: the schedule the coordinator's [`Seconds::due`]
/// expects.
///
/// [`Seconds::due`]: crate::seconds::Seconds::due
pub fn schedule(hold_start: u64, hold_end: u64) -> impl Iterator<Item = (u32, u64, bool)> {
    let last = hold_end.saturating_sub(hold_start).div_ceil(SECOND_NS) as u32;
    (0..=last).map(move |k| {
        let at = (hold_start + k as u64 * SECOND_NS).min(hold_end);
        (k, at, k == last)
    })
}

/// Publish the summaries of the hold `[hold_start, hold_end)` (agent clock).
pub(super) async fn publish_hold(
    publisher: Publisher,
    children: Children,
    hold_start: u64,
    hold_end: u64,
) {
    for (second, at, last) in schedule(hold_start, hold_end) {
        tokio::time::sleep(Duration::from_nanos(at.saturating_sub(clock::now().0))).await;
        let Some(summary) = read(&publisher.name, &children, hold_start, second, last).await else {
            continue;
        };
        publish(
            &publisher.client,
            publisher.key.as_deref(),
            publisher.subject.clone(),
            body(summary),
        )
        .await;
    }
}

async fn read(
    name: &str,
    c: &Children,
    hold_start: u64,
    second: u32,
    last: bool,
) -> Option<Summary> {
    let counts = call(&c.pacer, crate::pacer::PacerMsg::Report).await?;
    let intervals = call(&c.collector, CollectorMsg::Interval).await?;
    let stats = call(&c.collector, CollectorMsg::Snapshot).await?;
    let gauges = call(&c.pending, PendingMsg::Read)
        .await
        .and_then(|r| r.ok())
        .map(|b| b.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    Some(Summary {
        name: name.to_string(),
        hold_start,
        second,
        last,
        counts,
        intervals: intervals.iter().map(SummarySeries::from_interval).collect(),
        window: stats
            .series
            .iter()
            .map(|s| crate::collector::SeriesCounts {
                errors: s.errors,
                timeouts: s.timeouts,
                lost: s.lost,
                answered_in_hold: s.answered_in_hold,
            })
            .collect(),
        gauges,
    })
}

async fn call<M: ractor::Message, T: Send + 'static>(
    actor: &ActorRef<M>,
    msg: impl FnOnce(RpcReplyPort<T>) -> M,
) -> Option<T> {
    match actor.call(msg, Some(READ_LIMIT)).await {
        Ok(CallResult::Success(v)) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_is_summed_up_at_its_start_each_second_and_its_end() {
        let s = |start, end| schedule(start, end).collect::<Vec<_>>();
        let g = SECOND_NS;
        assert_eq!(
            s(10, 10 + 2 * g + g / 2),
            [
                (0, 10, false),
                (1, 10 + g, false),
                (2, 10 + 2 * g, false),
                (3, 10 + 2 * g + g / 2, true)
            ]
        );
        assert_eq!(
            s(0, 2 * g),
            [(0, 0, false), (1, g, false), (2, 2 * g, true)],
            "a whole number of seconds ends on its last second"
        );
    }
}
