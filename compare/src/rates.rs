//! Both runs at one rate: latency per series, errors, loss and backlog.
//!
//! Every step a run held at a rate counts (re-runs, confirmations): their
//! kept histograms are merged for the percentiles, their per-second points
//! pooled for the rank test. A rate only one run measured is paired with the
//! other run's nearest rate within [`NEAREST`].

use hdrhistogram::Histogram;
use loadgen_core::report::histograms::decode;
use loadgen_core::report::per_second::SeriesSecond;
use loadgen_core::report::{RunReport, StepReport};
use serde::{Deserialize, Serialize};

use crate::change::Change;
use crate::stats;

/// How far apart two rates may be and still be compared (a fraction of the base rate).
pub const NEAREST: f64 = 0.10;

/// Both runs at (about) one rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateComparison {
    pub base_rps: u64,
    pub new_rps: u64,
    /// Each run's verdicts at its rate, in the order run.
    pub base_verdicts: Vec<String>,
    pub new_verdicts: Vec<String>,
    pub series: Vec<SeriesComparison>,
    /// failed / attempted, tested as two proportions.
    pub error_rate: Change,
    /// lost / attempted, tested as two proportions.
    pub loss_rate: Change,
    /// The mean over the holds of the backlog that grew most; tested over
    /// the per-second growth of the summed backlogs.
    pub backlog_growth: Change,
}

/// One latency series at one rate, in milliseconds from the intended send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesComparison {
    pub name: String,
    /// Per-second points each run had for the test.
    pub seconds: (usize, usize),
    pub p50: Change,
    /// Tested over the per-second p99 points (the points keep p50 and p99).
    pub p95: Change,
    pub p99: Change,
}

impl SeriesComparison {
    /// Too few seconds on a side for any latency change to be significant.
    pub fn too_few_seconds(&self) -> bool {
        stats::min_p(self.seconds.0, self.seconds.1) >= stats::ALPHA
    }
}

/// The rates both runs measured (or nearly), ascending by the base rate.
pub fn compare_rates(base: &RunReport, new: &RunReport) -> Vec<RateComparison> {
    let base_rates = distinct_rates(&base.steps);
    let new_rates = distinct_rates(&new.steps);
    let mut out = Vec::new();
    let mut used = Vec::new();
    for &b in &base_rates {
        let nearest = new_rates
            .iter()
            .copied()
            .filter(|n| !used.contains(n))
            .min_by_key(|n| n.abs_diff(b));
        let Some(n) = nearest.filter(|n| n.abs_diff(b) as f64 <= b as f64 * NEAREST) else {
            continue;
        };
        used.push(n);
        out.push(compare_at(&Pool::at(base, b), &Pool::at(new, n)));
    }
    out
}

fn distinct_rates(steps: &[StepReport]) -> Vec<u64> {
    let mut rates: Vec<u64> = steps.iter().map(|s| s.target_rps).collect();
    rates.sort_unstable();
    rates.dedup();
    rates
}

/// Every step a run held at one rate.
struct Pool<'a> {
    rps: u64,
    steps: Vec<&'a StepReport>,
}

