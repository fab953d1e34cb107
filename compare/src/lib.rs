//! `loadgen compare BASE NEW`: did a change cost capacity?
//!
//! Pure code over two [`RunReport`]s (read by `loadgen_core::load`,
//! a `--json` report or a journal alike); no runtime, no actors.
//!
//! # Layout
//! - [`stats`]: Mann–Whitney U and the two-proportion z-test, p-values.
//! - [`change`]: `Change`, one figure in both runs and whether it moved.
//! - [`capacity`]: each run's capacity bracket and the change between them.
//! - [`rates`]: both runs at each common rate: latency, errors, loss, backlog.
//! - [`identity`]: refusing runs of different workloads or SLOs.
//! - [`criteria`]: `--fail-on 'capacity < -5%'`, parsed and judged.
//! - [`render`]: text, Markdown, JUnit and JSON of a [`Comparison`]; JUnit and
//!   Markdown of a single run (`max-rps --junit/--markdown`).

pub mod capacity;
pub mod change;
pub mod criteria;
pub mod identity;
pub mod rates;
pub mod render;
pub mod stats;

#[cfg(test)]
mod fixtures;

use loadgen_core::report::RunReport;
use serde::{Deserialize, Serialize};

use capacity::{Capacity, CapacityChange};
use change::Change;
use criteria::{Criterion, Metric};
use identity::Difference;
use rates::RateComparison;

/// The comparison's JSON shape version (`docs/compare.schema.json`).
pub const SCHEMA_VERSION: u32 = 1;

/// What two runs differ in, and which criteria that breaks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub schema_version: u32,
    pub base: RunInfo,
    pub new: RunInfo,
    /// Workload settings that differ (compared anyway under `--force`).
    pub differences: Vec<Difference>,
    pub capacity: CapacityChange,
    pub rates: Vec<RateComparison>,
    pub criteria: Vec<CriterionResult>,
}

/// Which run a side is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The file it was read from, as given.
    pub source: String,
    pub plugin: String,
    pub plugin_version: String,
}

/// One `--fail-on` criterion and where it broke.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriterionResult {
    pub criterion: Criterion,
    /// The text as given (`capacity < -5%`).
    pub text: String,
    pub broken_at: Vec<Breach>,
}

impl CriterionResult {
    pub fn passed(&self) -> bool {
        self.broken_at.is_empty()
    }
}

/// A significant change that broke a criterion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    /// `capacity`, or `2000 ops/s op` (the base rate and the series).
    pub at: String,
    /// The base rate, absent for capacity.
    pub base_rps: Option<u64>,
    pub change: Change,
}

impl Breach {
    /// `capacity: 2800 → 2400 ops/s (-14.3%)`, `2000 ops/s op p99: 1.2 → 1.6 ms (+33.3%)`.
    pub fn text(&self, metric: Metric) -> String {
        let c = &self.change;
        let value = |v: f64| format!("{}", change::round_sig(v));
        let what = match self.base_rps {
            None => metric.name().to_string(),
            Some(_) => format!("{} {}", self.at, metric.name()),
        };
        format!(
            "{what}: {} → {}{} ({})",
            value(c.base),
            value(c.new),
            metric.unit(),
            c.percent_text()
        )
    }
}

impl Comparison {
    /// Compare `new` against `base` and judge `criteria`.
    pub fn new(
        base: (&str, &RunReport),
        new: (&str, &RunReport),
        criteria: &[(String, Criterion)],
    ) -> Comparison {
        let info = |(source, r): (&str, &RunReport)| RunInfo {
            source: source.to_string(),
            plugin: r.settings.plugin.clone(),
            plugin_version: r.plugin_version.clone(),
        };
        let capacity = CapacityChange::between(&Capacity::of(base.1), &Capacity::of(new.1));
        let rates = rates::compare_rates(base.1, new.1);
        let criteria = criteria
            .iter()
            .map(|(text, c)| CriterionResult {
                criterion: *c,
                text: text.clone(),
                broken_at: breaches(c, &capacity, &rates),
            })
            .collect();
        Comparison {
            schema_version: SCHEMA_VERSION,
            base: info(base),
            new: info(new),
            differences: identity::differences(&base.1.settings, &new.1.settings),
            capacity,
            rates,
            criteria,
        }
    }

