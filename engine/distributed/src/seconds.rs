//! The per-second figures of a hold, from the summaries the agents publish
//! unasked ([`Summary`]): what arrived, merged; an agent whose summary is
//! overdue is marked *late* for that second (never lost: losing an agent is
//! the Fleet's business, by heartbeats and unanswered step requests).
//!
//! [`Seconds`] is plain state, the clock an argument: the coordinator's
//! subscription feeds it, the proxies read it. Times are the coordinator's
//! clock unless named otherwise.

use std::collections::BTreeMap;

use crate::collector::{new_histogram, CollectorStats, SeriesCounts, SeriesParts};
use crate::control::Member;
use crate::pacer::PacerCounts;
use crate::protocol::Summary;
use crate::report::per_second::SeriesInterval;

/// The agents publish a summary this often during a hold.
pub const SECOND_NS: u64 = loadgen_core::pacer::NS_PER_SEC;

/// How long after the hold its last summaries still stand for the backlogs.
const COVERS_AFTER_NS: u64 = 500_000_000;

/// One agent's summaries of the step in progress.
#[derive(Clone, Debug, Default)]
struct AgentSeconds {
    /// The hold start in the agent's clock (what its summaries carry).
    hold_start: u64,
    /// The newest summary's second.
    latest: Option<u32>,
    /// Its hold-end summary arrived.
    last: bool,
    counts: PacerCounts,
    window: Vec<SeriesCounts>,
    gauges: BTreeMap<String, i64>,
    /// The second this agent was last marked late for (marked once).
    late_for: Option<u32>,
}

/// A hold's merged summaries and which agents are late.
#[derive(Debug)]
pub struct Seconds {
    /// The plugin's series names, in `Sample::series` order.
    series: Vec<String>,
    hold_start: u64,
    stop: u64,
    agents: BTreeMap<String, AgentSeconds>,
    /// What arrived since the last [`Seconds::take_interval`], merged.
    interval: Vec<SeriesInterval>,
    /// The hold's window so far: every interval of every agent, added.
    window: Vec<SeriesParts>,
    /// Seconds each agent was late, over the whole run.
    late: BTreeMap<String, u64>,
    /// The hold was ended early (the pacers halted): the agents' schedule
    /// of summaries no longer says when it ends, so nothing is awaited and
    /// every reading is asked of the agents.
    halted: bool,
}

impl Seconds {
    pub fn new(series: Vec<String>) -> Seconds {
        Seconds {
            interval: empty_intervals(&series),
            window: series.iter().map(|n| SeriesParts::empty(n)).collect(),
            series,
            hold_start: 0,
            stop: 0,
            agents: BTreeMap::new(),
            late: BTreeMap::new(),
            halted: false,
        }
    }

    /// A new step's hold `[hold_start, stop)`, done by `members`: what the
    /// last step's summaries said is forgotten (lateness is kept).
    pub fn begin(&mut self, hold_start: u64, stop: u64, members: &[Member]) {
        self.hold_start = hold_start;
        self.stop = stop;
        self.halted = false;
        self.agents = members
            .iter()
            .map(|m| {
                let agent = AgentSeconds {
                    hold_start: m.to_agent(hold_start),
                    ..AgentSeconds::default()
                };
                (m.name.clone(), agent)
            })
            .collect();
        self.interval = empty_intervals(&self.series);
        self.window = self.series.iter().map(|n| SeriesParts::empty(n)).collect();
    }

    /// Forget agents that left the run (lost): nobody waits for them.
    pub fn retain(&mut self, members: &[Member]) {
        self.agents
            .retain(|name, _| members.iter().any(|m| &m.name == name));
    }

    /// Is `now` within the hold (the summaries' time)?
    pub fn in_hold(&self, now: u64) -> bool {
        !self.halted && (self.hold_start..self.stop).contains(&now)
    }

    /// The hold was ended early.
    pub fn halt(&mut self) {
        self.halted = true;
    }

    /// Do the summaries still tell the backlogs at `now`: in the hold, or
    /// just after it (its end reading)? Later, between steps, nobody publishes.
    pub fn covers(&self, now: u64) -> bool {
        !self.halted
            && self.stop > self.hold_start
            && (self.hold_start..self.stop.saturating_add(COVERS_AFTER_NS)).contains(&now)
    }