impl<'a> Pool<'a> {
    fn at(report: &'a RunReport, rps: u64) -> Pool<'a> {
        Pool {
            rps,
            steps: report
                .steps
                .iter()
                .filter(|s| s.target_rps == rps)
                .collect(),
        }
    }

    fn series_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in self.steps.iter().flat_map(|s| &s.series) {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
        names
    }

    /// p50, p95, p99 in ms over every hold: from the merged kept histograms,
    /// else (reports without them) from the step with the most answers.
    fn percentiles(&self, series: &str) -> Option<[f64; 3]> {
        let mut merged: Option<Histogram<u64>> = None;
        for h in self.steps.iter().flat_map(|s| &s.histograms) {
            if h.series != series {
                continue;
            }
            let Ok(h) = decode(&h.latency) else { continue };
            match &mut merged {
                Some(m) => {
                    if m.add(&h).is_err() {
                        merged = None;
                        break;
                    }
                }
                None => merged = Some(h),
            }
        }
        if let Some(h) = merged.filter(|h| !h.is_empty()) {
            let ms = |q: f64| h.value_at_quantile(q) as f64 / 1e6;
            return Some([ms(0.50), ms(0.95), ms(0.99)]);
        }
        self.steps
            .iter()
            .flat_map(|s| &s.series)
            .filter(|s| s.name == series && s.count > 0)
            .max_by_key(|s| s.count)
            .map(|s| [s.p50_ms, s.p95_ms, s.p99_ms])
    }

    /// One figure of every second of every hold in which the series answered.
    fn seconds(&self, series: &str, figure: fn(&SeriesSecond) -> f64) -> Vec<f64> {
        self.steps
            .iter()
            .flat_map(|s| &s.per_second)
            .flat_map(|p| &p.series)
            .filter(|s| s.name == series && s.count > 0)
            .map(figure)
            .collect()
    }

    fn counts(&self) -> (u64, u64, u64) {
        self.steps.iter().fold((0, 0, 0), |(a, f, l), s| {
            (a + s.attempted, f + s.failed, l + s.lost)
        })
    }

    fn backlog_growth(&self) -> f64 {
        let growths: Vec<f64> = self
            .steps
            .iter()
            .map(|s| {
                s.backlogs
                    .iter()
                    .map(|b| b.end - b.start)
                    .max()
                    .or(s.worst_backlog_delta)
                    .unwrap_or(0) as f64
            })
            .collect();
        growths.iter().sum::<f64>() / growths.len().max(1) as f64
    }

    /// How much the summed backlog grew in each second of every hold, from
    /// its reading at the hold start (a second whose reading failed is
    /// skipped with its neighbour).
    fn backlog_seconds(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for s in &self.steps {
            let start = (!s.backlogs.is_empty()).then(|| s.backlogs.iter().map(|b| b.start).sum());
            let totals: Vec<Option<i64>> = std::iter::once(start)
                .chain(
                    s.per_second
                        .iter()
                        .map(|p| (!p.backlog.is_empty()).then(|| p.backlog.values().sum())),
                )
                .collect();
            for pair in totals.windows(2) {
                if let [Some(a), Some(b)] = pair {
                    out.push((b - a) as f64);
                }
            }
        }
        out
    }

    fn verdicts(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| s.verdict.label().to_string())
            .collect()
    }
}

