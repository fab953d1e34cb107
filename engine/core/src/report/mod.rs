//! What a run produced, and its renderings: console table, CSV, JSON.
//!
//! Every renderer takes a `&RunReport` and writes to `impl Write`, so tests
//! render into a `Vec<u8>`. The JSON shape is this module's serde types.

pub mod histograms;
pub mod per_second;

use serde::{Deserialize, Serialize};

use crate::backlog::BacklogChange;
use crate::config::RunConfig;
use crate::search::{Finished, Measurement, Outcome, Plan, StepSearch};
use crate::verdict::{fmt_ms, Verdict};

/// Latency figures of one series in one step, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesReport {
    pub name: String,
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// p99 of the service time alone (from the actual send), for diagnosis.
    pub service_p99_ms: f64,
}

/// One judged step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// Position in the run (0-based), counting re-runs.
    pub probe: u32,
    pub target_rps: u64,
    pub achieved_rps: f64,
    /// 1 for the first run of a rate, 2 for its re-run, …
    pub attempt: u32,
    pub series: Vec<SeriesReport>,
    pub error_rate: f64,
    pub loss_rate: f64,
    pub attempted: u64,
    pub failed: u64,
    pub lost: u64,
    pub saturation: u64,
    pub emit_underrun: u64,
    pub worst_durable: Option<String>,
    /// The growth of the backlog that grew most over the hold.
    #[serde(rename = "worst_pending_delta")]
    pub worst_backlog_delta: Option<i64>,
    /// Every backlog over the hold (a durable's with its unacknowledged part).
    #[serde(default)]
    pub backlogs: Vec<BacklogChange>,
    /// The plugin's counters over the step (hold start to drain end), e.g.
    /// `bad_reply`, `gatekeeper`, `slow_consumer`: where the failures came from.
    #[serde(default)]
    pub counters: std::collections::BTreeMap<String, u64>,
    /// PASS, TRIP or INCONCLUSIVE with the reasons; in JSON
    /// `"verdict": "TRIP", "reasons": [..]`.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// One point per second of the hold.
    #[serde(default)]
    pub per_second: Vec<per_second::SecondPoint>,
    /// The hold's histograms per series, for re-analysis and merging.
    #[serde(default)]
    pub histograms: Vec<histograms::StepHistogram>,
    /// Why the search chose this rate and what it read from the step (boxed:
    /// it is most of a report's size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<Box<StepSearch>>,
}

impl StepReport {
    /// This step as the search replays it when a killed run resumes.
    pub fn finished(&self) -> Finished {
        let measurement = match &self.search {
            Some(record) => Measurement {
                verdict: self.verdict.clone(),
                ..record.measurement.clone()
            },
            None => Measurement::verdict_only(self.verdict.clone()),
        };
        Finished {
            target_rps: self.target_rps,
            probe: self.probe,
            measurement,
        }
    }

    pub fn passed(&self) -> bool {
        matches!(self.verdict, Verdict::Pass)
    }

    pub fn tripped(&self) -> bool {
        matches!(self.verdict, Verdict::Trip(_))
    }

    pub fn reasons(&self) -> Vec<String> {
        self.verdict.reasons()
    }
}

/// The run's conclusion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The highest passing rate below the lowest tripping one.
    pub max_rps: Option<u64>,
    /// The first tripping rate above the answer and why it tripped.
    pub next_limit_rps: Option<u64>,
    pub next_limit: Vec<String>,
}

/// How the rates were chosen and how that search ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchReport {
    pub plan: Plan,
    pub outcome: Outcome,
}

impl SearchReport {
    /// Is this probe a `--confirm` re-run of the answer (not a search probe)?
    pub fn is_confirmation(&self, probe: u32) -> bool {
        self.outcome
            .confirm
            .as_ref()
            .is_some_and(|c| c.probes.contains(&probe))
    }
}

/// The JSON report's shape version (`docs/report.schema.json`): bumped when
/// a field changes meaning or goes away; new optional fields keep it.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// [`SCHEMA_VERSION`] when written; 1 for reports written before it existed.
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    /// The run's configuration, resolved (every rate named).
    pub settings: RunConfig,
    /// The version of the plugin that ran.
    pub plugin_version: String,
    pub steps: Vec<StepReport>,
    pub answer: Answer,
    /// The run was cancelled (SIGINT/SIGTERM): the steps are what finished.
    pub interrupted: bool,
    /// The search's plan and outcome (absent in reports written before it existed).
    #[serde(default)]
    pub search: Option<SearchReport>,
    /// A distributed run's agents: each one's clock against the
    /// coordinator's and how late its per-second summaries came (absent
    /// for a local run, and in reports written before it existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentReport>,
}