    /// Take a summary in. One of another step, of an agent not in the run,
    /// or already seen is ignored (`Ok(false)`); a malformed one is an error.
    pub fn arrive(&mut self, summary: Summary) -> Result<bool, String> {
        let Some(agent) = self.agents.get_mut(&summary.name) else {
            return Ok(false);
        };
        let fresh = agent.latest.is_none_or(|l| summary.second > l);
        if summary.hold_start != agent.hold_start || !fresh || agent.last {
            return Ok(false);
        }
        for got in &summary.intervals {
            let Some(i) = self.series.iter().position(|n| *n == got.name) else {
                continue;
            };
            let named = |e: String| format!("series {}: {e}", got.name);
            got.latency
                .add_to(&mut self.interval[i].latency)
                .map_err(named)?;
            got.service
                .add_to(&mut self.interval[i].service)
                .map_err(named)?;
            got.latency
                .add_to(&mut self.window[i].latency)
                .map_err(named)?;
            got.service
                .add_to(&mut self.window[i].service)
                .map_err(named)?;
            self.interval[i].failures += got.failures;
        }
        agent.latest = Some(summary.second);
        agent.last = summary.last;
        agent.counts = summary.counts;
        agent.window = summary.window;
        agent.gauges = summary.gauges;
        Ok(true)
    }

    /// The summary every agent should have published by `now`: the second
    /// of hold begun last, or the hold-end one once the hold is over.
    pub fn due(&self, now: u64) -> u32 {
        let held = now.min(self.stop).saturating_sub(self.hold_start);
        if now >= self.stop {
            held.div_ceil(SECOND_NS) as u32
        } else {
            (held / SECOND_NS) as u32
        }
    }

    /// Agents whose summary due at `now` is not in, and who were not
    /// marked late for it already (a reading waits for these).
    pub fn awaited(&self, now: u64) -> Vec<String> {
        let due = self.due(now);
        self.agents
            .iter()
            .filter(|_| !self.halted)
            .filter(|(_, a)| !a.last && a.latest.is_none_or(|l| l < due))
            .filter(|(_, a)| a.late_for != Some(due))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The agents still awaited at `now` are late for that second; returns them.
    pub fn mark_late(&mut self, now: u64) -> Vec<String> {
        let due = self.due(now);
        let late = self.awaited(now);
        for name in &late {
            if let Some(a) = self.agents.get_mut(name) {
                a.late_for = Some(due);
            }
            *self.late.entry(name.clone()).or_insert(0) += 1;
        }
        late
    }

    /// Has every agent's hold-end summary arrived?
    pub fn ended(&self) -> bool {
        self.agents.values().all(|a| a.last)
    }

    /// The pacers' hold tallies, as the agents last said.
    pub fn counts(&self) -> PacerCounts {
        let mut total = PacerCounts::default();
        self.agents.values().for_each(|a| total.add(&a.counts));
        total
    }

    /// What arrived since the last call, per series; the next interval starts empty.
    pub fn take_interval(&mut self) -> Vec<SeriesInterval> {
        std::mem::replace(&mut self.interval, empty_intervals(&self.series))
    }

    /// The hold's window so far, as a local collector's snapshot.
    pub fn stats(&self) -> CollectorStats {
        let series = self
            .window
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let mut counts = SeriesCounts::default();
                for a in self.agents.values() {
                    if let Some(c) = a.window.get(i) {
                        counts.add(c);
                    }
                }
                SeriesParts {
                    counts,
                    ..part.clone()
                }
                .stats()
            })
            .collect();
        CollectorStats { series }
    }

    /// The plugin gauges of every agent, summed by name.
    pub fn gauges(&self) -> BTreeMap<String, i64> {
        let mut sum = BTreeMap::new();
        for a in self.agents.values() {
            for (name, v) in &a.gauges {
                *sum.entry(name.clone()).or_insert(0) += v;
            }
        }
        sum
    }

    /// Seconds each agent was late over the run (agents never late absent).
    pub fn late(&self) -> &BTreeMap<String, u64> {
        &self.late
    }
}

fn empty_intervals(series: &[String]) -> Vec<SeriesInterval> {
    series
        .iter()
        .map(|name| SeriesInterval {
            name: name.clone(),
            latency: new_histogram(),
            service: new_histogram(),
            failures: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests;