    /// Did every criterion hold?
    pub fn passed(&self) -> bool {
        self.criteria.iter().all(CriterionResult::passed)
    }
}

/// Every significant change of the criterion's metric that breaks it.
fn breaches(c: &Criterion, capacity: &CapacityChange, rates: &[RateComparison]) -> Vec<Breach> {
    let mut out = Vec::new();
    let mut check = |at: String, base_rps: Option<u64>, change: &Change| {
        if c.broken_by(change) {
            out.push(Breach {
                at,
                base_rps,
                change: change.clone(),
            });
        }
    };
    match c.metric {
        Metric::Capacity => check("capacity".into(), None, &capacity.change),
        Metric::P50 | Metric::P95 | Metric::P99 => {
            for r in rates {
                for s in &r.series {
                    let change = match c.metric {
                        Metric::P50 => &s.p50,
                        Metric::P95 => &s.p95,
                        _ => &s.p99,
                    };
                    check(
                        format!("{} ops/s {}", r.base_rps, s.name),
                        Some(r.base_rps),
                        change,
                    );
                }
            }
        }
        Metric::ErrorRate | Metric::LossRate | Metric::BacklogGrowth => {
            for r in rates {
                let change = match c.metric {
                    Metric::ErrorRate => &r.error_rate,
                    Metric::LossRate => &r.loss_rate,
                    _ => &r.backlog_growth,
                };
                check(format!("{} ops/s", r.base_rps), Some(r.base_rps), change);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fixtures::{measured, report_of};
    use super::*;

    fn ladder(capacity_ms: &[(u64, &str, f64)]) -> RunReport {
        report_of(
            capacity_ms
                .iter()
                .map(|(rps, v, ms)| {
                    measured(
                        *rps,
                        v,
                        &[ms * 1.0, ms * 1.05, ms * 0.95, ms * 1.02, ms * 0.98],
                        0,
                    )
                })
                .collect(),
        )
    }

    fn criteria(texts: &[&str]) -> Vec<(String, Criterion)> {
        texts
            .iter()
            .map(|t| (t.to_string(), t.parse().unwrap()))
            .collect()
    }

    #[test]
    fn a_capacity_drop_and_slower_common_rates_break_their_criteria() {
        let base = ladder(&[
            (1000, "PASS", 1.0),
            (2000, "PASS", 1.2),
            (2800, "PASS", 2.0),
            (3200, "TRIP", 300.0),
        ]);
        let new = ladder(&[
            (1000, "PASS", 1.0),
            (2000, "PASS", 1.6),
            (2800, "TRIP", 250.0),
        ]);
        let c = Comparison::new(
            ("base.json", &base),
            ("new.json", &new),
            &criteria(&["capacity < -5%", "p99 > +10%", "error_rate > +0.001"]),
        );
        assert!(c.capacity.change.significant);
        assert!(!c.passed());
        let broken: Vec<Vec<String>> = c
            .criteria
            .iter()
            .map(|r| r.broken_at.iter().map(|b| b.at.clone()).collect())
            .collect();
        assert_eq!(
            broken,
            vec![
                vec!["capacity".to_string()],
                vec!["2000 ops/s op".to_string(), "2800 ops/s op".to_string()],
                vec![],
            ],
            "1000 ops/s is unchanged; no errors anywhere"
        );
        assert_eq!(
            c.criteria[0].broken_at[0].text(Metric::Capacity),
            "capacity: 2800 → 2000 ops/s (-28.6%)"
        );
    }

    #[test]
    fn the_same_capacity_within_the_brackets_is_not_a_change() {
        let base = ladder(&[
            (1000, "PASS", 1.0),
            (2000, "PASS", 1.2),
            (4000, "TRIP", 300.0),
        ]);
        let new = ladder(&[
            (1000, "PASS", 1.01),
            (2000, "PASS", 1.19),
            (4000, "TRIP", 280.0),
        ]);
        let c = Comparison::new(
            ("a", &base),
            ("b", &new),
            &criteria(&["capacity < -5%", "p99 > +10%"]),
        );
        assert!(!c.capacity.change.significant);
        assert!(c.passed(), "{:?}", c.criteria);
    }
}
