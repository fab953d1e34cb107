//! What the Collector measures, as plain data: per-series figures of a hold
//! window ([`SeriesStats`], [`CollectorStats`]) and the mergeable window
//! itself ([`SeriesParts`]). The actor is in the runtime crate.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::pacer::NS_PER_SEC;
use crate::report::histograms::{self, StepHistogram};
use crate::verdict::SeriesLatency;

/// Highest latency tracked exactly; slower samples are clamped to it.
pub const MAX_TRACKABLE_NS: u64 = 3_600 * NS_PER_SEC;

/// Per-series figures for one hold window.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesStats {
    pub latency: SeriesLatency,
    /// p99 of `done - sent` (what the service alone took).
    pub service_p99: Duration,
    pub errors: u64,
    pub timeouts: u64,
    pub lost: u64,
    /// Answers (ok or error) whose done time lies in the hold, whatever
    /// their intended time: the service's goodput.
    pub answered_in_hold: u64,
}

impl SeriesStats {
    /// Samples of ops whose intended time lies in the hold: answered, failed or lost.
    pub fn hold_ops(&self) -> u64 {
        self.latency.count + self.errors + self.timeouts + self.lost
    }
}

/// What a series counted besides its histograms, over one hold window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SeriesCounts {
    pub errors: u64,
    pub timeouts: u64,
    pub lost: u64,
    /// See [`SeriesStats::answered_in_hold`].
    pub answered_in_hold: u64,
}

impl SeriesCounts {
    pub fn add(&mut self, other: &SeriesCounts) {
        self.errors += other.errors;
        self.timeouts += other.timeouts;
        self.lost += other.lost;
        self.answered_in_hold += other.answered_in_hold;
    }
}

/// One series' whole window: what [`SeriesStats`] are read from. Windows of
/// several collectors merge exactly (histograms add, counts sum).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesParts {
    pub name: String,
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    pub counts: SeriesCounts,
}

impl SeriesParts {
    pub fn empty(name: &str) -> SeriesParts {
        SeriesParts {
            name: name.to_string(),
            latency: new_histogram(),
            service: new_histogram(),
            counts: SeriesCounts::default(),
        }
    }

    /// Add `other` (same series) into this one.
    pub fn merge(&mut self, other: &SeriesParts) -> Result<(), String> {
        let add = |into: &mut Histogram<u64>, from: &Histogram<u64>| {
            into.add(from)
                .map_err(|e| format!("series {}: histograms do not merge: {e:?}", other.name))
        };
        add(&mut self.latency, &other.latency)?;
        add(&mut self.service, &other.service)?;
        self.counts.add(&other.counts);
        Ok(())
    }

    /// The series' figures: the one place percentiles are read from a window.
    pub fn stats(&self) -> SeriesStats {
        let q =
            |h: &Histogram<u64>, quantile: f64| Duration::from_nanos(h.value_at_quantile(quantile));
        SeriesStats {
            latency: SeriesLatency {
                name: self.name.clone(),
                count: self.latency.len(),
                p50: q(&self.latency, 0.50),
                p95: q(&self.latency, 0.95),
                p99: q(&self.latency, 0.99),
                max: Duration::from_nanos(self.latency.max()),
            },
            service_p99: q(&self.service, 0.99),
            errors: self.counts.errors,
            timeouts: self.counts.timeouts,
            lost: self.counts.lost,
            answered_in_hold: self.counts.answered_in_hold,
        }
    }

    /// Serialized for the report.
    pub fn serialized(&self) -> StepHistogram {
        StepHistogram {
            series: self.name.clone(),
            latency: histograms::encode(&self.latency),
            service: histograms::encode(&self.service),
        }
    }
}

/// An empty histogram of the collector's range and precision.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKABLE_NS, 3).expect("valid bounds")
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CollectorStats {
    pub series: Vec<SeriesStats>,
}

impl CollectorStats {
    /// The share of its offered ops the service answered within the hold:
    /// answers done in the hold over the hold's ops, in the series (of those
    /// in use) with the most hold ops. ≈1 while the service keeps up. Taken per
    /// series because ops may split between series (history: `history` or
    /// `thread`) or fan out into several (messages: E1 and E2).
    pub fn answered_share(&self, in_use: &[u16]) -> Option<f64> {
        let busiest = in_use
            .iter()
            .filter_map(|&i| self.series.get(i as usize))
            .max_by_key(|s| s.hold_ops())?;
        let ops = busiest.hold_ops();
        (ops > 0 && busiest.answered_in_hold > 0)
            .then(|| busiest.answered_in_hold as f64 / ops as f64)
    }

    /// Answers (ok or error) completed in the hold so far, every series
    /// (warmup ops included): ops split between series add up.
    pub fn answered_in_hold(&self) -> u64 {
        self.series.iter().map(|s| s.answered_in_hold).sum()
    }

    /// Hold ops lost (plugins record one Lost sample per lost op).
    pub fn lost(&self) -> u64 {
        self.series.iter().map(|s| s.lost).sum()
    }

    /// Hold ops that failed: error answers and timeouts (plugins record one
    /// failure sample per failed op). Counting samples by intended time puts
    /// every failure in the step its op belongs to, even when it is answered
    /// during the drain, and never a warmup op's failure into the hold.
    pub fn failed(&self) -> u64 {
        self.series.iter().map(|s| s.errors + s.timeouts).sum()
    }

    /// The highest running p99 across series (for the progress line).
    pub fn worst_p99(&self) -> Option<Duration> {
        self.series
            .iter()
            .filter(|s| s.latency.count > 0)
            .map(|s| s.latency.p99)
            .max()
    }
}
