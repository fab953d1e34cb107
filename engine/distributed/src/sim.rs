//! A fleet simulated in one process, speaking the per-second part of the
//! control protocol over a real NATS: `agents` stand-ins each pace their
//! slice of one step's schedule (ops `k ≡ i (mod n)`, as the PacerProxy
//! splits them) and publish the agent's [`Summary`] at hold start, every
//! second and at hold end; the coordinator's own [`Feed`] merges them. It
//! measures each per-second round — from the moment a summary is due until
//! every agent's is merged — and checks the merge is exact: every op of the
//! schedule sent, refused or skipped exactly once across agents, and one
//! latency sample per sent op.
//!
//! For `bench-control-sim` (1,000 agents) and its small e2e twin.

use std::time::{Duration, Instant};

use async_nats::Client;
use loadgen_plugin_api::clock;

use crate::collector::SeriesCounts;
use crate::control::Member;
use crate::feed::Feed;
use crate::pacer::PacerCounts;
use crate::protocol::{Buckets, Subjects, Summary, SummarySeries};
use crate::seconds::Seconds;

/// One simulated step.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub agents: usize,
    /// The whole fleet's rate.
    pub rps: u64,
    pub hold: Duration,
    /// Control prefix (runs sharing a server never mix).
    pub prefix: String,
}

/// What the simulated step measured.
#[derive(Clone, Debug)]
pub struct SimResult {
    /// Each per-second round, due time to every summary merged.
    pub rounds: Vec<Duration>,
    /// Agent-seconds marked late.
    pub late: u64,
    /// The merged tallies at hold end, and what the schedule says they are.
    pub merged: PacerCounts,
    pub expected: PacerCounts,
    /// Latency samples merged over the hold's intervals (one per sent op).
    pub samples: u64,
    /// Coordinator-side summaries merged.
    pub summaries: u64,
}

impl SimResult {
    pub fn exact(&self) -> bool {
        self.merged == self.expected && self.samples == self.expected.accepted
    }

    pub fn slowest(&self) -> Duration {
        self.rounds.iter().copied().max().unwrap_or_default()
    }
}

/// What happened to op `k` of the schedule (pure, the same on every run):
/// most are sent, some refused by the plugin, some skipped (emit underrun).
pub fn outcome(k: u64) -> fn(&mut PacerCounts) {
    match k.wrapping_mul(2_654_435_761) % 100 {
        0..=4 => |c| c.saturated += 1,
        5..=7 => |c| c.emit_underrun += 1,
        _ => |c| c.accepted += 1,
    }
}

/// The tallies of slice `index` of `of` over ops due before `until_ns`
/// (hold-relative) at `rps`.
pub fn slice_counts(index: u64, of: u64, rps: u64, until_ns: u64) -> PacerCounts {
    let mut c = PacerCounts::default();
    let mut k = index;
    while k * crate::seconds::SECOND_NS / rps < until_ns {
        outcome(k)(&mut c);
        k += of;
    }
    c
}

/// Run one simulated step: the agents publish on `agents_client`, the
/// coordinator's feed listens on `coordinator`.
pub async fn run(
    coordinator: &Client,
    agents_client: &Client,
    options: &SimOptions,
) -> Result<SimResult, String> {
    let subjects = Subjects::new(&options.prefix);
    let members: Vec<Member> = (0..options.agents)
        .map(|i| Member {
            name: format!("sim{i}"),
            offset_ns: 0,
        })
        .collect();
    let feed = Feed::subscribe(
        coordinator,
        &subjects,
        None,
        Seconds::new(vec!["op".into()]),
    )
    .await?;
    coordinator.flush().await.map_err(|e| e.to_string())?;
    let hold_ns = options.hold.as_nanos() as u64;
    let hold_start = clock::now().0 + 300_000_000;
    let stop = hold_start + hold_ns;
    feed.seconds().begin(hold_start, stop, &members);

    let n = options.agents as u64;
    let rps = options.rps;
    let agents: Vec<_> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (client, subject, name) = (
                agents_client.clone(),
                subjects.summary(&m.name),
                m.name.clone(),
            );
            tokio::spawn(async move {
                let mut before = 0;
                for (second, at, last) in crate::agent::summary::schedule(hold_start, stop) {
                    sleep_until(at).await;
                    let until = at - hold_start;
                    let summary = summary(
                        &name, hold_start, second, last, i as u64, n, rps, before, until,
                    );
                    before = until;
                    let body = serde_json::to_vec(&summary).expect("summaries serialize");
                    let _ = client.publish(subject.clone(), body.into()).await;
                }
            })
        })
        .collect();

    let mut rounds = Vec::new();
    let mut samples = 0;
    for (_, at, _) in crate::agent::summary::schedule(hold_start, stop) {
        sleep_until(at).await;
        let began = Instant::now();
        feed.settle(at, &members).await;
        rounds.push(began.elapsed());
        samples += feed.seconds().take_interval()[0].latency.len();
    }
    for agent in agents {
        let _ = agent.await;
    }
    // A late summary is merged when it comes: wait for the last ones (bounded).
    agents_client.flush().await.map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !feed.seconds().ended() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    samples += feed.seconds().take_interval()[0].latency.len();
    let merged = feed.seconds().counts();
    let late = feed.seconds().late().values().sum();
    let expected = slice_counts(0, 1, rps, hold_ns);
    Ok(SimResult {
        rounds,
        late,
        merged,
        expected,
        samples,
        summaries: (options.agents as u64)
            * crate::agent::summary::schedule(hold_start, stop).count() as u64,
    })
}

/// Agent `index` of `of`'s summary at `until_ns` into the hold, its last one at `before_ns`.
#[allow(clippy::too_many_arguments)]
fn summary(
    name: &str,
    hold_start: u64,
    second: u32,
    last: bool,
    index: u64,
    of: u64,
    rps: u64,
    before_ns: u64,
    until_ns: u64,
) -> Summary {
    let counts = slice_counts(index, of, rps, until_ns);
    let sent_before = slice_counts(index, of, rps, before_ns).accepted;
    // One latency sample per op sent since the last summary, 1 to 2 ms.
    let mut by_value = std::collections::BTreeMap::new();
    for j in sent_before..counts.accepted {
        *by_value.entry(1_000_000 + (j % 100) * 10_000).or_insert(0) += 1;
    }
    let latency = Buckets(by_value.into_iter().collect());
    let interval = SummarySeries {
        name: "op".into(),
        service: latency.clone(),
        latency,
        failures: 0,
    };
    Summary {
        name: name.to_string(),
        hold_start,
        second,
        last,
        counts,
        intervals: vec![interval],
        window: vec![SeriesCounts {
            answered_in_hold: counts.accepted,
            ..SeriesCounts::default()
        }],
        gauges: Default::default(),
    }
}

async fn sleep_until(at: u64) {
    tokio::time::sleep(Duration::from_nanos(at.saturating_sub(clock::now().0))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slices_of_a_schedule_add_up_to_it() {
        let whole = slice_counts(0, 1, 1_000, 2_000_000_000);
        assert_eq!(
            whole.accepted + whole.saturated + whole.emit_underrun,
            2_000
        );
        assert!(whole.saturated > 0 && whole.emit_underrun > 0);
        let mut sum = PacerCounts::default();
        for i in 0..7 {
            sum.add(&slice_counts(i, 7, 1_000, 2_000_000_000));
        }
        assert_eq!(sum, whole);
    }
}