fn compare_at(base: &Pool, new: &Pool) -> RateComparison {
    let mut series = Vec::new();
    for name in base.series_names() {
        let (Some(b), Some(n)) = (base.percentiles(&name), new.percentiles(&name)) else {
            continue;
        };
        let p50 = |s: &SeriesSecond| s.p50_ms;
        let p99 = |s: &SeriesSecond| s.p99_ms;
        let (b50, n50) = (base.seconds(&name, p50), new.seconds(&name, p50));
        let (b99, n99) = (base.seconds(&name, p99), new.seconds(&name, p99));
        series.push(SeriesComparison {
            seconds: (b50.len(), n50.len()),
            p50: Change::of_samples(b[0], n[0], &b50, &n50),
            p95: Change::of_samples(b[1], n[1], &b99, &n99),
            p99: Change::of_samples(b[2], n[2], &b99, &n99),
            name,
        });
    }
    let (b_attempted, b_failed, b_lost) = base.counts();
    let (n_attempted, n_failed, n_lost) = new.counts();
    let rate = |x: u64, n: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
    RateComparison {
        base_rps: base.rps,
        new_rps: new.rps,
        base_verdicts: base.verdicts(),
        new_verdicts: new.verdicts(),
        series,
        error_rate: Change::tested(
            rate(b_failed, b_attempted),
            rate(n_failed, n_attempted),
            stats::two_proportions(b_failed, b_attempted, n_failed, n_attempted),
        ),
        loss_rate: Change::tested(
            rate(b_lost, b_attempted),
            rate(n_lost, n_attempted),
            stats::two_proportions(b_lost, b_attempted, n_lost, n_attempted),
        ),
        backlog_growth: Change::of_samples(
            base.backlog_growth(),
            new.backlog_growth(),
            &base.backlog_seconds(),
            &new.backlog_seconds(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{measured, report, report_of};

    #[test]
    fn rates_pair_exactly_or_with_the_nearest_within_ten_percent() {
        let base = report(&[(1000, "PASS"), (2000, "PASS"), (4000, "TRIP")]);
        let new = report(&[(1000, "PASS"), (2100, "PASS"), (3000, "TRIP")]);
        let pairs: Vec<(u64, u64)> = compare_rates(&base, &new)
            .iter()
            .map(|r| (r.base_rps, r.new_rps))
            .collect();
        assert_eq!(
            pairs,
            vec![(1000, 1000), (2000, 2100)],
            "3000 is 25% from 4000"
        );
    }

    #[test]
    fn a_consistent_latency_rise_is_significant_and_noise_is_not() {
        let base = report_of(vec![measured(
            2000,
            "PASS",
            &[1.0, 1.1, 0.9, 1.05, 0.95],
            0,
        )]);
        let slower = report_of(vec![measured(
            2000,
            "PASS",
            &[1.5, 1.6, 1.4, 1.55, 1.45],
            0,
        )]);
        let same = report_of(vec![measured(
            2000,
            "PASS",
            &[1.02, 0.92, 1.08, 0.97, 1.04],
            0,
        )]);
        let up = &compare_rates(&base, &slower)[0].series[0];
        assert!(up.p99.significant && up.p50.significant, "{up:?}");
        assert!(up.p99.relative.unwrap() > 0.3, "{up:?}");
        assert_eq!(up.seconds, (5, 5));
        let flat = &compare_rates(&base, &same)[0].series[0];
        assert!(!flat.p99.significant && !flat.p50.significant, "{flat:?}");
    }

    #[test]
    fn three_seconds_a_side_are_too_few_to_tell() {
        let base = report_of(vec![measured(2000, "PASS", &[1.0, 1.0, 1.0], 0)]);
        let new = report_of(vec![measured(2000, "PASS", &[9.0, 9.0, 9.0], 0)]);
        let s = &compare_rates(&base, &new)[0].series[0];
        assert!(s.too_few_seconds());
        assert!(!s.p99.significant, "p = 0.1 at best");
    }

    #[test]
    fn repeat_runs_at_a_rate_are_pooled() {
        let base = report_of(vec![
            measured(2000, "PASS", &[1.0, 1.1, 0.9], 0),
            measured(2000, "PASS", &[1.05, 0.95, 1.0], 0),
        ]);
        let new = report_of(vec![
            measured(2000, "PASS", &[2.0, 2.1, 1.9], 0),
            measured(2000, "TRIP", &[2.05, 1.95, 2.0], 0),
        ]);
        let r = &compare_rates(&base, &new)[0];
        assert_eq!(r.new_verdicts, vec!["PASS", "TRIP"]);
        assert_eq!(r.series[0].seconds, (6, 6));
        assert!(r.series[0].p99.significant, "six against six can tell");
    }

    #[test]
    fn error_rates_are_tested_over_every_op() {
        let base = report_of(vec![measured(2000, "PASS", &[1.0; 5], 10)]);
        let worse = report_of(vec![measured(2000, "PASS", &[1.0; 5], 200)]);
        let r = &compare_rates(&base, &worse)[0];
        assert!(r.error_rate.significant, "{:?}", r.error_rate);
        assert!(
            (r.error_rate.delta - 0.019).abs() < 1e-9,
            "{:?}",
            r.error_rate
        );
        assert!(!compare_rates(&base, &base)[0].error_rate.significant);
    }

    #[test]
    fn a_growing_backlog_is_told_from_a_flat_one_in_four_seconds() {
        let flat = |mut s: StepReport| {
            for p in &mut s.per_second {
                p.backlog = std::collections::BTreeMap::from([("queue".to_string(), 0)]).into();
            }
            s.backlogs[0].end = 0;
            s
        };
        let base = report_of(vec![flat(measured(2000, "PASS", &[1.0; 4], 0))]);
        let growing = report_of(vec![measured(2000, "PASS", &[1.0; 4], 0)]);
        let b = &compare_rates(&base, &growing)[0].backlog_growth;
        assert_eq!((b.base, b.new), (0.0, 4.0));
        assert!(
            b.significant,
            "four increments a side, from the hold start: {b:?}"
        );
    }
}