/// One agent of a distributed run, as the coordinator measured it at join.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    pub name: String,
    pub host: String,
    /// The agent's clock minus the coordinator's, µs (from the quickest
    /// of its time round trips).
    pub clock_offset_us: i64,
    /// That round trip, µs.
    pub rtt_us: u64,
    /// Seconds of hold whose summary came later than the coordinator's
    /// reading (merged into the next second; never a loss).
    pub late_seconds: u64,
}

fn schema_v1() -> u32 {
    1
}

/// The highest PASS below the lowest TRIP (a PASS above a TRIP, possible with
/// `--stop-on-trip false`, is luck, not capacity), and that TRIP's reasons.
pub fn answer(steps: &[StepReport]) -> Answer {
    let lowest_trip = steps
        .iter()
        .filter(|s| s.tripped())
        .min_by_key(|s| s.target_rps);
    let ceiling = lowest_trip.map_or(u64::MAX, |t| t.target_rps);
    let max_rps = steps
        .iter()
        .filter(|s| s.passed() && s.target_rps < ceiling)
        .map(|s| s.target_rps)
        .max();
    Answer {
        max_rps,
        next_limit_rps: lowest_trip.map(|t| t.target_rps),
        next_limit: lowest_trip.map(|t| t.reasons()).unwrap_or_default(),
    }
}

/// The search's answer: the bracket it decided (a PASS whose backlog rose is
/// above capacity; contradicting verdicts were re-probed; trials decide by
/// majority), with the reasons of the rate too high above it. A search that
/// ended with nothing decided (a ramp that died) falls back to [`answer`]
/// over its search probes.
pub fn search_answer(steps: &[StepReport], search: &SearchReport) -> Answer {
    let bracket = search.outcome.bracket;
    if bracket.pass.is_none() && bracket.trip.is_none() {
        let probes: Vec<StepReport> = steps
            .iter()
            .filter(|s| !search.is_confirmation(s.probe))
            .cloned()
            .collect();
        return answer(&probes);
    }
    let limit = bracket.trip.and_then(|t| {
        steps
            .iter()
            .rev()
            .filter(|s| s.target_rps == t)
            .find_map(|s| match (&s.verdict, &s.search) {
                (Verdict::Trip(_), _) => Some(s.reasons()),
                (Verdict::Pass, Some(record)) => record.above_capacity_reason(),
                _ => None,
            })
    });
    Answer {
        max_rps: bracket.pass,
        next_limit_rps: bracket.trip,
        next_limit: limit.unwrap_or_default(),
    }
}

/// `2.5` for 2.5 ms, for tables and CSV.
pub fn ms_value(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `143ms`, as in verdict reasons.
pub fn ms_text(ms: f64) -> String {
    fmt_ms(std::time::Duration::from_secs_f64(ms / 1000.0))
}

/// Report values for tests, here and in the renderer and runtime crates.
#[cfg(any(test, feature = "test-fixtures"))]
pub mod fixtures;

#[cfg(test)]
mod tests {
    use super::fixtures::step;
    use super::*;

    #[test]
    fn answer_is_the_highest_pass_below_the_lowest_trip() {
        type Row<'a> = (&'a str, &'a [(u64, &'a str)], Option<u64>, Option<u64>);
        let table: &[Row] = &[
            (
                "ramp until trip",
                &[(1000, "PASS"), (2000, "PASS"), (4000, "TRIP")],
                Some(2000),
                Some(4000),
            ),
            (
                "nothing tripped",
                &[(1000, "PASS"), (2000, "PASS")],
                Some(2000),
                None,
            ),
            ("none passed", &[(1000, "TRIP")], None, Some(1000)),
            (
                "inconclusive is not a pass",
                &[(1000, "PASS"), (2000, "INCONCLUSIVE"), (4000, "TRIP")],
                Some(1000),
                Some(4000),
            ),
            (
                "a pass above a trip is luck",
                &[(1000, "PASS"), (2000, "TRIP"), (4000, "PASS")],
                Some(1000),
                Some(2000),
            ),
            ("nothing ran", &[], None, None),
        ];
        for (name, steps, want_max, want_next) in table {
            let steps: Vec<StepReport> = steps.iter().map(|(r, v)| step(*r, v)).collect();
            let a = answer(&steps);
            assert_eq!(
                (a.max_rps, a.next_limit_rps),
                (*want_max, *want_next),
                "{name}"
            );
        }
    }
}
